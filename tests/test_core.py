"""The provider-independent contract: names, model strings, registry, import hygiene."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

import genkit
from genkit.backends.base import Backend, BackendSettings
from genkit.capabilities import CapabilityTable, ModelCapabilities
from genkit.params import Request
from genkit.retry import RetryPolicy, parse_retry_after

PUBLIC_NAMES = [
    "load", "Generator", "Generation", "Chunk", "Usage", "Message", "Stream", "AsyncStream",
    "RetryPolicy", "register", "providers", "GenkitError", "ConfigurationError",
    "UnknownProviderError", "MissingAPIKeyError", "MissingDependencyError",
    "InvalidParameterError", "UnsupportedParameterError", "ProviderError",
    "AuthenticationError", "PermissionDeniedError", "NotFoundError", "BadRequestError",
    "RateLimitError", "ServerError", "TimeoutError", "ConnectionError", "InvalidResponseError",
]  # fmt: skip


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_public_names_exist(name: str) -> None:
    assert hasattr(genkit, name)
    assert name in genkit.__all__


def test_provider_errors_share_one_base_and_builtin_meanings() -> None:
    for cls in (
        genkit.AuthenticationError, genkit.PermissionDeniedError, genkit.NotFoundError,
        genkit.BadRequestError, genkit.RateLimitError, genkit.ServerError,
        genkit.TimeoutError, genkit.ConnectionError, genkit.InvalidResponseError,
    ):  # fmt: skip
        assert issubclass(cls, genkit.ProviderError)
        assert issubclass(cls, genkit.GenkitError)
    # Code that already catches the builtins keeps working.
    assert issubclass(genkit.TimeoutError, TimeoutError)
    assert issubclass(genkit.ConnectionError, ConnectionError)
    assert issubclass(genkit.InvalidParameterError, ValueError)


def test_import_genkit_loads_no_provider_sdk_and_no_torch() -> None:
    code = (
        "import sys, genkit\n"
        "heavy = ('openai', 'anthropic', 'google', 'torch', 'transformers', 'httpx2', "
        "'tenacity', 'asyncio')\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_importtime_shows_no_provider_sdk() -> None:
    """The issue's own check: ``python -X importtime -c "import genkit"``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import genkit"],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()}
    assert not modules & {"openai", "anthropic", "google", "torch", "transformers", "httpx2"}


def test_missing_api_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(genkit.MissingAPIKeyError, match="OPENAI_API_KEY"):
        genkit.load("openai:gpt-4o")


def test_default_model_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENKIT_MODEL", "echo:whatever")
    genkit.register("echo", EchoBackend)
    gen = genkit.load()
    assert (gen.provider, gen.model) == ("echo", "whatever")


def test_default_model_without_environment_is_gpt2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENKIT_MODEL", raising=False)
    from genkit.config import DEFAULT_MODEL

    assert DEFAULT_MODEL == "huggingface:gpt2"


def test_bad_genkit_env_values_fail_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    genkit.register("echo", EchoBackend)
    monkeypatch.setenv("GENKIT_MAX_RETRIES", "lots")
    with pytest.raises(genkit.InvalidParameterError, match="GENKIT_MAX_RETRIES"):
        genkit.load("echo:x")
    monkeypatch.setenv("GENKIT_MAX_RETRIES", "-1")
    with pytest.raises(genkit.InvalidParameterError, match="max_retries"):
        genkit.load("echo:x")


# --------------------------------------------------------------------------- registry


class EchoBackend(Backend):
    """A third-party-style backend registered at runtime: echoes the last message."""

    provider = "echo"
    capabilities = CapabilityTable(
        [], default=ModelCapabilities(supported=frozenset({"max_tokens", "temperature"}))
    )

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)

    def generate(self, request: Request) -> genkit.Generation:
        text = request.messages[-1].text[: request.params.get("max_tokens", 1000)]
        return genkit.Generation([text], ["stop"], genkit.Usage(1, len(text)), self.model, "echo")

    async def agenerate(self, request: Request) -> genkit.Generation:
        return self.generate(request)

    def stream(self, request: Request):  # type: ignore[no-untyped-def]
        for char in self.generate(request).text:
            yield genkit.Chunk(char)
        yield genkit.Finish("stop", "done")
        yield genkit.UsageUpdate(genkit.Usage(1, 1))

    async def astream(self, request: Request):  # type: ignore[no-untyped-def]
        for event in self.stream(request):
            yield event


def test_registered_backend_serves_every_call_style() -> None:
    genkit.register("echo", EchoBackend, aliases=("parrot",))
    assert "echo" in genkit.providers()
    gen = genkit.load("parrot:m", max_tokens=5)
    assert gen.generate("hello world").text == "hello"
    with gen.stream("hey") as stream:
        assert [c.text for c in stream] == ["h", "e", "y"]
    assert stream.result.finish_reason == "stop"


class TwoCandidateChunkBackend(EchoBackend):
    """Yields text-only events as ``Chunk`` (the cheap path) for two candidates."""

    provider = "chunky"

    def stream(self, request: Request):  # type: ignore[no-untyped-def]
        yield genkit.Chunk("a", 0)
        yield genkit.Chunk("x", 1)  # a candidate first seen through a Chunk
        yield genkit.Chunk("b", 0)
        yield genkit.Finish("stop", "eos", 0)
        yield genkit.Chunk("y", 1)
        yield genkit.Finish("length", "max", 1)
        yield genkit.UsageUpdate(genkit.Usage(2, 4))
        yield genkit.ResponseMetadata("m-1")


async def test_backends_may_yield_chunks_for_text_only_events() -> None:
    genkit.register("chunky", TwoCandidateChunkBackend)
    gen = genkit.load("chunky:m")
    with gen.stream("hi") as stream:
        assert [(c.text, c.index) for c in stream] == [("a", 0), ("x", 1), ("b", 0), ("y", 1)]
    async with gen.astream("hi") as astream:
        assert [(c.text, c.index) async for c in astream] == [
            ("a", 0),
            ("x", 1),
            ("b", 0),
            ("y", 1),
        ]
    for result in (stream.result, astream.result):
        assert result.texts == ["ab", "xy"]
        assert result.finish_reasons == ["stop", "length"]
        assert result.raw_finish_reasons == ["eos", "max"]
        assert result.usage == genkit.Usage(2, 4)
        assert result.model == "m-1"


def test_entry_point_plugins_are_discovered(monkeypatch: pytest.MonkeyPatch) -> None:
    from genkit import registry

    class FakeEntryPoint:
        name = "plug"
        value = "tests.test_core:EchoBackend"

    monkeypatch.setattr(registry, "_plugins", None)
    monkeypatch.setattr(
        "importlib.metadata.entry_points",
        lambda group: [FakeEntryPoint()] if group == registry.ENTRY_POINT_GROUP else [],
    )
    assert genkit.load("plug:x").generate("ok").text == "ok"


def test_aliases_resolve_to_the_canonical_provider() -> None:
    from genkit.registry import resolve

    assert resolve("google") is resolve("gemini")
    assert resolve("hf") is resolve("huggingface")
    assert resolve("OpenAI") is resolve("openai")


# --------------------------------------------------------------------------- retry policy


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    parsed = parse_retry_after({"retry-after": when})
    assert parsed is not None
    assert 25 < parsed <= 30
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_retry_policy_counts_and_fails_fast_on_long_retry_after() -> None:
    calls = []

    def always_429() -> None:
        calls.append(time.monotonic())
        raise genkit.RateLimitError("slow down", provider="t", status_code=429, retry_after=0)

    with pytest.raises(genkit.RateLimitError):
        RetryPolicy(max_retries=3).call(always_429)
    assert len(calls) == 4

    calls.clear()

    def long_wait() -> None:
        calls.append(time.monotonic())
        raise genkit.RateLimitError("later", provider="t", status_code=429, retry_after=3600)

    with pytest.raises(genkit.RateLimitError) as info:
        RetryPolicy(max_retries=3, max_retry_after=60).call(long_wait)
    assert len(calls) == 1
    assert info.value.retry_after == 3600


def test_retry_policy_total_time_bound() -> None:
    calls = []

    def failing() -> None:
        calls.append(1)
        raise genkit.ServerError("boom", provider="t", status_code=500, retry_after=0.2)

    started = time.monotonic()
    with pytest.raises(genkit.ServerError):
        RetryPolicy(max_retries=50, total_timeout=0.5).call(failing)
    assert time.monotonic() - started < 1.0
    assert 2 <= len(calls) <= 4


def test_non_retryable_errors_run_once() -> None:
    calls = []

    def bad() -> None:
        calls.append(1)
        raise genkit.BadRequestError("no", provider="t", status_code=400)

    with pytest.raises(genkit.BadRequestError):
        RetryPolicy(max_retries=5).call(bad)
    assert calls == [1]
