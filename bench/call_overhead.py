"""Per-call overhead: ``gen.generate`` / ``gen.agenerate`` against the raw SDK, same request.

    python -m bench.call_overhead [--calls 5] [--rounds 300] [--backends openai ...]

On the harness (``bench/_common.py``: every call timed on its own, wall and CPU, in blocks
of ``--calls``; genkit and raw blocks ABBA for ``--rounds`` rounds, each block checked to
have sent one request per call).  The raw SDK client is configured as genkit configures its
own (``max_retries=0``, same base URL and key, default timeouts) and sends the same body, as
a wire check against ``fakeprovider`` shows first (``--no-wire-check`` skips it); genkit runs
with its defaults (``max_retries=2``; the first attempt never touches tenacity).  Reported:
median and p90 per call, the difference of the medians, and the *paired* difference (median
over rounds of the per-round difference), which cancels drift best and which the verdict
uses (ratio = 1 + paired Δ / raw median); A/A rows time the raw SDK against a second raw
client in genkit's slot: the noise floor.  ``bench.tools`` and ``bench.structured`` run the
same method on other requests (:class:`Variant`).

Target: genkit's median within 5 % of the raw SDK's and within 100 µs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import genkit
from bench._backends import (
    SHAPES,
    Ask,
    RawClient,
    Shape,
    WireCase,
    genkit_call,
    load_generator,
    raw_client,
    text,
    wire_check,
)
from bench._common import (
    Interleaved,
    Run,
    begin,
    compare_calls,
    median,
    once,
    parser,
    percentile,
    runner,
    signed_us,
    us,
    verdict,
)

RATIO_TARGET, ABSOLUTE_TARGET = 1.05, 100e-6
TARGET = "genkit ≤ 1.05 x raw and ≤ +100 µs"
Row = tuple[tuple[str, str, str], Interleaved]


def meets(result: Interleaved, cpu: bool) -> bool:
    ratio, delta = result.ratio("genkit", "raw", cpu=cpu), result.paired("genkit", "raw", cpu=cpu)
    return ratio <= RATIO_TARGET and delta <= ABSOLUTE_TARGET


def cells(label: tuple[str, str, str], result: Interleaved, cpu: bool) -> list[str]:
    samples = result.cpu if cpu else result.wall
    raw, gk = samples["raw"], samples["genkit"]
    p90 = [] if cpu else [us(percentile(raw, 90)), us(percentile(gk, 90))]
    delta = [
        signed_us(median(gk) - median(raw)),
        signed_us(result.paired("genkit", "raw", cpu=cpu)),
    ]
    ratio = f"{result.ratio('genkit', 'raw', cpu=cpu):.3f}"
    return [
        *label,
        us(median(raw)),
        us(median(gk)),
        *delta,
        *p90,
        ratio,
        verdict(meets(result, cpu)),
    ]


@dataclass(frozen=True)
class Variant:
    """Another request in place of the plain one (tools, a schema), the same on both sides:
    ``ask`` is the raw SDK's way of sending it; genkit gets ``kwargs`` and ``read``s the answer."""

    ask: Callable[[RawClient], Ask]
    read: Callable[[Any], Any] = text
    kwargs: dict[str, Any] = field(default_factory=dict)

    def call(self, gen: genkit.Generator, mode: str = "sync") -> Callable[[], Any]:
        return genkit_call(gen, mode, read=self.read, **self.kwargs)

    def cases(self, label: str, gen: genkit.Generator, raw: RawClient) -> list[WireCase]:
        """The wire check's case: this request made once each way."""
        return [(label, raw.caller(ask=self.ask(raw)), self.call(gen))]


def measure(
    backend: str,
    shape: Shape,
    mode: str,
    server: Any,
    args: Any,
    control: bool,
    variant: Variant | None,
) -> Interleaved:
    """genkit vs raw; with ``control``, raw vs a second raw client (an A/A noise check)."""
    raw, other = raw_client(backend, server), raw_client(backend, server)
    ask = None if variant is None else variant.ask(raw)
    gen = None if control else load_generator(backend, server)
    with runner(mode) as loop:
        if gen is None:
            call = other.caller(mode, shape, None if variant is None else variant.ask(other))
        else:
            call = genkit_call(gen, mode, shape) if variant is None else variant.call(gen, mode)
        base = raw.caller(mode, shape, ask)
        if not control and once(base, loop) != once(call, loop):
            raise RuntimeError("genkit and the raw SDK disagree on the answer")
        result = compare_calls(server, {"raw": base, "genkit": call}, args.calls, args.rounds, loop)
        for client in (raw, other, gen):
            if client is not None and loop is not None:
                loop.run(client.aclose())
    return result


def report(run: Run, rows: list[Row], target: str = TARGET) -> None:
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


def overhead_parser(doc: str | None, rounds: int = 300) -> Any:
    """The options every per-call benchmark shares (this one and its variants)."""
    calls = (5, "calls per block: short blocks alternate often, so drift cancels in the pairs")
    flags = ("no_control", "no_wire_check")
    return parser(
        doc, modes=("sync", "async"), flags=flags, calls=calls, rounds=(rounds, "ABBA rounds")
    )


def wire_table(run: Run, rows: list[list[str]]) -> None:
    run.table(
        "Same request? Each call made once each way against fakeprovider",
        "backend | request | same method/path/query | same JSON body "
        "| headers that differ (besides content-length)",
        rows,
    )


def per_call(
    run: Run,
    backends: Sequence[str],
    shapes: Sequence[Shape] = ("plain",),
    variant: Variant | None = None,
    request: str | None = None,
) -> list[Row]:
    """A/A rows (unless ``--no-control``), then genkit vs raw per backend, shape and mode;
    ``request`` names a ``variant``'s request in the tables.  Records the targets."""
    args = run.args
    plan = (
        []
        if not backends or args.no_control
        else [(f"{backends[0]} A/A", m, shapes[0], True) for m in args.modes]
    )
    plan += [(b, m, s, False) for b in backends for s in shapes for m in args.modes]
    rows: list[Row] = []
    with run.server() as server:
        for label, mode, shape, control in plan:
            result = measure(label.split()[0], shape, mode, server, args, control, variant)
            rows.append(((label, mode, request or shape), result))
            if not control:
                run.check(meets(result, False) and meets(result, True))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser_ = overhead_parser(__doc__)
    help_ = "plain: the prompt alone; params: system prompt + temperature + max_tokens"
    parser_.add_argument("--shapes", nargs="*", choices=SHAPES, default=list(SHAPES), help=help_)
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
