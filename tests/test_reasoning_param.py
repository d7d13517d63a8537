"""The shared ``reasoning`` parameter: one vocabulary, checked against each model's row."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pytest

import genkit
from genkit.provider import (
    Backend,
    CapabilityTable,
    Finish,
    Generation,
    ModelCapabilities,
    Request,
    StreamEvent,
    Usage,
)

SEEN: list[Mapping[str, Any]] = []


class RecordingBackend(Backend):
    """Records the params genkit hands it: what a real backend would map to the wire."""

    provider = "reasoner"
    capabilities = CapabilityTable(
        [
            ("levels-*", ModelCapabilities(
                frozenset({"reasoning"}), reasoning_levels=frozenset({"low", "high"}))),
            ("budget-*", ModelCapabilities(
                frozenset({"reasoning"}), ranges={"reasoning": (1024, 32000)})),
        ],
        default=ModelCapabilities(frozenset({"max_tokens"})),
    )  # fmt: skip

    def generate(self, request: Request) -> Generation:
        SEEN.append(dict(request.params))
        return Generation(["ok"], ["stop"], Usage(), self.model, self.provider)

    async def agenerate(self, request: Request) -> Generation:
        return self.generate(request)

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        yield Finish("stop")

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        yield Finish("stop")


@pytest.fixture(autouse=True)
def _registered() -> None:
    genkit.register("reasoner", RecordingBackend)
    SEEN.clear()


@pytest.mark.parametrize("value", ["extreme", "", -1, 1.5, True, None.__class__])
def test_values_outside_the_vocabulary_are_refused_everywhere(value: object) -> None:
    gen = genkit.load("reasoner:levels-1")
    with pytest.raises(genkit.InvalidParameterError) as info:
        gen.generate("hi", reasoning=value)
    assert info.value.parameter == "reasoning"
    assert "'medium'" in str(info.value)
    assert "token budget" in str(info.value)
    assert SEEN == []


def test_a_model_without_reasoning_refuses_it_before_sending() -> None:
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        genkit.load("reasoner:plain").generate("hi", reasoning="low")
    assert info.value.parameter == "reasoning"
    assert SEEN == []


def test_levels_the_model_names_pass_and_others_say_what_it_takes() -> None:
    gen = genkit.load("reasoner:levels-1")
    gen.generate("hi", reasoning="high")
    assert SEEN[-1] == {"reasoning": "high"}
    with pytest.raises(genkit.InvalidParameterError, match="'low', 'high'") as info:
        gen.generate("hi", reasoning="medium")
    assert "drop_unsupported" in str(info.value)
    with pytest.raises(genkit.InvalidParameterError):
        gen.generate("hi", reasoning=2048)
    assert len(SEEN) == 1


def test_budgets_are_checked_against_the_model_range() -> None:
    gen = genkit.load("reasoner:budget-1")
    gen.generate("hi", reasoning=4096)
    assert SEEN[-1] == {"reasoning": 4096}
    with pytest.raises(genkit.InvalidParameterError, match=r"\[1024, 32000\]"):
        gen.generate("hi", reasoning=10)
    with pytest.raises(genkit.InvalidParameterError):
        gen.generate("hi", reasoning="low")


def test_drop_mode_moves_to_the_nearest_level_or_clamps_the_budget() -> None:
    levels = genkit.load("reasoner:levels-1", drop_unsupported=True)
    assert levels.generate("hi", reasoning="medium").warnings  # tie: the higher level
    assert SEEN[-1] == {"reasoning": "high"}
    levels.generate("hi", reasoning="minimal")
    assert SEEN[-1] == {"reasoning": "low"}
    levels.generate("hi", reasoning=5000)  # a budget to a levels-only model: dropped
    assert SEEN[-1] == {}
    budget = genkit.load("reasoner:budget-1", drop_unsupported=True)
    result = budget.generate("hi", reasoning=100_000)
    assert SEEN[-1] == {"reasoning": 32000}
    assert any("clamped" in w for w in result.warnings)


def test_the_test_model_takes_every_setting_offline() -> None:
    gen = genkit.load("test:echo")
    for value in ("none", "minimal", "low", "medium", "high", 0, 8192):
        assert gen.generate("hi", reasoning=value).text == "hi"
