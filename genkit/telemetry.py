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
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from genkit.errors import ProviderError
from genkit.types import Generation

if TYPE_CHECKING:
    import logging
    from contextvars import Token

    from opentelemetry.context import Context
    from opentelemetry.metrics import Histogram, MeterProvider
    from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer, TracerProvider

    from genkit.params import Request
    from genkit.retry import RetryPolicy

__all__ = ["Call", "observe"]

#: The ``genkit`` logger, made by the first call (:func:`_make_logger`): ``import genkit``
#: does not import :mod:`logging`, a few ms that a hosted SDK pays anyway when it loads.
logger: logging.Logger | None = None
_DEBUG = 10  # logging.DEBUG
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
        "models",
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
        self.models: dict[tuple[str, str], _Model] = {}

    def model(self, provider: str, model: str) -> _Model:
        """What every call to this model shares, built on its first call (see ``models``)."""
        entry = _Model(provider, model)
        if len(self.models) < _MAX_CACHED:
            self.models[provider, model] = entry
        return entry


#: Models (and, per model, metric attribute sets) cached: more is an application
#: cycling through model names, which then builds them per call instead.
_MAX_CACHED = 256


class _Model:
    """A model's span names and attribute dicts, built once and reused by every call.

    The OpenTelemetry SDK copies attributes into each span and metric point and never
    writes to the dicts it is given, so sharing them across calls is safe; it saves
    building the same names and dicts on every call (the metric attribute sets are the
    same for every successful call of a model).
    """

    __slots__ = ("attempt_name", "attributes", "metric_attributes", "name")

    def __init__(self, provider: str, model: str) -> None:
        self.name = f"{OPERATION} {model}"
        self.attempt_name = f"{OPERATION} {model} attempt"
        #: The request attributes of a call that sets no shared parameter.
        self.attributes: dict[str, Any] = {
            "gen_ai.operation.name": OPERATION,
            "gen_ai.provider.name": PROVIDER_NAMES.get(provider, provider),
            "gen_ai.request.model": model,
        }
        #: (response model, error type) -> the duration's, input and output tokens' sets.
        self.metric_attributes: dict[
            tuple[str | None, str | None], tuple[dict[str, str], dict[str, str], dict[str, str]]
        ] = {}

    def metrics(
        self, key: tuple[str | None, str | None]
    ) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """Build (and cache) the attribute sets of the duration and the two token-usage
        records for ``key``: (response model, error type)."""
        response_model, error_type = key
        attributes = dict(self.attributes)
        if response_model is not None:
            attributes["gen_ai.response.model"] = response_model
        if error_type is not None:
            attributes["error.type"] = error_type
        sets = (
            attributes,
            {**attributes, "gen_ai.token.type": "input"},
            {**attributes, "gen_ai.token.type": "output"},
        )
        if len(self.metric_attributes) < _MAX_CACHED:
            self.metric_attributes[key] = sets
        return sets


class _Cache:
    __slots__ = ("active", "meter_follows", "meter_provider", "tracer_provider")

    def __init__(
        self,
        tracer_provider: object,
        meter_provider: object,
        active: _Otel | None,
        meter_follows: bool = False,
    ):
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.active = active
        #: The instruments were made on the API's proxy meter provider, so a meter
        #: provider set later reaches them by itself: no need to look it up per call.
        self.meter_follows = meter_follows


_cache = _Cache(None, None, None)


def _otel() -> _Otel | None:
    """The tracer and instruments when OpenTelemetry is configured, else ``None``.

    Runs once per call: two dict lookups when OpenTelemetry was never imported, else
    the provider look-ups and identity checks.  The meter provider is not looked up
    when tracing is on and the instruments follow the API's proxy (see ``_configure``):
    while none is set, that look-up reads the environment, a dearer step than the rest
    of this function together.
    """
    modules = sys.modules
    trace = modules.get("opentelemetry.trace")
    metrics = modules.get("opentelemetry.metrics")
    if trace is None:
        if metrics is None:
            return None
        tracer_provider = None
    elif getattr(trace, "_TRACER_PROVIDER", _UNKNOWN) is None and not _PROVIDER_FROM_ENV:
        # No provider set.  The OpenAI and Anthropic SDKs import opentelemetry.trace
        # whenever it is installed, and while no provider is set the API's
        # get_tracer_provider() looks up an environment variable on every call (a
        # KeyError raised and caught, about a tenth of genkit's own work per call); the
        # API's global says the same for one attribute read.
        tracer_provider = None
    else:
        tracer_provider = trace.get_tracer_provider()
    cache = _cache
    if cache.tracer_provider is tracer_provider and cache.meter_follows:
        return cache.active
    meter_provider = metrics.get_meter_provider() if metrics is not None else None
    if cache.tracer_provider is tracer_provider and cache.meter_provider is meter_provider:
        return cache.active
    return _configure(tracer_provider, meter_provider)


#: Whether the OpenTelemetry API would build its tracer provider from the environment
#: (``OTEL_PYTHON_TRACER_PROVIDER``); read once, when genkit is imported.
_PROVIDER_FROM_ENV = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ
_UNKNOWN = object()


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
    kind = type(meter_provider).__name__ if meter_provider is not None else None
    # With tracing on, calls are recorded anyway: instruments made on the proxy cost a
    # no-op record each until the application sets a meter provider, which the proxy
    # then hands them to, and spare every call the meter provider's look-up.
    follows = tracer is not None and kind == "_ProxyMeterProvider"
    if meter_provider is not None and (
        follows or kind not in ("_ProxyMeterProvider", "NoOpMeterProvider")
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
    _cache = _Cache(tracer_provider, meter_provider, active, follows)
    return active


def _make_logger() -> logging.Logger:
    global logger
    import logging

    logger = logging.getLogger("genkit")
    return logger


def observe(
    provider: str, request: Request, policy: RetryPolicy, *, stream: bool = False
) -> Call | None:
    """A :class:`Call` that records this call, or ``None`` when nobody is listening."""
    debug = (logger or _make_logger()).isEnabledFor(_DEBUG)
    otel = _otel()
    if otel is None and not debug:
        return None
    if stream:
        return _StreamCall(provider, request, policy, otel, debug, stream)
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
        "_entry",
        "_model",
        "_otel",
        "_parent",
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
        #: The caller's context with the call span: the attempts' parent, built once.
        self._parent: Context | None = None
        self._pending: tuple[BaseException, float] | None = None
        self._ended = False
        self._span: Span | None = None
        self._entry: _Model | None = None
        if otel is not None:
            entry = otel.models.get((provider, request.model))
            if entry is None:
                entry = otel.model(provider, request.model)
            self._entry = entry
            if otel.tracer is not None:
                self._span = otel.tracer.start_span(
                    entry.name,
                    kind=otel.client,
                    attributes=_request_attributes(entry.attributes, request.params)
                    if request.params
                    else entry.attributes,
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
        if self._debug:
            # An attempt's latency is for its log line alone.
            self._attempt_started = time.perf_counter()
        span, otel, entry = self._span, self._otel, self._entry
        if span is None or otel is None or otel.tracer is None or entry is None:
            return None
        parent = self._parent
        if parent is None:
            # Every attempt runs inside the same policy.call, so in the same context.
            parent = self._parent = otel.in_context(span)
        attempt_span = self._attempt_span = otel.tracer.start_span(
            entry.attempt_name,
            context=parent,
            kind=otel.internal,
            record_exception=False,
            set_status_on_exception=False,
        )
        # Set after the start, not passed to it: no sampler needs it, and the SDK cleans
        # one value for less than it takes to clean a dict of one (~10k instructions).
        attempt_span.set_attribute("genkit.attempt", self._attempt)
        # Current while the attempt runs, so an instrumented SDK's or HTTP client's spans
        # nest in it.
        return otel.attach(otel.in_context(attempt_span, parent))

    def _latency(self) -> float:
        """The running attempt's latency so far (0 when not logging: nothing reads it)."""
        return time.perf_counter() - self._attempt_started if self._debug else 0.0

    def _failed(self, error: BaseException, token: Token[Context] | None) -> None:
        if token is not None and self._otel is not None:
            self._otel.detach(token)
        self._pending = (error, self._latency())

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
        # _end_attempt's success case, inlined: this is every call's path.
        attempt_span = self._attempt_span
        if attempt_span is not None:
            self._attempt_span = None
            attempt_span.end()
        if self._debug:
            result = value if isinstance(value, Generation) else None
            self._log(None, self._latency(), result, None, None, False)

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
            latency = self._latency()
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
        entry = self._entry
        if otel.duration is not None and entry is not None:
            key = (result.model if result is not None else None, error_type)
            sets = entry.metric_attributes.get(key)
            duration, tokens_in, tokens_out = sets if sets is not None else entry.metrics(key)
            otel.duration.record(elapsed, duration)
            if result is not None and error is None and otel.tokens is not None:
                usage = result.usage
                otel.tokens.record(usage.input_tokens, tokens_in)
                otel.tokens.record(usage.output_tokens, tokens_out)

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
        (logger or _make_logger()).debug("genkit: %s", message, extra={"genkit": fields})

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


class _StreamCall(Call):
    """A stream's :class:`Call`: the caller may drop the stream without closing it.

    Only a stream can be abandoned mid-call (a whole call always reaches ``finish``),
    so only its calls carry a finalizer, which every object pays for when freed.
    """

    __slots__ = ()

    def __del__(self) -> None:
        # An abandoned stream (never closed, never finished) still ends its span.
        if not self._ended:
            # Nothing to report an error to during garbage collection.
            with contextlib.suppress(Exception):
                self.finish(None, closed=True)


# --------------------------------------------------------------------------- helpers


def _request_attributes(base: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The model's ``base`` attributes plus the shared parameters set (``base`` if none)."""
    attributes = base
    for name, value in params.items():
        key = REQUEST_ATTRIBUTES.get(name)
        if key is None or value is None:
            continue
        if attributes is base:
            attributes = dict(base)
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
        reasons = result.finish_reasons
        if None in reasons:
            reasons = [reason for reason in reasons if reason is not None]
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
