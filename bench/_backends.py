"""The same request made two ways: through genkit, and through the vendor SDK directly.

Each raw client is configured the way genkit configures its own (retries off, same
base URL and key, default timeouts) and sends the same body genkit sends, and each
consumer does the same work with the answer (read the text; for streams, read every
chunk's text and join them at the end, which ``stream.result`` does in genkit).  Any
difference in the benchmarks is then genkit's own cost, not a different request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
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
    if shape == "params":

        def call_params() -> str:
            return gen.generate(
                PROMPT, system=SYSTEM, temperature=TEMPERATURE, max_tokens=MAX_TOKENS
            ).text

        return call_params

    def call() -> str:
        return gen.generate(PROMPT).text

    return call


def genkit_acall(gen: genkit.Generator, shape: Shape = "plain") -> Callable[[], Awaitable[str]]:
    if shape == "params":

        async def call_params() -> str:
            result = await gen.agenerate(
                PROMPT, system=SYSTEM, temperature=TEMPERATURE, max_tokens=MAX_TOKENS
            )
            return result.text

        return call_params

    async def call() -> str:
        return (await gen.agenerate(PROMPT)).text

    return call


def genkit_stream(gen: genkit.Generator) -> Callable[[], StreamResult]:
    clock = time.perf_counter

    def run() -> StreamResult:
        start = clock()
        first = 0.0
        count = 0
        with gen.stream(PROMPT) as stream:
            for _chunk in stream:
                if not count:
                    first = clock() - start
                count += 1
            text = stream.result.text
        return first, count, text

    return run


def genkit_astream(gen: genkit.Generator) -> Callable[[], Awaitable[StreamResult]]:
    clock = time.perf_counter

    async def run() -> StreamResult:
        start = clock()
        first = 0.0
        count = 0
        async with gen.astream(PROMPT) as stream:
            async for _chunk in stream:
                if not count:
                    first = clock() - start
                count += 1
            text = stream.result.text
        return first, count, text

    return run


# --------------------------------------------------------------------------- raw SDKs


class RawClient:
    """One vendor SDK used directly; subclasses make the same request genkit makes.

    ``call``/``acall`` take the request shape; streams always use the plain shape.
    """

    provider: str

    def __init__(self, server: Server) -> None:
        self.base_url = server.base_url(self.provider)
        self.key = KEYS[self.provider]
        self.model = MODELS[self.provider]
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

    def make_sync(self) -> Any:
        raise NotImplementedError

    def make_async(self) -> Any:
        raise NotImplementedError

    def caller(self, shape: Shape = "plain") -> Callable[[], str]:
        raise NotImplementedError

    def acaller(self, shape: Shape = "plain") -> Callable[[], Awaitable[str]]:
        raise NotImplementedError

    def stream(self) -> StreamResult:
        raise NotImplementedError

    async def astream(self) -> StreamResult:
        raise NotImplementedError

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

    def make_sync(self) -> Any:
        import openai

        return openai.OpenAI(api_key=self.key, base_url=self.base_url, max_retries=0)

    def make_async(self) -> Any:
        import openai

        return openai.AsyncOpenAI(api_key=self.key, base_url=self.base_url, max_retries=0)

    def _args(self, shape: Shape) -> dict[str, Any]:
        if shape == "params":
            return {
                "model": self.model,
                "messages": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": PROMPT},
                ],
                "temperature": TEMPERATURE,
                "max_completion_tokens": MAX_TOKENS,
            }
        return {"model": self.model, "messages": [{"role": "user", "content": PROMPT}]}

    def caller(self, shape: Shape = "plain") -> Callable[[], str]:
        create = self.sync.chat.completions.create
        args = self._args(shape)

        def call() -> str:
            # The body is rebuilt on every call, as genkit rebuilds its own.
            response = create(**{**args, "messages": list(args["messages"])})
            return str(response.choices[0].message.content)

        return call

    def acaller(self, shape: Shape = "plain") -> Callable[[], Awaitable[str]]:
        args = self._args(shape)

        async def call() -> str:
            response = await self.aclient.chat.completions.create(
                **{**args, "messages": list(args["messages"])}
            )
            return str(response.choices[0].message.content)

        return call

    def stream(self) -> StreamResult:
        clock = time.perf_counter
        start = clock()
        first = 0.0
        parts: list[str] = []
        with self.sync.chat.completions.create(
            **self._args("plain"), stream=True, stream_options={"include_usage": True}
        ) as stream:
            for chunk in stream:
                for choice in chunk.choices:
                    text = choice.delta.content
                    if text:
                        if not parts:
                            first = clock() - start
                        parts.append(text)
        return first, len(parts), "".join(parts)

    async def astream(self) -> StreamResult:
        clock = time.perf_counter
        start = clock()
        first = 0.0
        parts: list[str] = []
        stream = await self.aclient.chat.completions.create(
            **self._args("plain"), stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            async for chunk in stream:
                for choice in chunk.choices:
                    text = choice.delta.content
                    if text:
                        if not parts:
                            first = clock() - start
                        parts.append(text)
        return first, len(parts), "".join(parts)


class RawAnthropic(RawClient):
    provider = "anthropic"
    #: The API requires max_tokens; genkit sends 4096 when the caller gives none
    #: (``genkit.backends.anthropic._request.DEFAULT_MAX_TOKENS``), so the raw call does too.
    default_max_tokens = 4096

    def make_sync(self) -> Any:
        import anthropic

        return anthropic.Anthropic(api_key=self.key, base_url=self.base_url, max_retries=0)

    def make_async(self) -> Any:
        import anthropic

        return anthropic.AsyncAnthropic(api_key=self.key, base_url=self.base_url, max_retries=0)

    def _args(self, shape: Shape) -> dict[str, Any]:
        args: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.default_max_tokens,
            "messages": [{"role": "user", "content": PROMPT}],
        }
        if shape == "params":
            # anthropic 2.x has no temperature argument: it travels in extra_body.
            args.update(
                system=SYSTEM, max_tokens=MAX_TOKENS, extra_body={"temperature": TEMPERATURE}
            )
        return args

    @staticmethod
    def _text(message: Any) -> str:
        return "".join(block.text for block in message.content if block.type == "text")

    def caller(self, shape: Shape = "plain") -> Callable[[], str]:
        create = self.sync.messages.create
        args = self._args(shape)

        def call() -> str:
            return self._text(create(**{**args, "messages": list(args["messages"])}))

        return call

    def acaller(self, shape: Shape = "plain") -> Callable[[], Awaitable[str]]:
        args = self._args(shape)

        async def call() -> str:
            message = await self.aclient.messages.create(
                **{**args, "messages": list(args["messages"])}
            )
            return self._text(message)

        return call

    def stream(self) -> StreamResult:
        clock = time.perf_counter
        start = clock()
        first = 0.0
        parts: list[str] = []
        with self.sync.messages.create(**self._args("plain"), stream=True) as stream:
            for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    if not parts:
                        first = clock() - start
                    parts.append(event.delta.text)
        return first, len(parts), "".join(parts)

    async def astream(self) -> StreamResult:
        clock = time.perf_counter
        start = clock()
        first = 0.0
        parts: list[str] = []
        stream = await self.aclient.messages.create(**self._args("plain"), stream=True)
        async with stream:
            async for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    if not parts:
                        first = clock() - start
                    parts.append(event.delta.text)
        return first, len(parts), "".join(parts)


class RawGemini(RawClient):
    """google-genai with genkit's settings: one attempt, a 600 s timeout on the client."""

    provider = "gemini"

    def make_sync(self) -> Any:
        from google import genai
        from google.genai import types

        return genai.Client(
            api_key=self.key,
            http_options=types.HttpOptions(
                base_url=self.base_url,
                timeout=600_000,  # milliseconds, genkit's default
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    def make_async(self) -> Any:
        # google-genai's async surface hangs off the same Client (``client.aio``).
        return self.sync.aio

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
            self._async = None

    def _config(self, shape: Shape) -> Any:
        if shape != "params":
            return None
        from google.genai import types

        return types.GenerateContentConfig(
            system_instruction=SYSTEM, temperature=TEMPERATURE, max_output_tokens=MAX_TOKENS
        )

    def caller(self, shape: Shape = "plain") -> Callable[[], str]:
        # Hold the Client itself: google-genai closes its HTTP pool when the Client is
        # collected, even while its ``models`` object is still referenced.
        client = self.sync
        model = self.model
        if shape == "params":

            def call_params() -> str:
                config = self._config(shape)
                return str(
                    client.models.generate_content(model=model, contents=PROMPT, config=config).text
                )

            return call_params

        def call() -> str:
            return str(client.models.generate_content(model=model, contents=PROMPT).text)

        return call

    def acaller(self, shape: Shape = "plain") -> Callable[[], Awaitable[str]]:
        model = self.model

        async def call() -> str:
            response = await self.aclient.models.generate_content(
                model=model, contents=PROMPT, config=self._config(shape)
            )
            return str(response.text)

        return call

    @staticmethod
    def _chunk_text(chunk: Any) -> str:
        out = []
        for candidate in chunk.candidates or ():
            content = candidate.content
            for part in (content.parts if content is not None else None) or ():
                if part.text:
                    out.append(part.text)
        return "".join(out)

    def stream(self) -> StreamResult:
        clock = time.perf_counter
        start = clock()
        first = 0.0
        parts: list[str] = []
        for chunk in self.sync.models.generate_content_stream(model=self.model, contents=PROMPT):
            text = self._chunk_text(chunk)
            if text:
                if not parts:
                    first = clock() - start
                parts.append(text)
        return first, len(parts), "".join(parts)

    async def astream(self) -> StreamResult:
        clock = time.perf_counter
        start = clock()
        first = 0.0
        parts: list[str] = []
        stream = await self.aclient.models.generate_content_stream(
            model=self.model, contents=PROMPT
        )
        async for chunk in stream:
            text = self._chunk_text(chunk)
            if text:
                if not parts:
                    first = clock() - start
                parts.append(text)
        return first, len(parts), "".join(parts)


RAW: dict[str, type[RawClient]] = {
    "openai": RawOpenAI,
    "anthropic": RawAnthropic,
    "gemini": RawGemini,
}


def raw_client(provider: str, server: Server) -> RawClient:
    return RAW[provider](server)


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
    ignore = {"content-length"}
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
                recorded = fake.requests
                if len(recorded) != 2:
                    rows.append([backend, shape, "—", "—", f"{len(recorded)} requests seen"])
                    continue
                a, b = recorded
                headers = sorted(
                    f"{name}: {a.headers.get(name)!r} vs {b.headers.get(name)!r}"
                    for name in set(a.headers) | set(b.headers)
                    if name not in ignore and a.headers.get(name) != b.headers.get(name)
                )
                rows.append(
                    [
                        backend,
                        shape,
                        "yes"
                        if (a.method, a.path, a.query) == (b.method, b.path, b.query)
                        else "NO",
                        _body_difference(a.body, b.body),
                        "; ".join(headers) or "none",
                    ]
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
