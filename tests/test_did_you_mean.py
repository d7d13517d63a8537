"""A misspelt name is answered with the name that was meant, before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

import genkit
from fakeprovider import FakeProviderServer
from tests.hosted import HOSTED, Hosted, point_sdks_at


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("max_token", "max_tokens"),
        ("tempreature", "temperature"),
        ("topk", "top_k"),
        ("stop_sequences", "stop"),  # a provider's own name
        ("max_completion_tokens", "max_tokens"),
        ("candidate_count", "n"),
        ("timout", "timeout"),
        ("max_retry", "max_retries"),
        ("sytem", "system"),
        ("Temperature", "temperature"),
    ],
)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_unknown_parameters_suggest_the_closest_one(
    server: FakeProviderServer, hosted: Hosted, typo: str, meant: str
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    params: dict[str, Any] = {typo: 1}
    for call in (gen.generate, gen.stream):
        with pytest.raises(genkit.InvalidParameterError) as info:
            call("hi", **params)
        assert info.value.parameter == typo
        assert f"did you mean {meant!r}?" in str(info.value)
    with pytest.raises(genkit.InvalidParameterError, match=f"did you mean {meant!r}"):
        genkit.load(f"{hosted.provider}:{hosted.model}", **params)
    assert server.requests == []


def test_load_arguments_are_suggested_at_load(server: FakeProviderServer) -> None:
    with pytest.raises(genkit.InvalidParameterError, match="did you mean 'api_key'"):
        genkit.load("openai:gpt-4o", api_kye="sk-test")
    with pytest.raises(genkit.InvalidParameterError, match="did you mean 'api_version'"):
        genkit.load("gemini:gemini-2.5-flash", api_verison="v1beta")  # a backend load option


def test_a_misspelt_fallbacks_argument_is_suggested(server: FakeProviderServer) -> None:
    with pytest.raises(genkit.InvalidParameterError, match="did you mean 'fallbacks'"):
        genkit.load("openai:gpt-4o", fallback=["anthropic:claude-sonnet-4-6"])
    assert server.requests == []


def test_a_name_close_to_nothing_gets_no_guess(server: FakeProviderServer) -> None:
    with pytest.raises(genkit.InvalidParameterError) as info:
        genkit.load("openai:gpt-4o").generate("hi", colour="blue")
    assert "did you mean" not in str(info.value)
    assert "provider_options" in str(info.value)


@pytest.mark.parametrize(
    ("model", "meant"),
    [
        ("openai/gpt-4o", "'openai:gpt-4o'"),
        ("openai/gpt-oss-20b", "'huggingface:openai/gpt-oss-20b'"),  # also a hub id
        ("openai gpt-4o", "'openai:gpt-4o'"),
        ("anthropic/claude-sonnet-4-6", "'anthropic:claude-sonnet-4-6'"),
        ("opneai/gpt-4o", "'openai:gpt-4o'"),
        ("gpt-4o", "'openai:gpt-4o'"),
        ("o3-mini", "'openai:o3-mini'"),
        ("claude-sonnet-4-6", "'anthropic:claude-sonnet-4-6'"),
        ("gemini-2.5-flash", "'gemini:gemini-2.5-flash'"),
        ("meta-llama/Llama-3.2-1B", "'huggingface:meta-llama/Llama-3.2-1B'"),
    ],
)
def test_malformed_model_strings_suggest_the_model_string(model: str, meant: str) -> None:
    with pytest.raises(genkit.ConfigurationError) as info:
        genkit.load(model)
    text = str(info.value)
    assert f"did you mean {meant}" in text or f"or {meant}" in text, text
    assert "'provider:model'" in text
    for provider in ("openai", "anthropic", "gemini", "huggingface"):
        assert provider in text


def test_a_bare_unknown_name_lists_the_providers_without_guessing() -> None:
    with pytest.raises(genkit.ConfigurationError) as info:
        genkit.load("mystery-model")
    assert "did you mean" not in str(info.value)
    assert "openai, " in str(info.value)


@pytest.mark.parametrize(
    ("model", "meant"),
    [
        ("opneai:gpt-4o", "openai"),
        ("antropic:claude-sonnet-4-6", "anthropic"),
        ("gemni:x", "gemini"),
    ],
)
def test_misspelt_providers_suggest_the_known_one(model: str, meant: str) -> None:
    with pytest.raises(genkit.UnknownProviderError) as info:
        genkit.load(model)
    assert f"Did you mean {meant!r}?" in str(info.value)


def test_an_unknown_provider_far_from_any_gets_the_list_only() -> None:
    with pytest.raises(genkit.UnknownProviderError) as info:
        genkit.load("mistral:large")
    assert "Did you mean" not in str(info.value)
    assert "huggingface" in str(info.value)
