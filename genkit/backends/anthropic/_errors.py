"""Anthropic's errors -> genkit's error classes (status, retry hint, request id)."""

from __future__ import annotations

from collections.abc import Mapping

import anthropic

from genkit.backends._transport import (
    connection_error,
    not_found_hint,
    timeout_error,
    translate_transport,
)
from genkit.backends.anthropic._request import PROVIDER
from genkit.errors import InvalidResponseError, ProviderError, ServerError, error_for_status
from genkit.retry import parse_retry_after

__all__ = ["ERROR_TYPE_STATUS", "classify"]

#: ``error.type`` -> the HTTP status Anthropic sends it with.  An ``event: error``
#: inside a 200 stream carries only the type, so this gives it the same genkit class
#: (and retry decision) the same failure gets before the stream starts.
ERROR_TYPE_STATUS: Mapping[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "conflict_error": 409,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_UNKNOWN_ERROR_STATUS = 500


def classify(error: Exception) -> ProviderError:
    if isinstance(error, anthropic.APIStatusError):
        status = _status(error)
        message = _message(error)
        if status == 404 and error.status_code == 404:
            message += not_found_hint(error.response.request, PROVIDER)
        return error_for_status(
            status,
            message,
            provider=PROVIDER,
            retry_after=parse_retry_after(error.response.headers),
            request_id=error.request_id,
        )
    if isinstance(error, anthropic.APITimeoutError):
        return timeout_error(error, PROVIDER)
    if isinstance(error, anthropic.APIConnectionError):
        return connection_error(error, PROVIDER)
    if isinstance(error, anthropic.APIResponseValidationError):
        return InvalidResponseError(f"unexpected response: {error.message}", provider=PROVIDER)
    if isinstance(error, anthropic.APIError):
        return ServerError(error.message, provider=PROVIDER)
    transport = translate_transport(error, PROVIDER)
    if transport is not None:
        return transport
    if isinstance(error, AttributeError | KeyError | TypeError | ValueError | IndexError):
        return InvalidResponseError(
            f"response not in the Messages format ({type(error).__name__}: {error})",
            provider=PROVIDER,
        )
    return ProviderError(f"{type(error).__name__}: {error}", provider=PROVIDER)


def _status(error: anthropic.APIStatusError) -> int:
    """The HTTP status, or for an ``event: error`` inside a 200 stream its type's status."""
    if error.status_code >= 400:
        return error.status_code
    return ERROR_TYPE_STATUS.get(error.type or "", _UNKNOWN_ERROR_STATUS)


def _message(error: anthropic.APIStatusError) -> str:
    """The provider's own error text, without the SDK's "Error code: NNN - {...}" wrapping."""
    return error.api_message if isinstance(error.api_message, str) else error.message
