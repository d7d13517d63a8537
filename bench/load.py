"""Load and memory: one Generator under heavy concurrency, and 10,000 calls in a row.

    python -m bench.load                     # every hosted backend, the issue's figures
    python -m bench.load --backends openai --concurrent 200 --sequential 2000   # quicker

For each hosted backend, against the lean benchmark server in its own process (so
the server's memory and CPU are not this process's):

- 1,000 concurrent ``agenerate`` calls and 200 concurrent ``astream`` streams on one
  Generator, two bursts back to back: errors, wall time, and TCP connections the
  server accepted (a pooled client opens one per in-flight request in the first burst
  and reuses them in the second);
- the same from 32 threads with the sync API;
- resident memory (VmRSS) across 10,000 sequential calls, sampled every 2,500 after a
  warm-up: "flat" means the last sample is within the noise band of the first.

A run prints tables and exits 1 if any call failed or memory grew beyond the band.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import genkit
from bench._backends import load_generator
from bench._common import (
    BenchServer,
    clear_sdk_environment,
    hosted_backends,
    print_machine,
    print_table,
)

#: Concurrent bursts per case, back to back on one Generator.
ROUNDS = 2

#: Growth allowed across the sequential run: allocator noise, not a leak.
RSS_NOISE_MB = 3.0


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _concurrent_calls(gen: genkit.Generator, n: int, streaming: bool) -> tuple[int, float]:
    async def one(i: int) -> str:
        if streaming:
            stream = gen.astream(f"story {i}")
            async for _chunk in stream:
                pass
            return stream.result.text
        return (await gen.agenerate(f"story {i}")).text

    started = time.perf_counter()
    outcomes: list[Any] = []
    for _round in range(ROUNDS):  # the second round must reuse the first round's connections
        outcomes += await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    for error in errors[:3]:
        print(f"  error: {type(error).__name__}: {error}", file=sys.stderr)
    await gen.aclose()
    return len(errors), elapsed


def _threaded_calls(
    gen: genkit.Generator, threads: int, per_thread: int, streaming: bool
) -> tuple[int, float]:
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        for i in range(per_thread):
            try:
                if streaming:
                    with gen.stream(f"story {i}") as stream:
                        for _chunk in stream:
                            pass
                else:
                    gen.generate(f"story {i}")
            except Exception as error:
                with lock:
                    errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(errors), time.perf_counter() - started


def _measure(
    label: str, server: BenchServer, calls: int, run: Callable[[], tuple[int, float]]
) -> list[str]:
    server.reset()
    errors, elapsed = run()
    stats = server.stats()
    return [
        label,
        str(calls),
        str(errors),
        f"{elapsed:.2f} s",
        f"{calls / elapsed:,.0f}/s",
        str(stats["requests"]),
        str(stats["connections"]),
    ]


def load_rows(provider: str, server: BenchServer, args: argparse.Namespace) -> list[list[str]]:
    rows: list[list[str]] = []
    n, streams = args.concurrent, args.streams
    threads, per_thread = args.threads, args.per_thread
    cases: list[tuple[str, int, Callable[[], tuple[int, float]]]] = [
        (
            f"{provider} async agenerate x{n}, {ROUNDS} rounds",
            n * ROUNDS,
            lambda: asyncio.run(_concurrent_calls(load_generator(provider, server), n, False)),
        ),
        (
            f"{provider} async astream x{streams}, {ROUNDS} rounds",
            streams * ROUNDS,
            lambda: asyncio.run(_concurrent_calls(load_generator(provider, server), streams, True)),
        ),
        (
            f"{provider} {threads} threads generate",
            threads * per_thread,
            lambda: _threaded_calls(load_generator(provider, server), threads, per_thread, False),
        ),
        (
            f"{provider} {threads} threads stream",
            threads * per_thread,
            lambda: _threaded_calls(load_generator(provider, server), threads, per_thread, True),
        ),
    ]
    for label, calls, run in cases:
        rows.append(_measure(label, server, calls, run))
        print(f"  done: {label}", file=sys.stderr)
    return rows


def memory_row(provider: str, server: BenchServer, sequential: int) -> tuple[list[str], bool]:
    gen = load_generator(provider, server)
    for _ in range(200):  # warm-up: pools, caches and lazy imports settle first
        gen.generate("warm up")
    gc.collect()
    samples = [rss_mb()]
    step = max(1, sequential // 4)
    for done in range(1, sequential + 1):
        gen.generate(f"call {done}")
        if done % step == 0:
            samples.append(rss_mb())
    gen.close()
    growth = samples[-1] - samples[0]
    flat = growth <= RSS_NOISE_MB
    row = [
        provider,
        str(sequential),
        *(f"{s:.1f}" for s in samples),
        f"{growth:+.1f}",
        "flat" if flat else "GREW",
    ]
    return row, flat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", nargs="*", help="hosted backends to run (default: all)")
    parser.add_argument("--concurrent", type=int, default=1000, help="concurrent agenerate calls")
    parser.add_argument("--streams", type=int, default=200, help="concurrent astream streams")
    parser.add_argument("--threads", type=int, default=32, help="threads for the sync API")
    parser.add_argument("--per-thread", type=int, default=32, help="calls per thread")
    parser.add_argument("--sequential", type=int, default=10_000, help="calls for the memory run")
    args = parser.parse_args(argv)

    clear_sdk_environment()
    providers = hosted_backends(args.backends)
    print_machine("bench/load.py: load and memory on one Generator")
    ok = True
    load: list[list[str]] = []
    memory: list[list[str]] = []
    with BenchServer() as server:
        for provider in providers:
            load += load_rows(provider, server, args)
            row, flat = memory_row(provider, server, args.sequential)
            memory.append(row)
            ok = ok and flat
    ok = ok and all(row[2] == "0" for row in load)
    print_table(
        "Load (one Generator)",
        [
            "case",
            "calls",
            "errors",
            "wall",
            "calls/s",
            "requests at server",
            "connections at server",
        ],
        load,
    )
    quarter = args.sequential // 4
    print_table(
        f"Memory across {args.sequential:,} sequential calls (VmRSS, MB)",
        [
            "backend",
            "calls",
            "after warm-up",
            *(f"+{quarter * i:,}" for i in range(1, 5)),
            "growth",
            "verdict",
        ],
        memory,
    )
    print(f"\nnoise band: {RSS_NOISE_MB} MB; exit status {'0' if ok else '1'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
