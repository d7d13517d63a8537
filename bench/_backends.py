"""The same request made two ways: through genkit, and through the vendor SDK directly.

Each raw client is configured the way genkit configures its own (retries off, same
base URL and key, default timeouts) and sends the same body genkit sends, and each
consumer does the same work with the answer (read the text; for streams, read every
chunk's text and join them at the end, which ``stream.result`` does in genkit).  Any
difference in the benchmarks is then genkit's own cost, not a different request.
"""

from __future__ import annotations

import contextlib
import json
import operator
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import genkit
from bench._common import KEYS, MODELS, PROMPT

#: (seconds to the first text chunk, number of text chunks, full text)
StreamResult = tuple[float, int, str]

#: "plain": the prompt alone.  "params": a system prompt, temperature and max_tokens,
#: so genkit's parameter checks and mapping run and the SDK gets a config to build.
Shape = Literal["plain", "params"]
SHAPES: tuple[Shape, ...] = ("plain", "params")
SYSTEM = "Be brief."
TEMPERATURE = 0.5
MAX_TOKENS = 100
PARAMS: dict[str, Any] = {"system": SYSTEM, "temperature": TEMPERATURE, "max_tokens": MAX_TOKENS}


class Server(Protocol):
    """Anything that says where each provider's SDK should send its requests."""

    def base_url(self, provider: str) -> str: ...


@dataclass(frozen=True)
class Urls:
    """A :class:`Server` from a root URL alone (a child process, or the test server)."""

    url: str

    def base_url(self, provider: str) -> str:
        """OpenAI's SDK wants ``/v1`` in its base URL, the others do not."""
        return self.url + "/v1" if provider == "openai" else self.url


def load_generator(provider: str, server: Server, **options: Any) -> genkit.Generator:
    """genkit with its defaults (``max_retries=2``: the first attempt runs without tenacity)."""
    return genkit.load(
        f"{provider}:{MODELS[provider]}",
        api_key=KEYS[provider],
        base_url=server.base_url(provider),
        **options,
    )


# --------------------------------------------------------------------------- genkit side


def genkit_call(gen: genkit.Generator, shape: Shape = "plain") -> Callable[[], str]:
    params = PARAMS if shape == "params" else {}
    return lambda: gen.generate(PROMPT, **params).text


def genkit_acall(gen: genkit.Generator, shape: Shape = "plain") -> Callable[[], Awaitable[str]]:
    params = PARAMS if shape == "params" else {}

    async def call() -> str:
        return (await gen.agenerate(PROMPT, **params)).text

    return call


def genkit_stream(gen: genkit.Generator) -> Callable[[], StreamResult]:
    def run() -> StreamResult:
        start, first, count = time.perf_counter(), 0.0, 0
        with gen.stream(PROMPT) as stream:
            for _chunk in stream:
                if not count:
                    first = time.perf_counter() - start
                count += 1
            return first, count, stream.result.text

    return run


def genkit_astream(gen: genkit.Generator) -> Callable[[], Awaitable[StreamResult]]:
    async def run() -> StreamResult:
        start, first, count = time.perf_counter(), 0.0, 0
        async with gen.astream(PROMPT) as stream:
            async for _chunk in stream:
                if not count:
                    first = time.perf_counter() - start
                count += 1
            return first, count, stream.result.text

    return run


# --------------------------------------------------------------------------- tools, schemas

#: A tool call as both sides read it: (name, parsed arguments).
SeenCall = tuple[str, dict[str, Any]]
#: (argument fragments read while streaming, the complete calls at the end)
ToolStreamResult = tuple[int, list[SeenCall]]


def genkit_tool_call(gen: genkit.Generator, tools: list[Any]) -> Callable[[], list[SeenCall]]:
    """One call declaring ``tools``; reads the calls the model made."""
    return lambda: [(c.name, c.arguments) for c in gen.generate(PROMPT, tools=tools).tool_calls]


def genkit_atool_call(
    gen: genkit.Generator, tools: list[Any]
) -> Callable[[], Awaitable[list[SeenCall]]]:
    async def call() -> list[SeenCall]:
        result = await gen.agenerate(PROMPT, tools=tools)
        return [(c.name, c.arguments) for c in result.tool_calls]

    return call


def genkit_parse(gen: genkit.Generator, schema: type[Any]) -> Callable[[], Any]:
    """One ``schema=`` call; reads the validated object."""
    return lambda: gen.generate(PROMPT, schema=schema).parsed


def genkit_aparse(gen: genkit.Generator, schema: type[Any]) -> Callable[[], Awaitable[Any]]:
    async def call() -> Any:
        return (await gen.agenerate(PROMPT, schema=schema)).parsed

    return call


def genkit_tool_stream(gen: genkit.Generator, tools: list[Any]) -> Callable[[], ToolStreamResult]:
    """A streamed tool call read through ``stream.events()``: every argument fragment as it
    arrives, the complete calls from ``stream.result`` at the end."""

    def run() -> ToolStreamResult:
        count = 0
        with gen.stream(PROMPT, tools=tools) as stream:
            for event in stream.events():
                if type(event) is genkit.ToolCallDelta and event.arguments:
                    count += 1
            return count, [(c.name, c.arguments) for c in stream.result.tool_calls]

    return run


def genkit_atool_stream(
    gen: genkit.Generator, tools: list[Any]
) -> Callable[[], Awaitable[ToolStreamResult]]:
    async def run() -> ToolStreamResult:
        count = 0
        async with gen.astream(PROMPT, tools=tools) as stream:
            async for event in stream.events():
                if type(event) is genkit.ToolCallDelta and event.arguments:
                    count += 1
            return count, [(c.name, c.arguments) for c in stream.result.tool_calls]

    return run


# --------------------------------------------------------------------------- raw SDKs


def collect(texts: Iterator[str | None]) -> StreamResult:
    """Read a raw stream's texts as they arrive, and join them at the end.

    ``texts`` is a generator that makes the request when first asked, so the clock
    starts before the request, as it does for genkit.
    """
    start, first, parts = time.perf_counter(), 0.0, list[str]()
    for text in texts:
        if text:
            if not parts:
                first = time.perf_counter() - start
            parts.append(text)
    return first, len(parts), "".join(parts)


async def acollect(texts: AsyncIterator[str | None]) -> StreamResult:
    start, first, parts = time.perf_counter(), 0.0, list[str]()
    async for text in texts:
        if text:
            if not parts:
                first = time.perf_counter() - start
            parts.append(text)
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

    ``caller``/``acaller`` take the request shape; streams always use the plain shape.
    ``retries`` is 0, as genkit sets its SDK clients; ``bench.peers`` gives 2.
    Subclasses say how to build the clients, the request (``args``: lists in it are
    copied for every call, as genkit rebuilds its own body), which SDK method sends it
    (``create``) and how to read the answer (``text``) and a stream's items (``texts``).
    """

    provider: str
    #: What turns the request into a stream.
    stream_args: dict[str, Any] = {"stream": True}

    def __init__(self, server: Server, retries: int = 0) -> None:
        self.base_url = server.base_url(self.provider)
        self.key = KEYS[self.provider]
        self.model = MODELS[self.provider]
        self.retries = retries
        self._sync: Any = None
        self._async: Any = None

    @property
    def sync(self) -> Any:
        if self._sync is None:
            self._sync = self.make_sync()
        return self._sync

    @property
    def aclient(self) -> Any:
        """Built on first use inside the running loop, as genkit builds its own."""
        if self._async is None:
            self._async = self.make_async()
        return self._async

    @abstractmethod
    def make_sync(self) -> Any: ...
    @abstractmethod
    def make_async(self) -> Any: ...
    @abstractmethod
    def args(self, shape: Shape) -> dict[str, Any]: ...
    @abstractmethod
    def create(self, client: Any) -> Callable[..., Any]: ...
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

    def caller(self, shape: Shape = "plain", ask: Ask | None = None) -> Callable[[], Any]:
        """The call as a function; ``ask`` adds arguments, another SDK method, another read."""
        # The bound ``self.text`` holds this object and so the client: google-genai
        # closes its HTTP pool when its Client is collected, even while ``models`` lives.
        method = self.create if ask is None or ask.method is None else ask.method
        read = self.text if ask is None or ask.read is None else ask.read
        create, args = method(self.sync), self.fresh_args(shape, None if ask is None else ask.extra)
        return lambda: read(create(**args()))

    def acaller(
        self, shape: Shape = "plain", ask: Ask | None = None
    ) -> Callable[[], Awaitable[Any]]:
        method = self.create if ask is None or ask.method is None else ask.method
        read = self.text if ask is None or ask.read is None else ask.read
        args = self.fresh_args(shape, None if ask is None else ask.extra)

        async def call() -> Any:
            return read(await method(self.aclient)(**args()))

        return call

    # Tools and structured output: the SDK's own way of doing each (for the providers
    # that have one; the others raise NotImplementedError and are skipped).

    def tool(self, tool: genkit.Tool) -> dict[str, Any]:
        """The provider's tool definition, written as an SDK user writes it by hand."""
        raise NotImplementedError(f"{self.provider}: no tool definition here")

    def tool_calls(self, response: Any) -> list[SeenCall]:
        """The calls in an answer (or a stream helper's final answer), arguments parsed."""
        raise NotImplementedError(f"{self.provider}: no tool calls here")

    def parse_ask(self, schema: type[Any]) -> Ask:
        """The SDK's own parse helper for a pydantic model: method, argument, read."""
        raise NotImplementedError(f"{self.provider}: no parse helper")

    #: The SDK's accumulating stream helper (a context manager per call), as a path from
    #: the client; the helper's event that carries an argument fragment, as (type, field);
    #: the helper's method for its accumulated answer (awaitable on the async client).
    helper_path: str = ""
    fragment_event: tuple[str, str] = ("", "")
    final_method: str = ""

    def helper(self, client: Any) -> Callable[..., Any]:
        if not self.helper_path:
            raise NotImplementedError(f"{self.provider}: no stream helper")
        return operator.attrgetter(self.helper_path)(client)  # type: ignore[no-any-return]

    def tool_caller(self, tools: list[dict[str, Any]]) -> Ask:
        return Ask({"tools": tools}, None, self.tool_calls)

    def tool_stream(self, tools: list[dict[str, Any]]) -> Callable[[], ToolStreamResult]:
        """A streamed tool call through the SDK's accumulating helper: each argument
        fragment read as it arrives, the helper's complete calls at the end."""
        helper, args = self.helper(self.sync), self.fresh_args("plain", self.helper_args(tools))
        kind, field = self.fragment_event
        piece = operator.attrgetter(field)

        def run() -> ToolStreamResult:
            count = 0
            with helper(**args()) as stream:
                for event in stream:
                    if event.type == kind and piece(event):
                        count += 1
                return count, self.tool_calls(getattr(stream, self.final_method)())

        return run

    def atool_stream(
        self, tools: list[dict[str, Any]]
    ) -> Callable[[], Awaitable[ToolStreamResult]]:
        args = self.fresh_args("plain", self.helper_args(tools))
        kind, field = self.fragment_event
        piece = operator.attrgetter(field)

        async def run() -> ToolStreamResult:
            count = 0
            async with self.helper(self.aclient)(**args()) as stream:
                async for event in stream:
                    if event.type == kind and piece(event):
                        count += 1
                return count, self.tool_calls(await getattr(stream, self.final_method)())

        return run

    def helper_args(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        return {"tools": tools}

    def stream(self) -> StreamResult:
        def texts() -> Iterator[str | None]:
            with contextlib.ExitStack() as stack:
                stream = self.open_stream(self.sync)
                if hasattr(stream, "__exit__"):
                    stack.enter_context(stream)
                yield from self.texts(stream)

        return collect(texts())

    async def astream(self) -> StreamResult:
        async def texts() -> AsyncIterator[str | None]:
            async with contextlib.AsyncExitStack() as stack:
                stream = await self.open_stream(self.aclient)
                if hasattr(stream, "__aexit__"):
                    await stack.enter_async_context(stream)
                async for item in stream:
                    for text in self.texts([item]):
                        yield text

        return await acollect(texts())

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
    helper_path = "chat.completions.stream"
    fragment_event = ("tool_calls.function.arguments.delta", "arguments_delta")
    final_method = "get_final_completion"

    def make_sync(self) -> Any:
        import openai

        return openai.OpenAI(api_key=self.key, base_url=self.base_url, max_retries=self.retries)

    def make_async(self) -> Any:
        import openai

        return openai.AsyncOpenAI(
            api_key=self.key, base_url=self.base_url, max_retries=self.retries
        )

    def args(self, shape: Shape) -> dict[str, Any]:
        user = {"role": "user", "content": PROMPT}
        args: dict[str, Any] = {"model": self.model, "messages": [user]}
        if shape == "params":
            system = {"role": "system", "content": SYSTEM}
            args.update(messages=[system, user], temperature=TEMPERATURE)
            args.update(max_completion_tokens=MAX_TOKENS)
        return args

    def create(self, client: Any) -> Callable[..., Any]:
        return client.chat.completions.create  # type: ignore[no-any-return]

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
        return Ask(
            {"response_format": schema},
            lambda client: client.chat.completions.parse,
            lambda response: response.choices[0].message.parsed,
        )

    def helper_args(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        # genkit asks for the usage chunk on every stream; the helper is asked the same.
        return {"tools": tools, "stream_options": {"include_usage": True}}


class RawAnthropic(RawClient):
    provider = "anthropic"
    helper_path = "messages.stream"
    fragment_event = ("input_json", "partial_json")
    final_method = "get_final_message"
    #: The API requires max_tokens; genkit sends 4096 when the caller gives none
    #: (``genkit.backends.anthropic._request.DEFAULT_MAX_TOKENS``), so the raw call does too.
    default_max_tokens = 4096

    def make_sync(self) -> Any:
        import anthropic

        return anthropic.Anthropic(
            api_key=self.key, base_url=self.base_url, max_retries=self.retries
        )

    def make_async(self) -> Any:
        import anthropic

        return anthropic.AsyncAnthropic(
            api_key=self.key, base_url=self.base_url, max_retries=self.retries
        )

    def args(self, shape: Shape) -> dict[str, Any]:
        messages = [{"role": "user", "content": PROMPT}]
        args = {"model": self.model, "max_tokens": self.default_max_tokens, "messages": messages}
        if shape == "params":
            # anthropic 2.x has no temperature argument: it travels in extra_body.
            args.update(
                system=SYSTEM, max_tokens=MAX_TOKENS, extra_body={"temperature": TEMPERATURE}
            )
        return args

    def create(self, client: Any) -> Callable[..., Any]:
        return client.messages.create  # type: ignore[no-any-return]

    def text(self, response: Any) -> str:
        return "".join(block.text for block in response.content if block.type == "text")

    def texts(self, stream: Any) -> Iterator[str | None]:
        for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                yield event.delta.text

    def tool(self, tool: genkit.Tool) -> dict[str, Any]:
        return {
            "name": tool.name,
            "description": tool.description,
            "input_schema": tool.parameters,
        }

    def tool_calls(self, response: Any) -> list[SeenCall]:
        return [(b.name, b.input) for b in response.content if b.type == "tool_use"]

    def parse_ask(self, schema: type[Any]) -> Ask:
        return Ask(
            {"output_format": schema},
            lambda client: client.messages.parse,
            lambda response: response.parsed_output,
        )


class RawGemini(RawClient):
    """google-genai with genkit's settings: one attempt, a 600 s timeout on the client."""

    provider = "gemini"
    #: ``httpx2.Limits`` for the async pool; None: the SDK's own (100 connections, 20 idle).
    #: ``bench.concurrency --raw-pool genkit`` gives it genkit's, to compare like with like.
    limits: Any = None

    def make_sync(self) -> Any:
        from google import genai
        from google.genai import types

        pool = None
        if self.limits is not None:
            import httpx2

            pool = httpx2.AsyncClient(follow_redirects=True, limits=self.limits)
        return genai.Client(
            api_key=self.key,
            http_options=types.HttpOptions(
                base_url=self.base_url,
                timeout=600_000,  # milliseconds, genkit's default
                retry_options=types.HttpRetryOptions(attempts=self.retries + 1),
                httpx_async_client=pool,
            ),
        )

    def make_async(self) -> Any:
        # google-genai's async surface hangs off the same Client (``client.aio``).
        return self.sync.aio

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
        # The config object is built for every call, as genkit builds its own.
        if shape == "params":
            return lambda: {**self.args(shape), **(extra or {})}
        return super().fresh_args(shape, extra)

    def create(self, client: Any) -> Callable[..., Any]:
        return client.models.generate_content  # type: ignore[no-any-return]

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
    "openai": RawOpenAI,
    "anthropic": RawAnthropic,
    "gemini": RawGemini,
}


def raw_client(provider: str, server: Server, retries: int = 0) -> RawClient:
    return RAW[provider](server, retries)


def raw_supports(backends: list[str], probe: Callable[[RawClient], object]) -> list[str]:
    """The backends whose raw client can do ``probe`` (the others raise NotImplementedError)."""
    out = []
    for backend in backends:
        try:
            probe(raw_client(backend, Urls("http://127.0.0.1:9")))
        except NotImplementedError:
            continue
        out.append(backend)
    return out


# --------------------------------------------------------------------------- wire check


#: One request made both ways for the wire check: (label, raw call, genkit call).
WireCase = tuple[str, Callable[[], object], Callable[[], object]]


def shape_cases(backend: str, gen: genkit.Generator, raw: RawClient) -> list[WireCase]:
    """call_overhead's requests: each shape, plain calls."""
    return [(shape, raw.caller(shape), genkit_call(gen, shape)) for shape in SHAPES]


def wire_check(
    backends: list[str],
    cases: Callable[[str, genkit.Generator, RawClient], list[WireCase]] = shape_cases,
    answer: str = "hello",
) -> list[list[str]]:
    """Make each case's call once each way against ``fakeprovider`` and compare the wire.

    Returns table rows: backend, case, same path, same body, headers that differ.
    ``answer`` is the text the server answers with.  Skipped (one row saying so) when
    the project's test server is not importable.
    """
    try:
        from fakeprovider import FakeProviderServer, Reply
    except ImportError as error:
        return [["—", "—", "—", "—", f"fakeprovider not importable: {error}"]]
    rows = []
    with FakeProviderServer() as fake:
        urls = Urls(fake.url)
        for backend in backends:
            gen = load_generator(backend, urls)
            raw = raw_client(backend, urls)
            for label, raw_call, genkit_call_ in cases(backend, gen, raw):
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
                body = _body_difference(a.body, b.body)
                rows.append(
                    [backend, label, "yes" if same else "NO", body, "; ".join(headers) or "none"]
                )
            gen.close()
            raw.close()
    return rows


#: Headers that differ for reasons outside the request: the body's length.
IGNORED_HEADERS = frozenset({"content-length"})


def _body_difference(raw: Any, gk: Any) -> str:
    if raw == gk:
        return "yes"
    if not isinstance(raw, dict) or not isinstance(gk, dict):
        return "NO (not JSON objects)"
    return "NO: " + "; ".join(_grouped(_differences(raw, gk, "")))


def _grouped(notes: list[str]) -> list[str]:
    """Three or more of the same kind ("raw adds ...title=") as one note with a count."""
    kinds: dict[str, list[str]] = {}
    for note in notes:
        head, _, _ = note.partition("=")
        side, _, path = head.partition(" adds ")
        key = f"{side} adds {path.rsplit('.', 1)[-1]}" if path else note
        kinds.setdefault(key, []).append(note)
    return [
        group[0] if len(group) < 3 else f"{kind} in {len(group)} places"
        for kind, group in kinds.items()
    ]


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _differences(raw: Any, gk: Any, path: str) -> list[str]:
    """Where two JSON values differ, by path (``a.b[2].c``), values shortened."""
    if isinstance(raw, dict) and isinstance(gk, dict):
        out = [f"genkit adds {path}{k}={_short(gk[k])}" for k in gk if k not in raw]
        out += [f"raw adds {path}{k}={_short(raw[k])}" for k in raw if k not in gk]
        for k in raw:
            if k in gk and raw[k] != gk[k]:
                out += _differences(raw[k], gk[k], f"{path}{k}.")
        return out
    if isinstance(raw, list) and isinstance(gk, list) and len(raw) == len(gk):
        out = []
        for i, (a, b) in enumerate(zip(raw, gk, strict=True)):
            if a != b:
                out += _differences(a, b, f"{path.rstrip('.')}[{i}].")
        return out
    return [f"{path.rstrip('.')}: raw {_short(raw)} vs genkit {_short(gk)}"]
