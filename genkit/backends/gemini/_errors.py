"""Gemini's errors -> genkit's error classes (status, ``google.rpc`` details, retry hint)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2
import pydantic
from google.genai import errors as genai_errors

from genkit.backends._hosted import other_error
from genkit.backends._transport import not_found_hint
from genkit.backends.gemini._request import PROVIDER
from genkit.errors import AuthenticationError, InvalidResponseError, ProviderError, error_for_status
from genkit.retry import parse_retry_after

__all__ = ["classify"]

#: ``google.rpc.ErrorInfo`` reasons whose genkit class is not the status's own.
_REASON_CLASSES: Mapping[str, type[ProviderError]] = {"API_KEY_INVALID": AuthenticationError}


#: Exceptions raised while reading an answer that is not in the expected shape.
_SHAPE_ERRORS = (pydantic.ValidationError, AttributeError, KeyError, TypeError, ValueError)


def classify(error: Exception) -> ProviderError:
    if isinstance(error, genai_errors.APIError):
        return _api_error(error)
    if isinstance(error, genai_errors.UnknownApiResponseError):
        return InvalidResponseError(f"malformed response: {error}", provider=PROVIDER)
    return other_error(error, PROVIDER, "generateContent", _SHAPE_ERRORS)


def _api_error(error: genai_errors.APIError) -> ProviderError:
    """An HTTP error status, or an ``{"error": {...}}`` chunk inside a 200 stream."""
    details = _error_details(error.details)
    status = error.code
    message = error.message or str(error)
    if status == 404:
        message += not_found_hint(_request_of(error.response), PROVIDER)
    retry_after = _retry_after(getattr(error.response, "headers", None), details)
    translated = error_for_status(status, message, provider=PROVIDER, retry_after=retry_after)
    cls = _REASON_CLASSES.get(_reason(details) or "")
    if cls is None:
        return translated
    return cls(
        message,
        provider=PROVIDER,
        status_code=status,
        retryable=translated.retryable,
        retry_after=retry_after,
    )


def _request_of(response: object) -> Any:
    """The httpx2 request behind an SDK error's response, when there is one."""
    try:
        return response.request if isinstance(response, httpx2.Response) else None
    except RuntimeError:  # a response built without its request
        return None


def _error_details(body: object) -> list[Mapping[str, Any]]:
    """The ``google.rpc`` detail objects of an error body."""
    inner = body.get("error", body) if isinstance(body, Mapping) else None
    details = inner.get("details") if isinstance(inner, Mapping) else None
    if not isinstance(details, list):
        return []
    return [d for d in details if isinstance(d, Mapping)]


def _detail(details: list[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    for detail in details:
        if str(detail.get("@type", "")).endswith(f"google.rpc.{kind}"):
            return detail
    return None


def _reason(details: list[Mapping[str, Any]]) -> str | None:
    info = _detail(details, "ErrorInfo")
    reason = info.get("reason") if info is not None else None
    return reason if isinstance(reason, str) else None


def _retry_after(headers: object, details: list[Mapping[str, Any]]) -> float | None:
    """``Retry-After`` if the response has one, else the body's ``RetryInfo.retryDelay``."""
    if isinstance(headers, Mapping):
        from_header = parse_retry_after(headers)
        if from_header is not None:
            return from_header
    info = _detail(details, "RetryInfo")
    delay = info.get("retryDelay") if info is not None else None
    if not isinstance(delay, str) or not delay.endswith("s"):
        return None
    try:
        return max(0.0, float(delay[:-1]))
    except ValueError:
        return None
