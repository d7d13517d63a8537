"""Structured output: what ``schema=`` becomes on its way to a backend.

``schema=`` takes a pydantic model class, a dataclass, a TypedDict or a JSON Schema
dict.  The Generator turns it into one :class:`OutputSchema` - a canonical JSON
Schema plus the validator genkit runs on the answer - before anything is sent; each
backend transforms the canonical schema into its provider's dialect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OutputSchema"]


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """The answer's shape: ``json_schema`` for the provider, ``validator`` for genkit.

    ``json_schema`` is canonical JSON Schema (2020-12, local ``$defs``/``$ref``) with an
    object or array root as pydantic writes it; ``name`` is a provider-safe identifier
    (``[a-zA-Z0-9_-]``, at most 64 characters) for the providers that want one.
    ``validator`` is a ``pydantic.TypeAdapter`` for the user's type (or ``None`` for a
    plain dict schema, checked with the schema itself); backends never use it.
    """

    json_schema: Mapping[str, Any]
    name: str = "output"
    description: str | None = None
    validator: Any = field(default=None, repr=False, compare=False)
