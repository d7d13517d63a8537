"""genkit's own environment variables and the ``provider:model`` string.

Read once per ``genkit.load()``, never per call.  Keys and base URLs are not
here on purpose: each vendor SDK reads its own variables (``OPENAI_API_KEY``,
``ANTHROPIC_BASE_URL``, ...), and genkit never overrides what the user set.
"""

from __future__ import annotations

import os

from genkit.errors import ConfigurationError, InvalidParameterError

__all__ = ["DEFAULT_MODEL", "env_bool", "env_float", "env_int", "parse_model"]

DEFAULT_MODEL = "huggingface:gpt2"


def parse_model(spec: object) -> tuple[str, str]:
    """Split ``"provider:model"``; only the first colon counts (local paths may hold more)."""
    if not isinstance(spec, str):
        raise ConfigurationError(
            f"model must be a string like 'openai:gpt-4o', got {type(spec).__name__}"
        )
    provider, sep, model = spec.strip().partition(":")
    if not sep or not provider or not model:
        from genkit.registry import providers  # only on this error path
        from genkit.suggest import model_hint

        known = providers()
        hint = model_hint(spec, known) if not sep else ""
        raise ConfigurationError(
            f"malformed model {spec!r}: {hint + ' Write' if hint else 'write'} it as "
            f"'provider:model' with one of the providers {', '.join(known)}, "
            "e.g. 'openai:gpt-4o', 'anthropic:claude-sonnet-4-6', 'gemini:gemini-2.5-flash', "
            "'huggingface:gpt2'"
        )
    return provider.strip(), model.strip()


def env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameterError(name, f"not an integer: {raw!r}") from None
    return value


def env_float(name: str) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidParameterError(name, f"not a number: {raw!r}") from None
    return value


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def env_bool(name: str) -> bool | None:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case); unset or empty is None."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    word = raw.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise InvalidParameterError(
        name, f"not a boolean: {raw!r}", allowed="1, true, yes, on or 0, false, no, off"
    )
