"""The Anthropic backend: calls, streams and the ``n > 1`` fan-out (see _request.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anthropic

from genkit.backends._hosted import HostedBackend
from genkit.backends._sse import EventDecoder
from genkit.backends._transport import POOL_LIMITS, within
from genkit.backends.anthropic._capabilities import CAPABILITIES
from genkit.backends.anthropic._errors import classify
from genkit.backends.anthropic._request import (
    PROVIDER,
    arguments,
    candidates,
    check_stop,
    check_turns,
)
from genkit.backends.anthropic._response import StreamMerger, events, generation
from genkit.backends.base import BackendSettings
from genkit.errors import ProviderError
from genkit.params import Request
from genkit.types import Generation, StreamEvent

__all__ = ["AnthropicBackend"]

T = TypeVar("T")
#: A streamed response the SDK opened (its context manager, to close it, and the
#: response whose body genkit reads).
_Opened = tuple[Any, Any]


class AnthropicBackend(HostedBackend[anthropic.Anthropic, anthropic.AsyncAnthropic]):
    provider = PROVIDER
    capabilities = CAPABILITIES
    # The SDK's order: api_key=, $ANTHROPIC_API_KEY, then $ANTHROPIC_AUTH_TOKEN (sent as
    # a bearer token).
    key_variables = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
    advertised_key_variables = ("ANTHROPIC_API_KEY",)
    base_url_variable = "ANTHROPIC_BASE_URL"

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        bearer = self._key_source == self.key_variables[1]
        self._credential = {"auth_token" if bearer else "api_key": self._key}

    def _new_sync_client(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            http_client=anthropic.DefaultHttpxClient(limits=POOL_LIMITS),
            **self._client_args(),
        )

    def _new_async_client(self) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            http_client=anthropic.DefaultAsyncHttpxClient(limits=POOL_LIMITS),
            **self._client_args(),
        )

    def _close_async_client(self, client: anthropic.AsyncAnthropic) -> Awaitable[None]:
        return client.close()

    def _client_args(self) -> dict[str, Any]:
        # max_retries=0: genkit's policy is the only one, so attempts never multiply.
        # The base URL stays the SDK's own (ANTHROPIC_BASE_URL) unless base_url= was given.
        return {"max_retries": 0, **self.settings.given(), "api_key": None, **self._credential}

    def _classify(self, error: Exception) -> ProviderError:
        return classify(error)

    # ------------------------------------------------------------------ calls

    def check(self, request: Request) -> None:
        for message in request.messages:
            if message.content.__class__ is not str:  # parts: map now, to refuse before sending
                arguments(request)
                break
        check_turns(request.messages)
        check_stop(request.params.get("stop", ()))

    def generate(self, request: Request) -> Generation:
        args = arguments(request)
        messages = _concurrently(lambda: self._create(args), candidates(request))
        with self._translating():
            return generation(messages, self.model)

    async def agenerate(self, request: Request) -> Generation:
        args = arguments(request)
        messages = await within(
            _aconcurrently(lambda: self._acreate(args), candidates(request)),
            request.timeout,
            PROVIDER,
        )
        with self._translating():
            return generation(messages, self.model)

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        # The SDK sends each request and raises its typed errors; genkit decodes the
        # body itself (see genkit/backends/_sse.py for why).
        args = arguments(request)
        opened = _concurrently(lambda: self._open(args), candidates(request), _close)
        merger = StreamMerger(len(opened))
        try:
            with self._translating():
                for index, (_, response) in enumerate(opened):
                    decoder = EventDecoder()
                    for received in response.iter_bytes():
                        for data in decoder.feed(received):
                            yield from events(merger, index, data, response)
        finally:
            for each in opened:
                _close(each)

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        args = arguments(request)
        opened = await _aconcurrently(lambda: self._aopen(args), candidates(request), _aclose)
        merger = StreamMerger(len(opened))
        try:
            with self._translating():
                for index, (_, response) in enumerate(opened):
                    decoder = EventDecoder()
                    async for received in response.iter_bytes():
                        for data in decoder.feed(received):
                            for event in events(merger, index, data, response):
                                yield event
        finally:
            for each in opened:
                await _aclose(each)

    # ------------------------------------------------------------------ one request

    def _create(self, args: dict[str, Any]) -> anthropic.types.Message:
        with self._translating():
            message: anthropic.types.Message = self._sync.get().messages.create(**args)
        return message

    async def _acreate(self, args: dict[str, Any]) -> anthropic.types.Message:
        with self._translating():
            message: anthropic.types.Message = await self._async.get().messages.create(**args)
        return message

    def _open(self, args: dict[str, Any]) -> _Opened:
        with self._translating():
            context = self._sync.get().messages.with_streaming_response.create(**args, stream=True)
            return context, context.__enter__()

    async def _aopen(self, args: dict[str, Any]) -> _Opened:
        with self._translating():
            context = self._async.get().messages.with_streaming_response.create(**args, stream=True)
            return context, await context.__aenter__()


# ---------------------------------------------------------------------- n > 1 fan-out


def _ignore(_: object) -> None:
    return None


async def _aignore(_: object) -> None:
    return None


def _close(opened: _Opened) -> None:
    opened[0].__exit__(None, None, None)


async def _aclose(opened: _Opened) -> None:
    await opened[0].__aexit__(None, None, None)


def _concurrently(call: Callable[[], T], n: int, discard: Callable[[T], None] = _ignore) -> list[T]:
    """Run ``call`` ``n`` times at once; on any failure discard the successes, raise the first."""
    if n == 1:
        return [call()]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="genkit-anthropic") as pool:
        futures = [pool.submit(call) for _ in range(n)]
    failure = next((f.exception() for f in futures if f.exception() is not None), None)
    results = [f.result() for f in futures if f.exception() is None]
    if failure is not None:
        for result in results:
            discard(result)
        raise failure
    return results


async def _aconcurrently(
    call: Callable[[], Awaitable[T]],
    n: int,
    discard: Callable[[T], Awaitable[None]] = _aignore,
) -> list[T]:
    """The asyncio twin of :func:`_concurrently`, on ``asyncio.gather``."""
    if n == 1:
        return [await call()]
    outcomes = await asyncio.gather(*(call() for _ in range(n)), return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    results = [o for o in outcomes if not isinstance(o, BaseException)]
    if failures:
        for result in results:
            await discard(result)
        raise failures[0]
    return results
