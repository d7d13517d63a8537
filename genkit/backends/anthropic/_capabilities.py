"""Which shared parameters each Claude model accepts, and their ranges."""

from __future__ import annotations

from genkit.backends.anthropic._request import PARAMETER_NAMES
from genkit.capabilities import CapabilityTable, ModelCapabilities

__all__ = ["CAPABILITIES", "MAX_N"]

#: The most candidates genkit fans out to: each one is a full, separately billed request.
MAX_N = 8

_CLAUDE = ModelCapabilities(
    supported=frozenset({*PARAMETER_NAMES, "n"}),
    ranges={"temperature": (0.0, 1.0)},
    max_n=MAX_N,
    blank_stop=False,  # refused by check() below; dropped in drop mode
)
# Opus 4.7 and later fix their own sampling and answer 400 to any sampling knob.
_FIXED_SAMPLING = _CLAUDE.without("temperature", "top_p", "top_k")

CAPABILITIES = CapabilityTable(
    [
        ("claude-opus-4-[7-9]*", _FIXED_SAMPLING),
        ("claude-opus-4-1[0-9]*", _FIXED_SAMPLING),  # 4.10+, not claude-opus-4-1-2025...
        ("claude-opus-[5-9]*", _FIXED_SAMPLING),
        ("claude-sonnet-[5-9]*", _FIXED_SAMPLING),  # not claude-sonnet-4-5
        ("claude-haiku-[5-9]*", _FIXED_SAMPLING),
        ("*fable*", _FIXED_SAMPLING),
        ("*mythos*", _FIXED_SAMPLING),
    ],
    # Claude 3.x, Sonnet 4.x, Haiku 4.5, Opus up to 4.6 and models genkit does not know.
    default=_CLAUDE,
)
