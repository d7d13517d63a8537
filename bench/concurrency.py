"""Concurrency: requests per second with 1, 10, 100 and 1,000 concurrent async calls.

    python -m bench.concurrency [--levels 1 10 100 1000] [--rounds 4] [--backends openai ...]

Why it is measured this way:

- ``c`` asyncio tasks share one client (one genkit Generator, or one raw async SDK
  client configured like genkit's) and make ``--requests-per-task`` calls each, so
  ``c`` calls are in flight at every moment; requests per second = all calls / wall
  time of the batch;
- the client is one Python thread, so at high concurrency it is CPU-bound: the CPU
  time this process spends per request is reported too (it is what limits throughput,
  and it is robust to other work on a shared machine);
- genkit and raw batches alternate ABBA for ``--rounds`` rounds; rates are medians and
  the ratio is paired (each genkit batch against the raw batch next to it in time);
- the server (own process, own core) counts requests and new connections per batch:
  both sides must have sent exactly one request per call, and the connections column
  shows whether a side's connection pool behaves differently (a pool smaller than the
  concurrency level reconnects; the SDKs keep 100 idle connections).

Target: genkit ≥ 95 % of the raw SDK's requests per second at every level.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Awaitable, Callable

from bench._backends import genkit_acall, load_generator, raw_client
from bench._common import (
    BenchServer,
    LoadMonitor,
    add_common_arguments,
    median,
    pct,
    print_table,
    start_run,
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
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = server.stats()
    if stats["requests"] != total:
        raise RuntimeError(f"expected {total} requests, the server saw {stats['requests']}")
    return total / wall, cpu / total, int(stats["connections"])


def per_task_for(level: int, budget: int) -> int:
    """Calls per task so that a batch has about ``budget`` calls (at least one per task)."""
    return max(1, budget // level)


async def measure(
    backend: str, server: BenchServer, levels: list[int], rounds: int, budget: int
) -> dict[int, dict[str, list[Batch]]]:
    raw = raw_client(backend, server)
    gen = load_generator(backend, server)
    calls = {"raw": raw.acaller(), "genkit": genkit_acall(gen)}
    results: dict[int, dict[str, list[Batch]]] = {}
    for level in levels:
        per_task = per_task_for(level, budget)
        for name in ("raw", "genkit"):  # warm-up: open the pool to this level
            await batch(calls[name], level, 2, server)
        results[level] = {"raw": [], "genkit": []}
        for index in range(rounds):
            for name in ("raw", "genkit") if index % 2 == 0 else ("genkit", "raw"):
                results[level][name].append(await batch(calls[name], level, per_task, server))
    await gen.aclose()
    await raw.aclose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", nargs="*", type=int, default=[1, 10, 100, 1000])
    parser.add_argument("--rounds", type=int, default=4, help="ABBA rounds per level")
    parser.add_argument(
        "--budget", type=int, default=200, help="calls per batch (per side, per round)"
    )
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    backends, _client_core, server_core = start_run(
        "Concurrency (async)",
        args,
        f"levels {args.levels}; about {args.budget} calls per batch; {args.rounds} batches "
        "per side and level, ABBA-interleaved after a warm-up batch; medians",
    )

    rows = []
    failed = False
    monitor = LoadMonitor()
    with BenchServer(cpu=server_core, impl=args.server) as server:
        monitor.watch(server.pid)
        for backend in backends:
            results = asyncio.run(measure(backend, server, args.levels, args.rounds, args.budget))
            for level, sides in results.items():
                raw_rps, raw_cpu, raw_conn = (median(c) for c in zip(*sides["raw"], strict=True))
                gk_rps, gk_cpu, gk_conn = (median(c) for c in zip(*sides["genkit"], strict=True))
                # Paired: each genkit batch against the raw batch next to it in time.
                pairs = list(zip(sides["raw"], sides["genkit"], strict=True))
                ratio = median([g[0] / r[0] for r, g in pairs])
                cpu_ratio = median([r[1] / g[1] for r, g in pairs])
                ok = ratio >= TARGET and cpu_ratio >= TARGET
                failed |= not ok
                rows.append(
                    [
                        backend,
                        f"{level:,}",
                        f"{raw_rps:,.0f}",
                        f"{gk_rps:,.0f}",
                        pct(ratio),
                        us(raw_cpu),
                        us(gk_cpu),
                        pct(cpu_ratio),
                        f"{raw_conn:.0f} / {gk_conn:.0f}",
                        verdict(ok),
                    ]
                )

    print_table(
        "Requests per second at each concurrency level (medians)",
        [
            "backend",
            "concurrent",
            "raw req/s",
            "genkit req/s",
            "genkit/raw",
            "raw CPU µs/req",
            "genkit CPU µs/req",
            "CPU raw/genkit",
            "new connections raw / genkit",
            "target ≥ 95% (both)",
        ],
        rows,
        notes=[
            "genkit/raw (paired) = median over rounds of genkit's rate / the adjacent raw "
            "batch's rate; CPU raw/genkit likewise, for the rate one fully busy core would "
            "sustain.",
            monitor.line(),
        ],
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
