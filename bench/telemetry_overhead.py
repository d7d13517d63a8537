"""What genkit's telemetry costs per call: off, and on, against genkit without it.

Each row compares two variants of the same Generator, ABBA-interleaved in blocks of
``--calls`` calls, on the harness of ``bench.call_overhead`` (server in its own
process on its own core, one request per call checked after every block):

- ``plain``: genkit with its telemetry hook bypassed (``genkit.generator.observe``
  swapped for a stub that returns ``None``): genkit as it was without telemetry;
- ``telemetry``: genkit as shipped, in the state the row names.

OpenTelemetry lets a process set its global providers once, so the states run in
this order, each for every backend and mode:

1. ``off, opentelemetry not imported``: what an application without OpenTelemetry
   pays (skipped for anthropic, whose SDK imports ``opentelemetry.trace`` itself);
2. ``off, opentelemetry imported, no provider``: the detection's worst case;
3. ``tracing on``: the SDK's ``TracerProvider`` with a ``BatchSpanProcessor`` and an
   exporter that drops the spans (the export thread's work is part of the cost);
4. ``tracing + metrics on``: plus a ``MeterProvider`` with an in-memory reader.

In the two "on" states a third variant runs in the same rounds:

- ``sdk floor``: genkit with its hook bypassed as in ``plain``, the same spans (a
  CLIENT call span with the same request attributes, an INTERNAL attempt child current
  while the request runs, the response and usage attributes at the end) and, with
  metrics, the same three histogram records, made by hand with the OpenTelemetry SDK
  around the call: what recording this telemetry costs *any* implementation.

It gives two reference rows per backend and mode: ``sdk floor`` against ``plain`` (the
SDK's own cost) and ``telemetry`` against ``sdk floor`` (what genkit adds on top; its
ratio is 1 + that paired difference / the plain median).

The anthropic SDK's own tracing is turned off (``ANTHROPIC_OPEN_TELEMETRY=false``):
it would run in both variants and only dilute genkit's share.  DEBUG logging stays off.
One more row is a yardstick, not genkit: the raw Anthropic SDK with its own tracing
(one span per call) on against off, in the ``tracing on`` state.

Targets (issue 14): off <= 1.01 x plain, on <= 1.05 x plain, per call (the paired
ratio, 1 + paired delta / plain median, wall clock and client CPU time).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import genkit
import genkit.generator
from bench import _common as h
from bench._backends import genkit_call, load_generator
from genkit import telemetry
from genkit.params import Request
from genkit.retry import RetryPolicy
from genkit.types import Generation

if TYPE_CHECKING:
    from anthropic.types import MessageParam

OFF_TARGET = 1.01
ON_TARGET = 1.05

_OBSERVE = telemetry.observe


def _no_telemetry(
    provider: str, request: Request, policy: RetryPolicy, *, stream: bool = False
) -> telemetry.Call | None:
    return None


class _Floor:
    """The spans and metrics genkit records, made by hand around a call: the SDK's floor.

    Stands in for :class:`genkit.telemetry.Call` on a call that succeeds at its first
    attempt (the benchmark's case), doing only what the OpenTelemetry SDK must be asked
    to do for the same output, so that the SDK's cost and genkit's can be told apart.
    It uses the SDK the cheapest way known for that output (the attempt's context built
    from the call span's, its one attribute set after the start rather than passed as a
    dict, the finish reasons list passed as it is, the metric attribute sets built once
    per model): whatever genkit does cheaper, the floor does too.
    """

    def __init__(self, metrics: bool) -> None:
        from opentelemetry import context, trace
        from opentelemetry import metrics as metrics_api

        self.tracer = trace.get_tracer("genkit-floor")
        self.in_context = trace.set_span_in_context
        self.attach, self.detach = context.attach, context.detach
        self.client, self.internal = trace.SpanKind.CLIENT, trace.SpanKind.INTERNAL
        self.duration: Any = None
        self.tokens: Any = None
        if metrics:
            meter = metrics_api.get_meter("genkit-floor")
            self.duration = meter.create_histogram(
                "floor.operation.duration",
                unit="s",
                explicit_bucket_boundaries_advisory=telemetry.DURATION_BUCKETS,
            )
            self.tokens = meter.create_histogram(
                "floor.token.usage",
                unit="{token}",
                explicit_bucket_boundaries_advisory=telemetry.TOKEN_BUCKETS,
            )
        self.provider = ""
        self.request: Request | None = None
        #: (provider, model, response model) -> the three metric attribute sets
        self.metric_attributes: dict[tuple[str, str, str], tuple[dict[str, Any], ...]] = {}

    def observe(
        self, provider: str, request: Request, policy: RetryPolicy, *, stream: bool = False
    ) -> _Floor:
        self.provider, self.request = provider, request
        return self

    def _attributes(self) -> dict[str, Any]:
        """What the call span starts with and every metric record carries (inline in
        :meth:`_start`, which runs every call: the floor takes no extra function call)."""
        assert self.request is not None
        return {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": telemetry.PROVIDER_NAMES.get(self.provider, self.provider),
            "gen_ai.request.model": self.request.model,
        }

    def _start(self) -> tuple[Any, Any, Any, float]:
        assert self.request is not None
        model = self.request.model
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": telemetry.PROVIDER_NAMES.get(self.provider, self.provider),
            "gen_ai.request.model": model,
        }
        for name, value in self.request.params.items():
            key = telemetry.REQUEST_ATTRIBUTES.get(name)
            if key is not None and value is not None:
                attributes[key] = value
        span = self.tracer.start_span(f"chat {model}", kind=self.client, attributes=attributes)
        parent = self.in_context(span)
        child = self.tracer.start_span(f"chat {model} attempt", context=parent, kind=self.internal)
        child.set_attribute("genkit.attempt", 1)
        return span, child, self.attach(self.in_context(child, parent)), time.perf_counter()

    def _end(self, span: Any, child: Any, result: Generation, started: float) -> None:
        elapsed = time.perf_counter() - started
        child.end()
        usage = result.usage
        span.set_attributes(
            {
                "gen_ai.response.model": result.model,
                "gen_ai.usage.input_tokens": usage.input_tokens,
                "gen_ai.usage.output_tokens": usage.output_tokens,
                "gen_ai.response.finish_reasons": result.finish_reasons,
            }
        )
        span.end()
        if self.duration is not None:
            assert self.request is not None
            key = (self.provider, self.request.model, result.model)
            if (sets := self.metric_attributes.get(key)) is None:
                attributes = {**self._attributes(), "gen_ai.response.model": result.model}
                sets = self.metric_attributes[key] = (
                    attributes,
                    {**attributes, "gen_ai.token.type": "input"},
                    {**attributes, "gen_ai.token.type": "output"},
                )
            self.duration.record(elapsed, sets[0])
            self.tokens.record(usage.input_tokens, sets[1])
            self.tokens.record(usage.output_tokens, sets[2])

    def call(self, policy: RetryPolicy, attempt: Callable[[], Generation]) -> Generation:
        span, child, token, started = self._start()
        try:
            result = policy.call(attempt)
        finally:
            self.detach(token)
        self._end(span, child, result, started)
        return result

    async def acall(
        self, policy: RetryPolicy, attempt: Callable[[], Awaitable[Generation]]
    ) -> Generation:
        span, child, token, started = self._start()
        try:
            result = await policy.acall(attempt)
        finally:
            self.detach(token)
        self._end(span, child, result, started)
        return result


#: The hand-made floor of the state being measured (``None``: telemetry is off).
_floor: list[_Floor | None] = [None]
Variant = Literal["plain", "telemetry", "sdk floor"]


def _telemetry(variant: Variant | bool) -> None:
    # genkit.generator binds ``observe`` by name at import, so that binding (not the one in
    # genkit.telemetry) is what must be swapped for the generator to call the stub.
    if variant is True or variant == "telemetry":
        observe: Callable[..., object] = _OBSERVE
    elif variant == "sdk floor" and _floor[0] is not None:
        observe = _floor[0].observe
    else:
        observe = _no_telemetry
    vars(genkit.generator)["observe"] = observe


def _variants() -> tuple[Variant, ...]:
    return ("plain", "telemetry") if _floor[0] is None else ("plain", "telemetry", "sdk floor")


@dataclass
class Row:
    """A row: ``variant`` paired against ``against``; the ratio's denominator is always plain.
    A ``reference`` row is a yardstick: no target of genkit's applies."""

    state: str
    backend: str
    mode: str
    target: float
    result: h.Interleaved
    reference: bool = False
    variant: str = "telemetry"
    against: str = "plain"

    def ratio(self, cpu: bool) -> float:
        return self.result.ratio(self.variant, self.against, cpu=cpu, base="plain")

    def cells(self, cpu: bool) -> list[str]:
        samples = self.result.cpu if cpu else self.result.wall
        medians = [h.us(h.median(samples[self.against])), h.us(h.median(samples[self.variant]))]
        paired, ratio = self.result.paired(self.variant, self.against, cpu=cpu), self.ratio(cpu)
        target = [f"≤ {self.target:.2f}", h.verdict(ratio <= self.target)]
        cells = [self.state, self.backend, self.mode, *medians, h.signed_us(paired), f"{ratio:.3f}"]
        return [*cells, *(["—", "—"] if self.reference else target)]

    def ok(self) -> bool:
        return self.reference or all(self.ratio(cpu) <= self.target for cpu in (False, True))


def measure(backend: str, server: h.BenchServer, args: Any, mode: str) -> h.Interleaved:
    """The state's variants of one Generator, switched before each block (outside the timing)."""
    gen = load_generator(backend, server)
    with h.runner(mode) as loop:
        call = genkit_call(gen, mode)
        try:
            calls: dict[str, Callable[[], Any]] = {variant: call for variant in _variants()}
            return h.compare_calls(server, calls, args.calls, args.rounds, loop, before=_telemetry)
        finally:
            _telemetry(True)
            if loop is not None:
                loop.run(gen.aclose())
            gen.close()


def measure_reference(server: h.BenchServer, calls: int, rounds: int) -> h.Interleaved:
    """The Anthropic SDK's own tracing (one span per call), on against off: a yardstick."""
    import anthropic

    url = server.base_url("anthropic")
    messages: list[MessageParam] = [{"role": "user", "content": h.PROMPT}]
    options: Any = {"api_key": h.KEYS["anthropic"], "base_url": url, "max_retries": 0}
    untraced = anthropic.Anthropic(**options, open_telemetry=False)
    traced = anthropic.Anthropic(**options, open_telemetry={})

    def caller(client: Any) -> Callable[[], object]:
        create = client.messages.create
        return lambda: create(model=h.MODELS["anthropic"], max_tokens=4096, messages=messages)

    _telemetry(False)
    try:
        sides = {"plain": caller(untraced), "telemetry": caller(traced)}
        return h.compare_calls(server, sides, calls, rounds)
    finally:
        _telemetry(True)
        untraced.close()
        traced.close()


class _Spans:
    """Counts what the exporter receives, to prove the "on" rows really traced."""

    exported = 0
    #: the hand-made floor's spans, counted apart
    floor = 0


def _tracing_on() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Discard(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            floor = sum(
                1
                for s in spans
                if s.instrumentation_scope is not None
                and s.instrumentation_scope.name == "genkit-floor"
            )
            _Spans.floor += floor
            _Spans.exported += len(spans) - floor
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Discard()))
    trace.set_tracer_provider(provider)


def _metrics_on() -> None:
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))


def _flush_spans() -> None:
    from opentelemetry import trace

    provider: Any = trace.get_tracer_provider()
    provider.force_flush()


def _rows(state: str, backend: str, mode: str, target: float, result: h.Interleaved) -> list[Row]:
    """The row against the target, and where a floor ran, its two reference rows."""
    rows = [Row(state, backend, mode, target, result)]
    if "sdk floor" in result.wall:
        label = f"{state}: SDK floor (same telemetry by hand) vs plain"
        rows.append(Row(label, backend, mode, target, result, True, variant="sdk floor"))
        label = f"{state}: genkit vs SDK floor"
        rows.append(Row(label, backend, mode, target, result, True, against="sdk floor"))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = h.parser(
        __doc__, modes=("sync", "async"), calls=(5, "calls per block"), rounds=(200, "ABBA rounds")
    ).parse_args(argv)
    run = h.begin(
        "Telemetry overhead per call (non-streaming)",
        args,
        f"{args.rounds} rounds x {args.calls} calls per variant, ABBA-interleaved, "
        f"after {h.WARM_UP} warm-up calls each; plain = genkit with its telemetry hook "
        "bypassed",
        packages=("genkit-sdk", "openai", "anthropic", "google-genai", "opentelemetry-sdk"),
    )
    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    states: list[tuple[str, float, Callable[[], None] | None]] = [
        ("off, opentelemetry not imported", OFF_TARGET, None),
        ("off, opentelemetry imported, no provider", OFF_TARGET, None),
        ("tracing on", ON_TARGET, _tracing_on),
        ("tracing + metrics on", ON_TARGET, _metrics_on),
    ]
    rows: list[Row] = []
    with run.server() as server:
        for index, (state, target, setup) in enumerate(states):
            if index == 1:
                import opentelemetry.metrics
                import opentelemetry.trace  # noqa: F401
            if setup is not None:
                setup()
                _floor[0] = _Floor(metrics=setup is _metrics_on)
            for backend in run.backends:
                if index == 0 and backend == "anthropic":
                    continue  # its SDK imports opentelemetry.trace: that is state 2
                if index == 0 and "opentelemetry.trace" in sys.modules:
                    raise RuntimeError("opentelemetry was imported before the first state")
                for mode in args.modes:
                    rows += _rows(
                        state, backend, mode, target, measure(backend, server, args, mode)
                    )
            if setup is _tracing_on and "anthropic" in run.backends and "sync" in args.modes:
                result = measure_reference(server, args.calls, args.rounds)
                label = "reference: the anthropic SDK's own tracing, raw SDK"
                rows.append(Row(label, "anthropic", "sync", ON_TARGET, result, reference=True))
    _flush_spans()
    headers = "state | backend | mode | baseline median | measured median | Δ paired "
    headers += "| ratio (paired) | target | met"
    run.table(
        "Wall clock per call, µs",
        headers,
        [row.cells(cpu=False) for row in rows],
        notes=[
            "ratio (paired) = 1 + Δ paired / plain median; Δ paired = median over rounds of "
            "(measured block median - baseline block median). Measured is genkit's telemetry "
            "(or the hand-made SDK floor); the baseline is plain (genkit with its telemetry "
            "hook bypassed), or the SDK floor in the 'genkit vs SDK floor' rows.",
        ],
    )
    run.table(
        "Client CPU time per call, µs",
        headers,
        [row.cells(cpu=True) for row in rows],
        notes=[
            f"Spans exported while tracing was on: {_Spans.exported} by genkit (the plain "
            f"variant makes none), {_Spans.floor} by the hand-made SDK floor.",
        ],
        footer=True,
    )
    return 0 if all(row.ok() for row in rows) and _Spans.exported > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
