"""What ``timeout`` means, errors that say what to fix, stream results, extra headers.

Every hosted backend, through the real vendor SDK pointed at the local fake server:

- ``timeout`` bounds a non-streamed attempt, and a stream's wait for each chunk, never
  the length of a stream that keeps producing;
- a failed connection names ``host:port`` and the cause (refused, DNS, TLS), a timeout
  names its limit, a 404 names the URL path (and for OpenAI-compatible servers, a
  missing ``/v1``);
- ``stream.result.raw`` keeps the provider's final events; ``AsyncStream.result`` never
  passes a half-read stream off as the whole answer;
- ``headers=`` at load and per call reach the server, in every calling style.
"""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import API_KEY, HOSTED, Hosted, point_sdks_at
from tests.test_faults import FAST, MODES, Mode, _closed_port, hang_guard

PROMPT = "tell me a story"


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def _load(hosted: Hosted, **options: Any) -> genkit.Generator:
    return genkit.load(f"{hosted.provider}:{hosted.model}", retry=FAST, **options)


def _call(gen: genkit.Generator, mode: Mode, **params: Any) -> tuple[genkit.Generation, list[str]]:
    """One call in ``mode``: the result and the streamed pieces (empty for calls)."""
    if mode == "call":
        return gen.generate(PROMPT, **params), []
    if mode == "stream":
        with gen.stream(PROMPT, **params) as stream:
            pieces = [chunk.text for chunk in stream]
        return stream.result, pieces

    async def run() -> tuple[genkit.Generation, list[str]]:
        # No gen.aclose(): it ends a Generator for good, and a test may call it again;
        # this loop's connections close with the loop (asyncio.run finalizes them).
        if mode == "acall":
            return await gen.agenerate(PROMPT, **params), []
        async with gen.astream(PROMPT, **params) as astream:
            pieces = [chunk.text async for chunk in astream]
        return astream.result, pieces

    return asyncio.run(run())


def _fails(gen: genkit.Generator, mode: Mode, **params: Any) -> genkit.ProviderError:
    with pytest.raises(genkit.ProviderError) as info:
        _call(gen, mode, **params)
    return info.value


# --------------------------------------------------------------------------- timeout


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_stream_that_keeps_producing_outlives_its_timeout(
    server: FakeProviderServer, hosted: Hosted, mode: Mode
) -> None:
    """An event every 0.3 s with timeout=1: the stream runs past 1 s and completes."""
    pieces = ["one", " two", " three", " four", " five"]
    server.script(Reply.text(chunks=pieces, chunk_delay=0.3))
    gen = _load(hosted, timeout=1.0, max_retries=0)
    started = time.monotonic()
    with hang_guard(15):
        result, received = _call(gen, mode)
    assert time.monotonic() - started > 1.0, "the stream lasted longer than timeout"
    assert received == pieces
    assert result.finish_reason == "stop"
    assert len(server.requests) == 1
    gen.close()


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_gap_between_chunks_longer_than_timeout_raises_keeping_the_text(
    server: FakeProviderServer, hosted: Hosted, mode: Mode
) -> None:
    server.script(Reply.stall(2), Reply.text("a retry must not happen"))
    gen = _load(hosted, timeout=0.3, max_retries=2)
    with hang_guard(15):
        error = _fails(gen, mode)
    assert type(error) is genkit.TimeoutError
    assert "(timeout=0.3)" in str(error), str(error)
    assert error.partial is not None
    assert error.partial.text.startswith("part0 part1")
    assert error.partial.finish_reason is None
    assert len(server.requests) == 1, "a stream that delivered text is not retried"
    gen.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_no_response_within_timeout_says_the_limit_and_is_retried(
    server: FakeProviderServer, hosted: Hosted, mode: Mode
) -> None:
    """A response that never comes: TimeoutError naming the limit, 1 + max_retries tries."""
    server.script(*[Reply.stall() for _ in range(3)])
    gen = _load(hosted, timeout=0.3, max_retries=2)
    started = time.monotonic()
    with hang_guard(15):
        error = _fails(gen, mode)
    elapsed = time.monotonic() - started
    assert type(error) is genkit.TimeoutError
    assert "within 0.3 s (timeout=0.3)" in str(error), str(error)
    assert error.retryable
    assert len(server.requests) == 3
    assert 3 * 0.3 <= elapsed < 3 * 0.3 + 2.0
    gen.close()


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_call_timeout_overrides_the_load_timeout(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    server.script(Reply.stall())
    gen = _load(hosted, timeout=30.0, max_retries=0)
    with hang_guard(10):
        error = _fails(gen, "acall", timeout=0.25)
    assert "(timeout=0.25)" in str(error), str(error)
    gen.close()


# --------------------------------------------------------------------------- connections


def _base_url(hosted: Hosted, root: str) -> str:
    return f"{root}/v1" if hosted.provider == "openai" else root


def _check_connection_error(error: genkit.ProviderError, hosted: Hosted, *needles: str) -> None:
    assert type(error) is genkit.ConnectionError, f"{type(error).__name__}: {error}"
    text = str(error)
    for needle in needles:
        assert needle in text, text
    assert API_KEY not in text
    assert API_KEY not in repr(error)
    for part in ("/chat/completions", "/messages", "generateContent", "key="):
        assert part not in text, "host:port only, never the path or query"
    assert "\n" not in text


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_connection_refused_names_host_and_cause(
    server: FakeProviderServer, hosted: Hosted, mode: Mode
) -> None:
    port = _closed_port()
    gen = _load(hosted, base_url=_base_url(hosted, f"http://127.0.0.1:{port}"), max_retries=0)
    with hang_guard(10):
        error = _fails(gen, mode)
    _check_connection_error(error, hosted, f"127.0.0.1:{port}", "connection refused")
    gen.close()


UNRESOLVABLE = "genkit-test-host.invalid"


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver answers "no such host" for :data:`UNRESOLVABLE` without asking anyone.

    The OS resolver is the one thing patched: the test must not send a DNS query.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in (UNRESOLVABLE, UNRESOLVABLE.encode()):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_dns_failure_names_host_and_cause(
    server: FakeProviderServer, no_dns: None, hosted: Hosted, mode: Mode
) -> None:
    gen = _load(hosted, base_url=_base_url(hosted, f"http://{UNRESOLVABLE}:8080"), max_retries=0)
    with hang_guard(10):
        error = _fails(gen, mode)
    _check_connection_error(error, hosted, f"{UNRESOLVABLE}:8080", "DNS lookup failed")
    gen.close()


class _PlainHTTP(socketserver.BaseRequestHandler):
    """What a plain HTTP server says to a TLS ClientHello: 400, then it hangs up."""

    def handle(self) -> None:
        self.request.recv(4096)
        self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def plain_http() -> Iterator[str]:
    """``host:port`` of a plain HTTP server (the fake server waits for a whole request
    line instead of answering a handshake, as real servers do)."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _PlainHTTP) as plain:
        plain.daemon_threads = True
        thread = threading.Thread(target=plain.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"127.0.0.1:{plain.server_address[1]}"
        finally:
            plain.shutdown()
            thread.join()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_https_to_a_plain_http_server_says_so(
    server: FakeProviderServer, plain_http: str, hosted: Hosted, mode: Mode
) -> None:
    root = f"https://{plain_http}"
    gen = _load(hosted, base_url=_base_url(hosted, root), max_retries=0)
    with hang_guard(10):
        error = _fails(gen, mode)
    where = root.removeprefix("https://")
    _check_connection_error(error, hosted, where, "TLS handshake", "use http:// in base_url")
    gen.close()


# --------------------------------------------------------------------------- 404


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_404_names_the_path(server: FakeProviderServer, hosted: Hosted, mode: Mode) -> None:
    """A base URL with a wrong prefix: the fake serves nothing there and answers 404."""
    gen = _load(hosted, base_url=_base_url(hosted, f"{server.url}/wrong"), max_retries=2)
    with hang_guard(10):
        error = _fails(gen, mode)
    assert type(error) is genkit.NotFoundError, f"{type(error).__name__}: {error}"
    assert "POST /wrong/" in str(error), str(error)
    assert len(server.requests) == 1, "a 404 is not retried"
    assert "?" not in str(error)
    gen.close()


@pytest.mark.parametrize("mode", MODES)
def test_openai_404_without_v1_hints_at_the_base_url(
    server: FakeProviderServer, mode: Mode
) -> None:
    gen = _load(HOSTED[0], base_url=f"{server.url}/api", max_retries=0)
    with hang_guard(10):
        error = _fails(gen, mode)
    assert type(error) is genkit.NotFoundError
    text = str(error)
    assert "POST /api/chat/completions" in text, text
    assert f"try base_url='{server.url}/api/v1'" in text, text


def test_openai_404_under_v1_has_no_hint(server: FakeProviderServer) -> None:
    server.script(Reply.error(404))
    gen = _load(HOSTED[0], max_retries=0)
    error = _fails(gen, "call")
    assert "POST /v1/chat/completions" in str(error)
    assert "base_url" not in str(error)


# --------------------------------------------------------------------------- stream results


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_stream_result_raw_keeps_the_final_events(
    server: FakeProviderServer, hosted: Hosted, mode: Mode
) -> None:
    server.script(Reply.text("a b c", usage=(4, 3)))
    gen = _load(hosted)
    result, _ = _call(gen, mode)
    raw = result.raw
    assert isinstance(raw, list), raw
    assert raw
    assert all(isinstance(event, dict) for event in raw)
    flat = repr(raw)
    finish = {"openai": "'finish_reason': 'stop'", "anthropic": "'end_turn'"}
    assert finish.get(hosted.provider, "'finish_reason': 'STOP'") in flat, flat
    assert "3" in flat  # the output token count the provider reported
    gen.close()


def test_stream_raw_is_none_when_no_final_event_arrived(server: FakeProviderServer) -> None:
    server.script(Reply.truncated_stream(2))
    gen = _load(HOSTED[0], max_retries=0)
    error = _fails(gen, "stream")
    assert error.partial is not None
    assert error.partial.raw is None


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_async_result_of_an_open_stream_raises_sync_reads_the_rest(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    """Neither style returns an incomplete result for a stream that is still open."""
    gen = _load(hosted)
    stream = gen.stream(PROMPT)
    assert stream.result.text == f"echo: {PROMPT}"  # read to the end first
    assert stream.result.finish_reason == "stop"
    assert gen.stream(PROMPT).get_result().text == f"echo: {PROMPT}"

    async def run() -> None:
        astream = gen.astream(PROMPT)
        with pytest.raises(genkit.StreamNotFinishedError, match="get_result"):
            _ = astream.result
        first = await astream.__anext__()
        assert first.text
        with pytest.raises(genkit.StreamNotFinishedError):
            _ = astream.result
        result = await astream.get_result()
        assert result.text == f"echo: {PROMPT}"
        assert astream.result is not None
        assert astream.result.text == result.text
        closed = gen.astream(PROMPT)
        await closed.__anext__()
        await closed.aclose()
        assert closed.result.finish_reason is None  # closed early: partial, and says so
        await gen.aclose()

    asyncio.run(run())
    gen.close()


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_headers_at_load_and_per_call_reach_the_server(
    server: FakeProviderServer, hosted: Hosted, mode: Mode
) -> None:
    gen = _load(hosted, headers={"X-Team": "search", "X-Trace": "load"})
    _call(gen, mode, headers={"X-Trace": "call-1"})
    _call(gen, mode)
    with_call, load_only = server.requests
    assert with_call.headers["x-team"] == "search"
    assert with_call.headers["x-trace"] == "call-1"
    assert load_only.headers["x-trace"] == "load"
    assert with_call.validation_error is None, "the SDK's own headers (the key) still sent"
    body = repr(with_call.body)
    assert "X-Team" not in body
    assert "extra_headers" not in body
    gen.close()


BAD_HEADERS: list[tuple[Any, str]] = [
    ({"X-Evil": "a\r\nX-Injected: 1"}, "line break"),
    ({"X-Evil": "a\nb"}, "line break"),
    ({"X-Bad": "caf\u00e9"}, "non-ASCII"),
    ({"X-Num": 3}, "not a string"),
    ({"Bad Name": "x"}, "not a valid header name"),
    ({"": "x"}, "not a valid header name"),
    ({1: "x"}, "not a valid header name"),
    (["X-A", "b"], "expected a dict"),
]


@pytest.mark.parametrize(("headers", "reason"), BAD_HEADERS)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_bad_headers_are_refused_before_sending(
    server: FakeProviderServer, hosted: Hosted, headers: Any, reason: str
) -> None:
    calls: list[Callable[[], object]] = [
        lambda: _load(hosted, headers=headers),
        lambda: _load(hosted).generate(PROMPT, headers=headers),
        lambda: _load(hosted).stream(PROMPT, headers=headers),
    ]
    for call in calls:
        with pytest.raises(genkit.InvalidParameterError, match=reason) as info:
            call()
        assert info.value.parameter == "headers"
        assert "Injected: 1" not in str(info.value), "the value is never shown"
    assert server.requests == []


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_extra_headers_in_provider_options_points_to_headers(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    options = {"extra_headers": {"X-A": "b"}}
    with pytest.raises(genkit.InvalidParameterError, match=r"headers=\{\.\.\.\}"):
        _load(hosted, provider_options=options)
    with pytest.raises(genkit.InvalidParameterError, match="extra_headers"):
        _load(hosted).generate(PROMPT, provider_options=options)
    assert server.requests == []
