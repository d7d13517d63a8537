"""Drop mode: one set of parameters runs on whatever ``GENKIT_MODEL`` names.

``GENKIT_DROP_UNSUPPORTED=1`` (or ``drop_unsupported=True``) drops parameters the model
cannot honour and clamps values beyond its limits, each with a warning in
``result.warnings``; what is invalid on every model still raises.  Checked on the
wire: the real SDKs send to the fake server, which validates each provider's rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import point_sdks_at


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    monkeypatch.delenv("GENKIT_DROP_UNSUPPORTED", raising=False)
    return fake_server


def _gemini(body: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = body.get("generationConfig") or {}
    return config


# model -> (what the body must hold, fields it must not hold, warnings expected in order)
SWITCHES: dict[str, tuple[dict[str, Any], tuple[str, ...], list[str]]] = {
    "openai:gpt-4o": (
        {"temperature": 1.2, "seed": 7},
        ("top_k",),
        ["dropped 'top_k': not supported by openai model 'gpt-4o'"],
    ),
    "openai:o3-mini": (
        {"seed": 7},
        ("temperature", "top_k"),
        [
            "dropped 'temperature': not supported by openai model 'o3-mini'",
            "dropped 'top_k': not supported by openai model 'o3-mini'",
        ],
    ),
    "anthropic:claude-sonnet-4-6": (
        {"temperature": 1.0, "top_k": 40},
        ("seed",),
        [
            "temperature 1.2 clamped to 1.0 (anthropic model 'claude-sonnet-4-6' allows 0 to 1)",
            "dropped 'seed': not supported by anthropic model 'claude-sonnet-4-6'",
        ],
    ),
    "anthropic:claude-opus-4-7": (
        {},
        ("temperature", "top_k", "seed"),
        [
            "dropped 'temperature': not supported by anthropic model 'claude-opus-4-7'",
            "dropped 'top_k': not supported by anthropic model 'claude-opus-4-7'",
            "dropped 'seed': not supported by anthropic model 'claude-opus-4-7'",
        ],
    ),
    # google-genai types topK as a float: 40.0 is what the SDK itself sends.
    "gemini:gemini-2.5-flash": ({"temperature": 1.2, "topK": 40.0, "seed": 7}, (), []),
}


@pytest.mark.parametrize("model", SWITCHES)
def test_the_same_code_runs_on_every_hosted_model(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    sent, absent, warnings = SWITCHES[model]
    monkeypatch.setenv("GENKIT_MODEL", model)
    monkeypatch.setenv("GENKIT_DROP_UNSUPPORTED", "1")
    gen = genkit.load(temperature=1.2, top_k=40, seed=7)  # the code does not change
    result = gen.generate("Once upon a time")
    assert result.warnings == warnings
    with gen.stream("Once upon a time") as stream:
        "".join(chunk.text for chunk in stream)
    assert stream.result.warnings == warnings
    for request in server.requests:
        assert request.validation_error is None, request.validation_error
        assert request.body is not None
        fields = _gemini(request.body) if model.startswith("gemini") else request.body
        for name, value in sent.items():
            assert fields[name] == value, (name, fields)
            assert type(fields[name]) is type(value), (name, fields)
        for name in absent:
            assert name not in fields, (name, fields)
            assert name not in request.body, (name, request.body)
    assert len(server.requests) == 2


def test_the_same_code_runs_on_the_local_backend(
    monkeypatch: pytest.MonkeyPatch, tiny_gpt2_path: Path
) -> None:
    monkeypatch.setenv("GENKIT_MODEL", f"huggingface:{tiny_gpt2_path}")
    monkeypatch.setenv("GENKIT_DROP_UNSUPPORTED", "1")
    with genkit.load(temperature=1.2, top_k=40, seed=7, device="cpu") as gen:
        assert gen.defaults == {"temperature": 1.2, "top_k": 40, "seed": 7}
        first = gen.generate("Once upon a time", max_tokens=4)
        again = gen.generate("Once upon a time", max_tokens=4)
    assert first.warnings == []
    assert first.texts == again.texts  # seed 7 really reached the sampler


def test_without_drop_mode_the_same_values_are_refused(server: FakeProviderServer) -> None:
    with pytest.raises(genkit.InvalidParameterError) as info:
        genkit.load("anthropic:claude-sonnet-4-6", temperature=1.2)
    assert "GENKIT_DROP_UNSUPPORTED=1" in str(info.value)
    assert "allowed: a value in [0, 1]" in str(info.value)
    with pytest.raises(genkit.UnsupportedParameterError, match="GENKIT_DROP_UNSUPPORTED=1"):
        genkit.load("openai:gpt-4o", top_k=40)
    assert server.requests == []


def test_an_explicit_argument_wins_over_the_variable(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENKIT_DROP_UNSUPPORTED", "1")
    with pytest.raises(genkit.UnsupportedParameterError):
        genkit.load("openai:gpt-4o", top_k=40, drop_unsupported=False)
    gen = genkit.load("openai:gpt-4o", drop_unsupported=False)
    with pytest.raises(genkit.UnsupportedParameterError):
        gen.generate("hi", top_k=40)
    assert gen.generate("hi", top_k=40, drop_unsupported=True).warnings  # per call wins too
    monkeypatch.setenv("GENKIT_DROP_UNSUPPORTED", "0")
    with pytest.raises(genkit.UnsupportedParameterError):
        genkit.load("openai:gpt-4o", top_k=40)
    monkeypatch.setenv("GENKIT_DROP_UNSUPPORTED", "TRUE")
    assert genkit.load("openai:gpt-4o", top_k=40).defaults == {}


def test_the_variable_is_read_by_load_not_per_call(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = genkit.load("openai:gpt-4o")
    monkeypatch.setenv("GENKIT_DROP_UNSUPPORTED", "1")
    with pytest.raises(genkit.UnsupportedParameterError):
        gen.generate("hi", top_k=40)


def test_a_bad_value_of_the_variable_is_named(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENKIT_DROP_UNSUPPORTED", "maybe")
    with pytest.raises(genkit.InvalidParameterError) as info:
        genkit.load("openai:gpt-4o")
    assert "GENKIT_DROP_UNSUPPORTED" in str(info.value)
    assert "'maybe'" in str(info.value)


def test_limits_are_clamped_per_call(server: FakeProviderServer) -> None:
    gen = genkit.load("gemini:gemini-2.5-flash", drop_unsupported=True)
    server.script(Reply.text(candidates=[str(i) for i in range(8)]))
    result = gen.generate(
        "hi", n=10, presence_penalty=-3, seed=2**40, stop=["a", "b", "c", "d", "e", "f"]
    )
    config = _gemini(server.requests[-1].body or {})
    assert config["candidateCount"] == 8
    assert config["presencePenalty"] == -2.0
    assert config["seed"] == 2**31 - 1
    assert config["stopSequences"] == ["a", "b", "c", "d", "e"]
    assert server.requests[-1].validation_error is None
    assert len(result.texts) == 8
    assert result.warnings == [
        "n 10 clamped to 8 (gemini model 'gemini-2.5-flash' allows at most 8)",
        "presence_penalty -3.0 clamped to -2.0 (gemini model 'gemini-2.5-flash' allows -2 to 2)",
        f"seed {2**40} clamped to {2**31 - 1} "
        f"(gemini model 'gemini-2.5-flash' allows {-(2**31)} to {2**31 - 1})",
        "stop: kept the first 5 of 6 stop sequences "
        "(gemini model 'gemini-2.5-flash' allows at most 5)",
    ]


def test_openai_keeps_the_first_four_stop_sequences(server: FakeProviderServer) -> None:
    gen = genkit.load("openai:gpt-4o", drop_unsupported=True, temperature=5)
    result = gen.generate("hi", stop=["1", "2", "3", "4", "5"], frequency_penalty=2.5)
    body = server.requests[-1].body or {}
    assert body["stop"] == ["1", "2", "3", "4"]
    assert body["temperature"] == 2.0
    assert body["frequency_penalty"] == 2.0
    assert server.requests[-1].validation_error is None
    assert len(result.warnings) == 3


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature", "hot"),
        ("temperature", -0.5),  # invalid on every model: a bug, not a difference
        ("top_p", 0),
        ("max_tokens", 0),
        ("n", 0),
        ("stop", [""]),
        ("seed", 2**64),
    ],
)
def test_values_invalid_everywhere_still_raise(
    server: FakeProviderServer, name: str, value: Any
) -> None:
    gen = genkit.load("gemini:gemini-2.5-flash", drop_unsupported=True)
    with pytest.raises(genkit.InvalidParameterError) as info:
        gen.generate("hi", **{name: value})
    assert info.value.parameter == name
    assert server.requests == []


def test_anthropic_whitespace_only_stops_are_dropped(server: FakeProviderServer) -> None:
    gen = genkit.load("anthropic:claude-sonnet-4-6", stop=["\n", "END"])
    with pytest.raises(genkit.InvalidParameterError, match="whitespace"):
        gen.generate("hi")  # refused without drop mode: the API answers 400
    assert server.requests == []
    gen = genkit.load("anthropic:claude-sonnet-4-6", stop=["\n", "END"], drop_unsupported=True)
    result = gen.generate("hi")
    assert server.requests[-1].body is not None
    assert server.requests[-1].body["stop_sequences"] == ["END"]
    assert result.warnings == [
        "stop: dropped the whitespace-only stop sequences ['\\n'] "
        "(anthropic model 'claude-sonnet-4-6' refuses them)"
    ]
    result = gen.generate("hi", stop="\n\n")  # nothing left: no stop_sequences at all
    assert server.requests[-1].body is not None
    assert "stop_sequences" not in server.requests[-1].body
    assert result.warnings[-1].startswith(
        "stop: dropped the whitespace-only stop sequences ['\\n\\n']"
    )
