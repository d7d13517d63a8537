"""Per-call overhead: ``gen.generate`` / ``gen.agenerate`` against the raw SDK, same request.

The raw SDK client is configured as genkit configures its own (``max_retries=0``, same base
URL, key and body: a wire check against ``fakeprovider`` shows it first, ``--no-wire-check``
skips it); genkit runs with its defaults.  Blocks of ``--calls`` calls, each call timed on
its own (wall and CPU), alternate ABBA for ``--rounds`` rounds.  Reported: median and p90,
the difference of the medians and the *paired* difference (median over rounds of the
per-round difference), which cancels drift best and which the verdict uses (ratio = 1 +
paired Δ / raw median); A/A rows (raw against a second raw client) show the noise floor.
``bench.tools`` and ``bench.structured`` run the same method on other requests (:class:`Variant`).

Target: genkit's median within 5 % of the raw SDK's and within 100 µs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import genkit
from bench import _common as h
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

RATIO_TARGET, ABSOLUTE_TARGET = 1.05, 100e-6
TARGET = "genkit ≤ 1.05 x raw and ≤ +100 µs"
Row = tuple[tuple[str, str, str], h.Interleaved]


def meets(result: h.Interleaved, cpu: bool) -> bool:
    ratio, delta = result.ratio("genkit", "raw", cpu=cpu), result.paired("genkit", "raw", cpu=cpu)
    return ratio <= RATIO_TARGET and delta <= ABSOLUTE_TARGET


def cells(label: tuple[str, str, str], result: h.Interleaved, cpu: bool) -> list[str]:
    samples = result.cpu if cpu else result.wall
    raw, gk = samples["raw"], samples["genkit"]
    p90 = [] if cpu else [h.us(h.percentile(raw, 90)), h.us(h.percentile(gk, 90))]
    delta = [
        h.signed_us(h.median(gk) - h.median(raw)),
        h.signed_us(result.paired("genkit", "raw", cpu=cpu)),
    ]
    ratio = f"{result.ratio('genkit', 'raw', cpu=cpu):.3f}"
    return [
        *label,
        h.us(h.median(raw)),
        h.us(h.median(gk)),
        *delta,
        *p90,
        ratio,
        h.verdict(meets(result, cpu)),
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


#: A row's two sides for one mode, ``{name: call}``, and the clients to close after it.
Sides = tuple[dict[str, Callable[[], Any]], list[Any]]


def genkit_vs_raw(variant: Variant | None = None) -> Callable[..., Sides]:
    """genkit against the raw SDK; with ``control``, a second raw client in genkit's slot."""

    def sides(backend: str, mode: str, shape: Shape, control: bool, server: Any) -> Sides:
        raw, other = raw_client(backend, server), raw_client(backend, server)
        ask = (lambda client: None) if variant is None else variant.ask
        base = raw.caller(mode, shape, ask(raw))
        if control:
            return {"raw": base, "genkit": other.caller(mode, shape, ask(other))}, [raw, other]
        gen = load_generator(backend, server)
        call = genkit_call(gen, mode, shape) if variant is None else variant.call(gen, mode)
        return {"raw": base, "genkit": call}, [raw, other, gen]

    return sides


def measure(sides: Sides, mode: str, server: Any, args: Any) -> h.Interleaved:
    """Each side once (both must give the same answer), then :func:`compare_calls`."""
    calls, clients = sides
    with h.runner(mode) as loop:
        if len({repr(h.once(call, loop)) for call in calls.values()}) != 1:
            raise RuntimeError(f"{' and '.join(calls)} disagree on the answer")
        result = h.compare_calls(server, calls, args.calls, args.rounds, loop)
        for client in clients:
            if loop is not None:
                loop.run(client.aclose())
            client.close()
    return result


def report(run: h.Run, rows: list[Row], target: str = TARGET) -> None:
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


def overhead_parser(doc: str | None, flags: Sequence[str] = ("no_control", "no_wire_check")) -> Any:
    """The options every per-call benchmark shares (this one and its variants)."""
    calls = (5, "calls per block: short blocks alternate often, so drift cancels in the pairs")
    return h.parser(
        doc, modes=("sync", "async"), flags=flags, calls=calls, rounds=(300, "ABBA rounds")
    )


def wire_table(run: h.Run, rows: list[list[str]]) -> None:
    run.table(
        "Same request? Each call made once each way against fakeprovider",
        "backend | request | same method/path/query | same JSON body "
        "| headers that differ (besides content-length)",
        rows,
    )


def per_call(
    run: h.Run,
    backends: Sequence[str],
    shapes: Sequence[Shape] = ("plain",),
    request: str | None = None,
    sides: Callable[..., Sides] | None = None,
    meets: Callable[[h.Interleaved, bool], bool] = meets,
) -> list[Row]:
    """A/A rows (unless ``--no-control``), then both ``sides`` per backend, shape and mode;
    ``request`` names the request in the tables.  Records the targets (``meets``)."""
    args, first, sides = run.args, backends[:1], sides or genkit_vs_raw()
    plan = (
        []
        if args.no_control
        else [(f"{b} A/A", m, shapes[0], True) for b in first for m in args.modes]
    )
    plan += [(b, m, s, False) for b in backends for s in shapes for m in args.modes]
    rows: list[Row] = []
    with run.server() as server:
        for label, mode, shape, control in plan:
            result = measure(
                sides(label.split()[0], mode, shape, control, server), mode, server, args
            )
            rows.append(((label, mode, request or shape), result))
            if not control:
                run.check(meets(result, False) and meets(result, True))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = overhead_parser(__doc__).parse_args(argv)
    run = h.begin(
        "Per-call overhead (non-streaming)",
        args,
        f"{args.rounds} rounds x {args.calls} calls per side, mode and request shape, "
        "ABBA-interleaved, after 50 warm-up calls each; every call timed on its own "
        "(wall clock and this process's CPU time)",
        "raw SDK: max_retries=0, same base URL/key/body; genkit: its defaults",
    )
    if not args.no_wire_check:
        wire_table(run, wire_check(run.backends))
    report(run, per_call(run, run.backends, SHAPES))
    return run.status


if __name__ == "__main__":
    sys.exit(main())
