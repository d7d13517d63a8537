"""Image providers: provider name -> ``"module:Class"``, imported on first use.

Kept apart from :mod:`genkit.registry` (text backends): the same provider name maps to
a different backend class here, and ``import genkit`` imports neither table's modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from genkit.errors import UnknownProviderError

if TYPE_CHECKING:
    from genkit.images._spec import ImageBackend

__all__ = ["providers", "resolve"]

_BUILTIN: dict[str, str] = {
    "openai": "genkit.images.openai:OpenAIImageBackend",
    "gemini": "genkit.images.gemini:GeminiImageBackend",
    "huggingface": "genkit.images.huggingface:DiffusersBackend",
}
_ALIASES: dict[str, str] = {"google": "gemini", "hf": "huggingface"}


def providers() -> list[str]:
    """Every image provider name :func:`resolve` accepts, aliases included."""
    return sorted({*_BUILTIN, *_ALIASES})


def resolve(name: str) -> type[ImageBackend]:
    """The image backend class for a provider name; imports its module now."""
    key = name.lower()
    key = _ALIASES.get(key, key)
    target = _BUILTIN.get(key)
    if target is None:
        raise UnknownProviderError(name, providers())
    module_name, _, attr = target.partition(":")
    cls: type[ImageBackend] = getattr(importlib.import_module(module_name), attr)
    return cls
