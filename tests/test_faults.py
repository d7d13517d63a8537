"""The fault suite: every injected fault x every hosted backend x every way of calling.

Each fault is injected by the local fake server into the real vendor SDK underneath
genkit, and each of ``generate``, ``stream``, ``agenerate`` and ``astream`` is driven
through it.  A user gets exactly one of these outcomes, never anything else:

- ``recovers``: the fault struck before anything reached the caller and retrying is
  right, so the call is retried and succeeds (the server sees exactly 2 requests).
  Scripted on every attempt instead, the call raises one typed genkit error after
  exactly ``1 + max_retries`` requests;
- ``breaks``: a stream had already delivered text, so it is not retried: one typed
  error, the delivered text kept in ``error.partial`` and ``stream.result``, whose
  ``finish_reason`` is ``None`` - a cut stream never passes for complete;
- ``final``: retrying cannot help (400/401/403/404, or a ``Retry-After`` beyond the
  policy's bound): one request, one typed error, at once.

Every error is a genkit class (never a vendor, httpx2 or JSON exception) with the
provider, the status where there is one, and a readable one-line message.  No cell
may hang: stalls end within the configured per-attempt timeout, and a guard fails
any cell that runs past its bound.

``len(CASES)`` is the matrix size quoted in the README (``test_matrix_is_complete``
keeps it from shrinking silently when a backend or mode is added).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import FrameType
from typing import Any, Literal

import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import HOSTED, Hosted, point_sdks_at

#: Fast backoff keeps the suite quick; the policy's logic is the same at any scale.
FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)
MAX_RETRIES = 2
#: Seconds per attempt: what a stalled server gets before the attempt gives up.
#: Per attempt.  Not shorter: in async modes the timer and the I/O share one thread, so
#: any pause of the test process (a garbage collection, a first-use import inside the
#: attempt) counts against it, and at 0.3 s that failed about one suite run in three.
TIMEOUT = 0.8
#: Allowance on top of the timeouts for everything else an attempt does.
SLACK = 1.5
PROMPT = "tell me a story"
GOOD = "recovered fine"

Mode = Literal["call", "stream", "acall", "astream"]
MODES: tuple[Mode, ...] = ("call", "stream", "acall", "astream")
STREAMING: frozenset[Mode] = frozenset({"stream", "astream"})
Outcome = Literal["recovers", "breaks", "final"]

# Short names keep the table one fault per line.
CONN, TIMED_OUT, RATE = genkit.ConnectionError, genkit.TimeoutError, genkit.RateLimitError
SERVER, INVALID = genkit.ServerError, genkit.InvalidResponseError
Error = type[genkit.ProviderError]
ANTHROPIC = ("anthropic",)

PROXY_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>"
)
NO_WAIT = {"retry-after": "0"}
AN_HOUR = 3600.0


def _date(offset: float = 0.0) -> str:
    """An HTTP date ``offset`` seconds from now, as ``Retry-After`` may carry one."""
    return format_datetime(datetime.now(UTC) + timedelta(seconds=offset), usegmt=True)


@dataclass(frozen=True)
class Fault:
    """One injected failure and what genkit must turn it into.

    ``reply`` is ``None`` for connection refused (no server at all).  ``status`` is the
    status the error must carry, per provider where the providers differ.  ``modes``
    restricts the fault to the calls it can strike (a fault after streamed text exists
    only for streams).  ``retry_after``: the wait the error must report (final 429s).
    """

    name: str
    reply: Callable[[], Reply] | None
    outcome: Outcome
    error: type[genkit.ProviderError]
    status: int | Mapping[str, int] | None = None
    modes: tuple[Mode, ...] = MODES
    providers: tuple[str, ...] = ("openai", "anthropic", "gemini")
    retry_after: float | None = None
    stalls: bool = False

    def status_for(self, provider: str) -> int | None:
        if isinstance(self.status, Mapping):
            return self.status[provider]
        return self.status


CALLS: tuple[Mode, ...] = ("call", "acall")
STREAMS: tuple[Mode, ...] = ("stream", "astream")
#: An in-stream error event has no HTTP status: each backend reports the status its
#: provider sends the same error type with (OpenAI ``server_error`` is a 500, Anthropic
#: ``overloaded_error`` a 529, Gemini puts the code in the event).
EVENT_STATUS = {"openai": 500, "anthropic": 529, "gemini": 503}


def recovers(
    name: str, reply: Callable[[], Reply] | None, error: Error, *args: Any, **kw: Any
) -> Fault:
    """A fault before anything reached the caller: retried, and the retry succeeds."""
    return Fault(name, reply, "recovers", error, *args, **kw)


def breaks(
    name: str,
    reply: Callable[[], Reply],
    error: Error,
    status: int | Mapping[str, int] | None = None,
    *,
    stalls: bool = False,
) -> Fault:
    """A fault after streamed text reached the caller: raised, the text kept."""
    return Fault(name, reply, "breaks", error, status, modes=STREAMS, stalls=stalls)


def final(name: str, reply: Callable[[], Reply], error: Error, status: int) -> Fault:
    """A refusal retrying cannot change: one request, one error."""
    return Fault(name, reply, "final", error, status)


def beyond_bound(name: str, reply: Callable[[], Reply]) -> Fault:
    """A 429 asking for longer than ``max_retry_after``: fails fast, carrying the wait."""
    return Fault(name, reply, "final", RATE, 429, retry_after=AN_HOUR)


FAULTS = [
    recovers("connection-refused", None, CONN),
    recovers("reset-before-response", Reply.reset_before, CONN),
    recovers("reset-during-body", lambda: Reply.reset_during(2), CONN, modes=CALLS),
    recovers("reset-before-text", lambda: Reply.reset_during(0), CONN, modes=STREAMS),
    breaks("reset-mid-stream", lambda: Reply.reset_during(2), CONN),
    recovers("stall-before-headers", Reply.stall, TIMED_OUT, stalls=True),
    recovers("stall-during-body", lambda: Reply.stall(2), TIMED_OUT, modes=CALLS, stalls=True),
    recovers("stall-before-text", lambda: Reply.stall(0), TIMED_OUT, modes=STREAMS, stalls=True),
    breaks("stall-mid-stream", lambda: Reply.stall(2), TIMED_OUT, stalls=True),
    recovers("429-retry-after-seconds", lambda: Reply.error(429, retry_after=0), RATE, 429),
    recovers("429-retry-after-date", lambda: Reply.error(429, retry_after=_date()), RATE, 429),
    recovers("429-retry-after-ms", lambda: Reply.error(429, retry_after_ms=1), RATE, 429),
    beyond_bound("429-seconds-beyond-bound", lambda: Reply.error(429, retry_after=AN_HOUR)),
    beyond_bound("429-date-beyond-bound", lambda: Reply.error(429, retry_after=_date(AN_HOUR))),
    beyond_bound("429-ms-beyond-bound", lambda: Reply.error(429, retry_after_ms=AN_HOUR * 1e3)),
    recovers("500", lambda: Reply.error(500, retry_after=0), SERVER, 500),
    recovers("502-proxy-html", lambda: Reply.raw(502, PROXY_HTML, headers=NO_WAIT), SERVER, 502),
    recovers("503", lambda: Reply.error(503, retry_after=0), SERVER, 503),
    recovers(
        "529-overloaded", lambda: Reply.error(529, retry_after=0), SERVER, 529, providers=ANTHROPIC
    ),
    recovers("200-malformed-json", Reply.malformed_json, INVALID),
    recovers("200-empty-body", Reply.empty_body, INVALID),
    recovers("200-body-cut-short", lambda: Reply.truncated_stream(2), CONN, modes=CALLS),
    recovers(
        "no-terminator-before-text", lambda: Reply.truncated_stream(0), INVALID, modes=STREAMS
    ),
    breaks("no-terminator", lambda: Reply.truncated_stream(2), INVALID),
    recovers("malformed-sse-before-text", lambda: Reply.malformed_sse(0), INVALID, modes=STREAMS),
    breaks("malformed-sse", lambda: Reply.malformed_sse(1), INVALID),
    recovers(
        "error-event-before-text",
        lambda: Reply.stream_error(0),
        SERVER,
        EVENT_STATUS,
        modes=STREAMS,
    ),
    breaks("error-event-mid-stream", lambda: Reply.stream_error(2), SERVER, EVENT_STATUS),
    final("400", lambda: Reply.error(400), genkit.BadRequestError, 400),
    final("401", lambda: Reply.error(401), genkit.AuthenticationError, 401),
    final("403", lambda: Reply.error(403), genkit.PermissionDeniedError, 403),
    final("404", lambda: Reply.error(404), genkit.NotFoundError, 404),
]


def _cases() -> Iterator[Any]:
    for fault in FAULTS:
        for hosted in HOSTED:
            if hosted.provider not in fault.providers:
                continue
            for mode in fault.modes:
                yield pytest.param(fault, hosted, mode, id=f"{fault.name}-{hosted}-{mode}")


CASES = list(_cases())


# --------------------------------------------------------------------------- driving a call


@dataclass
class Run:
    """What one call did: its result or its error, and what reached the caller."""

    result: genkit.Generation | None = None
    error: genkit.ProviderError | None = None
    received: list[str] = field(default_factory=list)
    #: ``stream.result`` read after the stream failed (stream modes only).
    stream_result: genkit.Generation | None = None
    elapsed: float = 0.0


def _drive(gen: genkit.Generator, mode: Mode) -> Run:
    """Call ``gen`` one way; a genkit error is recorded, anything else propagates."""
    run = Run()
    started = time.monotonic()
    try:
        if mode == "call":
            run.result = gen.generate(PROMPT)
        elif mode == "stream":
            stream = gen.stream(PROMPT)
            try:
                for chunk in stream:
                    run.received.append(chunk.text)
            finally:
                run.stream_result = stream.result
                stream.close()
            run.result = run.stream_result
        else:
            asyncio.run(_adrive(gen, mode, run))
    except genkit.ProviderError as error:
        run.error = error
    run.elapsed = time.monotonic() - started
    return run


async def _adrive(gen: genkit.Generator, mode: Mode, run: Run) -> None:
    # No gen.aclose() here: the Generator is used again by the next run, and this
    # loop's connections close with the loop (asyncio.run finalizes its client).
    if mode == "acall":
        run.result = await gen.agenerate(PROMPT)
        return
    stream = gen.astream(PROMPT)
    try:
        async for chunk in stream:
            run.received.append(chunk.text)
    finally:
        run.stream_result = stream.result
        await stream.aclose()
    run.result = run.stream_result


class HangError(AssertionError):
    pass


@contextlib.contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the block runs longer than ``seconds``.

    SIGALRM interrupts even a blocking socket read, which a watchdog thread cannot.
    """

    def expire(signum: int, frame: FrameType | None) -> None:
        raise HangError(f"no answer after {seconds:.1f} s: the call hangs")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------- assertions


def _check_error(error: genkit.ProviderError | None, fault: Fault, hosted: Hosted) -> None:
    """One typed genkit error, with provider, status and a readable message."""
    assert error is not None, "the call must fail"
    assert type(error) is fault.error, f"{type(error).__name__}: {error}"
    assert type(error).__module__ == "genkit.errors"
    assert error.provider == hosted.provider
    assert error.status_code == fault.status_for(hosted.provider)
    text = str(error)
    status = f" {error.status_code}" if error.status_code is not None else ""
    assert text.startswith(f"{hosted.provider}{status}: ")
    assert len(error.message.strip()) >= 8, f"readable: {text!r}"
    assert "\n" not in text, f"one readable line: {text!r}"
    assert len(text) < 400, f"one readable line: {text!r}"
    assert "<html" not in text.lower()
    assert "Traceback" not in text


def _check_nothing_complete(run: Run, mode: Mode) -> None:
    """After a failure, no stream result may claim the answer finished."""
    if mode not in STREAMS:
        return
    assert run.stream_result is not None
    assert run.stream_result.finish_reason is None
    assert run.stream_result.text == "".join(run.received)
    assert run.error is not None
    assert run.error.partial is not None
    assert run.error.partial.finish_reason is None
    assert run.error.partial.text == "".join(run.received)


def _attempt_bound(fault: Fault, attempts: int) -> float:
    return attempts * (TIMEOUT if fault.stalls else 0.0) + SLACK


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: bind one, note it, let it go."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _refused_base_url(provider: str) -> str:
    url = f"http://127.0.0.1:{_closed_port()}"
    return f"{url}/v1" if provider == "openai" else url


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


class RetryLog(logging.Handler):
    """Counts the retries genkit's policy logs, for attempts no server can count."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying" in record.getMessage():
            self.retries += 1


@pytest.fixture
def retry_log() -> Iterator[RetryLog]:
    handler = RetryLog()
    logger = logging.getLogger("genkit")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


# --------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize(("fault", "hosted", "mode"), CASES)
def test_fault(
    server: FakeProviderServer, retry_log: RetryLog, fault: Fault, hosted: Hosted, mode: Mode
) -> None:
    attempts = 1 + MAX_RETRIES
    base_url = _refused_base_url(hosted.provider) if fault.reply is None else None
    gen = genkit.load(
        f"{hosted.provider}:{hosted.model}",
        base_url=base_url,
        retry=FAST,
        max_retries=MAX_RETRIES,
        timeout=TIMEOUT,
    )
    try:
        with hang_guard(2 * _attempt_bound(fault, 2 * attempts) + 5):
            if fault.reply is None:
                _refused(gen, fault, hosted, mode, retry_log)
            elif fault.outcome == "recovers":
                _recovers(server, gen, fault, hosted, mode)
            elif fault.outcome == "breaks":
                _breaks(server, gen, fault, hosted, mode)
            else:
                _final(server, gen, fault, hosted, mode)
    finally:
        gen.close()


def _recovers(
    server: FakeProviderServer, gen: genkit.Generator, fault: Fault, hosted: Hosted, mode: Mode
) -> None:
    assert fault.reply is not None
    # Once, then a good answer: the retry succeeds and the caller never sees the fault.
    server.script(fault.reply(), Reply.text(GOOD, chunks=["recovered", " fine"]))
    run = _drive(gen, mode)
    assert run.error is None, f"{type(run.error).__name__}: {run.error}"
    assert run.result is not None
    assert run.result.text == GOOD
    assert run.result.finish_reason == "stop"
    if mode in STREAMS:
        assert "".join(run.received) == GOOD, "nothing from the failed attempt leaks in"
    assert len(server.requests) == 2
    assert run.elapsed < _attempt_bound(fault, 2)

    # On every attempt: one typed error after exactly 1 + max_retries requests.
    server.reset()
    server.script(*[fault.reply() for _ in range(1 + MAX_RETRIES)])
    run = _drive(gen, mode)
    _check_error(run.error, fault, hosted)
    assert run.error is not None
    assert run.error.retryable
    assert run.received == []
    _check_nothing_complete(run, mode)
    assert len(server.requests) == 1 + MAX_RETRIES
    assert run.elapsed < _attempt_bound(fault, 1 + MAX_RETRIES), "each attempt ends on time"


def _breaks(
    server: FakeProviderServer, gen: genkit.Generator, fault: Fault, hosted: Hosted, mode: Mode
) -> None:
    assert fault.reply is not None
    server.script(fault.reply(), Reply.text("a retry must not happen"))
    run = _drive(gen, mode)
    _check_error(run.error, fault, hosted)
    assert run.received, "text before the fault reached the caller"
    assert "".join(run.received).startswith("part0")
    _check_nothing_complete(run, mode)
    assert len(server.requests) == 1, "a stream that delivered text is not retried"
    assert run.elapsed < _attempt_bound(fault, 1)


def _final(
    server: FakeProviderServer, gen: genkit.Generator, fault: Fault, hosted: Hosted, mode: Mode
) -> None:
    assert fault.reply is not None
    server.script(fault.reply(), Reply.text("a retry must not happen"))
    run = _drive(gen, mode)
    _check_error(run.error, fault, hosted)
    assert run.received == []
    _check_nothing_complete(run, mode)
    assert len(server.requests) == 1, "retrying cannot help, so it is not tried"
    assert run.elapsed < SLACK, "fails fast instead of sleeping"
    if fault.retry_after is not None:
        assert run.error is not None
        assert run.error.retry_after is not None
        assert fault.retry_after - 5 <= run.error.retry_after <= fault.retry_after


def _refused(
    gen: genkit.Generator, fault: Fault, hosted: Hosted, mode: Mode, retry_log: RetryLog
) -> None:
    run = _drive(gen, mode)
    _check_error(run.error, fault, hosted)
    assert run.error is not None
    assert run.error.retryable
    _check_nothing_complete(run, mode)
    assert retry_log.retries == MAX_RETRIES, "refused connections are retried"
    assert run.elapsed < _attempt_bound(fault, 1 + MAX_RETRIES)


# --------------------------------------------------------------------------- beyond the matrix


def test_matrix_is_complete() -> None:
    """Every fault meets every hosted backend in every mode it can strike."""
    names = {(f.name, h.provider, m) for f, h, m in (case.values for case in CASES)}
    expected = {
        (fault.name, hosted.provider, mode)
        for fault in FAULTS
        for hosted in HOSTED
        for mode in fault.modes
        if hosted.provider in fault.providers
    }
    assert names == expected
    assert {h.provider for h in HOSTED} == {"openai", "anthropic", "gemini"}
    assert {m for _, _, m in names} == set(MODES)
    assert len(CASES) == 298
    tool_names = {(f.name, h.provider, m) for f, _, h, m in TOOL_MATRIX}
    assert len(tool_names) == len(TOOL_CASES) == 72


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_retries_stop_at_the_total_time_bound(server: FakeProviderServer, hosted: Hosted) -> None:
    """A generous retry count still ends at ``total_timeout``, with the real error."""
    policy = genkit.RetryPolicy(max_retries=100, total_timeout=0.6)
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", retry=policy)
    # Warm up first: the first call imports the SDK and builds its client (~0.4 s on a
    # busy machine), which would count against the 0.6 s bound and leave no retry.
    gen.generate(PROMPT)
    warm = len(server.requests)
    server.default = Reply.error(503, retry_after=0.25)
    started = time.monotonic()
    with hang_guard(10), pytest.raises(genkit.ServerError) as info:
        gen.generate(PROMPT)
    assert time.monotonic() - started < 0.6 + SLACK
    assert info.value.status_code == 503
    assert 2 <= len(server.requests) - warm <= 4
    gen.close()


# --------------------------------------------------------------------------- tool-call streams
# The same faults struck while a turn's tool calls stream: the text first, then two calls
# whose arguments the fake server sends in two halves each (Gemini sends a call whole, on
# its last chunk, so there a cut leaves no call at all).  Deltas counted by a cut: three of
# text, two per call, so 4 cuts inside the first call's arguments and 6 inside the second's.

TOOL_TEXT = "Checking the weather."
TOOL_CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("get_weather", {"city": "Paris", "days": 2}),
    ("get_time", {"zone": "Europe/Paris"}),
)
TOOLS = [
    genkit.Tool(
        name,
        f"{name} for a place",
        {"type": "object", "properties": {key: {} for key in arguments}},
    )
    for name, arguments in TOOL_CALLS
]
#: Cut -> the calls that arrived whole before it (the one after them is cut mid-arguments).
TOOL_CUTS = {"mid-first-call": (4, 0), "mid-second-call": (6, 1)}


def _with_calls(reply: Reply) -> Reply:
    calls = tuple((name, json.dumps(arguments)) for name, arguments in TOOL_CALLS)
    return dataclasses.replace(reply, tool_calls=calls, finish="tool_calls")


def _tool_reply(make: Callable[[int], Reply], cut: int) -> Callable[[], Reply]:
    return lambda: _with_calls(make(cut))


def _tool_faults() -> Iterator[tuple[Fault, int]]:
    """(fault, calls whole before the cut) for each fault kind that cuts a stream."""
    kinds: tuple[tuple[str, Callable[[int], Reply], Error, Mapping[str, int] | None], ...] = (
        ("reset", lambda n: Reply.reset_during(n, text=TOOL_TEXT), CONN, None),
        ("no-terminator", lambda n: Reply.truncated_stream(n, text=TOOL_TEXT), INVALID, None),
        ("malformed-sse", lambda n: Reply.malformed_sse(n, text=TOOL_TEXT), INVALID, None),
        ("error-event", lambda n: Reply.stream_error(n, text=TOOL_TEXT), SERVER, EVENT_STATUS),
    )
    for kind, make, error, status in kinds:
        first = _tool_reply(make, 0)
        yield recovers(f"tool-{kind}-before-text", first, error, status, modes=STREAMS), 0
        for where, (cut, whole) in TOOL_CUTS.items():
            yield breaks(f"tool-{kind}-{where}", _tool_reply(make, cut), error, status), whole


TOOL_FAULTS = list(_tool_faults())
TOOL_MATRIX: list[tuple[Fault, int, Hosted, Mode]] = [
    (fault, whole, hosted, mode)
    for fault, whole in TOOL_FAULTS
    for hosted in HOSTED
    for mode in fault.modes
]
TOOL_CASES = [pytest.param(*case, id=f"{case[0].name}-{case[2]}-{case[3]}") for case in TOOL_MATRIX]


def _drive_tools(gen: genkit.Generator, mode: Mode) -> tuple[Run, list[genkit.StreamEvent]]:
    """Stream with tools, every event recorded; a genkit error is recorded in the run."""
    run, events = Run(), []
    started = time.monotonic()

    async def astream() -> None:
        stream = gen.astream(PROMPT, tools=TOOLS)
        try:
            async for event in stream.events():
                events.append(event)
        finally:
            run.stream_result = stream.result
            await stream.aclose()

    try:
        if mode == "stream":
            stream = gen.stream(PROMPT, tools=TOOLS)
            try:
                events.extend(stream.events())
            finally:
                run.stream_result = stream.result
                stream.close()
        else:
            asyncio.run(astream())
        run.result = run.stream_result
    except genkit.ProviderError as error:
        run.error = error
    run.received = [e.text for e in events if isinstance(e, genkit.Chunk)]
    run.elapsed = time.monotonic() - started
    return run, events


def _calls(result: genkit.Generation | None) -> list[tuple[str, dict[str, Any]]]:
    assert result is not None
    return [(call.name, call.arguments) for call in result.tool_calls]


@pytest.mark.parametrize(("fault", "whole", "hosted", "mode"), TOOL_CASES)
def test_tool_call_stream_fault(
    server: FakeProviderServer, fault: Fault, whole: int, hosted: Hosted, mode: Mode
) -> None:
    assert fault.reply is not None
    gen = genkit.load(
        f"{hosted.provider}:{hosted.model}", retry=FAST, max_retries=MAX_RETRIES, timeout=TIMEOUT
    )
    try:
        with hang_guard(2 * _attempt_bound(fault, 2 * (1 + MAX_RETRIES)) + 5):
            if fault.outcome == "recovers":
                _tool_recovers(server, gen, fault, hosted, mode)
            else:
                _tool_breaks(server, gen, fault, whole, hosted, mode)
    finally:
        gen.close()


def _tool_recovers(
    server: FakeProviderServer, gen: genkit.Generator, fault: Fault, hosted: Hosted, mode: Mode
) -> None:
    """Nothing reached the caller: retried as for text, the retry's calls all whole."""
    assert fault.reply is not None
    server.script(fault.reply(), _with_calls(Reply.text(TOOL_TEXT)))
    run, events = _drive_tools(gen, mode)
    assert run.error is None, f"{type(run.error).__name__}: {run.error}"
    assert run.result is not None
    assert run.result.text == TOOL_TEXT
    assert run.result.finish_reason == "tool_calls"
    assert _calls(run.result) == list(TOOL_CALLS)
    assert "".join(run.received) == TOOL_TEXT, "nothing from the failed attempt leaks in"
    assert sum(isinstance(e, genkit.ToolCallStart) for e in events) == len(TOOL_CALLS)
    assert len(server.requests) == 2

    server.reset()
    server.script(*[fault.reply() for _ in range(1 + MAX_RETRIES)])
    run, events = _drive_tools(gen, mode)
    _check_error(run.error, fault, hosted)
    assert run.error is not None
    assert run.error.retryable
    assert events == []
    _check_nothing_complete(run, mode)
    assert len(server.requests) == 1 + MAX_RETRIES


def _tool_breaks(
    server: FakeProviderServer,
    gen: genkit.Generator,
    fault: Fault,
    whole: int,
    hosted: Hosted,
    mode: Mode,
) -> None:
    """Cut inside a call's arguments: not retried, the half call in no result."""
    assert fault.reply is not None
    server.script(fault.reply(), Reply.text("a retry must not happen"))
    run, events = _drive_tools(gen, mode)
    _check_error(run.error, fault, hosted)
    assert "".join(run.received) == TOOL_TEXT, "the text before the calls reached the caller"
    _check_nothing_complete(run, mode)
    assert len(server.requests) == 1, "a stream that delivered content is not retried"
    assert run.error is not None
    assert run.error.partial is not None
    # The calls before the cut may be reported (whole); the cut one never is.
    delivered = _calls(run.error.partial)
    assert delivered == list(TOOL_CALLS[: len(delivered)])
    assert len(delivered) <= whole
    assert _calls(run.stream_result) == delivered
    ended = [e.name for e in events if isinstance(e, genkit.ToolCallEnd)]
    assert TOOL_CALLS[whole][0] not in ended
    started = [e.name for e in events if isinstance(e, genkit.ToolCallStart)]
    assert len(started) in (0, whole + 1), "either calls stream piecewise, or none arrived"
    if started:  # the cut really fell inside the arguments: a piece of them had arrived
        assert isinstance(events[-1], genkit.ToolCallDelta)
        assert events[-1].arguments
