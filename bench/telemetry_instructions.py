"""Telemetry's cost per call in CPU instructions, counted by valgrind: immune to a busy machine.

``bench.telemetry_overhead`` times calls, and on a shared two-core machine a few
percent of difference drowns in the noise of other work (its "off" rows, which
should read 1.00, move by several percent).  This companion counts the instructions
this process executes instead, with ``valgrind --tool=callgrind``: the same
program gives nearly the same count whatever else runs (``PYTHONHASHSEED`` is fixed,
garbage is collected and spans flushed before each counted stretch), so genkit's share
and the OpenTelemetry SDK's can be told apart.  A full garbage collection or a span
export that lands inside one stretch still shows as an outlier of a few hundred
thousand instructions per call in that row: rerun, or raise ``--calls``.

It re-runs itself under callgrind.  Per backend and state (``tracing on``, then
``tracing + metrics on``, as in ``bench.telemetry_overhead``, same exporter setup),
each variant (``plain``, ``sdk floor``, ``telemetry``, defined there) makes warm-up
calls, then ``--calls`` counted ones between two ``os.getppid()`` calls:
callgrind's ``--dump-before=getppid`` writes the count so far at each, so every
counted stretch lands in a file of its own.  The server runs natively in its own
process (callgrind does not follow children).

What a count leaves out: time in the kernel (the socket calls of every request, so
a ratio of counts is *stricter* than one of CPU time), and what an instruction
costs: cache misses and the garbage collections that retained spans bring forward
make telemetry's instructions dearer than the average one, so timed ratios come out
above these.  Read the counts for *who* does the work; read
``bench.telemetry_overhead`` (on a quiet machine) for what it costs in time.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys

from bench import _common as h
from bench import telemetry_overhead as overhead

CHILD = "_GENKIT_BENCH_CALLGRIND_CHILD"
WARM_UP = 15
VARIANTS: tuple[overhead.Variant, ...] = ("plain", "sdk floor", "telemetry")
STATES = ("tracing on", "tracing + metrics on")


def child(backends: list[str], calls: int) -> None:
    """Under callgrind: every counted stretch sits between two ``os.getppid()`` calls."""
    from bench._backends import genkit_call, load_generator

    h.clear_sdk_environment()
    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    phases: list[dict[str, str]] = []
    with h.BenchServer(chunks=30) as server:
        for state, setup in zip(STATES, (overhead._tracing_on, overhead._metrics_on), strict=True):
            setup()
            overhead._floor[0] = overhead._Floor(metrics=setup is overhead._metrics_on)
            for backend in backends:
                gen = load_generator(backend, server)
                call = genkit_call(gen)
                for variant in VARIANTS:
                    overhead._telemetry(variant)
                    for _ in range(WARM_UP):
                        call()
                    # Every stretch starts from the same state: no garbage and no queued
                    # spans left by the one before (under callgrind the batch processor's
                    # 5 s export timer fires every few calls).
                    gc.collect()
                    overhead._flush_spans()
                    server.reset()
                    os.getppid()
                    for _ in range(calls):
                        call()
                    os.getppid()
                    sent = server.stats()["requests"]
                    if sent != calls:
                        raise RuntimeError(
                            f"{backend} {variant}: {sent} requests for {calls} calls"
                        )
                    phases.append({"state": state, "backend": backend, "variant": variant})
                gen.close()
    overhead._telemetry(True)
    print(json.dumps(phases))


def main(argv: list[str] | None = None) -> int:
    args = h.parser(__doc__, calls=(60, "counted calls per variant")).parse_args(argv)
    backends = h.hosted_backends(args.backends)
    if os.environ.get(CHILD):
        child(backends, args.calls)
        return 0
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind is not installed: nothing to count with", file=sys.stderr)
        return 2
    h.print_machine(
        "Telemetry's cost per call in instructions (callgrind, non-streaming, sync)",
        packages=("genkit-sdk", "openai", "anthropic", "google-genai", "opentelemetry-sdk"),
        extra=[
            f"{args.calls} counted calls per variant after {WARM_UP} warm-up calls; "
            "PYTHONHASHSEED=0; server in its own (native) process",
        ],
    )
    arguments = ["--calls", str(args.calls), "--backends", *backends]
    counted_run = h.callgrind_stretches(valgrind, "bench.telemetry_instructions", CHILD, arguments)
    if counted_run is None:
        return 1
    phases, stretches = counted_run
    counted = [total / args.calls for total in stretches][: len(phases)]
    per: dict[tuple[str, str], dict[str, float]] = {}
    for phase, count in zip(phases, counted, strict=True):
        per.setdefault((phase["state"], phase["backend"]), {})[phase["variant"]] = count
    rows = []
    for (state, backend), counts in per.items():
        plain, floor, observed = counts["plain"], counts["sdk floor"], counts["telemetry"]
        rows.append(
            [
                state,
                backend,
                f"{plain:,.0f}",
                f"+{floor - plain:,.0f} ({floor / plain:.3f})",
                f"+{observed - plain:,.0f} ({observed / plain:.3f})",
                f"{observed - floor:+,.0f} ({1 + (observed - floor) / plain:.4f})",
                f"{(observed - floor) / (observed - plain):.0%}",
            ]
        )
    h.print_table(
        "Instructions per call (ratio to plain in brackets)",
        [
            "state",
            "backend",
            "plain",
            "SDK floor - plain",
            "genkit telemetry - plain",
            "genkit - SDK floor",
            "genkit's share of the telemetry cost",
        ],
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


if __name__ == "__main__":
    sys.exit(main())
