"""OpenAI's errors -> genkit's error classes (status, retry hint, request id)."""

from __future__ import annotations

from collections.abc import Mapping

import openai

from genkit.backends._hosted import other_error, stainless_error, stainless_status_error
from genkit.backends.openai._request import PROVIDER
from genkit.errors import ProviderError, error_for_status

__all__ = ["classify"]


#: Exceptions raised while reading an answer that is not in the expected shape.
_SHAPE_ERRORS = (AttributeError, KeyError, TypeError, ValueError)


def classify(error: Exception) -> ProviderError:
    if isinstance(error, openai.APIStatusError):
        message = _message(error.body, error.message)
        return stainless_status_error(error, error.status_code, message, PROVIDER)
    known = stainless_error(error, openai, PROVIDER)
    if known is not None:
        return known
    if isinstance(error, openai.APIError):
        # No status: the SDK's name for an error event inside a 200 stream.
        return _event_error(error.body)
    return other_error(error, PROVIDER, "Chat Completions", _SHAPE_ERRORS)


def _message(body: object, fallback: str) -> str:
    """The provider's own error text, without the SDK's "Error code: NNN - " prefix.

    A body that is not JSON (a proxy's HTML or plain-text page) arrives as a string;
    it says more than the SDK's bare "Error code: 502".
    """
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        # OpenAI-compatible servers built on FastAPI (transformers serve) answer {"detail": "..."}.
        detail = body.get("detail")
        if isinstance(detail, str) and detail.strip():
            return detail.strip()
    if isinstance(body, str) and body.strip():
        return body.strip()
    return fallback


#: ``error.type`` of an error event inside a stream -> the HTTP status OpenAI sends
#: the same error with.  OpenAI-compatible servers (vLLM and others) put the status
#: itself in ``error.code``, which wins.
_EVENT_TYPE_STATUS: Mapping[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "requests": 429,
    "tokens": 429,
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "service_unavailable": 503,
}
_EVENT_DEFAULT_STATUS = 500


def _event_error(body: object) -> ProviderError:
    """An error event inside a 200 stream: the provider failed mid-answer.

    The event has no HTTP status; its type gives the one the same failure gets
    before a stream starts, and with it the same class and retry decision.
    """
    message = _message({"error": body}, "the provider reported an error mid-stream")
    return error_for_status(_event_status(body), message, provider=PROVIDER)


def _event_status(body: object) -> int:
    """The status an in-stream error event stands for (500 when it says nothing)."""
    if not isinstance(body, Mapping):
        return _EVENT_DEFAULT_STATUS
    inner = body.get("error", body)
    if not isinstance(inner, Mapping):
        return _EVENT_DEFAULT_STATUS
    code = inner.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code
    for key in (code, inner.get("type")):
        if isinstance(key, str) and key in _EVENT_TYPE_STATUS:
            return _EVENT_TYPE_STATUS[key]
    return _EVENT_DEFAULT_STATUS
