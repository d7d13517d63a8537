"""Fallback chains against the fake server: which model answers, after how many requests.

The primary is scripted to fail in every way the fault suite knows (5xx, resets,
stalls, refused connections, 429s beyond the policy's bound, error events before the
first text); the server counts the requests each provider received, so every case
asserts exactly ``1 + max_retries`` requests to a primary that is down and exactly one
to the model that answered.  Driven through ``generate``, ``stream``, ``agenerate``
and ``astream`` alike.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from genkit.fallback import DEFAULT_FALLBACK_ON, FallbackGenerator
from tests.hosted import API_KEY, point_sdks_at
from tests.test_faults import _refused_base_url, hang_guard

FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)
MAX_RETRIES = 2
#: Per attempt.  Not shorter: in async modes the timer and the I/O share one thread, so
#: any pause of the test process (a garbage collection, a first-use import inside the
#: attempt) counts against it, and at 0.3 s that failed about one suite run in three.
TIMEOUT = 1.0
PROMPT = "tell me a story"

OPENAI = "openai:gpt-4o"
ANTHROPIC = "anthropic:claude-sonnet-4-6"
GEMINI = "gemini:gemini-2.5-flash"

Mode = Literal["call", "stream", "acall", "astream"]
MODES: tuple[Mode, ...] = ("call", "stream", "acall", "astream")
STREAMS: tuple[Mode, ...] = ("stream", "astream")


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def chain(*models: str, **options: Any) -> genkit.Generator:
    options.setdefault("retry", FAST)
    options.setdefault("max_retries", MAX_RETRIES)
    options.setdefault("timeout", TIMEOUT)
    return genkit.load(models[0], fallbacks=list(models[1:]), **options)


def requests_to(server: FakeProviderServer, provider: str) -> int:
    return sum(1 for r in server.requests if r.protocol == provider)


@dataclass
class Run:
    result: genkit.Generation | None = None
    error: genkit.GenkitError | None = None
    received: list[str] = field(default_factory=list)
    stream_result: genkit.Generation | None = None


def drive(gen: genkit.Generator, mode: Mode, **params: Any) -> Run:
    """Call ``gen`` one way; a genkit error is recorded, anything else propagates."""
    run = Run()
    try:
        if mode == "call":
            run.result = gen.generate(PROMPT, **params)
        elif mode == "stream":
            with gen.stream(PROMPT, **params) as stream:
                try:
                    for chunk in stream:
                        run.received.append(chunk.text)
                finally:
                    run.stream_result = stream.result
            run.result = run.stream_result
        else:
            asyncio.run(_adrive(gen, mode, run, params))
    except genkit.GenkitError as error:
        run.error = error
    return run


async def _adrive(gen: genkit.Generator, mode: Mode, run: Run, params: dict[str, Any]) -> None:
    # No gen.aclose() here: aclose() ends a Generator for good and a test may drive it
    # again; this loop's connections close with the loop (asyncio.run finalizes them).
    if mode == "acall":
        run.result = await gen.agenerate(PROMPT, **params)
        return
    async with gen.astream(PROMPT, **params) as stream:
        try:
            async for chunk in stream:
                run.received.append(chunk.text)
        finally:
            run.stream_result = stream.result
    run.result = run.stream_result


# --------------------------------------------------------------------------- the primary is down


@dataclass(frozen=True)
class Down:
    """A primary that fails every attempt, and how many requests that costs it."""

    name: str
    reply: Callable[[], Reply] | None  # None: connection refused
    error: type[genkit.ProviderError]
    requests: int = 1 + MAX_RETRIES
    modes: tuple[Mode, ...] = MODES


DOWN = [
    Down("503", lambda: Reply.error(503, retry_after=0), genkit.ServerError),
    Down("500", lambda: Reply.error(500, retry_after=0), genkit.ServerError),
    Down("reset", Reply.reset_before, genkit.ConnectionError),
    Down("stall", Reply.stall, genkit.TimeoutError),
    Down("refused", None, genkit.ConnectionError),
    Down("malformed-json", Reply.malformed_json, genkit.InvalidResponseError),
    Down(
        "429-beyond-bound",
        lambda: Reply.error(429, retry_after=3600),
        genkit.RateLimitError,
        requests=1,
    ),
    Down(
        "error-event-before-text", lambda: Reply.stream_error(0), genkit.ServerError, modes=STREAMS
    ),
    Down("reset-before-text", lambda: Reply.reset_during(0), genkit.ConnectionError, modes=STREAMS),
    Down("401", lambda: Reply.error(401), genkit.AuthenticationError, requests=1),
    Down("403", lambda: Reply.error(403), genkit.PermissionDeniedError, requests=1),
    Down("404", lambda: Reply.error(404), genkit.NotFoundError, requests=1),
]


def _script_down(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, down: Down) -> None:
    """The primary (OpenAI) fails every attempt ``down`` allows it."""
    if down.reply is None:
        monkeypatch.setenv("OPENAI_BASE_URL", _refused_base_url("openai"))
        return
    server.script_for("openai", *[down.reply() for _ in range(down.requests)])


@pytest.mark.parametrize(
    ("down", "mode"),
    [pytest.param(d, m, id=f"{d.name}-{m}") for d in DOWN for m in d.modes],
)
def test_primary_down_secondary_answers(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, down: Down, mode: Mode
) -> None:
    _script_down(server, monkeypatch, down)
    gen = chain(OPENAI, ANTHROPIC)
    try:
        with hang_guard(down.requests * TIMEOUT + 10):
            run = drive(gen, mode)
    finally:
        gen.close()
    assert run.error is None, f"{type(run.error).__name__}: {run.error}"
    assert run.result is not None
    assert run.result.text == f"echo: {PROMPT}"
    assert run.result.finish_reason == "stop"
    assert run.result.provider == "anthropic"
    assert run.result.model == "claude-sonnet-4-6"
    if mode in STREAMS:
        assert "".join(run.received) == run.result.text, "nothing from the primary leaks in"
    # Exact request counts: the primary spent its retries (or was refused at once).
    if down.reply is not None:
        assert requests_to(server, "openai") == down.requests
    assert requests_to(server, "anthropic") == 1
    [warning] = run.result.warnings
    assert warning.startswith(f"{OPENAI} failed ({down.error.__name__}: openai")
    assert warning.endswith(f"; fell back to {ANTHROPIC}")
    assert "\n" not in warning
    assert API_KEY not in warning


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("primary", "secondary"),
    [(ANTHROPIC, GEMINI), (GEMINI, OPENAI), (OPENAI, f"{OPENAI}-mini")],
    ids=["anthropic-gemini", "gemini-openai", "openai-openai"],
)
def test_every_backend_falls_back_and_answers(
    server: FakeProviderServer, primary: str, secondary: str, mode: Mode
) -> None:
    """Each provider as primary and as fallback, and a chain within one provider."""
    provider = primary.partition(":")[0]
    # Scripted on the shared queue: the primary consumes these three, the fallback's
    # request finds the queue empty and gets the default echo.
    server.script(*[Reply.error(503, retry_after=0) for _ in range(1 + MAX_RETRIES)])
    gen = chain(primary, secondary)
    try:
        run = drive(gen, mode)
    finally:
        gen.close()
    assert run.error is None, f"{type(run.error).__name__}: {run.error}"
    assert run.result is not None
    assert run.result.provider == secondary.partition(":")[0]
    assert run.result.text == f"echo: {PROMPT}"
    models = [r.model for r in server.requests]
    answered = secondary.partition(":")[2]
    assert len(server.requests) == 2 + MAX_RETRIES
    assert models[-1] == answered
    assert all(r.protocol == provider for r in server.requests[:-1])
    assert run.result.warnings[0].startswith(f"{primary} failed (ServerError: {provider} 503")


@pytest.mark.parametrize("mode", MODES)
def test_primary_that_answers_costs_one_request(server: FakeProviderServer, mode: Mode) -> None:
    gen = chain(OPENAI, ANTHROPIC)
    try:
        run = drive(gen, mode)
    finally:
        gen.close()
    assert run.result is not None
    assert run.result.provider == "openai"
    assert run.result.warnings == []
    assert [r.protocol for r in server.requests] == ["openai"]


# --------------------------------------------------------------------------- no fallback


@pytest.mark.parametrize("mode", MODES)
def test_bad_request_does_not_fall_back(server: FakeProviderServer, mode: Mode) -> None:
    """A 400 is the request's fault: every model would refuse it, so it is raised at once."""
    server.script_for("openai", Reply.error(400))
    gen = chain(OPENAI, ANTHROPIC)
    try:
        run = drive(gen, mode)
    finally:
        gen.close()
    assert type(run.error) is genkit.BadRequestError
    assert run.error.provider == "openai"
    assert [r.protocol for r in server.requests] == ["openai"]


@pytest.mark.parametrize("mode", MODES)
def test_fallback_on_replaces_the_set(server: FakeProviderServer, mode: Mode) -> None:
    # A 400 falls back when asked to ...
    server.script_for("openai", Reply.error(400))
    gen = chain(OPENAI, ANTHROPIC, fallback_on=(genkit.BadRequestError,))
    try:
        run = drive(gen, mode)
        assert run.result is not None
        assert run.result.provider == "anthropic"
        # ... and a 503 no longer does: only the classes given count.
        server.reset()
        server.script_for("openai", *[Reply.error(503, retry_after=0)] * (1 + MAX_RETRIES))
        run = drive(gen, mode)
    finally:
        gen.close()
    assert type(run.error) is genkit.ServerError
    assert requests_to(server, "openai") == 1 + MAX_RETRIES
    assert requests_to(server, "anthropic") == 0


def test_default_set() -> None:
    assert genkit.BadRequestError not in DEFAULT_FALLBACK_ON
    assert genkit.InvalidParameterError not in DEFAULT_FALLBACK_ON
    assert genkit.AuthenticationError in DEFAULT_FALLBACK_ON


def test_retryable_error_of_no_listed_class_falls_back(server: FakeProviderServer) -> None:
    """A 409 is retryable but has no class of its own: the default set covers it."""
    server.script_for("openai", *[Reply.error(409, retry_after=0)] * (1 + MAX_RETRIES))
    with chain(OPENAI, ANTHROPIC) as gen:
        result = gen.generate(PROMPT)
    assert result.provider == "anthropic"
    assert requests_to(server, "openai") == 1 + MAX_RETRIES


# --------------------------------------------------------------------------- streams


@pytest.mark.parametrize("mode", STREAMS)
def test_stream_broken_after_first_chunk_does_not_fall_back(
    server: FakeProviderServer, mode: Mode
) -> None:
    server.script_for("openai", Reply.reset_during(2))
    gen = chain(OPENAI, ANTHROPIC)
    try:
        run = drive(gen, mode)
    finally:
        gen.close()
    assert type(run.error) is genkit.ConnectionError
    assert run.received, "text reached the caller before the break"
    assert run.error.partial is not None
    assert run.error.partial.text == "".join(run.received)
    assert run.error.partial.finish_reason is None
    assert run.stream_result is not None
    assert run.stream_result.finish_reason is None
    assert run.stream_result.provider == "openai"
    assert [r.protocol for r in server.requests] == ["openai"], "no retry, no fallback"


@pytest.mark.parametrize("mode", STREAMS)
def test_fallback_stream_broken_mid_stream_keeps_the_story(
    server: FakeProviderServer, mode: Mode
) -> None:
    """The fallback breaks after text: its partial says which model failed before it."""
    server.script_for("openai", *[Reply.error(503, retry_after=0)] * (1 + MAX_RETRIES))
    server.script_for("anthropic", Reply.stream_error(2))
    gen = chain(OPENAI, ANTHROPIC)
    try:
        run = drive(gen, mode)
    finally:
        gen.close()
    assert type(run.error) is genkit.ServerError
    assert run.error.provider == "anthropic"
    assert run.received
    assert run.error.partial is not None
    assert run.error.partial.provider == "anthropic"
    assert run.error.partial.text == "".join(run.received)
    assert run.error.partial.warnings[0].startswith(f"{OPENAI} failed (ServerError")
    assert requests_to(server, "anthropic") == 1


def test_stream_result_without_iterating_still_falls_back(server: FakeProviderServer) -> None:
    server.script_for("openai", *[Reply.error(503, retry_after=0)] * (1 + MAX_RETRIES))
    with chain(OPENAI, ANTHROPIC) as gen, gen.stream(PROMPT) as stream:
        result = stream.result
    assert result.provider == "anthropic"
    assert result.text == f"echo: {PROMPT}"
    assert stream.error is None


async def test_astream_get_result_falls_back(server: FakeProviderServer) -> None:
    server.script_for("openai", *[Reply.error(503, retry_after=0)] * (1 + MAX_RETRIES))
    gen = chain(OPENAI, ANTHROPIC)
    async with gen.astream(PROMPT) as stream:
        result = await stream.get_result()
    await gen.aclose()
    assert result.provider == "anthropic"
    assert len(result.warnings) == 1


# --------------------------------------------------------------------------- all down


@pytest.mark.parametrize("mode", MODES)
def test_all_down_raises_each_models_error(server: FakeProviderServer, mode: Mode) -> None:
    server.script_for("openai", *[Reply.error(503, retry_after=0)] * (1 + MAX_RETRIES))
    server.script_for("anthropic", Reply.error(401))
    server.script_for("gemini", Reply.reset_before().times(1 + MAX_RETRIES))
    gen = chain(OPENAI, ANTHROPIC, GEMINI)
    try:
        run = drive(gen, mode)
    finally:
        gen.close()
    error = run.error
    assert isinstance(error, genkit.AllModelsFailedError)
    assert isinstance(error, genkit.ProviderError), "caught where any provider error is"
    assert [(model, type(e)) for model, e in error.errors] == [
        (OPENAI, genkit.ServerError),
        (ANTHROPIC, genkit.AuthenticationError),
        (GEMINI, genkit.ConnectionError),
    ]
    assert error.provider == "openai,anthropic,gemini"
    assert error.retryable
    assert error.status_code is None
    assert error.__cause__ is error.errors[-1][1]
    text = str(error)
    assert text.startswith("all 3 models failed: openai:gpt-4o: ServerError: openai 503")
    assert "anthropic 401" in text
    assert "\n" not in text
    assert API_KEY not in text
    assert requests_to(server, "openai") == 1 + MAX_RETRIES
    assert requests_to(server, "anthropic") == 1
    assert requests_to(server, "gemini") == 1 + MAX_RETRIES
    if mode in STREAMS:
        assert run.received == []
        assert error.partial is not None
        assert error.partial.finish_reason is None
        assert run.stream_result is not None
        assert run.stream_result.finish_reason is None
        assert len(run.stream_result.warnings) == 3


def test_all_down_not_retryable_when_no_failure_was_transient(server: FakeProviderServer) -> None:
    server.script_for("openai", Reply.error(401))
    server.script_for("anthropic", Reply.error(404))
    with chain(OPENAI, ANTHROPIC) as gen, pytest.raises(genkit.AllModelsFailedError) as info:
        gen.generate(PROMPT)
    assert not info.value.retryable
    assert len(server.requests) == 2


@pytest.mark.parametrize("mode", MODES)
def test_fallback_refusing_the_request_is_raised_with_the_story(
    server: FakeProviderServer, mode: Mode
) -> None:
    """The primary is down and the fallback says 400: the 400 is the answer, not a next model."""
    server.script_for("openai", *[Reply.error(503, retry_after=0)] * (1 + MAX_RETRIES))
    server.script_for("anthropic", Reply.error(400))
    gen = chain(OPENAI, ANTHROPIC, GEMINI)
    try:
        run = drive(gen, mode)
    finally:
        gen.close()
    assert type(run.error) is genkit.BadRequestError
    assert run.error.provider == "anthropic"
    assert any(OPENAI in note for note in run.error.__notes__)
    assert requests_to(server, "gemini") == 0


def test_fallbacks_are_logged(server: FakeProviderServer, caplog: pytest.LogCaptureFixture) -> None:
    server.script_for("openai", *[Reply.error(503, retry_after=0)] * (1 + MAX_RETRIES))
    with chain(OPENAI, ANTHROPIC) as gen, caplog.at_level(logging.WARNING, logger="genkit"):
        gen.generate(PROMPT)
    [record] = [r for r in caplog.records if "falling back" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert f"{OPENAI} failed (ServerError" in record.getMessage()
    assert API_KEY not in record.getMessage()


# --------------------------------------------------------------------------- the chain string


def test_genkit_model_with_a_comma_is_a_chain(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before chains, this was one OpenAI model named 'gpt-4o,anthropic:claude-sonnet-4-6'."""
    monkeypatch.setenv("GENKIT_MODEL", f" {OPENAI} , {ANTHROPIC} ")
    monkeypatch.setenv("GENKIT_MAX_RETRIES", "0")
    server.script_for("openai", Reply.error(503))
    with genkit.load() as gen:
        assert isinstance(gen, FallbackGenerator)
        assert [f"{g.provider}:{g.model}" for g in gen.generators] == [OPENAI, ANTHROPIC]
        assert (gen.provider, gen.model) == ("openai", "gpt-4o")
        result = gen.generate(PROMPT)
    assert [(r.protocol, r.model) for r in server.requests] == [
        ("openai", "gpt-4o"),
        ("anthropic", "claude-sonnet-4-6"),
    ]
    assert result.provider == "anthropic"


def test_chain_sources_combine(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENKIT_MODEL", f"{OPENAI},{ANTHROPIC}")
    with genkit.load(fallbacks=GEMINI) as gen:
        assert isinstance(gen, FallbackGenerator)
        assert [g.provider for g in gen.generators] == ["openai", "anthropic", "gemini"]
    with genkit.load(f"{OPENAI},{ANTHROPIC}", fallbacks=[f"{GEMINI}, {OPENAI}-mini"]) as gen:
        assert isinstance(gen, FallbackGenerator)
        assert [g.model for g in gen.generators][-1] == "gpt-4o-mini"
    assert server.requests == []


def test_a_chain_of_one_is_a_plain_generator(server: FakeProviderServer) -> None:
    for gen in (
        genkit.load(OPENAI),
        genkit.load(OPENAI, fallbacks=[]),
        genkit.load(OPENAI, fallback_on=(genkit.ServerError,)),
    ):
        assert type(gen) is genkit.Generator
        gen.close()


@pytest.mark.parametrize("spec", [f"{OPENAI},", f",{OPENAI}", f"{OPENAI}, ,{ANTHROPIC}"])
def test_an_empty_chain_member_is_a_configuration_error(
    server: FakeProviderServer, spec: str
) -> None:
    with pytest.raises(genkit.ConfigurationError, match="malformed model chain"):
        genkit.load(spec)


def test_every_model_must_load(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fallback that could never work fails load(), not the outage it was meant for."""
    with pytest.raises(genkit.UnknownProviderError):
        genkit.load(OPENAI, fallbacks=["mistral:large"])
    with pytest.raises(genkit.ConfigurationError, match="malformed model"):
        genkit.load(OPENAI, fallbacks=["claude"])
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(genkit.MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        genkit.load(OPENAI, fallbacks=[ANTHROPIC])
    assert server.requests == []


def test_fallback_on_must_name_genkit_errors(server: FakeProviderServer) -> None:
    with pytest.raises(genkit.InvalidParameterError, match="fallback_on"):
        genkit.load(OPENAI, fallbacks=[ANTHROPIC], fallback_on=(ValueError,))  # type: ignore[arg-type]


def test_one_endpoint_for_several_providers_is_refused(server: FakeProviderServer) -> None:
    with pytest.raises(genkit.ConfigurationError, match="api_key= and base_url="):
        genkit.load(OPENAI, fallbacks=[ANTHROPIC], api_key="sk-other")
    # Within one provider an explicit endpoint is unambiguous.
    with genkit.load(
        OPENAI, fallbacks=[f"{OPENAI}-mini"], base_url=server.openai_base_url, api_key=API_KEY
    ) as gen:
        assert gen.generate(PROMPT).provider == "openai"


# --------------------------------------------------------------------------- checked up front


def test_defaults_are_checked_against_every_model(server: FakeProviderServer) -> None:
    # top_k: Anthropic takes it, OpenAI does not.
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        genkit.load(ANTHROPIC, fallbacks=[OPENAI], top_k=40)
    assert info.value.provider == "openai"
    assert info.value.parameter == "top_k"
    with pytest.raises(genkit.InvalidParameterError, match="temperature"):
        genkit.load(OPENAI, fallbacks=[ANTHROPIC], temperature=1.5)  # > Anthropic's 1
    assert server.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_drop_unsupported_drops_per_model(server: FakeProviderServer, mode: Mode) -> None:
    server.script_for("anthropic", *[Reply.error(503, retry_after=0)] * (1 + MAX_RETRIES))
    gen = chain(ANTHROPIC, OPENAI, top_k=40, drop_unsupported=True)
    try:
        run = drive(gen, mode)
    finally:
        gen.close()
    assert run.result is not None
    assert run.result.provider == "openai"
    anthropic_body, openai_body = server.requests[0].body, server.requests[-1].body
    assert anthropic_body is not None
    assert openai_body is not None
    assert anthropic_body["top_k"] == 40
    assert "top_k" not in openai_body
    assert run.result.warnings[0].startswith(f"{ANTHROPIC} failed")
    assert any("top_k" in w for w in run.result.warnings[1:])


@pytest.mark.parametrize("mode", MODES)
def test_call_values_are_checked_against_every_model_before_sending(
    server: FakeProviderServer, mode: Mode
) -> None:
    gen = chain(ANTHROPIC, OPENAI)
    try:
        run = drive(gen, mode, top_k=5)
        assert isinstance(run.error, genkit.UnsupportedParameterError)
        assert run.error.provider == "openai"
        # Anthropic refuses a whitespace-only stop sequence; OpenAI is first but must not send.
        gen2 = chain(OPENAI, ANTHROPIC)
        try:
            run = drive(gen2, mode, stop=[" "])
        finally:
            gen2.close()
        assert isinstance(run.error, genkit.InvalidParameterError)
        assert run.error.provider == "anthropic"
    finally:
        gen.close()
    assert server.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_per_call_options_reach_every_model(server: FakeProviderServer, mode: Mode) -> None:
    """max_retries=0 per call: one request to the primary, then the fallback."""
    server.script_for("openai", Reply.error(503, retry_after=0))
    gen = chain(OPENAI, ANTHROPIC)
    try:
        run = drive(gen, mode, max_retries=0, max_tokens=7)
    finally:
        gen.close()
    assert run.result is not None
    assert run.result.provider == "anthropic"
    assert [r.protocol for r in server.requests] == ["openai", "anthropic"]
    body = server.requests[-1].body
    assert body is not None
    assert body["max_tokens"] == 7


# --------------------------------------------------------------------------- local fallback


def test_local_model_as_the_last_resort(
    server: FakeProviderServer, tiny_gpt2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load option (device=) reaches the model that takes it; the others never see it."""
    monkeypatch.setenv("OPENAI_BASE_URL", _refused_base_url("openai"))
    with chain(
        OPENAI,
        f"huggingface:{tiny_gpt2_path}",
        device="cpu",
        max_tokens=5,
        max_retries=0,
        timeout=60,  # a first local generation on a busy CPU
    ) as gen:
        result = gen.generate(PROMPT)
    assert result.provider == "huggingface"
    assert result.finish_reason in ("stop", "length")
    assert result.warnings[0].startswith(f"{OPENAI} failed (ConnectionError")


# --------------------------------------------------------------------------- lifetime


def test_closing_the_chain_closes_every_model(server: FakeProviderServer) -> None:
    gen = chain(OPENAI, ANTHROPIC)
    assert isinstance(gen, FallbackGenerator)
    server.script_for("openai", *[Reply.error(503, retry_after=0)] * (1 + MAX_RETRIES))
    gen.generate(PROMPT)  # both models now hold a connection
    assert server.connections_open >= 1
    gen.close()
    assert server.wait_until(lambda s: s.connections_open == 0, timeout=2.0)
    assert "openai:gpt-4o" in repr(gen)
    assert API_KEY not in repr(gen)
