"""Concurrency: requests per second with 1, 10, 100 and 1,000 concurrent async calls.

In a batch, ``c`` tasks share one client (a Generator, or the raw async SDK client configured
like genkit's) and make ``--budget / c`` calls each: requests per second = calls / the
batch's wall time, plus CPU time per request (one Python thread is CPU-bound at high
concurrency) and the connections the server saw opened (one request per call checked).
genkit and raw batches alternate ABBA; medians, ratios paired.  ``--raw-pool genkit`` gives
the raw google-genai client genkit's pool limits (1,000 connections, 100 idle; its own are
100, 20); ``--latency SECONDS`` makes the server hold each answer as a real provider does,
capping a client at connections / latency requests per second (figures in bench/README.md).

Target: genkit ≥ 95 % of the raw SDK's requests per second at every level.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable
from functools import partial

from bench import _common as h
from bench._backends import RawGemini, genkit_call, load_generator, raw_client

TARGET = 0.95
#: One batch: (requests per wall second, CPU seconds per request, connections opened)
Batch = tuple[float, float, int]


def batch(
    loop: asyncio.Runner,
    call: Callable[[], Awaitable[object]],
    concurrency: int,
    per_task: int,
    server: h.BenchServer,
) -> Batch:
    """``concurrency`` tasks making ``per_task`` calls each, timed inside the loop."""

    async def worker() -> None:
        for _ in range(per_task):
            await call()

    total = concurrency * per_task
    server.reset()
    gc.collect()
    _, wall, cpu = loop.run(
        h.ameasured(lambda: asyncio.gather(*(worker() for _ in range(concurrency))))
    )
    return total / wall, cpu / total, int(server.expect(total)["connections"])


def main(argv: list[str] | None = None) -> int:
    parser_ = h.parser(
        __doc__,
        rounds=(4, "ABBA rounds per level"),
        budget=(200, "calls per batch (per side, per round)"),
    )
    parser_.add_argument("--levels", nargs="*", type=int, default=[1, 10, 100, 1000])
    help_ = "seconds the server holds each answer, as a real provider generating (default 0)"
    parser_.add_argument("--latency", type=float, default=0.0, help=help_)
    help_ = "the raw Gemini client's pool limits: its SDK's own, or genkit's"
    parser_.add_argument("--raw-pool", choices=("sdk", "genkit"), default="sdk", help=help_)
    args = parser_.parse_args(argv)
    run = h.begin(
        "Concurrency (async)",
        args,
        f"levels {args.levels}; server latency {args.latency} s; raw pool: {args.raw_pool}; "
        f"about {args.budget} calls per batch; {args.rounds} batches per side and level, "
        "ABBA-interleaved after a warm-up batch; medians",
    )
    rows = []
    with run.server(latency=args.latency) as server, asyncio.Runner() as loop:
        for backend in run.backends:
            raw, gen = raw_client(backend, server), load_generator(backend, server)
            if args.raw_pool == "genkit" and isinstance(raw, RawGemini):  # the others have genkit's
                from genkit.backends._transport import POOL_LIMITS

                raw.limits = POOL_LIMITS
            calls = {"raw": raw.caller("async"), "genkit": genkit_call(gen, "async")}
            for level in args.levels:
                per_task = max(1, args.budget // level)  # about ``budget`` calls a batch
                for call in calls.values():  # warm-up: open the pool to this level
                    batch(loop, call, level, 2, server)
                batches = {
                    name: partial(batch, loop, call, level, per_task, server)
                    for name, call in calls.items()
                }
                sides = h.abba(batches, args.rounds)
                raw_rps, raw_cpu, raw_conn = h.columns(sides["raw"])
                gk_rps, gk_cpu, gk_conn = h.columns(sides["genkit"])
                ratio = h.paired(sides["raw"], sides["genkit"], lambda r, g: g[0] / r[0])
                cpu_ratio = h.paired(sides["raw"], sides["genkit"], lambda r, g: r[1] / g[1])
                ok = run.check(ratio >= TARGET and cpu_ratio >= TARGET)
                rates = [f"{level:,}", f"{raw_rps:,.0f}", f"{gk_rps:,.0f}", h.pct(ratio)]
                cpu = [h.us(raw_cpu), h.us(gk_cpu), h.pct(cpu_ratio)]
                connections = f"{raw_conn:.0f} / {gk_conn:.0f}"
                rows.append([backend, *rates, *cpu, connections, h.verdict(ok)])
            loop.run(gen.aclose())
            loop.run(raw.aclose())
    run.table(
        "Requests per second at each concurrency level (medians)",
        "backend | concurrent | raw req/s | genkit req/s | genkit/raw | raw CPU µs/req "
        "| genkit CPU µs/req | CPU raw/genkit | new connections raw / genkit "
        "| target ≥ 95% (both)",
        rows,
        notes=[
            "genkit/raw (paired) = median over rounds of genkit's rate / the adjacent raw "
            "batch's rate; CPU raw/genkit likewise, for the rate one fully busy core would "
            "sustain."
        ],
        footer=True,
    )
    return run.status


if __name__ == "__main__":
    sys.exit(main())
