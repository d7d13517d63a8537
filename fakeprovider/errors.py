"""Each provider's real error body and headers for a given HTTP status.

Vendor SDKs pick exception classes from the status but read ``type``/``code``/
``status`` and the request id from the body and headers, so the shapes here
follow what the real APIs send (see shared/reference/wire-formats.md §1.5,
§2.5, §3.6).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from .recorded import Protocol

_ids = itertools.count(1)


def new_request_id(prefix: str = "req_fake") -> str:
    """Unique, recognisably fake request id."""
    return f"{prefix}{next(_ids):012d}"


@dataclass(frozen=True)
class ErrorSpec:
    """A protocol-neutral error; ``error_type`` None means "default for status".

    ``param``/``code`` only show up in OpenAI bodies, ``details`` only in
    Gemini bodies.
    """

    status: int
    message: str | None = None
    error_type: str | None = None
    param: str | None = None
    code: str | None = None
    details: tuple[dict[str, Any], ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=())


_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    422: "invalid_request_error",
    429: "requests",
}
_OPENAI_CODES = {429: "rate_limit_exceeded"}
_OPENAI_MESSAGES = {
    400: "Invalid request.",
    401: "Incorrect API key provided.",
    403: "You are not allowed to sample from this model.",
    404: "The model does not exist or you do not have access to it.",
    408: "Request timed out.",
    409: "The request conflicted with another request.",
    422: "Unprocessable entity.",
    429: "Rate limit reached for requests. Please try again in 20ms.",
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The engine is currently overloaded, please try again later.",
    504: "Gateway timeout.",
}

_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_ANTHROPIC_MESSAGES = {
    400: "Invalid request.",
    401: "invalid x-api-key",
    402: "Your credit balance is too low to access the Anthropic API.",
    403: "Your API key does not have permission to use the specified resource.",
    404: "The requested resource could not be found.",
    408: "Request timed out.",
    409: "Conflict.",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "Number of request tokens has exceeded your per-minute rate limit.",
    500: "Internal server error",
    503: "Service unavailable",
    504: "Request timed out",
    529: "Overloaded",
}

_GEMINI_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_GEMINI_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}


def openai_error_object(spec: ErrorSpec) -> dict[str, Any]:
    """The inner ``{"message","type","param","code"}`` object (also used mid-stream)."""
    status = spec.status
    default_type = _OPENAI_TYPES.get(
        status, "server_error" if status >= 500 else "invalid_request_error"
    )
    return {
        "message": spec.message or _OPENAI_MESSAGES.get(status, f"HTTP {status}"),
        "type": spec.error_type or default_type,
        "param": spec.param,
        "code": spec.code if spec.code is not None else _OPENAI_CODES.get(status),
    }


def anthropic_error_object(spec: ErrorSpec) -> dict[str, Any]:
    """The inner ``{"type","message"}`` object (also used by ``event: error``)."""
    status = spec.status
    default_type = _ANTHROPIC_TYPES.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )
    return {
        "type": spec.error_type or default_type,
        "message": spec.message or _ANTHROPIC_MESSAGES.get(status, f"HTTP {status}"),
    }


def gemini_error_object(spec: ErrorSpec) -> dict[str, Any]:
    """The inner ``{"code","message","status"[,"details"]}`` object."""
    status = spec.status
    default_status = _GEMINI_STATUSES.get(status, "INTERNAL" if status >= 500 else "UNKNOWN")
    obj: dict[str, Any] = {
        "code": status,
        "message": spec.message or _GEMINI_MESSAGES.get(status, f"HTTP {status}"),
        "status": spec.error_type or default_status,
    }
    if spec.details:
        obj["details"] = list(spec.details)
    return obj


def render_error(protocol: Protocol, spec: ErrorSpec, request_id: str) -> tuple[bytes, str]:
    """Body bytes and content type of a pre-stream error response."""
    if protocol == "openai":
        body = json.dumps({"error": openai_error_object(spec)}, indent=4) + "\n"
        return body.encode(), "application/json"
    if protocol == "anthropic":
        doc = {"type": "error", "error": anthropic_error_object(spec), "request_id": request_id}
        return json.dumps(doc, separators=(",", ":")).encode(), "application/json"
    # Google pretty-prints with 2-space indent and a trailing newline.
    body = json.dumps({"error": gemini_error_object(spec)}, indent=2) + "\n"
    return body.encode(), "application/json; charset=UTF-8"


def request_id_headers(protocol: Protocol, request_id: str) -> list[tuple[str, str]]:
    """The header each SDK copies into ``exc.request_id`` / ``_request_id``."""
    if protocol == "openai":
        return [("x-request-id", request_id)]
    if protocol == "anthropic":
        return [("request-id", request_id)]
    return []


def retry_after_value(value: float | str) -> str:
    """``Retry-After`` verbatim: strings as given, integral numbers without '.0'."""
    if isinstance(value, str):
        return value
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def gemini_retry_info(seconds: float) -> dict[str, Any]:
    """``google.rpc.RetryInfo`` detail Gemini attaches to 429s."""
    text = f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds}s"
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": text}


def gemini_api_key_invalid() -> ErrorSpec:
    """Gemini answers a bad key with 400 INVALID_ARGUMENT + reason API_KEY_INVALID."""
    message = "API key not valid. Please pass a valid API key."
    return ErrorSpec(
        status=400,
        message=message,
        error_type="INVALID_ARGUMENT",
        details=(
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": message,
            },
        ),
    )
