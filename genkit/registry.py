"""Where provider names are looked up: built-ins, runtime registrations, entry points.

Built-in backends are named by import path and imported only when first used, so
``import genkit`` stays free of vendor SDKs and torch.  Third-party packages add
providers without touching genkit by declaring an entry point::

    [project.entry-points."genkit.providers"]
    mistral = "genkit_mistral:MistralBackend"

or at runtime with :func:`register`.
"""

from __future__ import annotations

import importlib
from _thread import allocate_lock  # threading.Lock itself; `threading` costs ~1 ms to import
from typing import TYPE_CHECKING

from genkit.errors import UnknownProviderError

if TYPE_CHECKING:
    from genkit.backends.base import Backend

__all__ = ["ENTRY_POINT_GROUP", "providers", "register", "resolve"]

ENTRY_POINT_GROUP = "genkit.providers"

_BUILTIN: dict[str, str] = {
    "openai": "genkit.backends.openai:OpenAIBackend",
    "anthropic": "genkit.backends.anthropic:AnthropicBackend",
    "gemini": "genkit.backends.gemini:GeminiBackend",
    "huggingface": "genkit.backends.huggingface:HuggingFaceBackend",
    "test": "genkit.backends.testmodel:OfflineBackend",  # offline models for tests
}
_ALIASES: dict[str, str] = {"google": "gemini", "hf": "huggingface"}

_registered: dict[str, str | type[Backend]] = {}
_resolved: dict[str, type[Backend]] = {}
_plugins: dict[str, str] | None = None
_lock = allocate_lock()


def register(name: str, backend: str | type[Backend], *, aliases: tuple[str, ...] = ()) -> None:
    """Make ``name:<model>`` load ``backend`` (a class or ``"module:Class"``)."""
    with _lock:
        for key in (name, *aliases):
            _registered[key.lower()] = backend
            _resolved.pop(key.lower(), None)


def providers() -> list[str]:
    """Every provider name that :func:`resolve` accepts, aliases included."""
    return sorted({*_BUILTIN, *_ALIASES, *_registered, *_entry_point_targets()})


def resolve(name: str) -> type[Backend]:
    """The backend class for a provider name; imports its module on first use."""
    key = name.lower()
    cls = _resolved.get(key)
    if cls is not None:
        return cls
    key = _ALIASES.get(key, key)
    target = _registered.get(key) or _BUILTIN.get(key) or _entry_point_targets().get(key)
    if target is None:
        raise UnknownProviderError(name, providers())
    cls = _import(target) if isinstance(target, str) else target
    _resolved[name.lower()] = cls
    return cls


def _import(target: str) -> type[Backend]:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    cls: type[Backend] = getattr(module, attr)
    return cls


def _entry_point_targets() -> dict[str, str]:
    """Scanned once, and only when a name is not built in: the scan costs milliseconds."""
    global _plugins
    if _plugins is None:
        from importlib.metadata import entry_points

        found = {ep.name.lower(): ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
        _plugins = found
    return _plugins
