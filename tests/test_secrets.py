"""No API key ever reaches a repr, a log line, an exception message or a traceback.

A sentinel key is configured for every hosted backend (from the environment, and
passed as ``api_key=``), and every error path runs - each status with the provider
echoing the key in its error body, a proxy's HTML page echoing it, a mid-stream
error event, malformed JSON quoting it, resets, stalls, refused connections - with
every logger at DEBUG: genkit's, each vendor SDK's and httpx2's/httpcore2's, as a
user chasing a problem would set them.  Everything captured is scanned: log
records (message and arguments), stdout/stderr, ``repr``/``str`` of every genkit
object involved, and the raised error formatted as a traceback together with every
exception chained to it (their messages, ``repr`` and the vendor's parsed error body).

Keys as genkit reads them: surrounding whitespace is stripped (the key is sent without
it), a whitespace-only key is missing, and a key no HTTP header can carry is refused at
``load()`` - and in every case the key shows nowhere, ``log.exception()`` included.

Finding, recorded here because the test depends on it: none of openai 3.57,
anthropic 2.13, google-genai 3.6.1, httpx2 or httpcore2 logs request headers (where
the key travels) at DEBUG; they log URLs, statuses and request options only.  The
key reaches strings only through provider echoes, which genkit redacts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import traceback
from collections.abc import Callable, Iterator
from typing import Literal

import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import HOSTED, Hosted

SENTINEL = "sk-SENTINEL-5ecret-k3y-0123456789abcdef"
FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)
LOGGERS = ("", "genkit", "openai", "anthropic", "google_genai", "httpx2", "httpcore2")

Mode = Literal["call", "stream", "acall", "astream"]
MODES: tuple[Mode, ...] = ("call", "stream", "acall", "astream")


class Capture(logging.Handler):
    """Keeps every record fully formatted, arguments included."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{self.format(record)} args={record.args!r}")


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Root and every SDK/transport logger at DEBUG, into one capturing handler."""
    handler = Capture()
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    logging.getLogger().addHandler(handler)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    logging.getLogger().removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.setenv(name, SENTINEL)
    for name in ("GOOGLE_API_KEY", "ANTHROPIC_AUTH_TOKEN", "GENKIT_MAX_RETRIES", "GENKIT_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server.openai_base_url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_server.anthropic_base_url)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_server.gemini_base_url)
    return fake_server


def everything_about(error: BaseException) -> str:
    """The error as a user or a logging handler could render it, chain included."""
    parts = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args)]
        for name in ("message", "body", "details"):
            parts.append(repr(getattr(current, name, None)))
        pending += [current.__cause__, current.__context__]
    if isinstance(error, genkit.ProviderError) and error.partial is not None:
        parts += [repr(error.partial), str(error.partial)]
    return "\n".join(parts)


PROXY_PAGE = f"<html><body><h1>502 Bad Gateway</h1><p>key {SENTINEL}</p></body></html>"


def echoing(status: int) -> Callable[[], Reply]:
    """The provider's error for ``status``, its message quoting the key back."""
    return lambda: Reply.error(
        status, message=f"Incorrect API key provided: {SENTINEL}", retry_after=0
    )


#: Every way a call can fail, the provider echoing the key wherever a body exists.
ERROR_REPLIES: dict[str, Callable[[], Reply]] = {
    **{
        str(status): echoing(status)
        for status in (400, 401, 403, 404, 409, 413, 422, 429, 500, 503, 529)
    },
    "502-html": lambda: Reply.raw(502, PROXY_PAGE.encode(), headers={"retry-after": "0"}),
    "error-event": lambda: Reply.stream_error(1, status=503, message=f"overloaded {SENTINEL}"),
    "json-quoting-key": lambda: Reply.raw(
        200, f'{{"error": "{SENTINEL}", "cut'.encode(), content_type="application/json"
    ),
    "malformed-sse": lambda: Reply.malformed_sse(1),
    "reset": Reply.reset_before,
    "reset-mid-stream": lambda: Reply.reset_during(2),
    "stall": Reply.stall,
}


def _drive(gen: genkit.Generator, mode: Mode) -> list[str]:
    """Make one call; return the reprs of the objects it produced on the way."""
    seen: list[str] = []
    if mode == "call":
        seen.append(repr(gen.generate("hi")))
    elif mode == "stream":
        stream = gen.stream("hi")
        seen.append(repr(stream))
        try:
            seen += [repr(chunk) for chunk in stream]
        finally:
            seen += [repr(stream), repr(stream.result)]
            stream.close()
    else:
        asyncio.run(_adrive(gen, mode, seen))
    return seen


async def _adrive(gen: genkit.Generator, mode: Mode, seen: list[str]) -> None:
    try:
        if mode == "acall":
            seen.append(repr(await gen.agenerate("hi")))
            return
        stream = gen.astream("hi")
        seen.append(repr(stream))
        try:
            seen += [repr(chunk) async for chunk in stream]
        finally:
            seen += [repr(stream), repr(stream.result)]
            await stream.aclose()
    finally:
        await gen.aclose()


def _objects(gen: genkit.Generator) -> list[str]:
    backend = gen.backend
    return [
        repr(gen), str(gen), repr(backend), str(backend), repr(backend.settings),
        repr(gen.defaults), repr(vars(backend).get("_sync")), repr(vars(backend).get("_async")),
    ]  # fmt: skip


def _assert_clean(texts: list[str]) -> None:
    for text in texts:
        assert SENTINEL not in text, text[:2000]


STREAM_ONLY = frozenset({"error-event", "malformed-sse", "reset-mid-stream"})
ERROR_CASES = [
    pytest.param(hosted, case, mode, id=f"{hosted}-{case}-{mode}")
    for hosted in HOSTED
    for case in ERROR_REPLIES
    for mode in MODES
    if case not in STREAM_ONLY or mode in ("stream", "astream")
]


@pytest.mark.parametrize(("hosted", "case", "mode"), ERROR_CASES)
def test_no_error_path_leaks_the_key(
    server: FakeProviderServer,
    captured: Capture,
    capfd: pytest.CaptureFixture[str],
    hosted: Hosted,
    case: str,
    mode: Mode,
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", retry=FAST, max_retries=1, timeout=0.3)
    server.default = ERROR_REPLIES[case]()
    seen: list[str] = []
    with pytest.raises(genkit.GenkitError) as info:
        seen = _drive(gen, mode)
    gen.close()
    assert server.requests, "the request was made"
    assert any(SENTINEL in value for value in server.requests[0].headers.values()), (
        "the sentinel is the key the SDK sent"
    )
    out, err = capfd.readouterr()
    _assert_clean([everything_about(info.value), *seen, *_objects(gen), *captured.lines, out, err])
    assert captured.lines, "DEBUG logging was on and captured the SDKs' records"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_refused_connection_does_not_leak_the_key(
    server: FakeProviderServer, captured: Capture, hosted: Hosted, mode: Mode
) -> None:
    base = f"http://127.0.0.1:{_closed_port()}" + ("/v1" if hosted.provider == "openai" else "")
    gen = genkit.load(
        f"{hosted.provider}:{hosted.model}", base_url=base, api_key=SENTINEL, max_retries=0
    )
    with pytest.raises(genkit.ConnectionError) as info:
        _drive(gen, mode)
    gen.close()
    _assert_clean([everything_about(info.value), *_objects(gen), *captured.lines])


@pytest.mark.parametrize("key_from", ["env", "api_key"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_successful_calls_do_not_leak_the_key(
    server: FakeProviderServer, captured: Capture, hosted: Hosted, mode: Mode, key_from: str
) -> None:
    gen = genkit.load(
        f"{hosted.provider}:{hosted.model}",
        api_key=SENTINEL if key_from == "api_key" else None,
        temperature=0.5,
    )
    seen = _drive(gen, mode)
    gen.close()
    sent = [r for r in server.requests if r.validation_error is None]
    assert sent, "the key authenticated the request"
    _assert_clean([*seen, *_objects(gen), *captured.lines])
    assert captured.lines


def test_errors_redact_a_key_in_every_message_they_carry() -> None:
    """A key inside an error's message is gone from str, repr, args and the traceback."""
    error = genkit.ServerError(f"upstream said {SENTINEL}", provider="openai", status_code=500)
    error.redact((SENTINEL,))
    _assert_clean([everything_about(error)])
    assert "[redacted]" in str(error)


# --------------------------------------------------------------------------- keys as read

#: Where each hosted backend's key comes from in the environment.
KEY_VARIABLE = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
}


def _sent_key(server: FakeProviderServer) -> str:
    """The key exactly as the request carried it (header value, scheme removed)."""
    headers = server.requests[0].headers
    value = headers.get("x-goog-api-key") or headers.get("x-api-key") or headers["authorization"]
    return value.removeprefix("Bearer ")


def _load_with_key(
    hosted: Hosted, key: str, key_from: str, monkeypatch: pytest.MonkeyPatch
) -> genkit.Generator:
    if key_from == "env":
        monkeypatch.setenv(KEY_VARIABLE[hosted.provider], key)
        return genkit.load(f"{hosted.provider}:{hosted.model}", max_retries=0)
    monkeypatch.delenv(KEY_VARIABLE[hosted.provider])
    return genkit.load(f"{hosted.provider}:{hosted.model}", api_key=key, max_retries=0)


@pytest.mark.parametrize("key_from", ["env", "api_key"])
@pytest.mark.parametrize(
    "written",
    [SENTINEL + "\n", f"  {SENTINEL}  ", f"\t{SENTINEL}\r\n"],
    ids=["newline", "spaces", "tab-crlf"],
)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_key_with_surrounding_whitespace_is_sent_stripped(
    server: FakeProviderServer,
    monkeypatch: pytest.MonkeyPatch,
    hosted: Hosted,
    written: str,
    key_from: str,
) -> None:
    """A key read from a file or a .env line keeps its newline: genkit strips it."""
    gen = _load_with_key(hosted, written, key_from, monkeypatch)
    assert gen.generate("hi").text
    gen.close()
    assert len(server.requests) == 1
    assert server.requests[0].validation_error is None
    assert _sent_key(server) == SENTINEL


def test_an_anthropic_auth_token_is_stripped_too(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", SENTINEL + "\n")
    with genkit.load("anthropic:claude-sonnet-4-6", max_retries=0) as gen:
        gen.generate("hi")
    assert server.requests[0].headers["authorization"] == f"Bearer {SENTINEL}"


def test_gemini_reads_the_keys_in_the_sdks_order(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOOGLE_API_KEY wins (as in google-genai); one that is only whitespace counts as unset."""
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-google-key-0123")
    with genkit.load("gemini:gemini-2.5-flash", max_retries=0) as gen:
        gen.generate("hi")
    assert _sent_key(server) == "AIza-google-key-0123"
    server.reset()
    monkeypatch.setenv("GOOGLE_API_KEY", " \n")
    with genkit.load("gemini:gemini-2.5-flash", max_retries=0) as gen:
        gen.generate("hi")
    assert _sent_key(server) == SENTINEL


#: Keys no HTTP header can carry, even stripped; the SENTINEL's halves are around the fault.
BROKEN_KEYS = {
    "embedded-newline": SENTINEL[:20] + "\n" + SENTINEL[20:],
    "non-ascii": SENTINEL[:20] + "é" + SENTINEL[20:],
    "control-char": SENTINEL[:20] + "\x1b" + SENTINEL[20:],
    "non-latin-1": SENTINEL[:20] + "\u2028" + SENTINEL[20:],
}


@pytest.mark.parametrize("key_from", ["env", "api_key"])
@pytest.mark.parametrize("broken", list(BROKEN_KEYS))
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_key_that_cannot_be_a_header_is_refused_without_showing_it(
    server: FakeProviderServer,
    captured: Capture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    hosted: Hosted,
    broken: str,
    key_from: str,
) -> None:
    """ConfigurationError at load(), naming where the key came from; nothing is sent.

    Before, the HTTP library refused the header inside the SDK: a retried
    ConnectionError whose chained traceback quoted ``b'Bearer <key>\\n'``.
    """
    key = BROKEN_KEYS[broken]
    with pytest.raises(genkit.ConfigurationError) as info:
        _load_with_key(hosted, key, key_from, monkeypatch)
    source = f"${KEY_VARIABLE[hosted.provider]}" if key_from == "env" else "api_key="
    assert source in str(info.value)
    try:
        raise info.value
    except genkit.GenkitError:
        logging.getLogger("app").exception("loading the model failed")  # what a user logs
    out, err = capfd.readouterr()
    texts = [everything_about(info.value), *captured.lines, out, err]
    assert any(
        "loading the model failed" in line and "Traceback" in line for line in captured.lines
    )
    for text in texts:
        for piece in (key, SENTINEL[:20], SENTINEL[20:], repr(key)[1:-1]):
            assert piece not in text, text[:2000]
    assert server.requests == [], "nothing was sent"


@pytest.mark.parametrize("key_from", ["env", "api_key"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_whitespace_only_key_counts_as_missing(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, hosted: Hosted, key_from: str
) -> None:
    with pytest.raises(genkit.MissingAPIKeyError) as info:
        _load_with_key(hosted, " \n\t ", key_from, monkeypatch)
    assert KEY_VARIABLE[hosted.provider] in str(info.value)
    assert server.requests == []


def test_redaction_covers_every_exception_in_the_chain_and_escaped_forms() -> None:
    """What log.exception prints is every exception of the chain: each one is scrubbed.

    A key reaches an exception escaped as often as raw: in the repr of header bytes
    (``b'Bearer <key>\\n'``), in a repr of that repr, in JSON.
    """
    key = SENTINEL + "\n"
    header = repr(f"Bearer {key}".encode())
    deepest = UnicodeEncodeError("ascii", f"Bearer {key}é", 7, 8, "ordinal not in range(128)")
    middle = ValueError(f"Illegal header value {header}", [repr(header)])
    middle.__cause__ = deepest
    middle.add_note(f"while sending {key!r}")
    vendor = RuntimeError({"detail": json.dumps({"key": key})})
    vendor.__context__ = middle
    error = genkit.ConnectionError("connection failed (LocalProtocolError)", provider="openai")
    error.__cause__ = vendor
    error.redact((key,))
    text = everything_about(error)
    for piece in (SENTINEL, repr(key)[1:-1]):
        assert piece not in text, text
    assert "[redacted]" in str(middle)
    assert "[redacted]" in str(deepest.object)
