"""Per-model capability tables.

Providers disagree inside one catalogue (OpenAI's reasoning models reject the
sampling knobs gpt-4o takes; Claude Opus 4.7+ rejects ``temperature``), so each
backend keeps one table of model-name patterns -> what that model accepts.  The
tables are data: updating genkit for a new model family is adding a row, never an
``if``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import lru_cache
from types import MappingProxyType

__all__ = ["FEATURES", "CapabilityTable", "ModelCapabilities"]

#: What a capability row's ``features`` may name.
FEATURES: frozenset[str] = frozenset(
    {
        "tools",  # function calling (tools=, tool_choice=)
        "parallel_tool_calls",  # parallel_tool_calls= can be set
        "image_input",  # genkit.Image parts in user turns (and tool results where allowed)
        "pdf_input",  # genkit.Document parts
        "structured_output",  # schema=
        "structured_output_with_tools",  # schema= and tools= in one call
    }
)

_EMPTY: Mapping[str, tuple[float, float]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ModelCapabilities:
    """What one model accepts.

    ``supported`` names the shared parameters the model honours; ``ranges`` narrows a
    parameter's allowed closed interval for this model (e.g. Anthropic temperature
    0..1); ``max_stop`` and ``max_n`` bound list sizes; ``blank_stop`` is False where
    the provider refuses a stop sequence made only of whitespace (Anthropic).

    ``features`` names what the model can do beyond text (see :data:`FEATURES`): a
    request that needs a feature the row lacks is refused before sending.
    ``reasoning_levels`` are the string values the shared ``reasoning`` parameter may
    take on this model; an int budget is allowed where ``ranges`` has ``"reasoning"``.
    ``max_image_bytes``/``max_document_bytes`` bound one inline image or document.
    """

    supported: frozenset[str]
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=lambda: _EMPTY)
    max_stop: int | None = None
    max_n: int | None = None
    blank_stop: bool = True
    features: frozenset[str] = frozenset()
    reasoning_levels: frozenset[str] = frozenset()
    max_image_bytes: int | None = None
    max_document_bytes: int | None = None

    def without(self, *names: str) -> ModelCapabilities:
        """The same capabilities minus some parameters: how table rows derive from a default."""
        return replace(self, supported=self.supported - frozenset(names))


class CapabilityTable:
    """Ordered ``(pattern, capabilities)`` rows; the first glob that matches the model wins.

    Patterns are case-insensitive shell globs (``"o3*"``, ``"claude-opus-4-7*"``); a model
    matching no row gets ``default``, the provider's behaviour for models genkit does
    not know yet.
    """

    def __init__(
        self, rows: Iterable[tuple[str, ModelCapabilities]], default: ModelCapabilities
    ) -> None:
        self.rows = tuple((pattern.lower(), caps) for pattern, caps in rows)
        self.default = default
        self.lookup = lru_cache(maxsize=256)(self._lookup)

    def _lookup(self, model: str) -> ModelCapabilities:
        name = model.lower()
        # Provider-qualified ids ("models/gemini-2.5-pro", "org/gpt2") match on the last part.
        short = name.rsplit("/", 1)[-1]
        for pattern, caps in self.rows:
            if fnmatchcase(name, pattern) or fnmatchcase(short, pattern):
                return caps
        return self.default
