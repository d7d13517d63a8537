"""Faults in what the user hands genkit, on every backend and every way of calling.

The companion of ``test_faults.py`` (faults of the network and the provider): here the
fault is the input or the setup - a key with stray whitespace or one no HTTP header can
carry, a lone surrogate in the text, a base URL without a scheme, a Generator used after
it was closed, a malformed argument.  Each must be one typed genkit error raised before
anything is sent (the fake server sees no request) and never retried - or, for a key with
surrounding whitespace, one request carrying the stripped key.

Mistakes in ``genkit.load()`` arguments fail at ``load()``, before any way of calling
exists, so they are checked once per backend rather than per calling style.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import API_KEY, HOSTED, Hosted, point_sdks_at

Mode = Literal["call", "stream", "acall", "astream"]
MODES: tuple[Mode, ...] = ("call", "stream", "acall", "astream")
FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)
KEY_VARIABLE = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
}
URL_VARIABLE = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "gemini": "GOOGLE_GEMINI_BASE_URL",
}


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    fake_server.default = Reply.text("fine")
    return fake_server


class RetryLog(logging.Handler):
    """Counts the retries genkit's policy logs: a refused input must show none."""

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


def _call(gen: genkit.Generator, mode: Mode, prompt: Any = "hi", **kwargs: Any) -> str:
    """One call made the ``mode`` way, streams read to the end; returns the text."""
    if mode == "call":
        return gen.generate(prompt, **kwargs).text
    if mode == "stream":
        with gen.stream(prompt, **kwargs) as stream:
            return "".join(chunk.text for chunk in stream)

    async def run() -> str:
        if mode == "acall":
            return (await gen.agenerate(prompt, **kwargs)).text
        async with gen.astream(prompt, **kwargs) as stream:
            return "".join([chunk.text async for chunk in stream])

    return asyncio.run(run())


def _load(hosted: Hosted, **kwargs: Any) -> genkit.Generator:
    return genkit.load(f"{hosted.provider}:{hosted.model}", retry=FAST, max_retries=2, **kwargs)


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_key_with_surrounding_whitespace_works(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, hosted: Hosted, mode: Mode
) -> None:
    """One request, carrying the key without the newline a file or .env line left on it."""
    monkeypatch.setenv(KEY_VARIABLE[hosted.provider], f" {API_KEY}\n")
    with _load(hosted) as gen:
        assert _call(gen, mode) == "fine"
    assert len(server.requests) == 1
    headers = server.requests[0].headers
    sent = headers.get("x-goog-api-key") or headers.get("x-api-key") or headers["authorization"]
    assert sent.removeprefix("Bearer ") == API_KEY


@pytest.mark.parametrize("key", ["sk-abc\ndef-0123456789", "sk-abcé-0123456789", "   "])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_key_that_cannot_be_sent_fails_at_load(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, hosted: Hosted, key: str
) -> None:
    variable = KEY_VARIABLE[hosted.provider]
    monkeypatch.setenv(variable, key)
    expected = genkit.MissingAPIKeyError if not key.strip() else genkit.ConfigurationError
    with pytest.raises(genkit.ConfigurationError) as info:
        _load(hosted)
    assert type(info.value) is expected
    assert variable in str(info.value)
    assert server.requests == []


# --------------------------------------------------------------------------- surrogates

SURROGATE = "a\ud800b"
#: Where a lone surrogate can hide, and the parameter the error must name.
SURROGATE_PLACES: dict[str, tuple[dict[str, Any], str]] = {
    "prompt": ({"prompt": SURROGATE}, "prompt"),
    "message": ({"prompt": [{"role": "user", "content": "x\udfff"}]}, "prompt[0].content"),
    "system": ({"system": SURROGATE}, "system"),
    "stop": ({"stop": ["END", SURROGATE]}, "stop"),
}


@pytest.mark.parametrize("place", list(SURROGATE_PLACES))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_lone_surrogate_is_refused_before_sending(
    server: FakeProviderServer, retry_log: RetryLog, hosted: Hosted, mode: Mode, place: str
) -> None:
    """Before: InvalidResponseError after 3 attempts (OpenAI, Anthropic), or sent (Gemini)."""
    kwargs, parameter = SURROGATE_PLACES[place]
    with _load(hosted) as gen, pytest.raises(genkit.InvalidParameterError) as info:
        _call(gen, mode, **kwargs)
    assert type(info.value) is genkit.InvalidParameterError
    assert info.value.parameter == parameter
    assert info.value.provider == hosted.provider
    assert "surrogate" in str(info.value)
    assert server.requests == []
    assert retry_log.retries == 0


# --------------------------------------------------------------------------- base URLs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


BAD_URLS: dict[str, Any] = {
    "no-scheme": "127.0.0.1:{port}",
    "not-a-string": 123,
    "other-scheme": "ftp://127.0.0.1:{port}",
    "spaces": " http://127.0.0.1:{port}",
}


@pytest.mark.parametrize("source", ["base_url", "env"])
@pytest.mark.parametrize("case", list(BAD_URLS))
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_bad_base_url_fails_at_load(
    server: FakeProviderServer,
    monkeypatch: pytest.MonkeyPatch,
    hosted: Hosted,
    case: str,
    source: str,
) -> None:
    """Before: ConnectionError / InvalidResponseError, retried; now refused, naming the source."""
    url = BAD_URLS[case]
    if isinstance(url, str):
        url = url.format(port=server.port)
    elif source == "env":
        pytest.skip("an environment variable is always a string")
    if source == "env":
        monkeypatch.setenv(URL_VARIABLE[hosted.provider], url)
        with pytest.raises(genkit.ConfigurationError) as info:
            _load(hosted)
        assert URL_VARIABLE[hosted.provider] in str(info.value)
    else:
        with pytest.raises(genkit.ConfigurationError) as info:
            _load(hosted, base_url=url)
        assert "base_url" in str(info.value)
    assert type(info.value) is genkit.ConfigurationError
    assert "http://" in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize("hosted", [h for h in HOSTED if h.provider != "gemini"], ids=str)
def test_an_empty_base_url_variable_fails_at_load(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, hosted: Hosted
) -> None:
    """The OpenAI and Anthropic SDKs take an empty variable as the URL (google-genai ignores it)."""
    monkeypatch.setenv(URL_VARIABLE[hosted.provider], "")
    with pytest.raises(genkit.ConfigurationError, match="empty"):
        _load(hosted)


# --------------------------------------------------------------------------- after close


@pytest.mark.parametrize("closed_by", ["close", "aclose"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_closed_generator_refuses_every_call(
    server: FakeProviderServer,
    retry_log: RetryLog,
    hosted: Hosted,
    mode: Mode,
    closed_by: str,
) -> None:
    """Before: a different class per provider (Anthropic's retried) and async calls worked."""
    gen = _load(hosted)
    assert _call(gen, "call") == "fine"  # the clients exist and hold connections
    if closed_by == "close":
        gen.close()
    else:
        asyncio.run(gen.aclose())
    with pytest.raises(genkit.GeneratorClosedError) as info:
        _call(gen, mode)
    assert type(info.value) is genkit.GeneratorClosedError
    assert f"{hosted.provider}:{hosted.model}" in str(info.value)
    assert len(server.requests) == 1, "nothing sent after close"
    assert retry_log.retries == 0
    gen.close()  # closing twice is fine
    asyncio.run(gen.aclose())


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_stream_made_before_close_and_read_after_it_fails_the_same_way(
    server: FakeProviderServer, hosted: Hosted, mode: Mode
) -> None:
    gen = _load(hosted)
    if mode == "stream":
        stream = gen.stream("hi")
        gen.close()
        with pytest.raises(genkit.GeneratorClosedError):
            next(iter(stream))
    else:

        async def run() -> None:
            stream = gen.astream("hi")
            await gen.aclose()
            with pytest.raises(genkit.GeneratorClosedError):
                await anext(aiter(stream))

        asyncio.run(run())
    assert server.requests == []


# --------------------------------------------------------------------------- the local backend


@pytest.mark.parametrize("place", list(SURROGATE_PLACES))
@pytest.mark.parametrize("mode", MODES)
def test_a_lone_surrogate_is_refused_by_the_local_backend(
    tiny_gpt2_path: Path, mode: Mode, place: str
) -> None:
    kwargs, parameter = SURROGATE_PLACES[place]
    gen = genkit.load(f"huggingface:{tiny_gpt2_path}", max_tokens=2)
    with pytest.raises(genkit.InvalidParameterError) as info:
        _call(gen, mode, **kwargs)
    assert type(info.value) is genkit.InvalidParameterError
    assert info.value.parameter == parameter


@pytest.mark.parametrize("closed_by", ["close", "aclose"])
@pytest.mark.parametrize("mode", MODES)
def test_a_closed_local_generator_refuses_every_call(
    tiny_gpt2_path: Path, mode: Mode, closed_by: str
) -> None:
    gen = genkit.load(f"huggingface:{tiny_gpt2_path}", max_tokens=2)
    assert isinstance(_call(gen, "call"), str)
    if closed_by == "close":
        gen.close()
    else:
        asyncio.run(gen.aclose())
    with pytest.raises(genkit.GeneratorClosedError):
        _call(gen, mode)


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"retry": "x"}, genkit.InvalidParameterError),
        ({"retry": {"max_retries": 1}}, genkit.InvalidParameterError),
        ({"api_key": 123}, genkit.ConfigurationError),
        ({"api_key": b"sk-bytes-0123456789"}, genkit.ConfigurationError),
        ({"base_url": 123}, genkit.ConfigurationError),
        ({"timeout": "30"}, genkit.InvalidParameterError),
        ({"timeout": math.nan}, genkit.InvalidParameterError),
        ({"max_retries": -1}, genkit.InvalidParameterError),
        ({"max_retries": 1.5}, genkit.InvalidParameterError),
        ({"drop_unsupported": "yes"}, genkit.InvalidParameterError),
        ({"provider_options": ["x"]}, genkit.InvalidParameterError),
        ({"provider_options": {1: "x"}}, genkit.InvalidParameterError),
        ({"temperature": "hot"}, genkit.InvalidParameterError),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else "",
)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_load_arguments_of_the_wrong_kind_raise_genkit_errors(
    server: FakeProviderServer, hosted: Hosted, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    """Before: ``retry="x"`` was an AttributeError and ``api_key=123`` a TypeError."""
    with pytest.raises(genkit.GenkitError) as info:
        genkit.load(f"{hosted.provider}:{hosted.model}", **kwargs)
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    assert server.requests == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -5},
        {"max_retries": 1.0},
        {"max_retries": True},
        {"initial_backoff": -0.5},
        {"initial_backoff": math.nan},
        {"initial_backoff": math.inf},
        {"max_backoff": -1},
        {"max_backoff": math.inf},
        {"initial_backoff": 2.0, "max_backoff": 1.0},
        {"max_retry_after": -1},
        {"max_retry_after": math.nan},
        {"total_timeout": -1},
        {"total_timeout": "60"},
    ],
    ids=repr,
)
def test_a_retry_policy_that_cannot_work_is_refused_when_made(kwargs: dict[str, Any]) -> None:
    with pytest.raises(genkit.InvalidParameterError) as info:
        genkit.RetryPolicy(**kwargs)
    assert info.value.parameter.startswith("RetryPolicy.")


def test_a_retry_policy_may_have_no_bound() -> None:
    policy = genkit.RetryPolicy(max_retries=0, max_retry_after=math.inf, total_timeout=math.inf)
    assert policy.total_timeout == math.inf


@pytest.mark.parametrize(
    "kwargs",
    [{"compile": "yes"}, {"static_cache": 1}, {"device": 5}, {"max_batch_size": "x"}],
    ids=repr,
)
def test_local_load_options_of_the_wrong_kind_raise_genkit_errors(
    tiny_gpt2_path: Path, kwargs: dict[str, Any]
) -> None:
    """``compile="yes"`` was accepted off CUDA, where the option is not used."""
    with pytest.raises(genkit.InvalidParameterError):
        genkit.load(f"huggingface:{tiny_gpt2_path}", **kwargs)
