"""Keep API keys out of every string genkit produces.

Providers sometimes echo a key (or most of it) in an error body, and SDK
exceptions carry those bodies in their messages.  genkit scrubs every secret it
knows from the messages it builds and from the vendor exception it chains.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

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
