"""Failures below the vendor SDKs, shared by the hosted backends.

All three SDKs run on httpx2.  While a response body streams, the SDKs let
httpx2's own exceptions (and JSON decoding errors) escape unwrapped; this module
turns them into genkit's errors so that no raw transport exception reaches users.
"""

from __future__ import annotations

import json

import httpx2

from genkit.errors import ConnectionError, InvalidResponseError, ProviderError, TimeoutError

__all__ = ["POOL_LIMITS", "translate_transport"]

#: Connection pool of every hosted backend's HTTP client.  The SDKs keep only 100 idle
#: connections (httpx2 alone: 20), so after a burst of N concurrent calls the next burst
#: reconnects N - 100 times; keeping as many as may be open makes bursts reuse them.
#: Idle ones still close after ``keepalive_expiry`` seconds.
POOL_LIMITS = httpx2.Limits(
    max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=5.0
)


def translate_transport(error: BaseException, provider: str) -> ProviderError | None:
    """The genkit error for a transport or decoding failure, or ``None`` if it is not one."""
    if isinstance(error, httpx2.TimeoutException):
        return TimeoutError(f"request timed out ({type(error).__name__})", provider=provider)
    if isinstance(error, httpx2.TransportError | httpx2.StreamError):
        return ConnectionError(
            f"connection failed ({type(error).__name__}: {error})", provider=provider
        )
    if isinstance(error, json.JSONDecodeError):
        return InvalidResponseError(f"malformed JSON from the provider: {error}", provider=provider)
    if isinstance(error, httpx2.DecodingError):
        return InvalidResponseError(f"undecodable response body: {error}", provider=provider)
    return None
