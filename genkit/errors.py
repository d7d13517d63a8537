"""genkit's one exception hierarchy.

Application code catches these and never needs to import a vendor SDK: every
backend translates its SDK's exceptions into this tree and keeps the original
as ``__cause__``.  Each provider error says whether retrying can help
(``retryable``) so the retry policy and the caller read the same fact.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genkit.types import Generation

__all__ = [
    "AllModelsFailedError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConnectionError",
    "GeneratorClosedError",
    "GenkitError",
    "InvalidParameterError",
    "InvalidResponseError",
    "MissingAPIKeyError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "NotFoundError",
    "OutputValidationError",
    "PermissionDeniedError",
    "ProviderError",
    "RateLimitError",
    "RefusalError",
    "ServerError",
    "StreamNotFinishedError",
    "TimeoutError",
    "UnknownProviderError",
    "UnsupportedParameterError",
    "readable_message",
]


class GenkitError(Exception):
    """Base of every error genkit raises."""


# --------------------------------------------------------------------------- configuration


class ConfigurationError(GenkitError):
    """The model string, environment or installation cannot work; fix the setup, not the call."""


class UnknownProviderError(ConfigurationError):
    def __init__(self, provider: str, known: list[str]) -> None:
        self.provider = provider
        self.known = known
        from genkit.suggest import closest  # stdlib only; imported on this error path

        match = closest(provider, known)
        hint = f" Did you mean {match!r}?" if match is not None else ""
        super().__init__(
            f"unknown provider {provider!r}.{hint} Known providers: {', '.join(known)}. "
            "Write the model as 'provider:model', e.g. 'openai:gpt-4o'."
        )


class MissingAPIKeyError(ConfigurationError):
    def __init__(self, provider: str, env_vars: tuple[str, ...]) -> None:
        self.provider = provider
        self.env_vars = env_vars
        names = " or ".join(env_vars)
        super().__init__(
            f"no API key for provider {provider!r}: set {names} in the environment "
            f"or pass api_key= to genkit.load()"
        )


class ModelNotFoundError(ConfigurationError):
    """A local model is neither a checkpoint directory nor obtainable from the hub."""

    def __init__(self, model: str, reason: str) -> None:
        self.model = model
        self.reason = reason
        super().__init__(f"model {model!r} not found: {reason}")


class MissingDependencyError(ConfigurationError, ImportError):
    def __init__(self, provider: str, module: str, extra: str) -> None:
        self.provider = provider
        self.extra = extra
        super().__init__(
            f"provider {provider!r} needs the {module!r} package, which is not installed: "
            f"pip install 'genkit-sdk[{extra}]'"
        )


class StreamNotFinishedError(GenkitError, RuntimeError):
    """``AsyncStream.result`` read while the stream is still open.

    A property cannot await the rest of an async stream, and a result that silently
    lacks what has not arrived yet would pass for the whole answer.
    """

    def __init__(self) -> None:
        super().__init__(
            "the stream is still open: iterate it to the end (async for ...) or use "
            "`await stream.get_result()`, which reads the rest first, before reading .result"
        )


class GeneratorClosedError(GenkitError, RuntimeError):
    """The Generator was closed (``close()``/``aclose()``/``with``) and then called.

    Raised by the Generator itself, before the backend is touched, the same on every
    backend and every way of calling; never retried.
    """

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        super().__init__(
            f"this Generator ({provider}:{model}) is closed: it cannot be used after close() "
            "or aclose(); call genkit.load() for a new one"
        )


# --------------------------------------------------------------------------- bad input


class InvalidParameterError(GenkitError, ValueError):
    """A value genkit refuses before sending anything: wrong type, out of range, empty."""

    def __init__(
        self, parameter: str, message: str, *, provider: str | None = None, allowed: str = ""
    ) -> None:
        self.parameter = parameter
        self.provider = provider
        self.allowed = allowed
        where = f" for provider {provider!r}" if provider else ""
        tail = f"; allowed: {allowed}" if allowed else ""
        super().__init__(f"invalid {parameter!r}{where}: {message}{tail}")


class UnsupportedParameterError(InvalidParameterError):
    """The chosen model cannot honour a shared parameter (``drop_unsupported=True`` drops it).

    Also raised for a content part a backend cannot send (``message`` says which);
    ``drop_unsupported`` never drops a part: that would change what the model is asked.
    """

    def __init__(
        self,
        parameter: str,
        provider: str,
        model: str,
        supported: list[str],
        *,
        message: str | None = None,
    ) -> None:
        self.model = model
        self.supported = supported
        super().__init__(
            parameter,
            message
            or f"not supported by model {model!r} "
            "(pass drop_unsupported=True or set GENKIT_DROP_UNSUPPORTED=1 to drop it)",
            provider=provider,
            allowed=", ".join(supported) or "no optional parameters",
        )


# --------------------------------------------------------------------------- structured output


class OutputValidationError(GenkitError):
    """The answer to a ``schema=`` call is not a valid instance of the schema.

    ``text`` is the answer as received, ``errors`` the validation errors (pydantic's
    ``errors()`` dicts: ``loc``, ``msg``, ``type``).  ``truncated`` is True when the
    answer was cut at ``max_tokens`` (``finish_reason == "length"``): the cause is then
    the budget, not the model, and the message says so.  ``generation`` is the failed
    :class:`~genkit.Generation` (usage summed over every ``output_retries`` attempt).
    Not a provider error: genkit's retry policy never retries it (``output_retries``
    asks again, with the errors, when set).
    """

    def __init__(
        self,
        text: str,
        errors: list[dict[str, Any]],
        *,
        truncated: bool = False,
        generation: Generation | None = None,
    ) -> None:
        self.text = text
        self.errors = errors
        self.truncated = truncated
        self.generation = generation
        first = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())) or '$'}: {e.get('msg', '')}"
            for e in errors[:3]
        )
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        if truncated:
            head = (
                "the answer was cut at max_tokens (finish_reason 'length') before the JSON "
                "was complete: raise max_tokens"
            )
        else:
            head = "the answer does not match the schema"
        super().__init__(f"{head}: {first}{more}")


class RefusalError(GenkitError):
    """The model refused to answer a ``schema=`` call (safety or policy).

    ``refusal`` is the provider's refusal text (``None`` where it gave none),
    ``category`` the provider's reason for it (its raw finish reason: ``"refusal"``,
    ``"SAFETY"``, ...).  Without ``schema=`` a refusal is no error: the result has
    ``finish_reason == "content_filter"`` and the text in ``result.refusal``.
    """

    def __init__(
        self,
        refusal: str | None,
        category: str | None = None,
        *,
        generation: Generation | None = None,
    ) -> None:
        self.refusal = refusal
        self.category = category
        self.generation = generation
        why = f" ({category})" if category else ""
        said = f": {refusal}" if refusal else ""
        super().__init__(f"the model refused to answer{why}{said}")


# --------------------------------------------------------------------------- provider errors


class ProviderError(GenkitError):
    """The provider (or the network to it) failed a request.

    ``partial`` holds what a stream had already delivered when it broke, so nothing the
    caller received is lost; ``retry_after`` is the wait the server asked for, in seconds.
    """

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.request_id = request_id
        self.partial: Generation | None = None
        super().__init__(message)

    def redact(self, secrets: tuple[str, ...]) -> None:
        """Remove every known secret from the message (``str``, ``repr`` and tracebacks)
        and from every exception chained to this one, escaped forms included."""
        from genkit._redact import scrub, scrub_exception

        self.message = scrub(self.message, secrets)
        self.args = (self.message,)
        scrub_exception(self, secrets)

    def __str__(self) -> str:
        status = f" {self.status_code}" if self.status_code is not None else ""
        return f"{self.provider}{status}: {self.message}"


class AuthenticationError(ProviderError):
    """401: the key is missing, wrong or revoked."""


class PermissionDeniedError(ProviderError):
    """403: the key is valid but may not use this model or region."""


class NotFoundError(ProviderError):
    """404: usually a misspelt or retired model name."""


class BadRequestError(ProviderError):
    """400/413/422: the provider refused the request as written; retrying cannot help."""


class RateLimitError(ProviderError):
    """429: slow down; ``retry_after`` says for how long when the provider told us."""

    default_retryable = True


class ServerError(ProviderError):
    """5xx, Anthropic's 529 overloaded, or an error event in the middle of a stream."""

    default_retryable = True


class TimeoutError(ProviderError, builtins.TimeoutError):
    """The attempt exceeded its ``timeout`` (connect or read)."""

    default_retryable = True


class ConnectionError(ProviderError, builtins.ConnectionError):
    """The connection could not be made or broke before the response was complete."""

    default_retryable = True


class InvalidResponseError(ProviderError):
    """The provider answered with something that is not its protocol (bad JSON, cut stream)."""

    default_retryable = True


class AllModelsFailedError(ProviderError):
    """Every model of a fallback chain failed (see :mod:`genkit.fallback`).

    A :class:`ProviderError`, so code that catches provider failures keeps working when
    ``GENKIT_MODEL`` becomes a chain.  ``errors`` holds ``(model, error)`` for each model
    in the order tried; ``provider`` names their providers (``"openai,anthropic"``);
    ``retryable`` is true when any model's failure was transient, so calling again may help.
    """

    def __init__(self, errors: list[tuple[str, GenkitError]]) -> None:
        self.errors = errors
        tried = "; ".join(f"{model}: {type(error).__name__}: {error}" for model, error in errors)
        super().__init__(
            f"all {len(errors)} models failed: " + " ".join(tried.split()),
            provider=",".join(dict.fromkeys(model.partition(":")[0] for model, _ in errors)),
            retryable=any(getattr(error, "retryable", False) for _, error in errors),
        )

    def __str__(self) -> str:
        return self.message


_STATUS_CLASSES: dict[int, type[ProviderError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: TimeoutError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}

RETRYABLE_STATUSES = frozenset({408, 409, 429})


def error_for_status(
    status: int,
    message: str,
    *,
    provider: str,
    retry_after: float | None = None,
    request_id: str | None = None,
) -> ProviderError:
    """Build the genkit error for an HTTP status: one table shared by every backend."""
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ProviderError
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    return cls(
        readable_message(message),
        provider=provider,
        status_code=status,
        retryable=retryable,
        retry_after=retry_after,
        request_id=request_id,
    )


#: Longest text kept from an HTML error page: a page is markup around one sentence.
_HTML_TEXT_LIMIT = 200


def readable_message(message: str) -> str:
    """A provider's error text as one readable line.

    JSON error messages pass through unchanged.  An HTML page - the 502/503 a proxy
    or load balancer sends instead of the provider's JSON - becomes the text of its
    body ("502 Bad Gateway nginx") rather than a screenful of markup.  The text is
    cut between words, never inside one, so a key echoed in the page is either
    whole (and redacted by the backend) or absent, never half shown.
    """
    head = message.lstrip()[:512].lower()
    if not head.startswith("<") or not any(tag in head for tag in _HTML_MARKERS):
        return message
    import html
    import re

    body = re.search(r"<body[^>]*>(.*?)(?:</body>|$)", message, re.IGNORECASE | re.DOTALL)
    text = body.group(1) if body else message
    text = re.sub(r"<(script|style)[^>]*>.*?</\1\s*>", " ", text, flags=re.IGNORECASE | re.DOTALL)
    words = html.unescape(re.sub(r"<[^>]*>", " ", text)).split()
    kept: list[str] = []
    length = 0
    for word in words:
        length += len(word) + 1
        if length > _HTML_TEXT_LIMIT:
            kept.append("...")
            break
        kept.append(word)
    summary = " ".join(kept) or "no text"
    return f"HTML error page: {summary}"


_HTML_MARKERS = ("<html", "<!doctype html", "<head", "<body", "<title", "<h1")
