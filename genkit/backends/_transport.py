"""Failures below the vendor SDKs, shared by the hosted backends.

All three SDKs run on httpx2.  While a response body streams, the SDKs let
httpx2's own exceptions (and JSON decoding errors) escape unwrapped; this module
turns them into genkit's errors so that no raw transport exception reaches users.
"""

from __future__ import annotations

import builtins
import json
import socket
import ssl
from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx2

from genkit.errors import ConnectionError, InvalidResponseError, ProviderError, TimeoutError

__all__ = [
    "POOL_LIMITS",
    "attempt_timeout_error",
    "connection_error",
    "not_found_hint",
    "timeout_error",
    "translate_transport",
    "within",
]

T = TypeVar("T")

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
        return timeout_error(error, provider)
    if isinstance(error, httpx2.TransportError | httpx2.StreamError):
        return connection_error(error, provider)
    if isinstance(error, json.JSONDecodeError):
        return InvalidResponseError(f"malformed JSON from the provider: {error}", provider=provider)
    if isinstance(error, httpx2.DecodingError):
        return InvalidResponseError(f"undecodable response body: {error}", provider=provider)
    return None


# ------------------------------------------------------------ messages that say what to fix


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and every exception it was raised from, outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _request(chain: list[BaseException]) -> Any:
    """The httpx2 request the failure belongs to, if any exception in the chain knows it."""
    for each in chain:
        if isinstance(each, httpx2.RequestError):
            try:
                return each.request
            except RuntimeError:  # an httpx2 error raised without its request
                continue
    return None


def _where(request: Any) -> str:
    """``host:port`` of a request: never its path or query, which may carry a key."""
    if request is None:
        return "the provider"
    url = request.url
    port = url.port or {"https": 443, "http": 80}.get(url.scheme, 0)
    return f"{url.host}:{port}"


def _limit(request: Any, phase: str) -> float | None:
    timeouts = request.extensions.get("timeout") if request is not None else None
    value = timeouts.get(phase) if isinstance(timeouts, dict) else None
    return float(value) if isinstance(value, int | float) else None


def timeout_error(error: BaseException, provider: str) -> TimeoutError:
    """A timeout that says which limit ran out and how long it was.

    httpx2 applies ``timeout`` to connecting and to each wait for data, so the message
    names the phase; the values come from the request itself, so they are the ones
    really applied (the SDK's default when genkit was given none).
    """
    chain = _chain(error)
    request = _request(chain)
    where = _where(request)
    if any(isinstance(e, httpx2.ConnectTimeout) for e in chain):
        limit = _limit(request, "connect")
        within = f" within {limit} s" if limit is not None else ""
        return TimeoutError(
            f"could not connect to {where}{within} (connect timeout)", provider=provider
        )
    if any(isinstance(e, httpx2.PoolTimeout) for e in chain):
        limit = _limit(request, "pool")
        within = f" within {limit} s" if limit is not None else ""
        return TimeoutError(
            f"no free connection to {where}{within} (pool timeout)", provider=provider
        )
    limit = _limit(request, "read")
    if limit is None:
        return TimeoutError(f"no response from {where} in time", provider=provider)
    return TimeoutError(
        f"no response from {where} within {limit} s (timeout={limit})", provider=provider
    )


def attempt_timeout_error(seconds: float, provider: str) -> TimeoutError:
    """An async attempt that did not complete within ``timeout`` as a whole."""
    return TimeoutError(f"no response within {seconds} s (timeout={seconds})", provider=provider)


async def within(call: Awaitable[T], seconds: float | None, provider: str) -> T:
    """Await a non-streamed attempt, bounded as a whole by ``timeout`` (when one is set).

    httpx2's timeouts bound each wait for data, not the answer as a whole; this makes
    ``timeout`` mean the complete attempt, from connecting to the last byte.
    """
    if seconds is None:
        return await call
    import asyncio

    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await call
    except builtins.TimeoutError:
        if not deadline.expired():
            raise  # httpx2's own per-read timeout, already a genkit error
        raise attempt_timeout_error(seconds, provider) from None


def connection_error(error: BaseException, provider: str) -> ConnectionError:
    """A failed connection that names the host and the cause, and says what to check."""
    chain = _chain(error)
    request = _request(chain)
    where = _where(request)
    scheme = request.url.scheme if request is not None else ""
    for each in chain:
        if isinstance(each, ConnectionRefusedError):
            return ConnectionError(
                f"cannot connect to {where}: connection refused "
                "(is the server running, and are the host and port in base_url right?)",
                provider=provider,
            )
        if isinstance(each, socket.gaierror):
            return ConnectionError(
                f"cannot connect to {where}: DNS lookup failed, the host name does not "
                "resolve (is the host in base_url spelt right?)",
                provider=provider,
            )
        if isinstance(each, ssl.SSLError):
            hint = (
                "; if the server speaks plain HTTP, use http:// in base_url"
                if scheme == "https"
                else ""
            )
            reason = each.reason or type(each).__name__
            return ConnectionError(
                f"TLS handshake with {where} failed ({reason}){hint}", provider=provider
            )
    if any(isinstance(e, httpx2.RemoteProtocolError) for e in chain):
        return ConnectionError(
            f"{where} closed the connection before the response was complete (RemoteProtocolError)",
            provider=provider,
        )
    root = chain[-1]
    # The type only: a transport error's text can quote a header value (a key).
    return ConnectionError(
        f"connection to {where} failed ({type(root).__name__})", provider=provider
    )


def not_found_hint(request: Any, provider: str) -> str:
    """What a 404 was for: the method and URL path (never the query), and for an
    OpenAI-compatible server whose path lacks ``/v1``, the likely fix."""
    if request is None:
        return ""
    url = request.url
    path = url.path
    text = f" ({request.method} {path})"
    if provider == "openai" and "/v1" not in path.split("/chat/")[0]:
        base = path.rsplit("/chat/completions", 1)[0].rstrip("/")
        port = f":{url.port}" if url.port else ""
        text += (
            "; OpenAI-compatible servers usually serve under /v1: "
            f"try base_url='{url.scheme}://{url.host}{port}{base}/v1'"
        )
    return text
