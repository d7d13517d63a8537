"""Which shared parameters each OpenAI model accepts, and their ranges."""

from __future__ import annotations

from genkit.backends.openai._request import PARAMETER_NAMES
from genkit.capabilities import CapabilityTable, ModelCapabilities

__all__ = ["CAPABILITIES"]

_PENALTY = (-2.0, 2.0)
_CHAT = ModelCapabilities(
    supported=frozenset(PARAMETER_NAMES),
    ranges={"temperature": (0.0, 2.0), "presence_penalty": _PENALTY, "frequency_penalty": _PENALTY},
    max_stop=4,
    max_n=128,
)
# Reasoning models fix their own sampling and reject the knobs outright.
_REASONING = _CHAT.without("temperature", "top_p", "presence_penalty", "frequency_penalty", "stop")

CAPABILITIES = CapabilityTable(
    [
        ("o1*", _REASONING),
        ("o3*", _REASONING),
        ("o4*", _REASONING),
        ("gpt-5*", _REASONING),
        ("gpt-6*", _REASONING),
    ],
    default=_CHAT,
)
