"""The fault matrix: every injected fault x every hosted backend x streaming and not.

For each cell the user gets exactly one of two outcomes: the request is retried and
succeeds (the fault struck before anything was delivered and retrying is right), or
one typed genkit error with the provider, the status where there is one and a
readable message - never a raw vendor, httpx2 or JSON exception, never a cut stream
reported as complete, and whatever text was already delivered stays available.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

import genkit
from tests.fakeprovider import FakeProviderServer, Reply
from tests.hosted import HOSTED, Hosted, point_sdks_at

FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)
TIMEOUT = 0.5  # seconds per attempt for the stall cases


@dataclass(frozen=True)
class Fault:
    """One injected failure and what genkit must turn it into.

    ``recovers``: scripted once before a good reply, the call succeeds on the retry.
    ``error``: scripted for every attempt, the call raises this genkit class.
    ``delivers``: a stream has already yielded text when it breaks, so it is not retried
    and the text stays available.
    """

    name: str
    reply: Callable[[], Reply]
    recovers: bool
    error: type[genkit.ProviderError]
    status: int | None = None
    delivers: bool = False
    streaming: bool | None = None  # None: both modes
    providers: tuple[str, ...] = ("openai", "anthropic", "gemini")


def _now_date() -> str:
    return format_datetime(datetime.now(UTC), usegmt=True)


PROXY_HTML = b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
NO_WAIT = {"retry-after": "0"}


def recovers(
    name: str,
    reply: Callable[[], Reply],
    error: type[genkit.ProviderError],
    status: int | None = None,
    **kwargs: object,
) -> Fault:
    """A fault before anything was delivered: retried, and the retry succeeds."""
    return Fault(name, reply, True, error, status, **kwargs)  # type: ignore[arg-type]


def breaks_stream(
    name: str, reply: Callable[[], Reply], error: type[genkit.ProviderError]
) -> Fault:
    """A fault after text reached the caller: raised, with the text kept."""
    return Fault(name, reply, False, error, delivers=True, streaming=True)


# Short names keep the table one fault per line.
CONN, TIMEOUT_ERR, RATE = genkit.ConnectionError, genkit.TimeoutError, genkit.RateLimitError
SERVER, INVALID = genkit.ServerError, genkit.InvalidResponseError

FAULTS = [
    recovers("reset-before", Reply.reset_before, CONN),
    recovers("reset-during", lambda: Reply.reset_during(2), CONN, streaming=False),
    breaks_stream("reset-mid-stream", lambda: Reply.reset_during(2), CONN),
    recovers("stall", Reply.stall, TIMEOUT_ERR),
    breaks_stream("stall-mid-stream", lambda: Reply.stall(2), TIMEOUT_ERR),
    recovers("429-retry-after-s", lambda: Reply.error(429, retry_after=0), RATE, 429),
    recovers("429-retry-after-date", lambda: Reply.error(429, retry_after=_now_date()), RATE, 429),
    recovers("429-retry-after-ms", lambda: Reply.error(429, retry_after_ms=1), RATE, 429),
    recovers("500", lambda: Reply.error(500, retry_after=0), SERVER, 500),
    recovers("502-html", lambda: Reply.raw(502, PROXY_HTML, headers=NO_WAIT), SERVER, 502),
    recovers("503", lambda: Reply.error(503, retry_after=0), SERVER, 503),
    recovers("529", lambda: Reply.error(529, retry_after=0), SERVER, 529, providers=("anthropic",)),
    recovers("malformed-json", Reply.malformed_json, INVALID, streaming=False),
    recovers("empty-body", Reply.empty_body, INVALID),
    breaks_stream("no-terminator", lambda: Reply.truncated_stream(2), INVALID),
    breaks_stream("malformed-sse", lambda: Reply.malformed_sse(1), INVALID),
    breaks_stream("error-event", lambda: Reply.stream_error(2, status=503), SERVER),
]  # fmt: skip


def _cases() -> Iterator[object]:
    for fault in FAULTS:
        for hosted in HOSTED:
            if hosted.provider not in fault.providers:
                continue
            for streaming in (False, True):
                if fault.streaming is not None and fault.streaming != streaming:
                    continue
                mode = "stream" if streaming else "call"
                yield pytest.param(fault, hosted, streaming, id=f"{fault.name}-{hosted}-{mode}")


CASES = list(_cases())


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def _run(gen: genkit.Generator, streaming: bool) -> tuple[genkit.Generation, list[str]]:
    if not streaming:
        return gen.generate("tell me a story"), []
    received: list[str] = []
    with gen.stream("tell me a story") as stream:
        for chunk in stream:
            received.append(chunk.text)
    return stream.result, received


def _check_typed(error: genkit.ProviderError, fault: Fault, hosted: Hosted) -> None:
    assert isinstance(error, fault.error), f"{type(error).__name__}: {error}"
    assert error.provider == hosted.provider
    if fault.status is not None:
        assert error.status_code == fault.status
    assert str(error).startswith(hosted.provider)
    assert len(error.message) > 3, "a readable message"


@pytest.mark.parametrize(("fault", "hosted", "streaming"), CASES)
def test_fault(server: FakeProviderServer, fault: Fault, hosted: Hosted, streaming: bool) -> None:
    gen = genkit.load(
        f"{hosted.provider}:{hosted.model}", retry=FAST, max_retries=2, timeout=TIMEOUT
    )
    started = time.monotonic()
    if fault.delivers:
        server.script(fault.reply())
        received: list[str] = []
        stream = gen.stream("tell me a story")
        with pytest.raises(genkit.ProviderError) as info:  # noqa: PT012 - the loop is the call
            for chunk in stream:
                received.append(chunk.text)
        _check_typed(info.value, fault, hosted)
        assert received, "text before the fault reached the caller"
        partial = info.value.partial
        assert partial is not None
        assert partial.text == "".join(received)
        assert partial.finish_reason is None, "a cut stream is never reported as complete"
        assert stream.result.text == "".join(received)
        assert len(server.requests) == 1, "a stream that delivered text is not retried"
    elif fault.recovers:
        server.script(fault.reply(), Reply.text("recovered fine", chunks=["recovered", " fine"]))
        result, _ = _run(gen, streaming)
        assert result.text == "recovered fine"
        assert result.finish_reason == "stop"
        assert len(server.requests) == 2
    else:  # pragma: no cover - every non-delivering fault in the table recovers
        raise AssertionError(f"fault {fault.name} has no expectation")

    # The same fault on every attempt: one typed error after exactly 1 + max_retries requests.
    server.reset()
    if not fault.delivers:
        server.script(*[fault.reply() for _ in range(3)])
        with pytest.raises(genkit.ProviderError) as info:
            _run(gen, streaming)
        _check_typed(info.value, fault, hosted)
        assert info.value.retryable
        assert len(server.requests) == 3
    assert time.monotonic() - started < 10 * TIMEOUT + 5, "no hang"
    gen.close()


# --------------------------------------------------------------------------- beyond the matrix


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("streaming", [False, True], ids=["call", "stream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_connection_refused(
    monkeypatch: pytest.MonkeyPatch, hosted: Hosted, streaming: bool
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    base = f"{url}/v1" if hosted.provider == "openai" else url
    monkeypatch.setenv(f"{hosted.provider.upper()}_API_KEY", "sk-refused-test-key")
    gen = genkit.load(
        f"{hosted.provider}:{hosted.model}", base_url=base, retry=FAST, max_retries=1, timeout=2
    )
    with pytest.raises(genkit.ConnectionError) as info:
        _run(gen, streaming)
    assert info.value.provider == hosted.provider
    assert info.value.retryable


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_retry_after_beyond_the_bound_fails_fast(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", max_retries=3)
    server.script(Reply.error(429, retry_after=3600))
    started = time.monotonic()
    with pytest.raises(genkit.RateLimitError) as info:
        gen.generate("hi")
    assert time.monotonic() - started < 2
    assert info.value.retry_after is not None
    assert info.value.retry_after >= 3590
    assert len(server.requests) == 1


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_retries_stop_at_the_total_time_bound(server: FakeProviderServer, hosted: Hosted) -> None:
    policy = genkit.RetryPolicy(max_retries=100, total_timeout=0.6)
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", retry=policy)
    server.default = Reply.error(503, retry_after=0.25)
    started = time.monotonic()
    with pytest.raises(genkit.ServerError):
        gen.generate("hi")
    assert time.monotonic() - started < 1.5
    assert 2 <= len(server.requests) <= 4
