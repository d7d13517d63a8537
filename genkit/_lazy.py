"""Names a module serves from another one, imported on their first use (PEP 562).

Each ``@dataclass`` compiles its generated methods when its class is made, so classes
that a plain call never needs - the content parts and the stream events - are not made
by ``import genkit``.  ``genkit``, ``genkit.types`` and ``genkit.messages`` still offer
them: their module ``__getattr__`` imports the defining module on first use and keeps
the value, so later look-ups are plain module attributes (no call, no import).  Type
checkers see the names through ``TYPE_CHECKING`` imports beside each ``__getattr__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, MutableMapping

#: The content parts, defined in :mod:`genkit.parts`.
PARTS: tuple[str, ...] = (
    "Document",
    "Image",
    "Part",
    "ProviderPart",
    "Text",
    "ToolCall",
    "ToolResult",
)
#: The stream events and their union, defined in :mod:`genkit._events`.
EVENTS: tuple[str, ...] = (
    "Chunk",
    "Finish",
    "ProviderData",
    "ReasoningDelta",
    "RefusalDelta",
    "ResponseMetadata",
    "StreamEvent",
    "StreamWarning",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "UsageUpdate",
)


def load(namespace: MutableMapping[str, object], homes: Mapping[str, str], name: str) -> object:
    """``name`` from its module in ``homes``, kept in ``namespace`` (the asking module's
    globals); ``AttributeError`` for a name that has no home there."""
    home = homes.get(name)
    if home is None:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    namespace[name] = value
    return value
