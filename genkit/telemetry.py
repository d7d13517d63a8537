"""What a call did, for operators: a DEBUG line per attempt and OpenTelemetry spans and metrics.

Both are off until somebody asks, and then cost nothing on the calls they do not see:

- **Logging.** The ``genkit`` logger (standard :mod:`logging`) writes one DEBUG line per
  attempt: provider and model, outcome (``ok``, or the error class and HTTP status),
  latency, tokens when known, and whether and why it is retried (with the wait).  Never
  a key, a prompt or a provider's error text (which may quote the prompt).
- **OpenTelemetry** (GenAI semantic conventions), when ``opentelemetry-api`` is installed
  *and* the application has configured a tracer or meter provider: a CLIENT span
  ``chat {model}`` per call with an INTERNAL child per attempt (a 503 then a success
  is two attempt spans), and the ``gen_ai.client.operation.duration`` and
  ``gen_ai.client.token.usage`` histograms.  A stream's span lasts until the stream
  ends or is closed.

Detecting OpenTelemetry never imports it: an application that configured a provider
has imported ``opentelemetry.trace`` (or ``.metrics``) already, so genkit looks in
``sys.modules`` and then asks for the global provider, caching the tracer and
instruments per provider.  With neither DEBUG nor a configured provider,
:func:`observe` returns ``None`` and the call runs exactly as without this module.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from genkit.errors import ProviderError
from genkit.types import Generation

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context
    from opentelemetry.metrics import Histogram, MeterProvider
    from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer, TracerProvider

    from genkit.params import Request
    from genkit.retry import RetryPolicy

__all__ = ["Call", "observe"]

logger = logging.getLogger("genkit")
T = TypeVar("T")

OPERATION = "chat"
#: genkit provider -> ``gen_ai.provider.name`` (the conventions' well-known values);
#: any other provider is reported under its genkit name.
PROVIDER_NAMES: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
}
#: shared parameter -> request attribute.
REQUEST_ATTRIBUTES: dict[str, str] = {
    "max_tokens": "gen_ai.request.max_tokens",
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "stop": "gen_ai.request.stop_sequences",
    "seed": "gen_ai.request.seed",
    "n": "gen_ai.request.choice.count",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
}
#: The bucket boundaries the conventions ask for.
TOKEN_BUCKETS = tuple(4.0**i for i in range(14))  # 1, 4, 16, ... 67108864
DURATION_BUCKETS = tuple(0.01 * 2.0**i for i in range(14))  # 0.01 s ... 81.92 s


# --------------------------------------------------------------------------- detection


class _Otel:
    """The tracer and instruments of the configured providers (``None`` where not configured).

    Also the few API functions and constants a call uses, looked up once here rather
    than imported on every call.
    """

    __slots__ = (
        "attach",
        "client",
        "detach",
        "duration",
        "error",
        "in_context",
        "internal",
        "tokens",
        "tracer",
    )

    def __init__(
        self, tracer: Tracer | None, duration: Histogram | None, tokens: Histogram | None
    ) -> None:
        from opentelemetry import context, trace

        self.tracer = tracer
        self.duration = duration
        self.tokens = tokens
        self.client: SpanKind = trace.SpanKind.CLIENT
        self.internal: SpanKind = trace.SpanKind.INTERNAL
        self.error: StatusCode = trace.StatusCode.ERROR
        self.in_context = trace.set_span_in_context
        self.attach = context.attach
        self.detach = context.detach


class _Cache:
    __slots__ = ("active", "meter_provider", "tracer_provider")

    def __init__(self, tracer_provider: object, meter_provider: object, active: _Otel | None):
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.active = active


_cache = _Cache(None, None, None)


def _otel() -> _Otel | None:
    """The tracer and instruments when OpenTelemetry is configured, else ``None``.

    Runs once per call: two dict lookups when OpenTelemetry was never imported, two
    provider look-ups and identity checks when it was.
    """
    modules = sys.modules
    trace = modules.get("opentelemetry.trace")
    metrics = modules.get("opentelemetry.metrics")
    if trace is None and metrics is None:
        return None
    tracer_provider = trace.get_tracer_provider() if trace is not None else None
    meter_provider = metrics.get_meter_provider() if metrics is not None else None
    cache = _cache
    if cache.tracer_provider is tracer_provider and cache.meter_provider is meter_provider:
        return cache.active
    return _configure(tracer_provider, meter_provider)


def _configure(
    tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None
) -> _Otel | None:
    """Build (and cache) the tracer and instruments for these global providers."""
    global _cache
    from genkit import __version__

    tracer = None
    if tracer_provider is not None:
        from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider

        if not isinstance(tracer_provider, ProxyTracerProvider | NoOpTracerProvider):
            tracer = tracer_provider.get_tracer("genkit", __version__)
    duration = tokens = None
    # The API's stand-ins (a proxy until a provider is set, or the no-op one) have no
    # public class to test against; their names are part of the API package.
    if meter_provider is not None and type(meter_provider).__name__ not in (
        "_ProxyMeterProvider",
        "NoOpMeterProvider",
    ):
        meter = meter_provider.get_meter("genkit", __version__)
        duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
    active = _Otel(tracer, duration, tokens) if tracer is not None or duration is not None else None
    _cache = _Cache(tracer_provider, meter_provider, active)
    return active


def observe(
    provider: str, request: Request, policy: RetryPolicy, *, stream: bool = False
) -> Call | None:
    """A :class:`Call` that records this call, or ``None`` when nobody is listening."""
    debug = logger.isEnabledFor(logging.DEBUG)
    otel = _otel()
    if otel is None and not debug:
        return None
    return Call(provider, request, policy, otel, debug, stream)


# --------------------------------------------------------------------------- one call


class Call:
    """One call as telemetry sees it: its span, its attempts, and what each one did.

    A failed attempt stays *pending* until the retry policy decides: its log line and
    span then say either the wait before the next attempt or why there is none.  A
    stream's successful attempt stays open until the stream ends.
    """

    __slots__ = (
        "_attempt",
        "_attempt_span",
        "_attempt_started",
        "_debug",
        "_ended",
        "_model",
        "_otel",
        "_pending",
        "_policy",
        "_provider",
        "_span",
        "_started",
        "_stream",
    )

    def __init__(
        self,
        provider: str,
        request: Request,
        policy: RetryPolicy,
        otel: _Otel | None,
        debug: bool,
        stream: bool,
    ) -> None:
        self._provider = provider
        self._model = request.model
        self._policy = policy
        self._otel = otel
        self._debug = debug
        self._stream = stream
        self._attempt = 0
        self._attempt_started = 0.0
        self._attempt_span: Span | None = None
        self._pending: tuple[BaseException, float] | None = None
        self._ended = False
        self._span: Span | None = None
        if otel is not None and otel.tracer is not None:
            self._span = otel.tracer.start_span(
                f"{OPERATION} {request.model}",
                kind=otel.client,
                attributes=_request_attributes(provider, request),
                record_exception=False,
                set_status_on_exception=False,
            )
        self._started = time.perf_counter()

    # ------------------------------------------------------------ running attempts

    def call(self, policy: RetryPolicy, attempt: Callable[[], Generation]) -> Generation:
        """Run a whole non-streamed call under ``policy``, recording each attempt."""
        try:
            result = policy.call(self.attempts(attempt), self.retrying)
        except BaseException as error:
            self.finish(None, error)
            raise
        self.finish(result)
        return result

    async def acall(
        self, policy: RetryPolicy, attempt: Callable[[], Awaitable[Generation]]
    ) -> Generation:
        try:
            result = await policy.acall(self.aattempts(attempt), self.retrying)
        except BaseException as error:
            self.finish(None, error)
            raise
        self.finish(result)
        return result

    def attempts(self, attempt: Callable[[], T]) -> Callable[[], T]:
        """``attempt``, recorded each time the policy runs it."""

        def run() -> T:
            token = self._begin()
            try:
                value = attempt()
            except BaseException as error:
                self._failed(error, token)
                raise
            self._succeeded(value, token)
            return value

        return run

    def aattempts(self, attempt: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
        async def run() -> T:
            token = self._begin()
            try:
                value = await attempt()
            except BaseException as error:
                self._failed(error, token)
                raise
            self._succeeded(value, token)
            return value

        return run

    def _begin(self) -> Token[Context] | None:
        self._attempt += 1
        self._attempt_started = time.perf_counter()
        span, otel = self._span, self._otel
        if span is None or otel is None or otel.tracer is None:
            return None
        attempt_span = self._attempt_span = otel.tracer.start_span(
            f"{OPERATION} {self._model} attempt",
            context=otel.in_context(span),
            kind=otel.internal,
            attributes={"genkit.attempt": self._attempt},
            record_exception=False,
            set_status_on_exception=False,
        )
        # Current while the attempt runs, so an instrumented SDK's or HTTP client's spans
        # nest in it.
        return otel.attach(otel.in_context(attempt_span))

    def _failed(self, error: BaseException, token: Token[Context] | None) -> None:
        if token is not None and self._otel is not None:
            self._otel.detach(token)
        self._pending = (error, time.perf_counter() - self._attempt_started)

    def _succeeded(self, value: object, token: Token[Context] | None) -> None:
        if token is not None and self._otel is not None:
            self._otel.detach(token)
        if self._stream:
            # The stream goes on: this attempt ends with it.  Its first text is here.
            if self._span is not None:
                self._span.set_attribute(
                    "gen_ai.response.time_to_first_chunk", time.perf_counter() - self._started
                )
            return
        self._end_attempt(
            None,
            time.perf_counter() - self._attempt_started,
            value if isinstance(value, Generation) else None,
        )

    def retrying(self, wait: float) -> None:
        """The policy's decision for the pending failed attempt: another one after ``wait``."""
        pending, self._pending = self._pending, None
        if pending is not None:
            error, latency = pending
            self._end_attempt(error, latency, None, wait=wait)

    # ------------------------------------------------------------ the end

    def finish(
        self,
        result: Generation | None,
        error: BaseException | None = None,
        *,
        closed: bool = False,
    ) -> None:
        """End the call (once): the last attempt's record, the span, the metrics."""
        if self._ended:
            return
        self._ended = True
        elapsed = time.perf_counter() - self._started
        pending, self._pending = self._pending, None
        if pending is not None:
            self._end_attempt(pending[0], pending[1], None, reason=self._give_up(pending[0]))
        elif self._stream and self._attempt:
            latency = time.perf_counter() - self._attempt_started
            if error is not None:
                reason = (
                    "text had already reached the caller"
                    if isinstance(error, Exception)
                    else "cancelled"
                )
                self._end_attempt(error, latency, result, reason=reason)
            else:
                self._end_attempt(None, latency, result, closed=closed)
        otel = self._otel
        if otel is None:
            return
        error_type = _error_type(error) if error is not None else None
        span = self._span
        if span is not None:
            _end_span(span, otel, error_type, result)
        if otel.duration is not None:
            attributes = self._metric_attributes(result, error_type)
            otel.duration.record(elapsed, attributes)
            if result is not None and error is None and otel.tokens is not None:
                usage = result.usage
                otel.tokens.record(usage.input_tokens, {**attributes, "gen_ai.token.type": "input"})
                otel.tokens.record(
                    usage.output_tokens, {**attributes, "gen_ai.token.type": "output"}
                )

    def __del__(self) -> None:
        # An abandoned stream (never closed, never finished) still ends its span.
        if not self._ended:
            # Nothing to report an error to during garbage collection.
            with contextlib.suppress(Exception):
                self.finish(None, closed=True)

    # ------------------------------------------------------------ one attempt's record

    def _end_attempt(
        self,
        error: BaseException | None,
        latency: float,
        result: Generation | None,
        *,
        wait: float | None = None,
        reason: str | None = None,
        closed: bool = False,
    ) -> None:
        attempt_span, self._attempt_span = self._attempt_span, None
        if attempt_span is not None:
            if error is not None:
                attempt_span.set_attribute("error.type", _error_type(error))
                status = getattr(error, "status_code", None)
                if status is not None:
                    attempt_span.set_attribute("http.response.status_code", status)
                if self._otel is not None:
                    attempt_span.set_status(self._otel.error)
            if wait is not None:
                attempt_span.set_attribute("genkit.retry.wait", wait)
            attempt_span.end()
        if self._debug:
            self._log(error, latency, result, wait, reason, closed)

    def _log(
        self,
        error: BaseException | None,
        latency: float,
        result: Generation | None,
        wait: float | None,
        reason: str | None,
        closed: bool,
    ) -> None:
        fields: dict[str, Any] = {
            "provider": self._provider,
            "model": self._model,
            "attempt": self._attempt,
            "latency_ms": round(latency * 1000, 3),
        }
        if error is None:
            outcome = "closed early" if closed else "ok"
        else:
            outcome = type(error).__name__
            status = getattr(error, "status_code", None)
            fields["status_code"] = status
            if status is not None:
                outcome = f"{outcome} {status}"
            request_id = getattr(error, "request_id", None)
            if request_id:
                fields["request_id"] = request_id
        fields["outcome"] = outcome
        message = (
            f"{self._provider}:{self._model} attempt {self._attempt}/"
            f"{1 + self._policy.max_retries}: {outcome} in {latency * 1000:.1f} ms"
        )
        if result is not None:
            usage = result.usage
            fields["input_tokens"] = usage.input_tokens
            fields["output_tokens"] = usage.output_tokens
            message += f", tokens {usage.input_tokens} in / {usage.output_tokens} out"
        if "request_id" in fields:
            message += f" (request {fields['request_id']})"
        if wait is not None:
            why = "Retry-After" if getattr(error, "retry_after", None) is not None else "backoff"
            fields["retry_in_s"] = wait
            fields["reason"] = f"retryable, {why}"
            message += f"; retrying in {wait:.2f} s ({why})"
        elif reason is not None:
            fields["reason"] = reason
            message += f"; not retried: {reason}"
        logger.debug("genkit: %s", message, extra={"genkit": fields})

    def _give_up(self, error: BaseException) -> str:
        """Why the policy did not retry ``error``, the last attempt's failure."""
        policy = self._policy
        if not isinstance(error, ProviderError):
            return "cancelled" if not isinstance(error, Exception) else "not a provider error"
        if not error.retryable:
            return "not retryable"
        if error.retry_after is not None and error.retry_after > policy.max_retry_after:
            return (
                f"Retry-After {error.retry_after:.0f} s is beyond "
                f"max_retry_after {policy.max_retry_after:.0f} s"
            )
        if policy.max_retries == 0:
            return "retries are off (max_retries=0)"
        if self._attempt > policy.max_retries:
            return "retries exhausted"
        return f"total_timeout {policy.total_timeout:.0f} s reached"

    def _metric_attributes(
        self, result: Generation | None, error_type: str | None
    ) -> dict[str, str]:
        attributes = {
            "gen_ai.operation.name": OPERATION,
            "gen_ai.provider.name": PROVIDER_NAMES.get(self._provider, self._provider),
            "gen_ai.request.model": self._model,
        }
        if result is not None:
            attributes["gen_ai.response.model"] = result.model
        if error_type is not None:
            attributes["error.type"] = error_type
        return attributes


# --------------------------------------------------------------------------- helpers


def _request_attributes(provider: str, request: Request) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": PROVIDER_NAMES.get(provider, provider),
        "gen_ai.request.model": request.model,
    }
    for name, value in request.params.items():
        key = REQUEST_ATTRIBUTES.get(name)
        if key is None or value is None:
            continue
        if name == "stop":
            value = [value] if isinstance(value, str) else list(value)
        attributes[key] = value
    return attributes


def _end_span(span: Span, otel: _Otel, error_type: str | None, result: Generation | None) -> None:
    if result is not None:
        usage = result.usage
        attributes: dict[str, Any] = {"gen_ai.response.model": result.model}
        if usage.input_tokens or usage.output_tokens:
            attributes["gen_ai.usage.input_tokens"] = usage.input_tokens
            attributes["gen_ai.usage.output_tokens"] = usage.output_tokens
        reasons = [reason for reason in result.finish_reasons if reason is not None]
        if reasons:
            attributes["gen_ai.response.finish_reasons"] = reasons
        span.set_attributes(attributes)
    if error_type is not None:
        span.set_attribute("error.type", error_type)
        span.set_status(otel.error, error_type)
    span.end()


def _error_type(error: BaseException) -> str:
    """Low-cardinality and text-free: the class name (genkit's own, for provider errors)."""
    return type(error).__qualname__
