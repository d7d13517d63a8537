"""Tools a model may call: :class:`Tool`, and what ``tools=`` accepts.

A tool is a plain Python function (its name, docstring and type hints say what the
model sees) or a :class:`Tool` built from a JSON Schema.  Backends see only
:class:`Tool` values: the Generator converts and checks ``tools=`` once, before
anything is sent, so every backend maps the same validated shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = ["Tool", "ToolChoice"]

#: ``"auto"`` (the model decides), ``"none"`` (no calls), ``"required"`` (at least one
#: call), or the name of the one tool the model must call.
ToolChoice: TypeAlias = str


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool as the model sees it: a name, a description and a JSON Schema for arguments.

    ``parameters`` is an object schema (``{"type": "object", "properties": {...}}``).
    ``function`` is the Python callable genkit runs in a tool loop (``max_steps > 1``);
    a ``Tool`` without one is declared to the model but never run by genkit.
    """

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    function: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
