"""Where the OpenTelemetry SDK's instructions go for genkit's spans and metrics.

``bench.telemetry_instructions`` says that the SDK's own work for genkit's telemetry
(the "SDK floor") is most of its cost.  This breaks that floor down: each piece the
SDK runs for a call span with its GenAI attributes, an attempt child made current
while the request runs, and the metric records, is run ``--n`` times in a loop
between two ``os.getppid()`` calls under ``valgrind --tool=callgrind``
(``--dump-before=getppid``), with the same exporter setup (a ``BatchSpanProcessor``
whose exporter drops the spans; its export timer set far off and spans flushed before
each stretch, so no export lands in one).  No network, no genkit: the SDK alone.

Rows are instructions per iteration less those of an empty loop iteration.  Pieces
inside a span's life (``_Span.__init__``, the sampler, ...) call SDK internals
directly to weigh them; the rows marked "public API" are what any caller pays.
Garbage collection stays on, as in a real process; the loops run hot, so these are
slightly below what the same code costs interleaved with real calls.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
from collections.abc import Callable
from typing import Any

from bench._common import callgrind_stretches, print_machine, print_table

CHILD = "_GENKIT_BENCH_SDK_PARTS_CHILD"
WARM_UP = 20

#: What a call span starts with, ends with, and the attempt's one attribute.
REQUEST = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-haiku-4-5",
}
RESPONSE: dict[str, Any] = {
    "gen_ai.response.model": "claude-haiku-4-5",
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.usage.output_tokens": 85,
    "gen_ai.response.finish_reasons": ["stop"],
}
ATTEMPT = {"genkit.attempt": 1}
METRIC = {**REQUEST, "gen_ai.response.model": "claude-haiku-4-5"}


def _pieces() -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    """The pieces to count, and a function that flushes the queued spans."""
    from opentelemetry import context, metrics, trace
    from opentelemetry.attributes import BoundedAttributes, _clean_attribute_value
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider, _Span
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Discard(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    processor = BatchSpanProcessor(Discard(), schedule_delay_millis=3_600_000)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    histogram = metrics.get_meter("parts").create_histogram("parts.duration", unit="s")
    tracer: Any = trace.get_tracer("parts")
    client, internal = trace.SpanKind.CLIENT, trace.SpanKind.INTERNAL
    in_context, attach, detach = trace.set_span_in_context, context.attach, context.detach
    sampled = trace.TraceFlags(trace.TraceFlags.SAMPLED | trace.TraceFlags.RANDOM_TRACE_ID)
    held: Any = tracer.start_span("held")
    held_context = in_context(held)
    readable = held._readable_span()
    processors: Any = provider._active_span_processor

    def floor() -> None:
        # bench.telemetry_overhead._Floor's spans, as cheaply as the SDK allows.
        span = tracer.start_span("chat m", kind=client, attributes=REQUEST)
        parent = in_context(span)
        child = tracer.start_span("chat m attempt", context=parent, kind=internal)
        child.set_attribute("genkit.attempt", 1)
        token = attach(in_context(child, parent))
        detach(token)
        child.end()
        span.set_attributes(RESPONSE)
        span.end()

    def call_span_bare() -> None:
        tracer.start_span("chat m").end()

    def call_span_request() -> None:
        tracer.start_span("chat m", kind=client, attributes=REQUEST).end()

    def call_span_full() -> None:
        span = tracer.start_span("chat m", kind=client, attributes=REQUEST)
        span.set_attributes(RESPONSE)
        span.end()

    def call_span_all_at_start() -> None:
        tracer.start_span("chat m", kind=client, attributes={**REQUEST, **RESPONSE}).end()

    def attempt_span_bare() -> None:
        tracer.start_span("chat m attempt", context=held_context, kind=internal).end()

    def attempt_span_full() -> None:
        tracer.start_span(
            "chat m attempt", context=held_context, kind=internal, attributes=ATTEMPT
        ).end()

    def attempt_span_set() -> None:
        span = tracer.start_span("chat m attempt", context=held_context, kind=internal)
        span.set_attribute("genkit.attempt", 1)
        span.end()

    def attempt_context() -> None:
        detach(attach(in_context(held, held_context)))

    def span_init() -> None:
        _Span(
            name="chat m",
            context=held.get_span_context(),
            sampler=provider.sampler,
            resource=provider.resource,
            span_processor=processors,
            kind=client,
            instrumentation_info=tracer.instrumentation_info,
            limits=tracer._span_limits,
            instrumentation_scope=tracer._instrumentation_scope,
        )

    def span_init_start() -> None:
        _Span(
            name="chat m",
            context=held.get_span_context(),
            sampler=provider.sampler,
            resource=provider.resource,
            span_processor=processors,
            kind=client,
            instrumentation_info=tracer.instrumentation_info,
            limits=tracer._span_limits,
            instrumentation_scope=tracer._instrumentation_scope,
        ).start()

    def ids() -> None:
        provider.id_generator.generate_trace_id()
        provider.id_generator.generate_span_id()

    def flags() -> None:
        trace.TraceFlags(trace.TraceFlags.SAMPLED)
        trace.TraceFlags(sampled | trace.TraceFlags.RANDOM_TRACE_ID)

    def on_end(span: ReadableSpan = readable) -> None:
        processors.on_end(span)

    pieces: dict[str, Callable[[], object]] = {
        "(empty loop iteration: subtracted from every row)": lambda: None,
        "floor: call span + attempt span + attempt context (public API)": floor,
        "call span, no attribute: start_span + end (public API)": call_span_bare,
        "call span + 3 request attributes at start (public API)": call_span_request,
        "call span + 3 at start + set_attributes(4 response) (public API)": call_span_full,
        "call span, all 7 attributes at start (not possible: response unknown)": (
            call_span_all_at_start
        ),
        "attempt span in a parent context, no attribute (public API)": attempt_span_bare,
        "attempt span in a parent context + genkit.attempt at start (public API)": (
            attempt_span_full
        ),
        "attempt span in a parent context + genkit.attempt set after (public API)": (
            attempt_span_set
        ),
        "attempt context: set_span_in_context + attach + detach (public API)": (attempt_context),
        "start_span: get_current_span": lambda: trace.get_current_span(None),
        "start_span: sampler.should_sample (ParentBased(ALWAYS_ON))": lambda: (
            provider.sampler.should_sample(None, 1, "chat m", client, REQUEST, ())
        ),
        "start_span: trace and span id": ids,
        "start_span: TraceFlags x2": flags,
        "start_span: SpanContext": lambda: trace.SpanContext(
            1, 2, is_remote=False, trace_flags=sampled, trace_state=None
        ),
        "start_span: _Span.__init__ (no attribute)": span_init,
        "start_span: _Span.__init__ + start (processor on_start)": span_init_start,
        "attributes: BoundedAttributes(), empty": lambda: BoundedAttributes(128, None, False),
        "attributes: _clean_attribute_value(3 request attributes)": lambda: _clean_attribute_value(
            REQUEST, None
        ),
        "attributes: _clean_attribute_value(4 response attributes)": lambda: _clean_attribute_value(
            RESPONSE, None
        ),
        "attributes: span.set_attributes(4 response attributes)": lambda: held.set_attributes(
            RESPONSE
        ),
        "end: span._readable_span()": held._readable_span,
        "end: BatchSpanProcessor.on_end (queue append)": on_end,
        "metrics: Histogram.record(value, 4 attributes) (public API)": lambda: histogram.record(
            0.5, METRIC
        ),
    }

    def flush() -> None:
        processor.force_flush()

    return pieces, flush


def child(n: int) -> None:
    pieces, flush = _pieces()
    names = []
    for name, piece in pieces.items():
        for _ in range(WARM_UP):
            piece()
        gc.collect()
        flush()
        os.getppid()
        for _ in range(n):
            piece()
        os.getppid()
        names.append(name)
    print(json.dumps(names))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="iterations per piece")
    args = parser.parse_args(argv)
    if os.environ.get(CHILD):
        child(args.n)
        return 0
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind is not installed: nothing to count with", file=sys.stderr)
        return 2
    print_machine(
        "The OpenTelemetry SDK's instructions per piece of genkit's telemetry (callgrind)",
        packages=("opentelemetry-api", "opentelemetry-sdk"),
        extra=[f"{args.n} iterations per piece after {WARM_UP} warm-up ones; PYTHONHASHSEED=0"],
    )
    counted_run = callgrind_stretches(
        valgrind, "bench.telemetry_sdk_parts", CHILD, ["--n", str(args.n)]
    )
    if counted_run is None:
        return 1
    names, stretches = counted_run
    counted = [total / args.n for total in stretches][: len(names)]
    empty = counted[0]
    rows = [[name, f"{count - empty:,.0f}"] for name, count in zip(names, counted, strict=True)]
    print_table(
        "Instructions per iteration, less an empty loop iteration's",
        ["piece", "instructions"],
        rows[1:],
        notes=[
            "Rows without '(public API)' weigh SDK internals inside the public calls above "
            "them; they overlap and do not add up to those rows exactly.",
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
