"""What the conformance suite needs to know about each hosted provider's wire format.

Each entry says where a shared parameter lands in the request body the real SDK
sent, so one test body can assert the mapping for every provider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from fakeprovider import FakeProviderServer

Body = dict[str, Any]


def _gemini_config(body: Body) -> Body:
    config = body.get("generationConfig") or body.get("generation_config") or {}
    assert isinstance(config, dict)
    return config


#: gemini-2.5-flash's thinking budget per reasoning level (the README's table).
_GEMINI_BUDGET_LEVELS = {0: "none", 1024: "low", 8192: "medium", 24576: "high"}


def _gemini_reasoning(body: Body) -> str:
    """The reasoning level a Gemini 2.5 body's ``thinkingConfig`` budget stands for.

    google-genai writes this object's fields in snake_case (the API takes both cases).
    """
    thinking = _gemini_config(body)["thinkingConfig"]
    return _GEMINI_BUDGET_LEVELS[thinking.get("thinkingBudget", thinking.get("thinking_budget"))]


@dataclass(frozen=True)
class Hosted:
    provider: str
    model: str
    #: shared parameter -> function reading its wire value from a request body
    wire: dict[str, Callable[[Body], Any]]
    system: Callable[[Body], str]
    roles: Callable[[Body], list[str]]
    unsupported: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.provider


OPENAI = Hosted(
    provider="openai",
    model="gpt-4o",
    wire={
        "max_tokens": lambda b: b["max_completion_tokens"],
        "temperature": lambda b: b["temperature"],
        "top_p": lambda b: b["top_p"],
        "stop": lambda b: b["stop"],
        "seed": lambda b: b["seed"],
        "n": lambda b: b["n"],
        "presence_penalty": lambda b: b["presence_penalty"],
        "frequency_penalty": lambda b: b["frequency_penalty"],
    },
    system=lambda b: b["messages"][0]["content"] if b["messages"][0]["role"] == "system" else "",
    roles=lambda b: [m["role"] for m in b["messages"] if m["role"] != "system"],
    unsupported=("top_k", "reasoning"),
)

ANTHROPIC = Hosted(
    provider="anthropic",
    model="claude-sonnet-4-6",
    wire={
        "max_tokens": lambda b: b["max_tokens"],
        "temperature": lambda b: b["temperature"],
        "top_p": lambda b: b["top_p"],
        "top_k": lambda b: b["top_k"],
        "stop": lambda b: b["stop_sequences"],
        # Claude 4.6 thinks adaptively: a level is output_config.effort.
        "reasoning": lambda b: b["output_config"]["effort"],
    },
    system=lambda b: b["system"] if isinstance(b["system"], str) else b["system"][0]["text"],
    roles=lambda b: [m["role"] for m in b["messages"]],
    unsupported=("seed", "presence_penalty", "frequency_penalty"),
)

GEMINI = Hosted(
    provider="gemini",
    model="gemini-2.5-flash",
    wire={
        "max_tokens": lambda b: _gemini_config(b)["maxOutputTokens"],
        "temperature": lambda b: _gemini_config(b)["temperature"],
        "top_p": lambda b: _gemini_config(b)["topP"],
        "top_k": lambda b: _gemini_config(b)["topK"],
        "stop": lambda b: _gemini_config(b)["stopSequences"],
        "seed": lambda b: _gemini_config(b)["seed"],
        "n": lambda b: _gemini_config(b)["candidateCount"],
        "presence_penalty": lambda b: _gemini_config(b)["presencePenalty"],
        "frequency_penalty": lambda b: _gemini_config(b)["frequencyPenalty"],
        "reasoning": _gemini_reasoning,
    },
    system=lambda b: (b.get("systemInstruction") or b["system_instruction"])["parts"][0]["text"],
    roles=lambda b: [c["role"] for c in b["contents"]],
)

HOSTED = [OPENAI, ANTHROPIC, GEMINI]

#: Example values for each shared parameter, valid on every provider that supports it.
PARAM_VALUES: dict[str, Any] = {
    "max_tokens": 17,
    "temperature": 0.5,
    "top_p": 0.9,
    "top_k": 40,
    "stop": ["END", "STOP"],
    "seed": 7,
    "n": 1,
    "presence_penalty": 0.5,
    "frequency_penalty": -0.5,
    "reasoning": "low",
}

API_KEY = "sk-test-conformance-0123456789"


def point_sdks_at(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every vendor SDK reads its own env vars; point them all at the fake server."""
    for name in ("GENKIT_MODEL", "GENKIT_MAX_RETRIES", "GENKIT_TIMEOUT", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.anthropic_base_url)
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.gemini_base_url)
