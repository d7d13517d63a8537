"""Anthropic's errors -> genkit's error classes (status, retry hint, request id)."""

from __future__ import annotations

from collections.abc import Mapping

import anthropic

from genkit.backends._hosted import other_error, stainless_error, stainless_status_error
from genkit.backends.anthropic._request import PROVIDER
from genkit.errors import ProviderError, ServerError

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


#: Exceptions raised while reading an answer that is not in the expected shape.
_SHAPE_ERRORS = (AttributeError, KeyError, TypeError, ValueError, IndexError)


def classify(error: Exception) -> ProviderError:
    if isinstance(error, anthropic.APIStatusError):
        return stainless_status_error(error, _status(error), _message(error), PROVIDER)
    known = stainless_error(error, anthropic, PROVIDER)
    if known is not None:
        return known
    if isinstance(error, anthropic.APIError):
        return ServerError(error.message, provider=PROVIDER)
    return other_error(error, PROVIDER, "Messages", _SHAPE_ERRORS)


def _status(error: anthropic.APIStatusError) -> int:
    """The HTTP status, or for an ``event: error`` inside a 200 stream its type's status."""
    if error.status_code >= 400:
        return error.status_code
    return ERROR_TYPE_STATUS.get(error.type or "", _UNKNOWN_ERROR_STATUS)


def _message(error: anthropic.APIStatusError) -> str:
    """The provider's own error text, without the SDK's "Error code: NNN - {...}" wrapping."""
    return error.api_message if isinstance(error.api_message, str) else error.message
