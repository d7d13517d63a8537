"""Diagnosis, not speed targets: where genkit's time and the telemetry's instructions go.

    python -m bench.diagnose calls|telemetry|sdk-parts [--help]

(``bench.profile_calls``, ``bench.telemetry_instructions`` and ``bench.telemetry_sdk_parts``
run them under their former names.)  Each subcommand's docstring says what it measures.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import genkit
from bench import _common as h
from bench._backends import PARAMS, genkit_call, genkit_stream, load_generator
from bench._common import PROMPT, REPO_ROOT, pct, print_table, us
from genkit.backends.base import Backend, BackendSettings
from genkit.capabilities import CapabilityTable, ModelCapabilities
from genkit.params import Request
from genkit.types import Chunk, Finish, Generation, StreamEvent, Usage, UsageUpdate

#: Set in the environment of the process that callgrind runs.
CHILD = "_GENKIT_BENCH_CALLGRIND_CHILD"

# --------------------------------------------------------------------------- calls

CALLS_DOC = """Where genkit's own time goes on the per-call and per-chunk paths.

1. genkit's layer alone: a Generator over a stub backend that answers at once, timed with
   ``perf_counter`` (best of 7): the floor of genkit's overhead whatever the provider.
2. cProfile of real calls against the bench server: self time of every function in
   ``genkit/`` per call or chunk.  cProfile adds about a microsecond per function call, so
   read these as *where* the time goes; view 1 and ``bench.call_overhead`` give the costs.
"""


class StubBackend(Backend):
    """Answers at once, so that only genkit's own layer is left to time."""

    provider = "stub"
    capabilities = CapabilityTable(
        [], default=ModelCapabilities(supported=frozenset(genkit.SHARED_PARAMETERS))
    )

    def __init__(self, events: int = 0) -> None:
        super().__init__("stub-model", BackendSettings())
        self.answer = Generation(["hello"], ["stop"], Usage(3, 5), "stub-model", "stub")
        self.events: list[StreamEvent] = [Chunk(f" tok{i % 100}") for i in range(events)]
        self.events += [Finish("stop", "stop"), UsageUpdate(Usage(3, events))]

    def generate(self, request: Request) -> Generation:
        return self.answer

    async def agenerate(self, request: Request) -> Generation:
        return self.answer

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        yield from self.events

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        for event in self.events:
            yield event


def best_of(run: Callable[[], float], repeats: int = 7) -> float:
    """The least-disturbed of several repeats: the right estimator for a CPU-bound loop."""
    return min(run() for _ in range(repeats))


def layer_costs(calls: int, chunks: int) -> list[list[str]]:
    gen, streaming = genkit.Generator(StubBackend()), genkit.Generator(StubBackend(chunks))
    clock = time.perf_counter

    def per_call(call: Callable[[], Any], asynced: bool) -> float:
        """Best of 7 loops of ``calls`` calls (``asynced``: awaited, in one ``asyncio.run``)."""

        def loop() -> float:
            start = clock()
            for _ in range(calls):
                call()
            return (clock() - start) / calls

        async def aloop() -> float:
            start = clock()
            for _ in range(calls):
                await call()
            return (clock() - start) / calls

        return best_of(lambda: asyncio.run(aloop()) if asynced else loop())

    async def nothing() -> None:
        return None

    params = "system=, temperature=, max_tokens="
    cases: list[tuple[str, Callable[[], Any], bool]] = [
        ("gen.generate(prompt)", lambda: gen.generate(PROMPT), False),
        (f"gen.generate(prompt, {params})", lambda: gen.generate(PROMPT, **PARAMS), False),
        ("await gen.agenerate(prompt)", lambda: gen.agenerate(PROMPT), True),
        (f"await gen.agenerate(prompt, {params})", lambda: gen.agenerate(PROMPT, **PARAMS), True),
    ]
    empty = {False: per_call(lambda: None, False), True: per_call(nothing, True)}
    rows = [[name, us(per_call(call, a) - empty[a]), "per call"] for name, call, a in cases]
    events = streaming.backend.events  # type: ignore[attr-defined]

    def bare() -> float:
        start = clock()
        "".join([e.text for e in iter(events) if isinstance(e, Chunk) and e.text])
        return clock() - start

    def wrapped() -> float:
        start = clock()
        with streaming.stream(PROMPT) as stream:
            for _chunk in stream:
                pass
            _ = stream.result.text
        return clock() - start

    async def awrapped() -> float:
        start = clock()
        async with streaming.astream(PROMPT) as stream:
            async for _chunk in stream:
                pass
            _ = stream.result.text
        return clock() - start

    floor = best_of(bare)
    label = "gen.stream(): Stream wrapper per text chunk"
    rows.append([label, us((best_of(wrapped) - floor) / chunks), "per chunk"])
    label = "gen.astream(): AsyncStream wrapper per text chunk"
    extra = best_of(lambda: asyncio.run(awrapped())) - floor
    rows.append([label, us(extra / chunks), "per chunk (includes asyncio.run setup / chunks)"])
    return rows


def profiled(
    title: str, unit: str, run: Callable[[], object], runs: int, per: int, top: int
) -> None:
    """Print genkit's functions by self time over ``runs`` profiled calls of ``run``."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(runs):
        run()
    profile.disable()
    stats = pstats.Stats(profile)
    mine = sorted(
        (
            (tottime, calls, f"{Path(file).relative_to(REPO_ROOT)}:{line} {name}")
            for (file, line, name), (_, calls, tottime, _, _) in stats.stats.items()  # type: ignore[attr-defined]
            if file.startswith(str(REPO_ROOT / "genkit"))
        ),
        reverse=True,
    )
    own, total = sum(t for t, _, _ in mine) / per, stats.total_tt / per  # type: ignore[attr-defined]
    share = pct(own / total)
    print_table(
        f"{title} under cProfile, genkit functions by self time",
        ["function", f"µs per {unit}", f"calls per {unit}"],
        [[where, us(t / per), f"{calls / per:g}"] for t, calls, where in mine[:top]],
        notes=[f"genkit self time {us(own)} µs of {us(total)} µs per profiled {unit} ({share})."],
    )


def calls(argv: Sequence[str]) -> int:
    chunks = (2000, "text chunks per stream")
    args = h.parser(CALLS_DOC, calls=2000, chunks=chunks, top=12).parse_args(argv)
    run = h.begin("Profile of genkit's per-call and per-chunk path", args)
    run.table(
        "genkit's layer alone (stub backend, no network, no profiler; best of 7), µs",
        ["what", "µs", "unit"],
        layer_costs(args.calls, args.chunks),
        notes=["Subtracted: an empty call / a bare loop over the same events."],
    )
    with run.server(chunks=args.chunks) as server:
        for backend in run.backends:
            gen = load_generator(backend, server)
            call, stream = genkit_call(gen), genkit_stream(gen)
            h.timed(call, 100)
            title = f"{backend}: gen.generate(prompt)"
            profiled(title, "call", call, args.calls, args.calls, args.top)
            stream()
            runs = max(1, 20_000 // args.chunks)
            title = f"{backend}: gen.stream(prompt)"
            profiled(title, "chunk", stream, runs, runs * args.chunks, args.top)
            gen.close()
    return 0


# --------------------------------------------------------------------------- callgrind


def stretch(
    run: Callable[[], object], n: int, warm_up: int, settle: Callable[[], object] = lambda: None
) -> None:
    """In the child: ``warm_up`` runs, then ``n`` counted ones between two ``os.getppid()``
    markers, after ``gc.collect()`` and ``settle()`` (so every stretch starts from the same
    state: no garbage, no queued spans left by the one before)."""
    for _ in range(warm_up):
        run()
    gc.collect()
    settle()
    os.getppid()
    for _ in range(n):
        run()
    os.getppid()


def callgrind_stretches(arguments: Sequence[str]) -> tuple[Any, list[int]]:
    """Run ``python -m bench.diagnose *arguments`` under ``valgrind --tool=callgrind`` and
    count the instructions of each stretch it marks with ``os.getppid()`` calls.

    The child (told apart by :data:`CHILD` in its environment, with a fixed
    ``PYTHONHASHSEED``) prints JSON as its last line.  ``--dump-before=getppid`` writes
    the count so far at every marker: dump 1 runs from start-up to the first marker, then
    each counted stretch is an even-numbered dump and what comes before the next one an
    odd-numbered one.  Returns that JSON and the even-numbered dumps' counts in order;
    exits (2: no valgrind, 1: the child failed, its error output printed) otherwise.
    """
    if (valgrind := shutil.which("valgrind")) is None:
        print("valgrind is not installed: nothing to count with", file=sys.stderr)
        raise SystemExit(2)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [valgrind, "--tool=callgrind", "--dump-before=getppid"]
        command += [f"--callgrind-out-file={out}", sys.executable, "-m", "bench.diagnose"]
        env = {**os.environ, CHILD: "1", "PYTHONHASHSEED": "0", "PYTHONPATH": str(REPO_ROOT)}
        done = subprocess.run(
            [*command, *arguments], cwd=REPO_ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            print(done.stderr[-4000:], file=sys.stderr)
            raise SystemExit(1)
        totals = {}  # instructions in each dump file (``out.N``), by its number
        for path in out.parent.glob(out.name + ".*"):
            if (suffix := path.name.rsplit(".", 1)[1]).isdigit():
                lines = path.read_text().splitlines()
                total = next(x for x in lines if x.startswith(("summary:", "totals:")))
                totals[int(suffix)] = int(total.split()[1])
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    return printed, [totals[n] for n in sorted(totals) if n % 2 == 0]


# --------------------------------------------------------------------------- telemetry

TELEMETRY_DOC = """Telemetry's cost per call in CPU instructions, immune to a busy machine.

``bench.telemetry_overhead`` times calls, and on a shared two-core machine a few
percent of difference drowns in the noise of other work (its "off" rows, which
should read 1.00, move by several percent).  This companion counts the instructions
this process executes instead, with ``valgrind --tool=callgrind``: the same
program gives nearly the same count whatever else runs (``PYTHONHASHSEED`` is fixed,
garbage is collected and spans flushed before each counted stretch), so genkit's share
and the OpenTelemetry SDK's can be told apart.  A full garbage collection or a span
export that lands inside one stretch still shows as an outlier of a few hundred
thousand instructions per call in that row: rerun, or raise ``--calls``.

It re-runs itself under callgrind (:func:`callgrind_stretches`).  Per backend and state
(``tracing on``, then ``tracing + metrics on``, as in ``bench.telemetry_overhead``, same
exporter setup), each variant (``plain``, ``sdk floor``, ``telemetry``, defined there)
makes warm-up calls, then ``--calls`` counted ones (:func:`stretch`).  The server runs
natively in its own process (callgrind does not follow children).

What a count leaves out: time in the kernel (the socket calls of every request, so
a ratio of counts is *stricter* than one of CPU time), and what an instruction
costs: cache misses and the garbage collections that retained spans bring forward
make telemetry's instructions dearer than the average one, so timed ratios come out
above these.  Read the counts for *who* does the work; read
``bench.telemetry_overhead`` (on a quiet machine) for what it costs in time.
"""
WARM_UP = 15
VARIANTS = ("plain", "sdk floor", "telemetry")
STATES = ("tracing on", "tracing + metrics on")


def telemetry_child(backends: list[str], calls: int) -> None:
    """Under callgrind: every variant's counted calls in a stretch of their own."""
    from bench import telemetry_overhead as overhead

    h.clear_sdk_environment()
    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    phases: list[dict[str, str]] = []
    with h.BenchServer(chunks=30) as server:

        def settle() -> None:
            # Under callgrind the batch processor's 5 s export timer fires every few calls.
            overhead._flush_spans()
            server.reset()

        for state, setup in zip(STATES, (overhead._tracing_on, overhead._metrics_on), strict=True):
            setup()
            overhead._floor[0] = overhead._Floor(metrics=setup is overhead._metrics_on)
            for backend in backends:
                gen = load_generator(backend, server)
                call = genkit_call(gen)
                for variant in VARIANTS:
                    overhead._telemetry(variant)  # type: ignore[arg-type]
                    stretch(call, calls, WARM_UP, settle)
                    if (sent := server.stats()["requests"]) != calls:
                        raise RuntimeError(
                            f"{backend} {variant}: {sent} requests for {calls} calls"
                        )
                    phases.append({"state": state, "backend": backend, "variant": variant})
                gen.close()
    overhead._telemetry(True)
    print(json.dumps(phases))


def telemetry(argv: Sequence[str]) -> int:
    args = h.parser(TELEMETRY_DOC, calls=(60, "counted calls per variant")).parse_args(argv)
    backends = h.hosted_backends(args.backends)
    if os.environ.get(CHILD):
        telemetry_child(backends, args.calls)
        return 0
    h.print_machine(
        "Telemetry's cost per call in instructions (callgrind, non-streaming, sync)",
        packages=("genkit-sdk", "openai", "anthropic", "google-genai", "opentelemetry-sdk"),
        extra=[
            f"{args.calls} counted calls per variant after {WARM_UP} warm-up calls; "
            "PYTHONHASHSEED=0; server in its own (native) process",
        ],
    )
    arguments = ["telemetry", "--calls", str(args.calls), "--backends", *backends]
    phases, stretches = callgrind_stretches(arguments)
    per: dict[tuple[str, str], dict[str, float]] = {}
    for phase, total in zip(phases, stretches, strict=False):
        per.setdefault((phase["state"], phase["backend"]), {})[phase["variant"]] = (
            total / args.calls
        )
    rows = []
    for (state, backend), counts in per.items():
        plain, floor, observed = counts["plain"], counts["sdk floor"], counts["telemetry"]
        cells = [f"{plain:,.0f}", f"+{floor - plain:,.0f} ({floor / plain:.3f})"]
        cells.append(f"+{observed - plain:,.0f} ({observed / plain:.3f})")
        cells.append(f"{observed - floor:+,.0f} ({1 + (observed - floor) / plain:.4f})")
        rows.append([state, backend, *cells, f"{(observed - floor) / (observed - plain):.0%}"])
    print_table(
        "Instructions per call (ratio to plain in brackets)",
        "state | backend | plain | SDK floor - plain | genkit telemetry - plain "
        "| genkit - SDK floor | genkit's share of the telemetry cost",
        rows,
        notes=[
            "plain: genkit with its telemetry hook bypassed; SDK floor: the same spans and "
            "metrics made by hand around that call (bench.telemetry_overhead._Floor); "
            "genkit telemetry: genkit as shipped.",
            "User-space instructions only: the kernel's share of each request is not counted, "
            "so these ratios are stricter than CPU-time ones.",
        ],
    )
    return 0


# --------------------------------------------------------------------------- sdk-parts

SDK_PARTS_DOC = """Where the OpenTelemetry SDK's instructions go for genkit's spans and metrics.

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
PARTS_WARM_UP = 20

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
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

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

    def all_at_start() -> None:
        tracer.start_span("chat m", kind=client, attributes={**REQUEST, **RESPONSE}).end()

    def attempt_bare() -> None:
        tracer.start_span("chat m attempt", context=held_context, kind=internal).end()

    def attempt_full() -> None:
        tracer.start_span(
            "chat m attempt", context=held_context, kind=internal, attributes=ATTEMPT
        ).end()

    def attempt_set() -> None:
        span = tracer.start_span("chat m attempt", context=held_context, kind=internal)
        span.set_attribute("genkit.attempt", 1)
        span.end()

    def attempt_context() -> None:
        detach(attach(in_context(held, held_context)))

    span_options = {
        "sampler": provider.sampler,
        "resource": provider.resource,
        "span_processor": processors,
        "kind": client,
        "instrumentation_info": tracer.instrumentation_info,
        "limits": tracer._span_limits,
        "instrumentation_scope": tracer._instrumentation_scope,
    }

    def span_init() -> None:
        _Span(name="chat m", context=held.get_span_context(), **span_options)

    def span_init_start() -> None:
        _Span(name="chat m", context=held.get_span_context(), **span_options).start()

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
        "call span, all 7 attributes at start (not possible: response unknown)": all_at_start,
        "attempt span in a parent context, no attribute (public API)": attempt_bare,
        "attempt span in a parent context + genkit.attempt at start (public API)": attempt_full,
        "attempt span in a parent context + genkit.attempt set after (public API)": attempt_set,
        "attempt context: set_span_in_context + attach + detach (public API)": attempt_context,
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


def sdk_parts(argv: Sequence[str]) -> int:
    parser = h.parser(SDK_PARTS_DOC, backends=False, server=False, n=(200, "iterations per piece"))
    args = parser.parse_args(argv)
    if os.environ.get(CHILD):
        pieces, flush = _pieces()
        for piece in pieces.values():
            stretch(piece, args.n, PARTS_WARM_UP, flush)
        print(json.dumps(list(pieces)))
        return 0
    h.print_machine(
        "The OpenTelemetry SDK's instructions per piece of genkit's telemetry (callgrind)",
        packages=("opentelemetry-api", "opentelemetry-sdk"),
        extra=[
            f"{args.n} iterations per piece after {PARTS_WARM_UP} warm-up ones; PYTHONHASHSEED=0"
        ],
    )
    names, stretches = callgrind_stretches(["sdk-parts", "--n", str(args.n)])
    counted = [total / args.n for total in stretches][: len(names)]
    rows = [
        [name, f"{count - counted[0]:,.0f}"] for name, count in zip(names, counted, strict=True)
    ]
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


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "calls": calls,
    "telemetry": telemetry,
    "sdk-parts": sdk_parts,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
