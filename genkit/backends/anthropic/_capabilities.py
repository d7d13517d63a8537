"""Which shared parameters and features each Claude model family takes, as data.

Each family row carries its :class:`~genkit.capabilities.ModelCapabilities` and how
the shared ``reasoning`` parameter reaches the wire (:data:`Thinking`):

- ``"budget"``: manual extended thinking, ``thinking={"type": "enabled",
  "budget_tokens": N}`` (Claude 3.7 Sonnet and the Claude 4 / 4.1 / 4.5 models); a
  named level is sent as the budget in :data:`LEVEL_BUDGETS`.
- ``"adaptive"``: ``thinking={"type": "adaptive"}`` with ``output_config.effort`` set to
  the level (Claude 4.6 and later).  Claude 4.6 still takes a manual budget (an int);
  Opus 4.7 and later answer 400 to ``"enabled"``, so their rows have no budget range.
- ``None``: no thinking (Claude 3.x before 3.7).

``"none"`` is ``thinking={"type": "disabled"}`` on every family that thinks.  Limits:
Anthropic takes at most 5 MB of base64 per image (3.75 MiB of bytes) and 32 MB per
request, which bounds one PDF (24 MiB of bytes once base64 has grown it by 4/3).
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase
from functools import lru_cache

from genkit.backends.anthropic._request import (
    DEFAULT_MAX_TOKENS,
    LEVEL_BUDGETS,
    PARAMETER_NAMES,
    Thinking,
)
from genkit.capabilities import FEATURES, CapabilityTable, ModelCapabilities

__all__ = ["CAPABILITIES", "LEVEL_BUDGETS", "MAX_N", "Thinking", "thinking_style"]

#: The most candidates genkit fans out to: each one is a full, separately billed request.
MAX_N = 8

_LEVELS = frozenset({"none", "low", "medium", "high"})
#: Every feature genkit knows: the row of a model that has them all.
_ALL_FEATURES = FEATURES
_NO_STRUCTURED = _ALL_FEATURES - {"structured_output", "structured_output_with_tools"}

_CLAUDE_3 = ModelCapabilities(
    supported=frozenset({*PARAMETER_NAMES, "n"}),
    ranges={"temperature": (0.0, 1.0)},
    max_n=MAX_N,
    blank_stop=False,  # refused by check(); dropped in drop mode
    features=_NO_STRUCTURED,
    max_image_bytes=5 * 1024 * 1024 * 3 // 4,
    max_document_bytes=32 * 1024 * 1024 * 3 // 4,
)


def _thinking(caps: ModelCapabilities, budget_max: int | None) -> ModelCapabilities:
    """``caps`` with the reasoning parameter: levels, and a budget range where given."""
    ranges = dict(caps.ranges)
    if budget_max is not None:
        ranges["reasoning"] = (1024.0, float(budget_max))
    return replace(
        caps, supported=caps.supported | {"reasoning"}, reasoning_levels=_LEVELS, ranges=ranges
    )


# A budget plus the default answer room (DEFAULT_MAX_TOKENS, sent as max_tokens beside a
# budget when the caller set none) stays within the family's largest max_tokens.
_CLAUDE_4 = _thinking(_CLAUDE_3, 32_000 - DEFAULT_MAX_TOKENS)
_CLAUDE_37 = _thinking(_CLAUDE_3, 64_000 - DEFAULT_MAX_TOKENS)
_CLAUDE_45 = replace(_thinking(_CLAUDE_3, 64_000 - DEFAULT_MAX_TOKENS), features=_ALL_FEATURES)
_CLAUDE_46 = replace(_thinking(_CLAUDE_3, 64_000 - DEFAULT_MAX_TOKENS), features=_ALL_FEATURES)
# Opus 4.7 and later fix their own sampling (400 to any knob) and think adaptively only.
_FIXED_SAMPLING = replace(_thinking(_CLAUDE_3, None), features=_ALL_FEATURES).without(
    "temperature", "top_p", "top_k"
)

#: (pattern, capabilities, thinking style); the first glob that matches wins.
_FAMILIES: tuple[tuple[str, ModelCapabilities, Thinking], ...] = (
    ("claude-opus-4-[7-9]*", _FIXED_SAMPLING, "adaptive"),
    ("claude-opus-4-1[0-9]*", _FIXED_SAMPLING, "adaptive"),  # 4.10+, not claude-opus-4-1-2025
    ("claude-opus-[5-9]*", _FIXED_SAMPLING, "adaptive"),
    ("claude-sonnet-[5-9]*", _FIXED_SAMPLING, "adaptive"),  # not claude-sonnet-4-5
    ("claude-haiku-[5-9]*", _FIXED_SAMPLING, "adaptive"),
    ("*fable*", _FIXED_SAMPLING, "adaptive"),
    ("*mythos*", _FIXED_SAMPLING, "adaptive"),
    ("claude-opus-4-6*", _CLAUDE_46, "adaptive"),
    ("claude-sonnet-4-6*", _CLAUDE_46, "adaptive"),
    ("claude-opus-4-5*", _CLAUDE_45, "budget"),
    ("claude-sonnet-4-5*", _CLAUDE_45, "budget"),
    ("claude-haiku-4-5*", _CLAUDE_45, "budget"),
    ("claude-opus-4-1*", _CLAUDE_4, "budget"),
    ("claude-opus-4-0*", _CLAUDE_4, "budget"),
    ("claude-opus-4-2*", _CLAUDE_4, "budget"),  # claude-opus-4-20250514
    ("claude-sonnet-4-0*", _CLAUDE_37, "budget"),
    ("claude-sonnet-4-2*", _CLAUDE_37, "budget"),  # claude-sonnet-4-20250514
    ("claude-3-7-sonnet*", _CLAUDE_37, "budget"),
    ("claude-3*", _CLAUDE_3, None),
)
#: A model genkit does not know yet: taken to be like the newest family that still
#: takes sampling knobs (Claude 4.6).
_DEFAULT: tuple[ModelCapabilities, Thinking] = (_CLAUDE_46, "adaptive")

CAPABILITIES = CapabilityTable(
    [(pattern, caps) for pattern, caps, _ in _FAMILIES], default=_DEFAULT[0]
)


@lru_cache(maxsize=256)
def thinking_style(model: str) -> Thinking:
    """How ``reasoning`` reaches the wire for ``model`` (same rows, same matching)."""
    name = model.lower()
    short = name.rsplit("/", 1)[-1]
    for pattern, _, style in _FAMILIES:
        if fnmatchcase(name, pattern) or fnmatchcase(short, pattern):
            return style
    return _DEFAULT[1]
