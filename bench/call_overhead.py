"""Per-call overhead: ``gen.generate`` / ``gen.agenerate`` against the raw SDK, same request.

    python -m bench.call_overhead [--calls 200] [--rounds 20] [--backends openai ...]

Why it is measured this way:

- the raw SDK client is configured as genkit configures its own (``max_retries=0``,
  same base URL and key, default timeouts) and sends the same body; genkit runs with
  its defaults (``max_retries=2``; the first attempt never touches tenacity);
- every call is timed on its own, in short blocks of ``--calls`` (5); genkit and raw
  blocks alternate in ABBA order for ``--rounds`` rounds (300), so drift - and this
  shared VM's speed drifts by tens of percent from one second to the next - lands on
  both sides of every pair;
- reported: median and p90 per call, the difference of the medians, and the *paired*
  difference (median over rounds of the per-round difference), which cancels drift
  best; the verdict uses the paired difference (ratio = 1 + paired Δ / raw median);
- the server answers from pre-rendered bytes in its own process on its own core
  (``fakeprovider/lean.py``), so its cost and its jitter are as small as they can be and
  a few microseconds of client overhead are visible; ``--server fakeprovider`` runs
  the same comparison against the project's test server;
- before every block the server's request counter is reset and checked after it, so
  each side provably sent exactly one request per call.

Target: genkit's median within 5 % of the raw SDK's and within 100 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import genkit
from bench._backends import (
    SHAPES,
    RawClient,
    Shape,
    genkit_acall,
    genkit_call,
    load_generator,
    raw_client,
    wire_check,
)
from bench._common import (
    BenchServer,
    Interleaved,
    LoadMonitor,
    Sample,
    add_common_arguments,
    ainterleave,
    atimed,
    interleave,
    median,
    percentile,
    print_table,
    signed_us,
    start_run,
    timed,
    us,
    verdict,
)

#: Rounds between two gc.collect() calls (made outside the timing).
GC_EVERY = 25
RATIO_TARGET = 1.05
ABSOLUTE_TARGET = 100e-6  # seconds


def meets(raw: float, gk: float) -> bool:
    return gk / raw <= RATIO_TARGET and gk - raw <= ABSOLUTE_TARGET


@dataclass
class Row:
    backend: str
    mode: str
    shape: str
    result: Interleaved
    a: str = "raw"
    b: str = "genkit"

    def _figures(self, cpu: bool) -> tuple[list[float], list[float], float]:
        samples = self.result.cpu if cpu else self.result.wall
        return samples[self.a], samples[self.b], self.result.paired(self.b, self.a, cpu=cpu)

    def wall_cells(self) -> list[str]:
        raw, gk, paired = self._figures(cpu=False)
        raw_med, gk_med = median(raw), median(gk)
        return [
            self.backend,
            self.mode,
            self.shape,
            us(raw_med),
            us(gk_med),
            signed_us(gk_med - raw_med),
            signed_us(paired),
            us(percentile(raw, 90)),
            us(percentile(gk, 90)),
            f"{1 + paired / raw_med:.3f}",
            verdict(meets(raw_med, raw_med + paired)),
        ]

    def cpu_cells(self) -> list[str]:
        raw, gk, paired = self._figures(cpu=True)
        raw_med, gk_med = median(raw), median(gk)
        return [
            self.backend,
            self.mode,
            self.shape,
            us(raw_med),
            us(gk_med),
            signed_us(gk_med - raw_med),
            signed_us(paired),
            f"{1 + paired / raw_med:.3f}",
            verdict(meets(raw_med, raw_med + paired)),
        ]

    def ok(self) -> tuple[bool, bool]:
        results = []
        for cpu in (False, True):
            raw, _, paired = self._figures(cpu)
            results.append(meets(median(raw), median(raw) + paired))
        return results[0], results[1]


def counted(server: BenchServer, block: Callable[[], list[Sample]], n: int) -> list[Sample]:
    """Run a block and check the server saw exactly one request per call."""
    server.reset()
    samples = block()
    seen = server.stats()["requests"]
    if seen != n:
        raise RuntimeError(f"expected {n} requests, the server saw {seen}")
    return samples


async def acounted(
    server: BenchServer, block: Callable[[], Awaitable[list[Sample]]], n: int
) -> list[Sample]:
    server.reset()
    samples = await block()
    seen = server.stats()["requests"]
    if seen != n:
        raise RuntimeError(f"expected {n} requests, the server saw {seen}")
    return samples


def measure_sync(
    backend: str,
    shape: Shape,
    server: BenchServer,
    calls: int,
    rounds: int,
    control: bool = False,
) -> Interleaved:
    """genkit vs raw; with ``control``, raw vs a second raw client (an A/A noise check)."""
    raw = raw_client(backend, server)
    raw_call = raw.caller(shape)
    if control:
        other_call = raw_client(backend, server).caller(shape)
    else:
        gen = load_generator(backend, server)
        other_call = genkit_call(gen, shape)
        if raw_call() != other_call():
            raise RuntimeError("genkit and the raw SDK disagree on the answer")
    timed(raw_call, 50)  # warm-up: connections, lazy imports, pydantic caches
    timed(other_call, 50)
    return interleave(
        {
            "raw": lambda: counted(server, lambda: timed(raw_call, calls), calls),
            "genkit": lambda: counted(server, lambda: timed(other_call, calls), calls),
        },
        rounds,
        gc_every=GC_EVERY,
    )


def measure_async(
    backend: str,
    shape: Shape,
    server: BenchServer,
    calls: int,
    rounds: int,
    control: bool = False,
) -> Interleaved:
    async def run() -> Interleaved:
        raw = raw_client(backend, server)
        raw_call = raw.acaller(shape)
        other: RawClient | genkit.Generator | None = None
        if control:
            other = raw_client(backend, server)
            other_call = other.acaller(shape)
        else:
            gen = other = load_generator(backend, server)
            other_call = genkit_acall(gen, shape)
            if await raw_call() != await other_call():
                raise RuntimeError("genkit and the raw SDK disagree on the answer")
        await atimed(raw_call, 50)
        await atimed(other_call, 50)
        result = await ainterleave(
            {
                "raw": lambda: acounted(server, lambda: atimed(raw_call, calls), calls),
                "genkit": lambda: acounted(server, lambda: atimed(other_call, calls), calls),
            },
            rounds,
            gc_every=GC_EVERY,
        )
        await raw.aclose()
        if other is not None:
            await other.aclose()
        return result

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls",
        type=int,
        default=5,
        help="calls per block: short blocks alternate often, so drift cancels in the pairs",
    )
    parser.add_argument("--rounds", type=int, default=300, help="ABBA rounds")
    parser.add_argument("--modes", nargs="*", choices=("sync", "async"), default=["sync", "async"])
    parser.add_argument(
        "--shapes",
        nargs="*",
        choices=SHAPES,
        default=list(SHAPES),
        help="plain: the prompt alone; params: system prompt + temperature + max_tokens",
    )
    parser.add_argument(
        "--no-control",
        action="store_true",
        help="skip the A/A rows (raw SDK vs a second raw client: the noise floor)",
    )
    parser.add_argument(
        "--no-wire-check",
        action="store_true",
        help="skip comparing genkit's and the raw SDK's requests on fakeprovider",
    )
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    backends, _client_core, server_core = start_run(
        "Per-call overhead (non-streaming)",
        args,
        f"{args.rounds} rounds x {args.calls} calls per side, mode and request shape, "
        "ABBA-interleaved, after 50 warm-up calls each; every call timed on its own "
        "(wall clock and this process's CPU time)",
        "raw SDK: max_retries=0, same base URL/key/body; genkit: its defaults",
    )

    if not args.no_wire_check:
        print_table(
            "Same request? Each call made once each way against fakeprovider",
            [
                "backend",
                "shape",
                "same method/path/query",
                "same JSON body",
                "headers that differ (besides content-length)",
            ],
            wire_check(backends),
        )

    rows: list[Row] = []
    monitor = LoadMonitor()
    with BenchServer(chunks=30, cpu=server_core, impl=args.server) as server:
        monitor.watch(server.pid)
        if backends and not args.no_control:
            first = backends[0]
            for mode, measure in (("sync", measure_sync), ("async", measure_async)):
                if mode in args.modes:
                    result = measure(first, "plain", server, args.calls, args.rounds, True)
                    rows.append(Row(f"{first} A/A", mode, "plain", result))
        for backend in backends:
            for shape in args.shapes:
                if "sync" in args.modes:
                    result = measure_sync(backend, shape, server, args.calls, args.rounds)
                    rows.append(Row(backend, "sync", shape, result))
                if "async" in args.modes:
                    result = measure_async(backend, shape, server, args.calls, args.rounds)
                    rows.append(Row(backend, "async", shape, result))

    print_table(
        "Wall clock per call, µs (target: genkit ≤ 1.05 x raw and ≤ +100 µs)",
        [
            "backend",
            "mode",
            "request",
            "raw median",
            "genkit median",
            "Δ median",
            "Δ paired",
            "raw p90",
            "genkit p90",
            "genkit/raw (paired)",
            "target",
        ],
        [row.wall_cells() for row in rows],
        notes=[
            "Δ paired = median over rounds of (genkit block median - raw block median); "
            "genkit/raw (paired) = 1 + Δ paired / raw median; the target uses these.",
            "A/A rows time the raw SDK against a second raw client in the genkit slot: "
            "the noise floor of this run.",
            "Every block was checked: the server saw exactly one request per call.",
        ],
    )
    print_table(
        "Client CPU time per call, µs (same target; robust to other load on the machine)",
        [
            "backend",
            "mode",
            "request",
            "raw median",
            "genkit median",
            "Δ median",
            "Δ paired",
            "genkit/raw (paired)",
            "target",
        ],
        [row.cpu_cells() for row in rows],
        notes=[monitor.line()],
    )
    measured = [row.ok() for row in rows if "A/A" not in row.backend]
    return 0 if all(wall and cpu for wall, cpu in measured) else 1


if __name__ == "__main__":
    sys.exit(main())
