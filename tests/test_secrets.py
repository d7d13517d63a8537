"""No API key ever reaches a repr, a log line, an exception message or a traceback.

A sentinel key is configured for every hosted backend; every error path runs with
all loggers at DEBUG, and everything captured is scanned for the key.
"""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Iterator

import pytest

import genkit
from tests.fakeprovider import FakeProviderServer, Reply
from tests.hosted import HOSTED, Hosted

SENTINEL = "sk-SENTINEL-5ecret-k3y-0123456789abcdef"
FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Every logger at DEBUG, as a user debugging a problem would set it."""
    handler = Capture()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.setenv(name, SENTINEL)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server.openai_base_url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_server.anthropic_base_url)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_server.gemini_base_url)
    return fake_server


def _everything_about(error: BaseException) -> str:
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    cause = error.__cause__
    while cause is not None:
        parts += [str(cause), repr(cause)]
        cause = cause.__cause__
    return "\n".join(parts)


def _call(gen: genkit.Generator, streaming: bool) -> None:
    if streaming:
        with gen.stream("hi") as stream:
            list(stream)
    else:
        gen.generate("hi")


ERROR_REPLIES = {
    "400": lambda: Reply.error(400, message=f"bad request for key {SENTINEL}"),
    "401": lambda: Reply.error(401, message=f"Incorrect API key provided: {SENTINEL}"),
    "403": lambda: Reply.error(403, message=f"key {SENTINEL} may not use this model"),
    "404": lambda: Reply.error(404, message=f"no model for {SENTINEL}"),
    "429": lambda: Reply.error(429, message=f"slow down {SENTINEL}", retry_after=0),
    "500": lambda: Reply.error(500, message=f"oops {SENTINEL}", retry_after=0),
    "mid-stream": lambda: Reply.stream_error(1, status=503, message=f"overloaded {SENTINEL}"),
    "stall": lambda: Reply.stall(),
    "malformed": Reply.malformed_json,
}


@pytest.mark.parametrize("streaming", [False, True], ids=["call", "stream"])
@pytest.mark.parametrize("case", list(ERROR_REPLIES))
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_no_error_path_leaks_the_key(
    server: FakeProviderServer, captured: Capture, hosted: Hosted, case: str, streaming: bool
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", retry=FAST, max_retries=1, timeout=0.5)
    server.default = ERROR_REPLIES[case]()
    with pytest.raises(genkit.GenkitError) as info:
        _call(gen, streaming)
    assert server.requests, "the request was made"
    assert SENTINEL not in _everything_about(info.value)
    error = info.value
    if isinstance(error, genkit.ProviderError) and error.partial is not None:
        assert SENTINEL not in repr(error.partial)
    assert SENTINEL not in "\n".join(captured.lines)
    assert SENTINEL not in repr(gen)
    assert SENTINEL not in repr(gen.backend)


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_success_and_connection_failure_do_not_leak_the_key(
    server: FakeProviderServer, captured: Capture, hosted: Hosted
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", retry=FAST)
    result = gen.generate("hi")
    stream = gen.stream("hi")
    assert stream.result.text
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}" + ("/v1" if hosted.provider == "openai" else "")
    refused = genkit.load(
        f"{hosted.provider}:{hosted.model}", base_url=base, api_key=SENTINEL, max_retries=0
    )
    with pytest.raises(genkit.ConnectionError) as info:
        refused.generate("hi")
    scanned = [
        repr(gen), str(gen), repr(gen.backend), repr(result), str(result), repr(stream),
        repr(stream.result), repr(refused), _everything_about(info.value), *captured.lines,
    ]  # fmt: skip
    assert all(SENTINEL not in text for text in scanned)
    assert captured.lines, "DEBUG logging was on and captured something"


def test_missing_key_error_names_the_variable_not_a_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(genkit.MissingAPIKeyError) as info:
        genkit.load("gemini:gemini-2.5-flash")
    assert "GEMINI_API_KEY" in str(info.value)
