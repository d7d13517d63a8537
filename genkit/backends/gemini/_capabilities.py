"""Which shared parameters Gemini models accept, and their ranges."""

from __future__ import annotations

from genkit.backends.gemini._request import PARAMETER_NAMES
from genkit.capabilities import CapabilityTable, ModelCapabilities

__all__ = ["CAPABILITIES"]

_INT32 = 2**31
_GEMINI = ModelCapabilities(
    supported=frozenset(PARAMETER_NAMES),
    ranges={
        "temperature": (0.0, 2.0),
        "presence_penalty": (-2.0, 2.0),
        "frequency_penalty": (-2.0, 2.0),
        "seed": (-_INT32, _INT32 - 1),  # an int32 in the API
    },
    max_stop=5,
    max_n=8,
)

CAPABILITIES = CapabilityTable([], default=_GEMINI)
