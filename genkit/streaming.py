"""Streams that behave the same on every backend.

A backend yields the typed events of :data:`~genkit.types.StreamEvent` (a
:class:`~genkit.types.Chunk` per piece of text, passed on as it is, so a long stream
builds one object per chunk); these wrappers hand the text to plain iteration, every
event to ``events()``, accumulate them into a final :class:`~genkit.types.Generation`,
and own the rules every backend shares:

- the request is retried only until the first content (text, reasoning, a tool call)
  reaches the caller; after that a
  failure raises the typed error with everything received so far attached
  (``error.partial``, and ``stream.result`` stays readable);
- a stream that ends without the provider saying it finished raises
  :class:`~genkit.errors.InvalidResponseError` instead of passing for complete;
- closing the stream (``break`` + ``close()``, ``with``, garbage collection) closes the
  backend's iterator, which closes the HTTP connection or stops local generation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any

from genkit._events import (
    Chunk,
    Finish,
    ProviderData,
    ReasoningDelta,
    RefusalDelta,
    ResponseMetadata,
    StreamEvent,
    StreamWarning,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageUpdate,
)
from genkit.errors import GenkitError, InvalidResponseError, ProviderError, StreamNotFinishedError
from genkit.parts import Part, Text, ToolCall
from genkit.retry import RetryPolicy
from genkit.telemetry import Call, observe
from genkit.types import FinishReason, Generation, Message, Usage, price_as

if TYPE_CHECKING:
    from genkit._toolloop import StreamLoop
    from genkit.params import Request

__all__ = ["AsyncEventIterator", "AsyncStream", "EventIterator", "Stream"]


class _Accumulator:
    """Collects events into per-candidate text, finish reasons, usage and model.

    Text stays a plain list of pieces per candidate (the per-chunk path appends to it
    and nothing else); whatever else a turn holds - complete tool calls, provider data -
    is kept beside it with the number of text pieces before it, and the assistant turn
    is put together in event order only when the result is read.
    """

    __slots__ = (
        "finish",
        "items",
        "model",
        "parsed",
        "parts",
        "provider",
        "raw",
        "raw_finish",
        "reasoning",
        "refusal",
        "requested",
        "usage",
        "warnings",
    )

    def __init__(self, provider: str, model: str, warnings: list[str]) -> None:
        self.provider = provider
        self.model = self.requested = model
        self.warnings = warnings
        self.parts: list[list[str]] = [[]]
        self.finish: list[FinishReason | None] = [None]
        self.raw_finish: list[str | None] = [None]
        self.usage: Usage | None = None
        self.raw: list[Any] = []
        #: The validated answer of a ``schema=`` stream, once it has ended.
        self.parsed: Any = None
        #: Per candidate: (text pieces before it, part) for each non-text part, in order.
        self.items: dict[int, list[tuple[int, Part]]] = {}
        #: The first candidate's reasoning and refusal text, as pieces.
        self.reasoning: list[str] = []
        self.refusal: list[str] = []

    def _grow(self, index: int) -> None:
        while index >= len(self.parts):
            self.parts.append([])
            self.finish.append(None)
            self.raw_finish.append(None)

    def add(self, event: StreamEvent) -> None:
        match event:
            case Chunk(text=text, index=index):
                self._grow(index)
                if text:
                    self.parts[index].append(text)
            case Finish(reason=reason, raw_reason=raw_reason, index=index, raw=raw):
                self._grow(index)
                self.finish[index] = reason
                self.raw_finish[index] = raw_reason
                self._keep(raw)
            case UsageUpdate(usage=usage, raw=raw):
                self.usage = usage
                self._keep(raw)
            case ResponseMetadata(model=model, raw=raw):
                if model:
                    self.model = model
                self._keep(raw)
            case ToolCallEnd(id=id, name=name, arguments=arguments, index=index):
                # Only an ended call enters the turn: a call cut mid-arguments never does.
                self._item(index, ToolCall(id, name, arguments))
            case ProviderData(part=part, index=index):
                self._item(index, part)
            case StreamWarning(message=message):
                self.warnings.append(message)
            case ReasoningDelta(text=text, index=index):
                self._grow(index)
                if index == 0:
                    self.reasoning.append(text)
            case RefusalDelta(text=text, index=index):
                self._grow(index)
                if index == 0:
                    self.refusal.append(text)
            case ToolCallStart(index=index) | ToolCallDelta(index=index):
                self._grow(index)
            case _:
                raise InvalidResponseError(
                    f"the backend yielded {type(event).__name__!r}, which is not a stream "
                    "event (see genkit.StreamEvent)",
                    provider=self.provider,
                )

    def _item(self, index: int, part: Part) -> None:
        self._grow(index)
        self.items.setdefault(index, []).append((len(self.parts[index]), part))

    def _message(self, index: int) -> Message:
        """Candidate ``index``'s assistant turn: text and parts in the order they came."""
        texts = self.parts[index]
        items = self.items.get(index)
        if not items:
            return Message("assistant", "".join(texts))
        content: list[Part] = []
        done = 0
        for at, part in items:
            if at > done:
                content.append(Text("".join(texts[done:at])))
                done = at
            content.append(part)
        if done < len(texts):
            content.append(Text("".join(texts[done:])))
        return Message("assistant", tuple(content))

    def _keep(self, raw: Any) -> None:
        """The provider's final events, once each, become ``stream.result.raw``."""
        if raw is not None and (not self.raw or self.raw[-1] is not raw):
            self.raw.append(raw)

    def generation(self) -> Generation:
        usage = self.usage or Usage()
        price_as(usage, self.provider, self.model, self.requested)
        messages = [self._message(i) for i in range(len(self.parts))] if self.items else []
        generation = Generation(
            texts=["".join(p) for p in self.parts],
            finish_reasons=list(self.finish),
            usage=usage,
            model=self.model,
            provider=self.provider,
            raw=list(self.raw) or None,
            warnings=self.warnings,
            raw_finish_reasons=list(self.raw_finish),
            parsed=self.parsed,
            messages=messages,
            reasoning="".join(self.reasoning) if self.reasoning else None,
            refusal="".join(self.refusal) if self.refusal else None,
        )
        if messages:
            from genkit._tooling import settle_finish_reasons

            settle_finish_reasons(generation)
        return generation

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
        self._output = request.output if request is not None else None
        #: ``partial_object``'s last parse: (chunks it had read, value).
        self._partial: tuple[int, Any] = (0, None)
        #: Telemetry for this stream, from its first iteration to its end (None: off).
        self._call: Call | None = None
        self._buffer: list[StreamEvent] = []
        self._done = False
        self.error: GenkitError | None = None
        # What each event becomes for the caller: text Chunks only, or every event while
        # events() runs.  A plain function, not a bound method: no cycle through self,
        # so a dropped stream is closed at once.
        self._deliver: Callable[[_StreamBase, StreamEvent], StreamEvent | None] = _StreamBase._chunk
        #: The tool loop (``max_steps > 1``) that may start another step at the end.
        self._loop: StreamLoop | None = None

    def _result(self) -> Generation:
        """The result so far: this step's, with the earlier steps of a tool loop."""
        generation = self._acc.generation()
        return generation if self._loop is None else self._loop.combined(generation)

    def _begin_step(self, request: Request, open_events: Callable[[], Any]) -> None:
        """Read the next step of a tool loop through this same stream object."""
        acc = self._acc
        self._acc = _Accumulator(acc.provider, acc.requested, list(self._loop_warnings()))
        self._request = request
        self._open = open_events
        self._call = None
        self._done = False

    def _loop_warnings(self) -> list[str]:
        return self._loop.warnings if self._loop is not None else []

    @property
    def text(self) -> str:
        """The first candidate's text received so far."""
        return "".join(self._acc.parts[0])

    @property
    def partial_object(self) -> Any:
        """With ``schema=``: the JSON value received so far (a dict, list, ...), else None.

        Parsed from the text when read (strings cut mid-way included), not per chunk,
        so streams nobody asks this of pay nothing.  Not validated: the validated
        object is ``result.parsed`` once the stream has ended.
        """
        if self._output is None:
            return None
        parts = self._acc.parts[0]
        read, value = self._partial
        if read != len(parts):
            with suppress(ValueError):  # not JSON (yet): keep the last value that was
                from genkit import structured

                value = structured.partial_value("".join(parts), self._output)
            self._partial = (len(parts), value)
        return value

    def _check_output(self) -> None:
        """Validate a ``schema=`` stream's answer at its end (``result.parsed``), or raise."""
        if self._output is not None:
            result = self._acc.generation()
            from genkit import structured

            structured.check_answer(result, self._output)
            self._acc.parsed = result.parsed

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

    def _chunk(self, event: StreamEvent) -> Chunk | None:
        """Accumulate one event; the Chunk to hand the caller, if it is text."""
        if type(event) is Chunk:
            # Text, nearly every event: accumulated here without the dispatch.
            parts = self._acc.parts
            if event.index < len(parts) and event.text:
                parts[event.index].append(event.text)
                return event
        self._acc.add(event)
        return event if type(event) is Chunk and event.text else None

    def _event(self, event: StreamEvent) -> StreamEvent | None:
        """Accumulate one event; the event to hand a caller of ``events()``."""
        self._acc.add(event)
        return None if type(event) is Chunk and not event.text else event


class Stream(_StreamBase):
    """A synchronous stream of :class:`Chunk`; ``result`` is the full :class:`Generation`.

    Iterate it, or use it as a context manager so the connection is closed even when
    the loop exits early.
    """

    def __init__(
        self,
        open_events: Callable[[], Iterator[StreamEvent]],
        *,
        provider: str,
        model: str,
        policy: RetryPolicy,
        warnings: list[str],
        request: Request | None = None,
    ) -> None:
        super().__init__(provider, model, policy, warnings, request)
        self._open = open_events
        self._events: Iterator[StreamEvent] | None = None

    def _start(self) -> Iterator[StreamEvent]:
        def attempt() -> tuple[Iterator[StreamEvent], list[StreamEvent]]:
            events = self._open()
            buffered: list[StreamEvent] = []
            try:
                for event in events:
                    buffered.append(event)
                    if type(event) in _CONTENT:
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

    def events(self) -> Iterator[StreamEvent]:
        """Every event of the stream, in order: text, reasoning, tool calls, finish, usage.

        ``for chunk in stream`` yields only the text (:class:`Chunk`); this yields it
        too, with everything else.  Both read the same stream: after leaving an
        ``events()`` loop early, plain iteration goes on with the text that follows.
        """
        return EventIterator(self.__next__, (self,))

    def __next__(self) -> Chunk:
        # Runs once per chunk: the common case (open stream, nothing buffered) first.
        deliver = self._deliver
        while True:
            events = self._events
            if events is None or self._buffer:
                if self._buffer:
                    out = deliver(self, self._buffer.pop(0))
                    if out is not None:
                        return out  # type: ignore[return-value]  # a Chunk unless events()
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
                loop = self._loop
                if loop is not None:
                    step = loop.advance(self._acc.generation())
                    if step is not None:
                        self._begin_step(*step)
                        continue
                raise
            except GenkitError as error:
                self._fail(error)
                self._close_events()
                raise
            out = deliver(self, event)
            if out is not None:
                return out  # type: ignore[return-value]  # a Chunk unless events()

    def _finish(self) -> None:
        self._close_events()
        try:
            self._acc.check_complete()
            self._check_output()
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
        return self._result()

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
        open_events: Callable[[], AsyncIterator[StreamEvent]],
        *,
        provider: str,
        model: str,
        policy: RetryPolicy,
        warnings: list[str],
        request: Request | None = None,
    ) -> None:
        super().__init__(provider, model, policy, warnings, request)
        self._open = open_events
        self._events: AsyncIterator[StreamEvent] | None = None

    async def _start(self) -> AsyncIterator[StreamEvent]:
        async def attempt() -> tuple[AsyncIterator[StreamEvent], list[StreamEvent]]:
            events = self._open()
            buffered: list[StreamEvent] = []
            try:
                async for event in events:
                    buffered.append(event)
                    if type(event) in _CONTENT:
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

    def events(self) -> AsyncIterator[StreamEvent]:
        """Every event of the stream, in order: the twin of :meth:`Stream.events`."""
        return AsyncEventIterator(self.__anext__, (self,))

    async def __anext__(self) -> Chunk:
        # Runs once per chunk: the common case (open stream, nothing buffered) first.
        deliver = self._deliver
        while True:
            events = self._events
            if events is None or self._buffer:
                if self._buffer:
                    out = deliver(self, self._buffer.pop(0))
                    if out is not None:
                        return out  # type: ignore[return-value]  # a Chunk unless events()
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
                loop = self._loop
                if loop is not None:
                    step = await loop.aadvance(self._acc.generation())
                    if step is not None:
                        self._begin_step(*step)
                        continue
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
            out = deliver(self, event)
            if out is not None:
                return out  # type: ignore[return-value]  # a Chunk unless events()

    async def _finish(self) -> None:
        await self._close_events()
        try:
            self._acc.check_complete()
            self._check_output()
        except GenkitError as error:
            self._fail(error)
            raise
        self._observed()

    async def get_result(self) -> Generation:
        """The whole generation, reading the rest of the stream first if needed."""
        if not self._done:
            async for _ in self:
                pass
        return self._result()

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
        return self._result()

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


class EventIterator:
    """``events()``: a stream's own iteration, handing on every event instead of text only.

    Switching the streams' delivery per event (rather than for the life of a
    generator) keeps plain iteration's per-chunk path as it was, and leaves nothing
    switched when a loop over the events stops early.  ``streams`` are the
    :class:`Stream` objects whose events ``advance`` reads (several for a fallback
    chain).
    """

    __slots__ = ("_advance", "_streams")

    def __init__(self, advance: Callable[[], Chunk], streams: Sequence[_StreamBase]) -> None:
        self._advance = advance
        self._streams = streams

    def __iter__(self) -> EventIterator:
        return self

    def __next__(self) -> StreamEvent:
        for stream in self._streams:
            stream._deliver = _StreamBase._event
        try:
            return self._advance()
        finally:
            for stream in self._streams:
                stream._deliver = _StreamBase._chunk


class AsyncEventIterator:
    """``AsyncStream.events()``: the twin of :class:`EventIterator`."""

    __slots__ = ("_advance", "_streams")

    def __init__(
        self, advance: Callable[[], Awaitable[Chunk]], streams: Sequence[_StreamBase]
    ) -> None:
        self._advance = advance
        self._streams = streams

    def __aiter__(self) -> AsyncEventIterator:
        return self

    async def __anext__(self) -> StreamEvent:
        for stream in self._streams:
            stream._deliver = _StreamBase._event
        try:
            return await self._advance()
        finally:
            for stream in self._streams:
                stream._deliver = _StreamBase._chunk


#: Event kinds that reach the caller as content: once one has, a retry would repeat it.
_CONTENT = frozenset(
    {Chunk, ReasoningDelta, RefusalDelta, ToolCallStart, ToolCallDelta, ToolCallEnd}
)


def _check_buffer_complete(buffered: list[StreamEvent], provider: str) -> None:
    """A stream that ended before any text must still have finished properly to count."""
    if not any(type(e) is Finish for e in buffered):
        raise InvalidResponseError(
            "the stream ended before the provider said it was finished", provider=provider
        )


def _close(events: Iterator[StreamEvent]) -> None:
    close: Any = getattr(events, "close", None)
    if close is not None:
        close()


async def _aclose(events: AsyncIterator[StreamEvent]) -> None:
    aclose: Any = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()
