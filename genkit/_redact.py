"""Keep API keys out of every string genkit produces.

Providers sometimes echo a key (or most of it) in an error body, and SDK
exceptions carry those bodies in their messages.  genkit scrubs every secret it
knows from the messages it builds and from the vendor exception it chains.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

__all__ = ["REDACTED", "scrub", "scrub_exception"]

REDACTED = "[redacted]"
_MIN_SECRET = 6


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if len(secret) >= _MIN_SECRET and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub_exception(error: BaseException, secrets: tuple[str, ...]) -> None:
    """Rewrite a vendor exception's message in place so a traceback cannot leak a key."""
    if not secrets:
        return
    error.args = tuple(scrub(a, secrets) if isinstance(a, str) else a for a in error.args)
    message = getattr(error, "message", None)
    if isinstance(message, str):
        with contextlib.suppress(AttributeError):  # read-only on some exception types
            error.message = scrub(message, secrets)  # type: ignore[attr-defined]
    # The parsed error body (openai/anthropic ``body``, google-genai ``details``) is what
    # a handler logs next, and it holds whatever the provider echoed.
    for name in ("body", "details"):
        value = getattr(error, name, None)
        if value is not None:
            with contextlib.suppress(AttributeError):
                setattr(error, name, _scrub_value(value, secrets))


def _scrub_value(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` with every secret removed from the strings in it (JSON-like data)."""
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {key: _scrub_value(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_value(item, secrets) for item in value]
    return value
