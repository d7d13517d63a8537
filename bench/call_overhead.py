"""Per-call overhead: ``gen.generate`` / ``gen.agenerate`` against the raw SDK, same request.

    python -m bench.call_overhead [--calls 5] [--rounds 300] [--backends openai ...]

On the harness (``bench/_common.py``): every call timed on its own (wall and CPU), in
blocks of ``--calls``; genkit and raw blocks alternate ABBA for ``--rounds`` rounds,
each block checked to have sent one request per call.  What is this module's own:

- the raw SDK client is configured as genkit configures its own (``max_retries=0``,
  same base URL and key, default timeouts) and sends the same body, which a wire check
  against ``fakeprovider`` shows first (``--no-wire-check`` skips it); genkit runs with
  its defaults (``max_retries=2``; the first attempt never touches tenacity);
- reported: median and p90 per call, the difference of the medians, and the *paired*
  difference (median over rounds of the per-round difference), which cancels drift
  best; the verdict uses the paired difference (ratio = 1 + paired Δ / raw median);
- A/A rows: the raw SDK against a second raw client in genkit's slot, the noise floor.

Target: genkit's median within 5 % of the raw SDK's and within 100 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import genkit
from bench._backends import (
    SHAPES,
    Ask,
    RawClient,
    Shape,
    genkit_acall,
    genkit_call,
    load_generator,
    raw_client,
    wire_check,
)
from bench._common import (
    GC_EVERY,
    BenchServer,
    Interleaved,
    Run,
    acompare_calls,
    acounted,
    begin,
    compare_calls,
    counted,
    median,
    parser,
    percentile,
    signed_us,
    us,
    verdict,
)

# Kept importable from here: bench.telemetry_overhead and bench.fallback_overhead use them.
__all__ = ["GC_EVERY", "acounted", "counted", "main"]

RATIO_TARGET = 1.05
ABSOLUTE_TARGET = 100e-6  # seconds
TARGET = "genkit ≤ 1.05 x raw and ≤ +100 µs"
WIRE_HEADERS = "headers that differ (besides content-length)"


def meets(result: Interleaved, cpu: bool) -> bool:
    return (
        result.ratio("genkit", "raw", cpu=cpu) <= RATIO_TARGET
        and result.paired("genkit", "raw", cpu=cpu) <= ABSOLUTE_TARGET
    )


def cells(label: tuple[str, str, str], result: Interleaved, cpu: bool) -> list[str]:
    samples = result.cpu if cpu else result.wall
    raw, gk = samples["raw"], samples["genkit"]
    p90 = [] if cpu else [us(percentile(raw, 90)), us(percentile(gk, 90))]
    return [
        *label,
        us(median(raw)),
        us(median(gk)),
        signed_us(median(gk) - median(raw)),
        signed_us(result.paired("genkit", "raw", cpu=cpu)),
        *p90,
        f"{result.ratio('genkit', 'raw', cpu=cpu):.3f}",
        verdict(meets(result, cpu)),
    ]


@dataclass(frozen=True)
class Variant:
    """Another request in place of the plain one (tools, a schema), the same on both sides:
    ``ask`` is the raw SDK's way of sending it, ``call``/``acall`` genkit's."""

    ask: Callable[[RawClient], Ask]
    call: Callable[[genkit.Generator], Callable[[], object]]
    acall: Callable[[genkit.Generator], Callable[[], Awaitable[object]]]


def measure(
    backend: str,
    shape: Shape,
    mode: str,
    server: BenchServer,
    calls: int,
    rounds: int,
    control: bool,
    variant: Variant | None = None,
) -> Interleaved:
    """genkit vs raw; with ``control``, raw vs a second raw client (an A/A noise check)."""
    raw, other = raw_client(backend, server), raw_client(backend, server)
    ask, other_ask = (None, None) if variant is None else (variant.ask(raw), variant.ask(other))
    if mode == "sync":
        gen = None if control else load_generator(backend, server)
        call: Callable[[], object]
        if gen is None:
            call = other.caller(shape, other_ask)
        else:
            call = genkit_call(gen, shape) if variant is None else variant.call(gen)
        if not control and raw.caller(shape, ask)() != call():
            raise RuntimeError("genkit and the raw SDK disagree on the answer")
        return compare_calls(server, {"raw": raw.caller(shape, ask), "genkit": call}, calls, rounds)

    async def run() -> Interleaved:
        gen = None if control else load_generator(backend, server)
        acall: Callable[[], Awaitable[object]]
        if gen is None:
            acall = other.acaller(shape, other_ask)
        else:
            acall = genkit_acall(gen, shape) if variant is None else variant.acall(gen)
        if not control and await raw.acaller(shape, ask)() != await acall():
            raise RuntimeError("genkit and the raw SDK disagree on the answer")
        calls_ = {"raw": raw.acaller(shape, ask), "genkit": acall}
        result = await acompare_calls(server, calls_, calls, rounds)
        for client in (raw, other, gen):
            if client is not None:
                await client.aclose()
        return result

    return asyncio.run(run())


def report(
    run: Run, rows: list[tuple[tuple[str, str, str], Interleaved]], target: str = TARGET
) -> None:
    """The wall-clock and CPU tables of per-call rows (A/A rows included)."""
    head = ["backend", "mode", "request", "raw median", "genkit median", "Δ median", "Δ paired"]
    tail = ["genkit/raw (paired)", "target"]
    run.table(
        f"Wall clock per call, µs (target: {target})",
        [*head, "raw p90", "genkit p90", *tail],
        [cells(label, result, False) for label, result in rows],
        notes=[
            "Δ paired = median over rounds of (genkit block median - raw block median); "
            "genkit/raw (paired) = 1 + Δ paired / raw median; the target uses these.",
            "A/A rows time the raw SDK against a second raw client in the genkit slot: "
            "the noise floor of this run.",
            "Every block was checked: the server saw exactly one request per call.",
        ],
    )
    run.table(
        "Client CPU time per call, µs (same target; robust to other load on the machine)",
        [*head, *tail],
        [cells(label, result, True) for label, result in rows],
        footer=True,
    )


def overhead_parser(doc: str | None, rounds: int = 300) -> argparse.ArgumentParser:
    """The per-call options every per-call benchmark shares (this one and its variants)."""
    parser_ = parser(
        doc,
        modes=("sync", "async"),
        calls=(5, "calls per block: short blocks alternate often, so drift cancels in the pairs"),
        rounds=(rounds, "ABBA rounds"),
    )
    parser_.add_argument(
        "--no-control",
        action="store_true",
        help="skip the A/A rows (raw SDK vs a second raw client: the noise floor)",
    )
    parser_.add_argument(
        "--no-wire-check",
        action="store_true",
        help="skip comparing genkit's and the raw SDK's requests on fakeprovider",
    )
    return parser_


def wire_table(run: Run, rows: list[list[str]]) -> None:
    run.table(
        "Same request? Each call made once each way against fakeprovider",
        ["backend", "request", "same method/path/query", "same JSON body", WIRE_HEADERS],
        rows,
    )


def per_call(
    run: Run,
    backends: Sequence[str],
    shapes: Sequence[Shape] = ("plain",),
    variant: Variant | None = None,
    request: str | None = None,
) -> list[tuple[tuple[str, str, str], Interleaved]]:
    """A/A rows (unless ``--no-control``), then genkit vs raw per backend, shape and mode;
    ``request`` names a ``variant``'s request in the tables.  Records the targets."""
    args = run.args
    # (backend label, mode, shape, control)
    plan: list[tuple[str, str, Shape, bool]] = []
    if backends and not args.no_control:
        plan = [(f"{backends[0]} A/A", mode, shapes[0], True) for mode in args.modes]
    plan += [(b, m, s, False) for b in backends for s in shapes for m in args.modes]
    rows: list[tuple[tuple[str, str, str], Interleaved]] = []
    with run.server() as server:
        for label, mode, shape, control in plan:
            backend = label.split()[0]
            result = measure(
                backend, shape, mode, server, args.calls, args.rounds, control, variant
            )
            rows.append(((label, mode, request or shape), result))
            if not control:
                run.check(meets(result, False) and meets(result, True))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser_ = overhead_parser(__doc__)
    parser_.add_argument(
        "--shapes",
        nargs="*",
        choices=SHAPES,
        default=list(SHAPES),
        help="plain: the prompt alone; params: system prompt + temperature + max_tokens",
    )
    args = parser_.parse_args(argv)
    run = begin(
        "Per-call overhead (non-streaming)",
        args,
        f"{args.rounds} rounds x {args.calls} calls per side, mode and request shape, "
        "ABBA-interleaved, after 50 warm-up calls each; every call timed on its own "
        "(wall clock and this process's CPU time)",
        "raw SDK: max_retries=0, same base URL/key/body; genkit: its defaults",
    )
    if not args.no_wire_check:
        wire_table(run, wire_check(run.backends))
    report(run, per_call(run, run.backends, args.shapes))
    return run.status


if __name__ == "__main__":
    sys.exit(main())
