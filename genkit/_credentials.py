"""API keys and base URLs, read and checked by genkit before any SDK sees them.

Keys arrive with stray whitespace all the time: a file read with its trailing
newline, a container secret, a ``.env`` line, a paste with a space.  Sent as is,
the key is an illegal HTTP header value, the HTTP library refuses it deep inside
the SDK, and its error (which quotes the header, key included) was retried as a
connection failure and printed in tracebacks.  So genkit looks the key up itself
(in the variables the vendor SDK would read, in the SDK's own order), strips the
surrounding whitespace the user obviously did not mean, and refuses what is still
not a valid header value with a :class:`ConfigurationError` that names where the
key came from and never shows it.  The stripped key is then handed to the SDK
explicitly: the same key the user set, so genkit still overrides nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from genkit.errors import ConfigurationError, MissingAPIKeyError

__all__ = [
    "GIVEN",
    "check_base_url",
    "check_base_url_env",
    "check_load_arguments",
    "find_api_key",
    "raw_secrets",
]

#: The source name of a key passed to ``genkit.load(api_key=...)``.
GIVEN = "api_key="


def check_load_arguments(api_key: object, base_url: object) -> None:
    """Type checks of ``load(api_key=, base_url=)`` that hold for every backend."""
    if api_key is not None and not isinstance(api_key, str):
        raise ConfigurationError(
            f"api_key must be a string, got {type(api_key).__name__}; "
            "pass the key as text or leave api_key out to use the environment"
        )
    if base_url is not None:
        check_base_url(base_url, "base_url=")


def find_api_key(
    provider: str,
    given: str | None,
    variables: Sequence[str],
    *,
    advertised: Sequence[str] | None = None,
) -> tuple[str, str]:
    """The key to send and where it came from (``"api_key="`` or a variable's name).

    ``given`` wins, then ``variables`` in the order the vendor SDK reads them.  A value
    that is empty once stripped counts as missing, so the next source is tried; with
    none left, :class:`MissingAPIKeyError` names ``advertised`` (default: ``variables``).
    """
    check_load_arguments(given, None)  # a backend built without load() gets the check too
    candidates = [(GIVEN, given)] + [(name, os.environ.get(name)) for name in variables]
    for source, raw in candidates:
        if raw is None:
            continue
        key = raw.strip()
        if key:
            _check_header_value(provider, key, source)
            return key, source
    raise MissingAPIKeyError(provider, tuple(variables if advertised is None else advertised))


def raw_secrets(given: str | None, variables: Sequence[str]) -> tuple[str, ...]:
    """Every key value present, as set and stripped: what redaction must hide."""
    values = [given, *(os.environ.get(name) for name in variables)]
    found: list[str] = []
    for value in values:
        if isinstance(value, str):
            for form in (value, value.strip()):
                if form and form not in found:
                    found.append(form)
    return tuple(found)


def _check_header_value(provider: str, key: str, source: str) -> None:
    """Refuse a key no HTTP library can send, naming the source and never the key.

    httpx2 encodes header values as ASCII, and h11 refuses control characters: a key
    must be printable ASCII.  The message says what kind of character is wrong and
    where, which is enough to find it in a file without printing the key.
    """
    for position, char in enumerate(key, 1):
        if " " <= char <= "~":
            continue
        if char in "\r\n":
            kind = "a line break"
        elif char < " " or char == "\x7f":
            kind = f"a control character (U+{ord(char):04X})"
        else:
            kind = "a non-ASCII character"
        where = "the key passed as api_key=" if source == GIVEN else f"the key in ${source}"
        raise ConfigurationError(
            f"{where} for provider {provider!r} contains {kind} at position {position} of "
            f"{len(key)}, so it cannot be sent in an HTTP header; API keys are printable ASCII "
            "(surrounding whitespace is removed already). Check how the key was copied or "
            "read (the key itself is not shown)"
        )


def check_base_url(value: object, source: str) -> None:
    """A base URL must be text with an ``http://`` or ``https://`` scheme and a host.

    Without a scheme (``127.0.0.1:8000``) the HTTP library fails on every attempt with
    an error that reads like a network fault, and genkit would retry it.
    """
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{source} must be a URL string starting with http:// or https://, "
            f"like 'https://api.example.com/v1'; got {type(value).__name__}"
        )
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if valid and not any(c.isspace() or not c.isprintable() for c in value):
        return
    shown = value.rpartition("@")[2]  # never show credentials written into a URL
    hint = (
        "" if "://" in shown or not shown.strip() else f"; did you mean 'http://{shown.strip()}'?"
    )
    raise ConfigurationError(
        f"{source} {shown!r} is not a usable base URL: it must start with http:// or "
        f"https:// and name a host, with no spaces around or in it{hint}"
    )


def check_base_url_env(given: object, variable: str, *, empty_is_unset: bool = False) -> None:
    """Check ``base_url=`` if given, else the variable the vendor SDK reads it from.

    The SDK still reads the variable itself; genkit only refuses, before anything is
    sent, a value every request would fail on.  An empty variable is such a value for
    SDKs that take it as the URL (``empty_is_unset=False``).
    """
    if given is not None:
        check_base_url(given, "base_url=")
        return
    value = os.environ.get(variable)
    if value is None or (empty_is_unset and not value):
        return
    if not value.strip():
        raise ConfigurationError(
            f"${variable} is set but empty: unset it to use the provider's default URL, "
            "or set it to a URL starting with http:// or https://"
        )
    check_base_url(value, f"${variable}")
