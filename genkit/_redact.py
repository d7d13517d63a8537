"""Keep API keys out of every string genkit produces.

Providers sometimes echo a key (or most of it) in an error body, and SDK
exceptions carry those bodies in their messages.  genkit scrubs every secret it
knows from the messages it builds and from every exception chained to them
(``__cause__`` and ``__context__``, all the way down): ``log.exception()`` and a
printed traceback show each of them.  A key also appears escaped - in the
``repr`` of a string or of the bytes of a header (``b'Bearer sk-...\\n'``), in
JSON, or escaped twice when such a ``repr`` is itself repr'd - so each of those
forms is scrubbed too.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterable
from typing import Any

__all__ = ["REDACTED", "scrub", "scrub_exception", "secret_forms"]

REDACTED = "[redacted]"
_MIN_SECRET = 6
#: Attributes of vendor exceptions that hold text a handler or traceback shows.
_TEXT_ATTRIBUTES = ("message", "msg", "doc", "body", "details", "object", "__notes__")


@functools.lru_cache(maxsize=64)
def secret_forms(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """Each secret as written and in every escaped form it can take in a message.

    Longest first, so a form containing another is replaced whole.
    """
    forms: set[str] = set()
    for secret in secrets:
        level = {secret, secret.strip()}
        for _ in range(2):  # escaped once, and the repr of an escaped form
            level |= {escaped for form in level for escaped in _escaped(form)}
        forms |= level
    return tuple(sorted((f for f in forms if len(f) >= _MIN_SECRET), key=len, reverse=True))


def _escaped(text: str) -> tuple[str, ...]:
    return (
        repr(text)[1:-1],
        repr(text.encode("utf-8", "backslashreplace"))[2:-1],
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
    )


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secret_forms(tuple(secrets)):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub_exception(error: BaseException, secrets: tuple[str, ...]) -> None:
    """Rewrite an exception and every exception chained to it in place.

    A traceback (and ``log.exception()``) prints each exception of the chain, so a key
    left in any of them - a vendor error, the httpx2 error under it, the h11 error
    under that - would be printed.
    """
    if not secrets:
        return
    forms = secret_forms(secrets)
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        _scrub_one(current, forms)
        pending += [current.__cause__, current.__context__]
        group = getattr(current, "exceptions", None)  # ExceptionGroup members
        if isinstance(group, tuple):
            pending += [e for e in group if isinstance(e, BaseException)]


def _scrub_one(error: BaseException, forms: tuple[str, ...]) -> None:
    with contextlib.suppress(AttributeError, TypeError):
        error.args = tuple(_scrub_value(a, forms) for a in error.args)
    # The parsed error body (openai/anthropic ``body``, google-genai ``details``) is what
    # a handler logs next, and it holds whatever the provider echoed; ``object`` is the
    # whole text a UnicodeError quotes from, ``doc`` the body a JSONDecodeError failed on.
    for name in _TEXT_ATTRIBUTES:
        value = getattr(error, name, None)
        if value is not None:
            with contextlib.suppress(AttributeError, TypeError):  # read-only on some types
                setattr(error, name, _scrub_value(value, forms))


def _scrub_value(value: Any, forms: tuple[str, ...]) -> Any:
    """``value`` with every secret removed from the strings in it (JSON-like data)."""
    if isinstance(value, str):
        for secret in forms:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, bytes):
        for secret in forms:
            encoded = secret.encode("utf-8", "backslashreplace")
            if encoded in value:
                value = value.replace(encoded, REDACTED.encode())
        return value
    if isinstance(value, dict):
        return {key: _scrub_value(item, forms) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_value(item, forms) for item in value]
    if isinstance(value, tuple):
        return tuple(_scrub_value(item, forms) for item in value)
    return value
