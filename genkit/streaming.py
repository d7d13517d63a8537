"""Streams that behave the same on every backend.

A backend yields :class:`~genkit.types.StreamEvent` values, or a
:class:`~genkit.types.Chunk` for an event that is only text (passed on as it is, so
a long stream builds one object per chunk); these wrappers turn them into the
user-facing :class:`~genkit.types.Chunk` values and a final
:class:`~genkit.types.Generation`, and own the rules every backend shares:

- the request is retried only until the first text reaches the caller; after that a
  failure raises the typed error with everything received so far attached
  (``error.partial``, and ``stream.result`` stays readable);
- a stream that ends without the provider saying it finished raises
  :class:`~genkit.errors.InvalidResponseError` instead of passing for complete;
- closing the stream (``break`` + ``close()``, ``with``, garbage collection) closes the
  backend's iterator, which closes the HTTP connection or stops local generation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from genkit.errors import GenkitError, InvalidResponseError, ProviderError, StreamNotFinishedError
from genkit.retry import RetryPolicy
from genkit.telemetry import Call, observe
from genkit.types import (
    Chunk,
    FinishReason,
    Generation,
    StreamEvent,
    StreamItem,
    Usage,
    price_as,
)

if TYPE_CHECKING:
    from genkit.params import Request

__all__ = ["AsyncStream", "Stream"]


class _Accumulator:
    """Collects events into per-candidate text, finish reasons, usage and model."""

    __slots__ = ("finish", "model", "parts", "provider", "raw", "requested", "usage", "warnings")

    def __init__(self, provider: str, model: str, warnings: list[str]) -> None:
        self.provider = provider
        self.model = self.requested = model
        self.warnings = warnings
        self.parts: list[list[str]] = [[]]
        self.finish: list[FinishReason | None] = [None]
        self.usage: Usage | None = None
        self.raw: list[Any] = []

    def add(self, event: StreamItem) -> None:
        index = event.index
        while index >= len(self.parts):
            self.parts.append([])
            self.finish.append(None)
        if event.text:
            self.parts[index].append(event.text)
        if isinstance(event, Chunk):
            return
        if event.finish_reason is not None:
            self.finish[index] = event.finish_reason
        if event.usage is not None:
            self.usage = event.usage
        if event.model:
            self.model = event.model
        raw = event.raw
        if raw is not None and (not self.raw or self.raw[-1] is not raw):
            self.raw.append(raw)

    def generation(self) -> Generation:
        usage = self.usage or Usage()
        price_as(usage, self.provider, self.model, self.requested)
        return Generation(
            texts=["".join(p) for p in self.parts],
            finish_reasons=list(self.finish),
            usage=usage,
            model=self.model,
            provider=self.provider,
            raw=list(self.raw) or None,
            warnings=self.warnings,
        )

    def check_complete(self) -> None:
        if any(reason is None for reason in self.finish):
            raise InvalidResponseError(
                "the stream ended before the provider said it was finished",
                provider=self.provider,
            )


class _StreamBase:
    def __init__(
        self,
        provider: str,
        model: str,
        policy: RetryPolicy,
        warnings: list[str],
        request: Request | None,
    ) -> None:
        self._acc = _Accumulator(provider, model, warnings)
        self._policy = policy
        self._request = request
        #: Telemetry for this stream, from its first iteration to its end (None: off).
        self._call: Call | None = None
        self._buffer: list[StreamItem] = []
        self._done = False
        self._delivered = False
        self.error: GenkitError | None = None

    @property
    def text(self) -> str:
        """The first candidate's text received so far."""
        return "".join(self._acc.parts[0])

    def _fail(self, error: GenkitError) -> None:
        self._done = True
        self.error = error
        if isinstance(error, ProviderError) and error.partial is None:
            error.partial = self._acc.generation()
        self._observed(error)

    def _observe(self) -> Call | None:
        request = self._request
        if request is not None:
            self._call = observe(self._acc.provider, request, self._policy, stream=True)
        return self._call

    def _observed(self, error: BaseException | None = None, *, closed: bool = False) -> None:
        """Tell telemetry the stream ended (once: later calls are no-ops)."""
        if self._call is not None:
            self._call.finish(self._acc.generation(), error, closed=closed)

    def _chunk(self, event: StreamItem) -> Chunk | None:
        """Accumulate one event; the Chunk to hand the caller, if it carries text."""
        if type(event) is Chunk:
            # Text and nothing else, handed on as it came: nearly every event.
            parts = self._acc.parts
            if event.index < len(parts) and event.text:
                parts[event.index].append(event.text)
                self._delivered = True
                return event
        self._acc.add(event)
        if not event.text:
            return None
        self._delivered = True
        return event if isinstance(event, Chunk) else Chunk(event.text, event.index)


class Stream(_StreamBase):
    """A synchronous stream of :class:`Chunk`; ``result`` is the full :class:`Generation`.

    Iterate it, or use it as a context manager so the connection is closed even when
    the loop exits early.
    """

    def __init__(
        self,
        open_events: Callable[[], Iterator[StreamItem]],
        *,
        provider: str,
        model: str,
        policy: RetryPolicy,
        warnings: list[str],
        request: Request | None = None,
    ) -> None:
        super().__init__(provider, model, policy, warnings, request)
        self._open = open_events
        self._events: Iterator[StreamItem] | None = None

    def _start(self) -> Iterator[StreamItem]:
        def attempt() -> tuple[Iterator[StreamItem], list[StreamItem]]:
            events = self._open()
            buffered: list[StreamItem] = []
            try:
                for event in events:
                    buffered.append(event)
                    if event.text:
                        return events, buffered
                _check_buffer_complete(buffered, self._acc.provider)
            except BaseException:
                _close(events)
                raise
            return events, buffered

        call = self._observe()
        if call is None:
            events, self._buffer = self._policy.call(attempt)
        else:
            events, self._buffer = self._policy.call(call.attempts(attempt), call.retrying)
        return events

    def __iter__(self) -> Iterator[Chunk]:
        return self

    def __next__(self) -> Chunk:
        # Runs once per chunk: the common case (open stream, nothing buffered) first.
        while True:
            events = self._events
            if events is None or self._buffer:
                if self._buffer:
                    chunk = self._chunk(self._buffer.pop(0))
                    if chunk is not None:
                        return chunk
                    continue
                if self._done:
                    raise StopIteration
            try:
                if events is None:
                    self._events = self._start()
                    continue
                event = next(events)
            except StopIteration:
                self._done = True
                self._finish()
                raise
            except GenkitError as error:
                self._fail(error)
                self._close_events()
                raise
            chunk = self._chunk(event)
            if chunk is not None:
                return chunk

    def _finish(self) -> None:
        self._close_events()
        try:
            self._acc.check_complete()
        except GenkitError as error:
            self._fail(error)
            raise
        self._observed()

    @property
    def result(self) -> Generation:
        """The whole generation; reads the rest of the stream first if the loop stopped early.

        After a failure it is the partial result (``finish_reason`` is ``None``).
        """
        return self.get_result()

    def get_result(self) -> Generation:
        """:attr:`result` as a method, the twin of :meth:`AsyncStream.get_result`."""
        if not self._done:
            for _ in self:
                pass
        return self._acc.generation()

    def close(self) -> None:
        """Stop reading and close the connection (or stop local generation)."""
        self._done = True
        self._close_events()
        self._observed(closed=True)

    def _close_events(self) -> None:
        if self._events is not None:
            _close(self._events)
            self._events = None

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        self._close_events()

    def __repr__(self) -> str:
        state = "done" if self._done else "open"
        return f"<genkit.Stream {self._acc.provider}:{self._acc.model} {state}>"


class AsyncStream(_StreamBase):
    """The asyncio twin of :class:`Stream`: ``async for chunk in gen.astream(...)``."""

    def __init__(
        self,
        open_events: Callable[[], AsyncIterator[StreamItem]],
        *,
        provider: str,
        model: str,
        policy: RetryPolicy,
        warnings: list[str],
        request: Request | None = None,
    ) -> None:
        super().__init__(provider, model, policy, warnings, request)
        self._open = open_events
        self._events: AsyncIterator[StreamItem] | None = None

    async def _start(self) -> AsyncIterator[StreamItem]:
        async def attempt() -> tuple[AsyncIterator[StreamItem], list[StreamItem]]:
            events = self._open()
            buffered: list[StreamItem] = []
            try:
                async for event in events:
                    buffered.append(event)
                    if event.text:
                        return events, buffered
                _check_buffer_complete(buffered, self._acc.provider)
            except BaseException:
                await _aclose(events)
                raise
            return events, buffered

        call = self._observe()
        if call is None:
            events, self._buffer = await self._policy.acall(attempt)
        else:
            events, self._buffer = await self._policy.acall(call.aattempts(attempt), call.retrying)
        return events

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> Chunk:
        # Runs once per chunk: the common case (open stream, nothing buffered) first.
        while True:
            events = self._events
            if events is None or self._buffer:
                if self._buffer:
                    chunk = self._chunk(self._buffer.pop(0))
                    if chunk is not None:
                        return chunk
                    continue
                if self._done:
                    raise StopAsyncIteration
            try:
                if events is None:
                    self._events = await self._start()
                    continue
                event = await events.__anext__()
            except StopAsyncIteration:
                self._done = True
                await self._finish()
                raise
            except GenkitError as error:
                self._fail(error)
                await self._close_events()
                raise
            except BaseException as error:
                # Cancellation: close the connection before letting the task unwind.
                self._done = True
                await self._close_events()
                self._observed(error)
                raise
            chunk = self._chunk(event)
            if chunk is not None:
                return chunk

    async def _finish(self) -> None:
        await self._close_events()
        try:
            self._acc.check_complete()
        except GenkitError as error:
            self._fail(error)
            raise
        self._observed()

    async def get_result(self) -> Generation:
        """The whole generation, reading the rest of the stream first if needed."""
        if not self._done:
            async for _ in self:
                pass
        return self._acc.generation()

    @property
    def result(self) -> Generation:
        """The whole generation once the stream has ended (finished, failed or closed).

        Read while the stream is still open it raises
        :class:`~genkit.StreamNotFinishedError`: unlike :attr:`Stream.result` it cannot
        read the rest of the stream first (a property cannot await), and what has
        arrived so far would pass for the whole answer.  ``await stream.get_result()``
        reads the rest, then returns it.
        """
        if not self._done:
            raise StreamNotFinishedError
        return self._acc.generation()

    async def aclose(self) -> None:
        self._done = True
        await self._close_events()
        self._observed(closed=True)

    async def _close_events(self) -> None:
        if self._events is not None:
            events, self._events = self._events, None
            await _aclose(events)

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "done" if self._done else "open"
        return f"<genkit.AsyncStream {self._acc.provider}:{self._acc.model} {state}>"


def _check_buffer_complete(buffered: list[StreamItem], provider: str) -> None:
    """A stream that ended before any text must still have finished properly to count."""
    if not any(isinstance(e, StreamEvent) and e.finish_reason is not None for e in buffered):
        raise InvalidResponseError(
            "the stream ended before the provider said it was finished", provider=provider
        )


def _close(events: Iterator[StreamItem]) -> None:
    close: Any = getattr(events, "close", None)
    if close is not None:
        close()


async def _aclose(events: AsyncIterator[StreamItem]) -> None:
    aclose: Any = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()
