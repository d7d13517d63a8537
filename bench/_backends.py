"""The same request made two ways: through genkit, and through the vendor SDK directly.

Each raw client is configured the way genkit configures its own (retries off, same base URL
and key, default timeouts) and sends the same body genkit sends, and each consumer does the
same work with the answer (read the text; for streams, read every chunk's text and join
them at the end, which ``stream.result`` does in genkit).  Any difference in the benchmarks
is then genkit's own cost, not a different request.  Every call is made for a ``mode``:
``"sync"`` gives a plain function, ``"async"`` a coroutine function.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import operator
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import genkit
from bench._common import KEYS, MODELS, PROMPT, Urls

#: (seconds to the first text chunk, items counted, the text or the tool calls at the end)
StreamResult = tuple[float, int, Any]
#: A tool call as both sides read it: (name, parsed arguments).
SeenCall = tuple[str, dict[str, Any]]
#: "plain": the prompt alone.  "params": a system prompt, temperature and max_tokens,
#: so genkit's parameter checks and mapping run and the SDK gets a config to build.
Shape = Literal["plain", "params"]
SHAPES: tuple[Shape, ...] = ("plain", "params")
SYSTEM, TEMPERATURE, MAX_TOKENS = "Be brief.", 0.5, 100
PARAMS: dict[str, Any] = {"system": SYSTEM, "temperature": TEMPERATURE, "max_tokens": MAX_TOKENS}


def load_generator(provider: str, server: Urls, **options: Any) -> genkit.Generator:
    """genkit with its defaults (``max_retries=2``: the first attempt runs without tenacity)."""
    url = server.base_url(provider)
    return genkit.load(
        f"{provider}:{MODELS[provider]}", api_key=KEYS[provider], base_url=url, **options
    )


# --------------------------------------------------------------------------- genkit side


def text(result: genkit.Generation) -> str:
    return result.text


def calls_of(result: genkit.Generation) -> list[SeenCall]:
    return [(c.name, c.arguments) for c in result.tool_calls]


def genkit_call(
    gen: genkit.Generator,
    mode: str = "sync",
    shape: Shape = "plain",
    read: Callable[[genkit.Generation], Any] = text,
    **kwargs: Any,
) -> Callable[[], Any]:
    """One ``generate`` (or ``agenerate``) with the shape's parameters and ``kwargs`` (tools,
    a schema); ``read`` takes what the caller wants from the answer."""
    kwargs = {**(PARAMS if shape == "params" else {}), **kwargs}
    if mode == "sync":
        return lambda: read(gen.generate(PROMPT, **kwargs))

    async def call() -> Any:
        return read(await gen.agenerate(PROMPT, **kwargs))

    return call


def genkit_stream(
    gen: genkit.Generator, mode: str = "sync", tools: list[Any] | None = None
) -> Callable[[], Any]:
    """A whole stream read as it arrives.  Without ``tools``: every text chunk, the first one
    timed, ``stream.result.text`` at the end; with ``tools``: ``stream.events()``, counting the
    argument fragments, the complete calls from ``stream.result`` at the end."""
    clock = time.perf_counter
    if mode == "sync" and tools is not None:

        def tool_run() -> StreamResult:
            count = 0
            with gen.stream(PROMPT, tools=tools) as stream:
                for event in stream.events():
                    if type(event) is genkit.ToolCallDelta and event.arguments:
                        count += 1
                return 0.0, count, calls_of(stream.result)

        return tool_run
    if mode == "sync":

        def run() -> StreamResult:
            start, first, count = clock(), 0.0, 0
            with gen.stream(PROMPT) as stream:
                for _chunk in stream:
                    if not count:
                        first = clock() - start
                    count += 1
                return first, count, stream.result.text

        return run
    if tools is not None:

        async def atool_run() -> StreamResult:
            count = 0
            async with gen.astream(PROMPT, tools=tools) as stream:
                async for event in stream.events():
                    if type(event) is genkit.ToolCallDelta and event.arguments:
                        count += 1
                return 0.0, count, calls_of(stream.result)

        return atool_run

    async def arun() -> StreamResult:
        start, first, count = clock(), 0.0, 0
        async with gen.astream(PROMPT) as stream:
            async for _chunk in stream:
                if not count:
                    first = clock() - start
                count += 1
            return first, count, stream.result.text

    return arun


# --------------------------------------------------------------------------- raw SDKs


def collect(texts: Iterator[str | None]) -> StreamResult:
    """Read a raw stream's texts as they arrive, and join them at the end.

    ``texts`` is a generator that makes the request when first asked, so the clock
    starts before the request, as it does for genkit.
    """
    start, first, parts = time.perf_counter(), 0.0, list[str]()
    for piece in texts:
        if piece:
            if not parts:
                first = time.perf_counter() - start
            parts.append(piece)
    return first, len(parts), "".join(parts)


async def acollect(texts: AsyncIterator[str | None]) -> StreamResult:
    start, first, parts = time.perf_counter(), 0.0, list[str]()
    async for piece in texts:
        if piece:
            if not parts:
                first = time.perf_counter() - start
            parts.append(piece)
    return first, len(parts), "".join(parts)


@dataclass(frozen=True)
class Ask:
    """A variation of the plain call: ``extra`` arguments (tools, a schema), the SDK
    ``method`` that sends it (default :meth:`RawClient.create`) and how to ``read`` the
    answer (default :meth:`RawClient.text`)."""

    extra: Mapping[str, Any] | None = None
    method: Callable[[Any], Callable[..., Any]] | None = None
    read: Callable[[Any], Any] | None = None


class RawClient(ABC):
    """One vendor SDK used directly; subclasses make the same request genkit makes.

    ``retries`` is 0, as genkit sets its SDK clients; ``bench.peers`` gives 2.  Subclasses
    say how to build the clients, the request (``args``: lists in it are copied for every
    call, as genkit rebuilds its own body), which SDK method sends it (``create``), how to
    read the answer (``text``) and a stream's items (``texts``); for tools and structured
    output the SDK's own way of doing each, where the provider has one (the others raise
    NotImplementedError and are skipped).
    """

    provider: str
    #: The SDK's module and its sync and async client classes; the method sending a request.
    sdk: tuple[str, str, str]
    send: Callable[[Any], Any]
    #: What turns the request into a stream.
    stream_args: dict[str, Any] = {"stream": True}
    #: The SDK's accumulating stream helper, as a path from the client; its event carrying
    #: an argument fragment, as (type, field); its method for the accumulated answer.
    helper_path, fragment_event, final_method = "", ("", ""), ""

    def __init__(self, server: Urls, retries: int = 0) -> None:
        self.base_url = server.base_url(self.provider)
        self.key, self.model = KEYS[self.provider], MODELS[self.provider]
        self.retries = retries
        self._sync: Any = None
        self._async: Any = None

    @property
    def sync(self) -> Any:
        if self._sync is None:
            self._sync = self.make(False)
        return self._sync

    @property
    def aclient(self) -> Any:
        """Built on first use inside the running loop, as genkit builds its own."""
        if self._async is None:
            self._async = self.make(True)
        return self._async

    def make(self, asynchronous: bool) -> Any:
        module, sync, asynced = self.sdk
        client = getattr(importlib.import_module(module), asynced if asynchronous else sync)
        return client(api_key=self.key, base_url=self.base_url, max_retries=self.retries)

    def create(self, client: Any) -> Callable[..., Any]:
        return self.send(client)  # type: ignore[no-any-return]

    @abstractmethod
    def args(self, shape: Shape) -> dict[str, Any]: ...
    @abstractmethod
    def text(self, response: Any) -> str: ...
    @abstractmethod
    def texts(self, stream: Any) -> Iterator[str | None]: ...

    def open_stream(self, client: Any) -> Any:
        return self.create(client)(**self.args("plain"), **self.stream_args)

    def fresh_args(
        self, shape: Shape, extra: Mapping[str, Any] | None = None
    ) -> Callable[[], dict[str, Any]]:
        args = {**self.args(shape), **(extra or {})}
        lists = [k for k, v in args.items() if isinstance(v, list)]
        return lambda: {**args, **{k: list(args[k]) for k in lists}}

    def caller(
        self, mode: str = "sync", shape: Shape = "plain", ask: Ask | None = None
    ) -> Callable[[], Any]:
        """The call as a function; ``ask`` adds arguments, another SDK method, another read."""
        # The bound ``self.text`` holds this object and so the client: google-genai
        # closes its HTTP pool when its Client is collected, even while ``models`` lives.
        method = self.create if ask is None or ask.method is None else ask.method
        read = self.text if ask is None or ask.read is None else ask.read
        args = self.fresh_args(shape, None if ask is None else ask.extra)
        if mode == "sync":
            create = method(self.sync)
            return lambda: read(create(**args()))

        async def call() -> Any:
            return read(await method(self.aclient)(**args()))

        return call

    def stream(self, mode: str = "sync") -> Callable[[], Any]:
        """A whole plain stream, its texts read as they arrive (see :func:`collect`)."""

        def texts() -> Iterator[str | None]:
            with contextlib.ExitStack() as stack:
                stream = self.open_stream(self.sync)
                if hasattr(stream, "__exit__"):
                    stack.enter_context(stream)
                yield from self.texts(stream)

        async def atexts() -> AsyncIterator[str | None]:
            async with contextlib.AsyncExitStack() as stack:
                stream = await self.open_stream(self.aclient)
                if hasattr(stream, "__aexit__"):
                    await stack.enter_async_context(stream)
                async for item in stream:
                    for piece in self.texts([item]):
                        yield piece

        return (lambda: collect(texts())) if mode == "sync" else (lambda: acollect(atexts()))

    def tool(self, tool: genkit.Tool) -> dict[str, Any]:
        """The provider's tool definition, written as an SDK user writes it by hand."""
        raise NotImplementedError(f"{self.provider}: no tool definition here")

    def tool_calls(self, response: Any) -> list[SeenCall]:
        """The calls in an answer (or a stream helper's final answer), arguments parsed."""
        raise NotImplementedError(f"{self.provider}: no tool calls here")

    def parse_ask(self, schema: type[Any]) -> Ask:
        """The SDK's own parse helper for a pydantic model: method, argument, read."""
        raise NotImplementedError(f"{self.provider}: no parse helper")

    def helper_args(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        return {"tools": tools}

    def tool_stream(self, tools: list[dict[str, Any]], mode: str = "sync") -> Callable[[], Any]:
        """A streamed tool call through the SDK's accumulating helper: each argument fragment
        read as it arrives, the helper's complete calls at the end (a :data:`StreamResult`)."""
        if not self.helper_path:
            raise NotImplementedError(f"{self.provider}: no stream helper")
        helper = operator.attrgetter(self.helper_path)
        args = self.fresh_args("plain", self.helper_args(tools))
        kind, piece = self.fragment_event[0], operator.attrgetter(self.fragment_event[1])

        def run() -> StreamResult:
            count = 0
            with helper(self.sync)(**args()) as stream:
                for event in stream:
                    if event.type == kind and piece(event):
                        count += 1
                return 0.0, count, self.tool_calls(getattr(stream, self.final_method)())

        async def arun() -> StreamResult:
            count = 0
            async with helper(self.aclient)(**args()) as stream:
                async for event in stream:
                    if event.type == kind and piece(event):
                        count += 1
                return 0.0, count, self.tool_calls(await getattr(stream, self.final_method)())

        return run if mode == "sync" else arun

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    async def aclose(self) -> None:
        """Close the async client inside its loop (its pool cannot outlive the loop)."""
        if self._async is not None:
            await self._async.close()
            self._async = None


class RawOpenAI(RawClient):
    provider = "openai"
    stream_args = {"stream": True, "stream_options": {"include_usage": True}}
    helper_path, final_method = "chat.completions.stream", "get_final_completion"
    fragment_event = ("tool_calls.function.arguments.delta", "arguments_delta")
    sdk, send = ("openai", "OpenAI", "AsyncOpenAI"), operator.attrgetter("chat.completions.create")

    def args(self, shape: Shape) -> dict[str, Any]:
        user = {"role": "user", "content": PROMPT}
        if shape == "plain":
            return {"model": self.model, "messages": [user]}
        messages = [{"role": "system", "content": SYSTEM}, user]
        return {
            "model": self.model,
            "messages": messages,
            "temperature": TEMPERATURE,
            "max_completion_tokens": MAX_TOKENS,
        }

    def text(self, response: Any) -> str:
        return str(response.choices[0].message.content)

    def texts(self, stream: Any) -> Iterator[str | None]:
        for chunk in stream:
            for choice in chunk.choices:
                yield choice.delta.content

    def tool(self, tool: genkit.Tool) -> dict[str, Any]:
        function = {"name": tool.name, "description": tool.description}
        return {"type": "function", "function": {**function, "parameters": tool.parameters}}

    def tool_calls(self, response: Any) -> list[SeenCall]:
        calls = response.choices[0].message.tool_calls or ()
        return [(c.function.name, json.loads(c.function.arguments)) for c in calls]

    def parse_ask(self, schema: type[Any]) -> Ask:
        parse = operator.attrgetter("chat.completions.parse")
        return Ask({"response_format": schema}, parse, lambda r: r.choices[0].message.parsed)

    def helper_args(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        # genkit asks for the usage chunk on every stream; the helper is asked the same.
        return {"tools": tools, "stream_options": {"include_usage": True}}


class RawAnthropic(RawClient):
    provider = "anthropic"
    helper_path, final_method = "messages.stream", "get_final_message"
    fragment_event = ("input_json", "partial_json")
    sdk, send = ("anthropic", "Anthropic", "AsyncAnthropic"), operator.attrgetter("messages.create")
    #: The API requires max_tokens; genkit sends 4096 when the caller gives none
    #: (``genkit.backends.anthropic._request.DEFAULT_MAX_TOKENS``), so the raw call does too.
    default_max_tokens = 4096

    def args(self, shape: Shape) -> dict[str, Any]:
        messages = [{"role": "user", "content": PROMPT}]
        args = {"model": self.model, "max_tokens": self.default_max_tokens, "messages": messages}
        if shape == "params":  # anthropic 2.x has no temperature argument: extra_body has it
            args.update(
                system=SYSTEM, max_tokens=MAX_TOKENS, extra_body={"temperature": TEMPERATURE}
            )
        return args

    def text(self, response: Any) -> str:
        return "".join(block.text for block in response.content if block.type == "text")

    def texts(self, stream: Any) -> Iterator[str | None]:
        for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                yield event.delta.text

    def tool(self, tool: genkit.Tool) -> dict[str, Any]:
        return {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}

    def tool_calls(self, response: Any) -> list[SeenCall]:
        return [(b.name, b.input) for b in response.content if b.type == "tool_use"]

    def parse_ask(self, schema: type[Any]) -> Ask:
        parse = operator.attrgetter("messages.parse")
        return Ask({"output_format": schema}, parse, operator.attrgetter("parsed_output"))


class RawGemini(RawClient):
    """google-genai with genkit's settings: one attempt, a 600 s timeout on the client."""

    provider = "gemini"
    #: ``httpx2.Limits`` for the async pool; None: the SDK's own (100 connections, 20 idle).
    #: ``bench.concurrency --raw-pool genkit`` gives it genkit's, to compare like with like.
    limits: Any = None

    send = operator.attrgetter("models.generate_content")

    def make(self, asynchronous: bool) -> Any:
        if asynchronous:
            return self.sync.aio  # google-genai's async surface hangs off the same Client
        from google import genai
        from google.genai import types

        pool = None
        if self.limits is not None:
            import httpx2

            pool = httpx2.AsyncClient(follow_redirects=True, limits=self.limits)
        retry = types.HttpRetryOptions(attempts=self.retries + 1)
        # the timeout is in milliseconds: genkit's default
        options = types.HttpOptions(
            base_url=self.base_url, timeout=600_000, retry_options=retry, httpx_async_client=pool
        )
        return genai.Client(api_key=self.key, http_options=options)

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
            self._async = None
        if self.limits is not None and self._sync is not None:  # a pool given is not the SDK's
            await self._sync._api_client._async_httpx_client.aclose()

    def args(self, shape: Shape) -> dict[str, Any]:
        if shape == "plain":
            return {"model": self.model, "contents": PROMPT}
        from google.genai import types

        config = types.GenerateContentConfig(
            system_instruction=SYSTEM, temperature=TEMPERATURE, max_output_tokens=MAX_TOKENS
        )
        return {"model": self.model, "contents": PROMPT, "config": config}

    def fresh_args(
        self, shape: Shape, extra: Mapping[str, Any] | None = None
    ) -> Callable[[], dict[str, Any]]:
        if shape == "params":  # the config object is built for every call, as genkit builds its own
            return lambda: {**self.args(shape), **(extra or {})}
        return super().fresh_args(shape, extra)

    def open_stream(self, client: Any) -> Any:
        return client.models.generate_content_stream(**self.args("plain"))

    def text(self, response: Any) -> str:
        return str(response.text)

    def texts(self, stream: Any) -> Iterator[str | None]:
        for chunk in stream:
            contents = [c.content for c in chunk.candidates or () if c.content is not None]
            yield "".join(
                part.text for content in contents for part in content.parts or () if part.text
            )


RAW: dict[str, type[RawClient]] = {
    raw.provider: raw for raw in (RawOpenAI, RawAnthropic, RawGemini)
}


def raw_client(provider: str, server: Urls, retries: int = 0) -> RawClient:
    return RAW[provider](server, retries)


def raw_supports(backends: list[str], probe: Callable[[RawClient], object], what: str) -> list[str]:
    """The backends whose raw client can do ``probe``; prints which cannot (``what``)."""
    out = []
    for backend in backends:
        with contextlib.suppress(NotImplementedError):
            probe(raw_client(backend, Urls("http://127.0.0.1:9")))
            out.append(backend)
    if skipped := [b for b in backends if b not in out]:
        print(f"\n(no {what} compared here for: {', '.join(skipped)})")
    return out


# --------------------------------------------------------------------------- wire check

#: One request made both ways for the wire check: (label, raw call, genkit call).
WireCase = tuple[str, Callable[[], object], Callable[[], object]]
#: Headers that differ for reasons outside the request: the body's length.
IGNORED_HEADERS = frozenset({"content-length"})
#: A key one body has and the other lacks, as the wire check prints it.
ABSENT = "<absent>"


def shape_cases(gen: genkit.Generator, raw: RawClient) -> list[WireCase]:
    """call_overhead's requests: each shape, plain calls."""
    return [(shape, raw.caller("sync", shape), genkit_call(gen, "sync", shape)) for shape in SHAPES]


def wire_check(
    backends: list[str],
    cases: Callable[[genkit.Generator, RawClient], list[WireCase]] = shape_cases,
    answer: str = "hello",
) -> list[list[str]]:
    """Make each case's call once each way against ``fakeprovider`` (answering ``answer``)
    and compare the wire.  Rows: backend, case, same path, same body (or where it first
    differs), headers that differ."""
    try:
        from fakeprovider import FakeProviderServer, Reply
    except ImportError as error:
        return [["—", "—", "—", "—", f"fakeprovider not importable: {error}"]]
    rows = []
    with FakeProviderServer() as fake:
        for backend in backends:
            gen, raw = load_generator(backend, Urls(fake.url)), raw_client(backend, Urls(fake.url))
            for label, raw_call, genkit_call_ in cases(gen, raw):
                fake.reset()  # which also restores the default reply: set it after
                fake.default = Reply.text(answer)
                raw_call()
                genkit_call_()
                if len(fake.requests) != 2:
                    rows.append([backend, label, "—", "—", f"{len(fake.requests)} requests seen"])
                    continue
                a, b = fake.requests
                headers = sorted(
                    f"{name}: {a.headers.get(name)!r} vs {b.headers.get(name)!r}"
                    for name in set(a.headers) | set(b.headers)
                    if name not in IGNORED_HEADERS and a.headers.get(name) != b.headers.get(name)
                )
                same = (a.method, a.path, a.query) == (b.method, b.path, b.query)
                body = "yes" if a.body == b.body else f"NO: {_first_difference(a.body, b.body)}"
                rows.append(
                    [backend, label, "yes" if same else "NO", body, "; ".join(headers) or "none"]
                )
            gen.close()
            raw.close()
    return rows


def _first_difference(raw: Any, gk: Any, path: str = "") -> str:
    """The first JSON path where the two bodies differ (``a.b[2].c``), both values shortened."""
    if isinstance(raw, dict) and isinstance(gk, dict):
        key = next(k for k in [*raw, *gk] if raw.get(k, ABSENT) != gk.get(k, ABSENT))
        return _first_difference(raw.get(key, ABSENT), gk.get(key, ABSENT), f"{path}.{key}")
    if isinstance(raw, list) and isinstance(gk, list) and len(raw) == len(gk):
        i = next(i for i, (a, b) in enumerate(zip(raw, gk, strict=True)) if a != b)
        return _first_difference(raw[i], gk[i], f"{path}[{i}]")
    short = [text if len(text := repr(v)) <= 60 else text[:57] + "..." for v in (raw, gk)]
    return f"{path.lstrip('.') or 'body'}: raw {short[0]} vs genkit {short[1]}"
