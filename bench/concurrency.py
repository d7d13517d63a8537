"""Concurrency: requests per second with 1, 10, 100 and 1,000 concurrent async calls.

    python -m bench.concurrency [--levels 1 10 100 1000] [--rounds 4] [--backends openai ...]

On the harness (``bench/_common.py``): genkit and raw batches alternate ABBA for
``--rounds`` rounds; rates are medians and the ratio is paired (each genkit batch
against the raw batch next to it in time).  What is this module's own:

- ``c`` asyncio tasks share one client (one genkit Generator, or one raw async SDK
  client configured like genkit's) and make ``--budget / c`` calls each, so ``c`` calls
  are in flight at every moment; requests per second = all calls / wall time of the batch;
- the client is one Python thread, so at high concurrency it is CPU-bound: the CPU
  time this process spends per request is reported too (it is what limits throughput,
  and it is robust to other work on a shared machine);
- the server counts requests and new connections per batch: both sides must have sent
  exactly one request per call, and the connections column shows whether a side's
  connection pool behaves differently (a pool smaller than the concurrency level
  reconnects; the SDKs keep 100 idle connections).

Target: genkit ≥ 95 % of the raw SDK's requests per second at every level.

Two options explain the Gemini rows (figures in bench/README.md):

- ``--raw-pool genkit`` gives the raw google-genai client genkit's pool limits (1,000
  connections, 100 idle: the OpenAI and Anthropic SDKs' own) instead of its own (100, 20),
  so both sides queue the same way and only genkit's layer differs;
- ``--latency SECONDS`` makes the server hold every answer that long, as a real provider
  does while it generates: a client then cannot exceed connections / latency requests per
  second, and a loopback server answering at once cannot show that limit.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable
from functools import partial

from bench._backends import RawGemini, genkit_acall, load_generator, raw_client
from bench._common import (
    BenchServer,
    aabba,
    ameasured,
    begin,
    columns,
    paired,
    parser,
    pct,
    us,
    verdict,
)

TARGET = 0.95

#: One batch: (requests per wall second, CPU seconds per request, connections opened)
Batch = tuple[float, float, int]


async def batch(
    call: Callable[[], Awaitable[str]], concurrency: int, per_task: int, server: BenchServer
) -> Batch:
    async def worker() -> None:
        for _ in range(per_task):
            await call()

    total = concurrency * per_task
    server.reset()
    gc.collect()
    _, wall, cpu = await ameasured(lambda: asyncio.gather(*(worker() for _ in range(concurrency))))
    stats = server.expect(total)
    return total / wall, cpu / total, int(stats["connections"])


async def measure(
    backend: str,
    server: BenchServer,
    levels: list[int],
    rounds: int,
    budget: int,
    raw_pool: str = "sdk",
) -> dict[int, dict[str, list[Batch]]]:
    raw, gen = raw_client(backend, server), load_generator(backend, server)
    if raw_pool == "genkit" and isinstance(raw, RawGemini):  # the others' SDKs have genkit's
        from genkit.backends._transport import POOL_LIMITS

        raw.limits = POOL_LIMITS
    calls = {"raw": raw.acaller(), "genkit": genkit_acall(gen)}
    results: dict[int, dict[str, list[Batch]]] = {}
    for level in levels:
        per_task = max(1, budget // level)  # about ``budget`` calls a batch, one a task at least
        for call in calls.values():  # warm-up: open the pool to this level
            await batch(call, level, 2, server)
        batches = {
            name: partial(batch, call, level, per_task, server) for name, call in calls.items()
        }
        results[level] = await aabba(batches, rounds)
    await gen.aclose()
    await raw.aclose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser_ = parser(
        __doc__,
        rounds=(4, "ABBA rounds per level"),
        budget=(200, "calls per batch (per side, per round)"),
    )
    parser_.add_argument("--levels", nargs="*", type=int, default=[1, 10, 100, 1000])
    parser_.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds the server holds each answer, as a real provider generating (default 0)",
    )
    parser_.add_argument(
        "--raw-pool",
        choices=("sdk", "genkit"),
        default="sdk",
        help="the raw Gemini client's pool limits: its SDK's own, or genkit's",
    )
    args = parser_.parse_args(argv)
    settings = f"levels {args.levels}; server latency {args.latency} s; raw pool: {args.raw_pool}"
    run = begin(
        "Concurrency (async)",
        args,
        f"{settings}; about {args.budget} calls per batch; {args.rounds} batches "
        "per side and level, ABBA-interleaved after a warm-up batch; medians",
    )
    rows = []
    with run.server(latency=args.latency) as server:
        for backend in run.backends:
            results = asyncio.run(
                measure(backend, server, args.levels, args.rounds, args.budget, args.raw_pool)
            )
            for level, sides in results.items():
                raw_rps, raw_cpu, raw_conn = columns(sides["raw"])
                gk_rps, gk_cpu, gk_conn = columns(sides["genkit"])
                ratio = paired(sides["raw"], sides["genkit"], lambda r, g: g[0] / r[0])
                cpu_ratio = paired(sides["raw"], sides["genkit"], lambda r, g: r[1] / g[1])
                ok = run.check(ratio >= TARGET and cpu_ratio >= TARGET)
                conns = f"{raw_conn:.0f} / {gk_conn:.0f}"
                cells = [backend, f"{level:,}", f"{raw_rps:,.0f}", f"{gk_rps:,.0f}", pct(ratio)]
                rows.append([*cells, us(raw_cpu), us(gk_cpu), pct(cpu_ratio), conns, verdict(ok)])
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
