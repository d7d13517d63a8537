"""The Anthropic backend: calls, streams and the ``n > 1`` fan-out (see _request.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any, ClassVar, TypeVar

import anthropic

from genkit.backends._hosted import StainlessBackend
from genkit.backends._sse import EventDecoder
from genkit.backends._transport import within
from genkit.backends.anthropic._capabilities import CAPABILITIES, thinking_style
from genkit.backends.anthropic._errors import classify
from genkit.backends.anthropic._request import (
    PROVIDER,
    build,
    candidates,
    check_request,
    check_stop,
    check_turns,
    map_messages,
)
from genkit.backends.anthropic._response import StreamMerger, events, generation
from genkit.params import Request
from genkit.types import Generation, StreamEvent, StreamWarning

__all__ = ["AnthropicBackend"]

T = TypeVar("T")
#: A streamed response the SDK opened (its context manager, to close it, and the
#: response whose body genkit reads).
_Opened = tuple[Any, Any]


class AnthropicBackend(StainlessBackend[anthropic.Anthropic, anthropic.AsyncAnthropic]):
    provider = PROVIDER
    capabilities = CAPABILITIES
    # The SDK's order: api_key=, $ANTHROPIC_API_KEY, then $ANTHROPIC_AUTH_TOKEN (sent as
    # a bearer token).
    key_variables = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
    advertised_key_variables = ("ANTHROPIC_API_KEY",)
    base_url_variable = "ANTHROPIC_BASE_URL"

    sdk: ClassVar[ModuleType] = anthropic
    sync_client_class = anthropic.Anthropic
    async_client_class = anthropic.AsyncAnthropic

    def _credentials(self) -> dict[str, Any]:
        # A key from $ANTHROPIC_AUTH_TOKEN is sent as the SDK sends it: a bearer token,
        # with no api_key beside it.
        bearer = self._key_source == self.key_variables[1]
        return {"api_key": None, "auth_token" if bearer else "api_key": self._key}

    _classify = staticmethod(classify)

    # ------------------------------------------------------------------ calls

    _map_messages = staticmethod(map_messages)

    def check(self, request: Request) -> None:
        super().check(request)
        check_turns(request.messages)
        stop = request.params.get("stop")
        if stop:
            check_stop(stop)
        check_request(request, thinking_style(request.model))

    def generate(self, request: Request) -> Generation:
        built = build(request, thinking_style(request.model))
        args = built.args
        n = candidates(request)
        with self._translating:  # the client, the requests (threads for n > 1), the answers
            create = self._sync.get().messages.create
            messages = [create(**args)] if n == 1 else _concurrently(lambda: create(**args), n)
            result = generation(messages, self.model)
        result.warnings = built.warnings
        return result

    async def agenerate(self, request: Request) -> Generation:
        built = build(request, thinking_style(request.model))
        args = built.args
        n = candidates(request)
        with self._translating:
            create = self._async.get().messages.create
            if n == 1:
                messages = [await within(create(**args), request.timeout, PROVIDER)]
            else:
                messages = await within(
                    _aconcurrently(lambda: create(**args), n), request.timeout, PROVIDER
                )
            result = generation(messages, self.model)
        result.warnings = built.warnings
        return result

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        # The SDK sends each request and raises its typed errors; genkit decodes the
        # body itself (see genkit/backends/_sse.py for why).
        built = build(request, thinking_style(request.model))
        args = built.args
        opened = _concurrently(lambda: self._open(args), candidates(request), _close)
        merger = StreamMerger(len(opened))
        try:
            for warning in built.warnings:
                yield StreamWarning(warning)
            with self._translating:
                for index, (_, response) in enumerate(opened):
                    decoder = EventDecoder()
                    for received in response.iter_bytes():
                        for data in decoder.feed(received):
                            yield from events(merger, index, data, response)
        finally:
            for each in opened:
                _close(each)

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        built = build(request, thinking_style(request.model))
        args = built.args
        opened = await _aconcurrently(lambda: self._aopen(args), candidates(request), _aclose)
        merger = StreamMerger(len(opened))
        try:
            for warning in built.warnings:
                yield StreamWarning(warning)
            with self._translating:
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

    def _open(self, args: dict[str, Any]) -> _Opened:
        with self._translating:
            context = self._sync.get().messages.with_streaming_response.create(**args, stream=True)
            return context, context.__enter__()

    async def _aopen(self, args: dict[str, Any]) -> _Opened:
        with self._translating:
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
