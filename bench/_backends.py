"""The same request made two ways: through genkit, and through the vendor SDK directly.

Each raw client is configured the way genkit configures its own (retries off, same
base URL and key, default timeouts) and sends the same body genkit sends, and each
consumer does the same work with the answer (read the text; for streams, read every
chunk's text and join them at the end, which ``stream.result`` does in genkit).  Any
difference in the benchmarks is then genkit's own cost, not a different request.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
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

    def fresh_args(self, shape: Shape) -> Callable[[], dict[str, Any]]:
        args = self.args(shape)
        lists = [k for k, v in args.items() if isinstance(v, list)]
        return lambda: {**args, **{k: list(args[k]) for k in lists}}

    def caller(self, shape: Shape = "plain") -> Callable[[], str]:
        # The bound ``self.text`` holds this object and so the client: google-genai
        # closes its HTTP pool when its Client is collected, even while ``models`` lives.
        create, args, text = self.create(self.sync), self.fresh_args(shape), self.text
        return lambda: text(create(**args()))

    def acaller(self, shape: Shape = "plain") -> Callable[[], Awaitable[str]]:
        args = self.fresh_args(shape)

        async def call() -> str:
            return self.text(await self.create(self.aclient)(**args()))

        return call

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


class RawAnthropic(RawClient):
    provider = "anthropic"
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

    def fresh_args(self, shape: Shape) -> Callable[[], dict[str, Any]]:
        # The config object is built for every call, as genkit builds its own.
        return (lambda: self.args(shape)) if shape == "params" else super().fresh_args(shape)

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


# --------------------------------------------------------------------------- wire check


def wire_check(backends: list[str]) -> list[list[str]]:
    """Make each call once each way against ``fakeprovider`` and compare the wire.

    Returns table rows: backend, shape, same path, same body, headers that differ.
    Skipped (one row saying so) when the project's test server is not importable.
    """
    try:
        from fakeprovider import FakeProviderServer, Reply
    except ImportError as error:
        return [["—", "—", "—", "—", f"fakeprovider not importable: {error}"]]
    rows = []
    with FakeProviderServer() as fake:
        fake.default = Reply.text("hello")
        urls = Urls(fake.url)
        for backend in backends:
            gen = load_generator(backend, urls)
            raw = raw_client(backend, urls)
            for shape in SHAPES:
                fake.reset()
                raw.caller(shape)()
                genkit_call(gen, shape)()
                if len(fake.requests) != 2:
                    rows.append([backend, shape, "—", "—", f"{len(fake.requests)} requests seen"])
                    continue
                a, b = fake.requests
                headers = sorted(
                    f"{name}: {a.headers.get(name)!r} vs {b.headers.get(name)!r}"
                    for name in set(a.headers) | set(b.headers)
                    if name != "content-length" and a.headers.get(name) != b.headers.get(name)
                )
                same = (a.method, a.path, a.query) == (b.method, b.path, b.query)
                body = _body_difference(a.body, b.body)
                rows.append(
                    [backend, shape, "yes" if same else "NO", body, "; ".join(headers) or "none"]
                )
            gen.close()
    return rows


def _body_difference(raw: Any, gk: Any) -> str:
    if raw == gk:
        return "yes"
    if not isinstance(raw, dict) or not isinstance(gk, dict):
        return "NO (not JSON objects)"
    notes = [f"genkit adds {k}={gk[k]!r}" for k in gk if k not in raw]
    notes += [f"raw adds {k}={raw[k]!r}" for k in raw if k not in gk]
    notes += [
        f"{k}: raw {raw[k]!r} vs genkit {gk[k]!r}" for k in raw if k in gk and raw[k] != gk[k]
    ]
    return "NO: " + "; ".join(notes)
