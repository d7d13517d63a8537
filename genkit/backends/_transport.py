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

#: Connection pool of every hosted backend's HTTP client: the OpenAI and Anthropic SDKs'
#: own limits, given to Gemini too (bare httpx2 keeps only 20 idle connections, so its
#: bursts reconnected).  More idle connections cost more: the pool checks every idle
#: socket on each request, which at 1,000 kept made 1,000-way bursts 2.4x slower.
POOL_LIMITS = httpx2.Limits(
    max_connections=1000, max_keepalive_connections=100, keepalive_expiry=5.0
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
