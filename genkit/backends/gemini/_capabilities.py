"""Which shared parameters and features Gemini models accept, and their ranges: data only.

- Every Gemini model takes images (PNG, JPEG, WEBP inline or by URL) and PDFs, calls
  functions and answers in JSON (``response_json_schema``).  JSON output together with
  function calling is a 400 on Gemini <= 2.5 and allowed on Gemini 3
  (``structured_output_with_tools`` only on the Gemini 3 rows).  Gemini has no
  parallel-calls switch, so ``parallel_tool_calls`` is not a feature anywhere: genkit
  refuses it (drop mode drops it with a warning) rather than pretend to honour it.
- ``reasoning``: Gemini 3 takes ``thinking_level`` (levels per family); Gemini 2.5 takes
  ``thinking_budget`` (a token range per family; ``"none"`` is budget 0 where the family
  can switch thinking off, and the other levels are budgets, see ``_request.py``).
  Gemini 2.0 and older do not think.
- Inline limits: 100 MB per request since January 2026, PDFs 50 MB (Google's docs;
  next-wave.md C.2); a larger file goes by URL (``Image(url=...)``).
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase

from genkit.backends.gemini._request import PARAMETER_NAMES
from genkit.capabilities import CapabilityTable, ModelCapabilities

__all__ = ["CAPABILITIES", "media_in_tool_results"]

_INT32 = 2**31
_BASE_FEATURES = frozenset({"tools", "image_input", "pdf_input", "structured_output"})
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
    features=_BASE_FEATURES,
    max_image_bytes=100_000_000,
    max_document_bytes=50_000_000,
)
_THINKING = frozenset({*PARAMETER_NAMES, "reasoning"})


def _levels(*levels: str) -> ModelCapabilities:
    """A Gemini 3 family: ``thinking_level`` values, JSON output with tools allowed."""
    return replace(
        _GEMINI,
        supported=_THINKING,
        features=_BASE_FEATURES | {"structured_output_with_tools"},
        reasoning_levels=frozenset(levels),
    )


def _budget(low: int, high: int, *, can_stop: bool) -> ModelCapabilities:
    """A Gemini 2.5 family: a ``thinking_budget`` range; ``"none"`` where 0 is allowed."""
    levels = {"low", "medium", "high"} | ({"none"} if can_stop else set())
    return replace(
        _GEMINI,
        supported=_THINKING,
        ranges={**_GEMINI.ranges, "reasoning": (float(low), float(high))},
        reasoning_levels=frozenset(levels),
    )


CAPABILITIES = CapabilityTable(
    [
        ("gemini-3-pro*", _levels("low", "high")),
        ("gemini-3.1-pro*", _levels("low", "medium", "high")),
        ("gemini-3*", _levels("minimal", "low", "medium", "high")),
        ("gemini-2.5-pro*", _budget(128, 32768, can_stop=False)),
        ("gemini-2.5-flash-lite*", _budget(512, 24576, can_stop=True)),
        ("gemini-2.5-flash*", _budget(0, 24576, can_stop=True)),
    ],
    default=_GEMINI,
)

#: Models whose function responses may carry images (``FunctionResponse.parts``):
#: multimodal function responses are a Gemini 3 feature.
_MEDIA_IN_TOOL_RESULTS: tuple[str, ...] = ("gemini-3*",)


def media_in_tool_results(model: str) -> bool:
    """Whether ``model`` takes images inside a tool result."""
    short = model.lower().rsplit("/", 1)[-1]
    return any(fnmatchcase(short, pattern) for pattern in _MEDIA_IN_TOOL_RESULTS)
