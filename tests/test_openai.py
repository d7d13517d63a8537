"""What is particular to the OpenAI backend: its field names, its model families, its SDK."""

from __future__ import annotations

from typing import Any

import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import point_sdks_at
from tests.shared_recordings import recording

FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def test_max_tokens_is_sent_as_max_completion_tokens(server: FakeProviderServer) -> None:
    genkit.load("openai:gpt-4o").generate("hi", max_tokens=9)
    body = server.requests[-1].body
    assert body is not None
    assert body["max_completion_tokens"] == 9
    assert "max_tokens" not in body


def test_streams_ask_for_usage(server: FakeProviderServer) -> None:
    server.script(Reply.text("hi there", usage=(3, 2)))
    stream = genkit.load("openai:gpt-4o").stream("hi")
    assert stream.result.usage.total_tokens == 5
    body = server.requests[-1].body
    assert body is not None
    assert body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("model", ["o1", "o3-mini", "o4-mini", "gpt-5", "gpt-5.1-mini"])
@pytest.mark.parametrize("name", ["temperature", "top_p", "presence_penalty", "stop"])
def test_reasoning_models_reject_sampling_before_any_request(
    server: FakeProviderServer, model: str, name: str
) -> None:
    value = "END" if name == "stop" else 0.5
    params: dict[str, Any] = {name: value}
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        genkit.load(f"openai:{model}").generate("hi", **params)
    assert info.value.parameter == name
    assert "max_tokens" in info.value.supported
    assert server.requests == []


def test_reasoning_models_still_take_max_tokens_and_seed(server: FakeProviderServer) -> None:
    genkit.load("openai:o3-mini").generate("hi", max_tokens=5, seed=1)
    assert server.requests[-1].validation_error is None


def test_dropping_unsupported_on_a_reasoning_model_sends_a_request_the_api_accepts(
    server: FakeProviderServer,
) -> None:
    gen = genkit.load("openai:gpt-5", temperature=0.3, drop_unsupported=True)
    result = gen.generate("hi")
    assert server.requests[-1].validation_error is None
    assert any("temperature" in w for w in result.warnings)


def test_a_provider_400_for_a_parameter_is_a_bad_request_error(server: FakeProviderServer) -> None:
    server.script(Reply.error(400, message="Unsupported parameter: 'temperature'"))
    with pytest.raises(genkit.BadRequestError, match="temperature"):
        genkit.load("openai:future-model").generate("hi", temperature=0.1)


@pytest.mark.parametrize(
    "body",
    [
        b'{"detail": "Server is pinned to model-a; requested model-b."}',  # FastAPI servers
        b'{"error": "Server is pinned to model-a; requested model-b."}',
    ],
)
def test_compatible_servers_error_bodies_keep_their_reason(
    server: FakeProviderServer, body: bytes
) -> None:
    """OpenAI-compatible servers (transformers serve) do not all use OpenAI's error shape."""
    server.script(Reply.raw(400, body, content_type="application/json"))
    with pytest.raises(genkit.BadRequestError, match="pinned to model-a"):
        genkit.load("openai:model-b").generate("hi")


def test_sdk_retries_are_off(server: FakeProviderServer) -> None:
    server.script(*[Reply.error(500, retry_after=0)] * 3)
    with pytest.raises(genkit.ServerError):
        genkit.load("openai:gpt-4o", retry=FAST).generate("hi")
    assert [r.headers.get("x-stainless-retry-count") for r in server.requests] == ["0"] * 3


def test_provider_options_reach_the_body(server: FakeProviderServer) -> None:
    gen = genkit.load("openai:gpt-4o", provider_options={"user": "u1"})
    gen.generate("hi", provider_options={"logit_bias": {"50256": -100}})
    body = server.requests[-1].body
    assert body is not None
    assert body["user"] == "u1"
    assert body["logit_bias"] == {"50256": -100}


def test_n_returns_every_candidate(server: FakeProviderServer) -> None:
    server.script(Reply.text(candidates=["one", "two", "three"]))
    result = genkit.load("openai:gpt-4o").generate("hi", n=3)
    assert result.texts == ["one", "two", "three"]
    assert result.finish_reasons == ["stop", "stop", "stop"]


def test_n_streams_every_candidate(server: FakeProviderServer) -> None:
    server.script(Reply.text(candidates=["a b", "c d"]))
    with genkit.load("openai:gpt-4o").stream("hi", n=2) as stream:
        indexes = {chunk.index for chunk in stream}
    assert indexes == {0, 1}
    assert stream.result.texts == ["a b", "c d"]


def test_explicit_api_key_and_base_url(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    gen = genkit.load(
        "openai:gpt-4o", api_key="sk-explicit-123456", base_url=server.openai_base_url
    )
    gen.generate("hi")
    assert server.requests[-1].headers["authorization"] == "Bearer sk-explicit-123456"
    assert "sk-explicit-123456" not in repr(gen)


def test_a_stalled_server_ends_within_the_timeout(server: FakeProviderServer) -> None:
    server.script(Reply.stall())
    gen = genkit.load("openai:gpt-4o", timeout=0.3, max_retries=0)
    with pytest.raises(genkit.TimeoutError):
        gen.generate("hi")


@pytest.mark.parametrize(
    ("name", "text", "finish", "total"),
    [
        ("openai_stream_1.sse", "The capital of the UK is London.", "stop", 87),
        ("openai_stream_0.sse", "", "tool_calls", 68),
    ],
)
def test_real_recorded_streams_parse(
    server: FakeProviderServer, name: str, text: str, finish: str, total: int
) -> None:
    server.script(Reply.replay(recording(name), chunk_size=97))
    stream = genkit.load("openai:gpt-4o-mini").stream("What is the capital of the UK?")
    result = stream.result
    assert result.text == text
    assert result.finish_reason == finish
    assert result.usage.total_tokens == total
    assert result.model == "gpt-4o-mini-2024-07-18"


def test_genkit_env_vars_set_timeout_and_retries(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENKIT_MODEL", "openai:gpt-4o")
    monkeypatch.setenv("GENKIT_TIMEOUT", "0.3")
    monkeypatch.setenv("GENKIT_MAX_RETRIES", "1")
    gen = genkit.load(retry=FAST)
    server.script(Reply.stall(), Reply.stall())
    with pytest.raises(genkit.TimeoutError):
        gen.generate("hi")
    assert len(server.requests) == 2


def test_per_call_timeout_and_retries_override_load(server: FakeProviderServer) -> None:
    gen = genkit.load("openai:gpt-4o", timeout=30, max_retries=3, retry=FAST)
    server.script(Reply.stall())
    with pytest.raises(genkit.TimeoutError):
        gen.generate("hi", timeout=0.3, max_retries=0)
    assert len(server.requests) == 1
