"""Load and memory: one Generator under heavy concurrency, and 10,000 calls in a row.

    python -m bench.load                     # every hosted backend, the issue's figures
    python -m bench.load --backends openai --concurrent 200 --sequential 2000   # quicker

Per hosted backend, against the lean server in its own process (which counts the TCP
connections it accepts): 1,000 concurrent ``agenerate`` calls and 200 concurrent ``astream``
streams on one Generator, two bursts back to back (errors, wall time, connections per burst:
a pool opens one per call in flight and reuses them in the second burst); the same from 32
threads with the sync API; VmRSS and allocated blocks across 10,000 sequential calls per API,
every 2,500 after a warm-up and ``gc.collect()`` ("flat": RSS within the noise band and fewer
than 0.1 blocks kept per call); and ``asyncio.run(gen.agenerate(...))`` per call, where each
event loop gets its own client: sockets still open and RSS show whether it is released.

A run prints tables and exits 1 if any call failed or anything grew.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import threading
import time
from collections.abc import Callable
from functools import partial

import genkit
from bench import _common as h
from bench._backends import load_generator, raw_client
from genkit.backends._transport import POOL_LIMITS

#: Concurrent bursts per case, back to back on one Generator.
ROUNDS = 2
#: RSS growth allowed across a sequential series: allocator noise, not a leak.
RSS_NOISE_MB = 3.0
#: Allocated blocks a series may keep per call (caches warming up), far below one.
BLOCKS_PER_CALL = 0.1
#: Allocated blocks genkit may keep per event loop beyond what the raw SDK keeps;
#: a kept client (pool, SSL context, SDK resources) is thousands.
BLOCKS_PER_LOOP = 5.0


def sockets_to(port: int) -> int:
    """TCP connections this process has established to ``port``."""
    import psutil

    established = psutil.CONN_ESTABLISHED
    connections = psutil.Process().net_connections(kind="tcp")
    return sum(
        1 for c in connections if c.raddr and c.raddr.port == port and c.status == established
    )


def drain(gen: genkit.Generator, prompt: str) -> None:
    """One whole ``gen.stream`` call, its chunks read and dropped."""
    with gen.stream(prompt) as stream:
        for _chunk in stream:
            pass


#: What a case made: (errors, seconds, connections the server accepted per burst, requests)
Burst = tuple[int, float, list[int], int]


async def concurrent(
    gen: genkit.Generator, server: h.BenchServer, n: int, streaming: bool
) -> Burst:
    async def one(i: int) -> str:
        if not streaming:
            return (await gen.agenerate(f"story {i}")).text
        stream = gen.astream(f"story {i}")
        async for _chunk in stream:
            pass
        return stream.result.text

    errors: list[BaseException] = []
    connections, requests, started = [], 0, time.perf_counter()
    for _round in range(ROUNDS):
        server.reset()
        outcomes = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
        errors += [o for o in outcomes if isinstance(o, BaseException)]
        stats = server.stats()
        connections.append(stats["connections"])
        requests += stats["requests"]
    elapsed = time.perf_counter() - started
    for error in errors[:3]:
        print(f"  error: {type(error).__name__}: {error}", file=sys.stderr)
    await gen.aclose()
    return len(errors), elapsed, connections, requests


def threaded(
    gen: genkit.Generator, server: h.BenchServer, threads: int, per_thread: int, streaming: bool
) -> Burst:
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        for i in range(per_thread):
            try:
                drain(gen, f"story {i}") if streaming else gen.generate(f"story {i}")
            except Exception as error:
                with lock:
                    errors.append(error)

    server.reset()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed, stats = time.perf_counter() - started, server.stats()
    gen.close()
    return len(errors), elapsed, [stats["connections"]], stats["requests"]


def load_rows(provider: str, server: h.BenchServer, args: argparse.Namespace) -> list[list[str]]:
    def new() -> genkit.Generator:
        return load_generator(provider, server)

    def run_concurrent(size: int, streaming: bool) -> Burst:
        return asyncio.run(concurrent(new(), server, size, streaming))

    def run_threaded(streaming: bool) -> Burst:
        return threaded(new(), server, args.threads, args.per_thread, streaming)

    bursts = [("agenerate", args.concurrent, False), ("astream", args.streams, True)]
    cases: list[tuple[str, int, Callable[[], Burst]]] = []
    for api, size, streaming in bursts:
        label = f"async {api} x{size}, {ROUNDS} bursts"
        cases.append((label, size * ROUNDS, partial(run_concurrent, size, streaming)))
    for api, streaming in (("generate", False), ("stream", True)):
        label = f"{args.threads} threads x {args.per_thread} {api}"
        cases.append((label, args.threads * args.per_thread, partial(run_threaded, streaming)))
    rows: list[list[str]] = []
    for label, calls, run in cases:
        errors, elapsed, connections, requests = run()
        figures = [str(calls), str(errors), f"{elapsed:.2f} s", f"{calls / elapsed:,.0f}/s"]
        opened = " + ".join(str(c) for c in connections)
        rows.append([provider, label, *figures, str(requests), opened])
        print(f"  done: {provider} {label}", file=sys.stderr)
    return rows


def series(gen: genkit.Generator, api: str, marks: list[int]) -> list[h.Point]:
    """Checkpoints over sequential calls of one API, each call with its own prompt."""
    if api == "generate":
        return h.growth(lambda i: gen.generate(f"call {i}"), marks)
    if api == "stream":
        return h.growth(lambda i: drain(gen, f"call {i}"), marks)
    with asyncio.Runner() as loop:  # agenerate: every call on one event loop
        points = h.growth(lambda i: loop.run(gen.agenerate(f"call {i}")), marks)
        loop.run(gen.aclose())
    return points


def memory_rows(provider: str, server: h.BenchServer, calls: int) -> tuple[list[list[str]], bool]:
    rows: list[list[str]] = []
    ok = True
    marks = [max(1, calls // 4) * i for i in range(1, 5)]
    for api in ("generate", "stream", "agenerate"):
        gen = load_generator(provider, server)
        points = series(gen, api, marks)
        gen.close()
        rss_growth, blocks_growth = points[-1][1] - points[0][1], points[-1][2] - points[0][2]
        flat = rss_growth <= RSS_NOISE_MB and blocks_growth <= BLOCKS_PER_CALL * marks[-1]
        ok = ok and flat
        rss = [f"{mb:.1f}" for _, mb, _ in points]
        figures = [f"{rss_growth:+.1f}", f"{blocks_growth:+,}", "flat" if flat else "GREW"]
        rows.append([provider, api, f"{marks[-1]:,}", *rss, *figures])
        print(f"  done: {provider} memory {api}", file=sys.stderr)
    return rows, ok


def loop_child(provider: str, side: str, url: str, port: int, loops: int) -> None:
    """In a fresh interpreter: ``asyncio.run`` per call, then print what stayed: RSS growth
    (MB), allocated blocks kept per loop and sockets still open to the server.  Each side
    runs in its own process so neither inherits the other's heap."""
    server = h.Urls(url)
    gen = load_generator(provider, server)

    async def one() -> object:
        return (await gen.agenerate("hello")).text

    async def raw_one() -> object:
        raw = raw_client(provider, server)
        try:
            return await raw.caller("async")()
        finally:
            await raw.aclose()
            raw.close()

    call = one if side == "genkit" else raw_one
    for _ in range(20):  # warm-up: first-use caches are not a leak
        asyncio.run(call())
    gc.collect()
    rss_before, blocks_before, held_before = h.rss_mib(), sys.getallocatedblocks(), sockets_to(port)
    for _ in range(loops):
        asyncio.run(call())
    gc.collect()
    rss, blocks = h.rss_mib() - rss_before, (sys.getallocatedblocks() - blocks_before) / loops
    print(f"{rss:.2f} {blocks:.2f} {sockets_to(port) - held_before}")


def loop_per_call_row(provider: str, server: h.BenchServer, loops: int) -> tuple[list[str], bool]:
    """``asyncio.run`` per call: does each loop's client go when its loop ends?  The baseline
    is the raw SDK used the careful way: a client built inside each loop and closed before the
    loop ends; genkit's user closes nothing per loop."""
    measured: dict[str, tuple[float, float, int]] = {}
    for side in ("genkit", "raw"):
        call = f"loop_child({provider!r}, {side!r}, {server.url!r}, {server.port}, {loops})"
        code = f"from bench.load import loop_child; {call}"
        rss_text, blocks_text, held_text = h.fresh(code)[1].stdout.split()
        measured[side] = (float(rss_text), float(blocks_text), int(held_text))
    (rss, blocks, held), (raw_rss, raw_blocks, _) = measured["genkit"], measured["raw"]
    ok = held <= 1 and rss <= raw_rss + RSS_NOISE_MB and blocks <= raw_blocks + BLOCKS_PER_LOOP
    figures = [f"{rss:+.1f} / {raw_rss:+.1f}", f"{blocks:.1f} / {raw_blocks:.1f}"]
    figures.append("released" if ok else "KEPT")
    return [provider, f"{loops:,}", str(held), *figures], ok


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(
        __doc__,
        server=False,
        concurrent=(1000, "concurrent agenerate calls"),
        streams=(200, "concurrent astream streams"),
        threads=(32, "threads for the sync API"),
        per_thread=(32, "calls per thread"),
        sequential=(10_000, "calls per API in the memory run"),
        loops=(200, "asyncio.run() calls in the event-loop run"),
    )
    parser.description, parser.formatter_class = __doc__, argparse.RawDescriptionHelpFormatter
    args = parser.parse_args(argv)
    h.clear_sdk_environment()
    command = "python -m bench.load" + (" " + " ".join(argv or sys.argv[1:])).rstrip()
    h.print_machine(
        "bench/load.py: load and memory on one Generator",
        extra=[
            f"command: `{command}`",
            f"connection pool of every hosted backend (genkit/backends/_transport.py): "
            f"max_connections={POOL_LIMITS.max_connections}, "
            f"max_keepalive_connections={POOL_LIMITS.max_keepalive_connections}, "
            f"keepalive_expiry={POOL_LIMITS.keepalive_expiry} s "
            "(the SDKs' own: openai/anthropic 1000/100, google-genai via httpx2 100/20)",
        ],
    )
    ok, load, memory, loops = True, list[list[str]](), list[list[str]](), list[list[str]]()
    with h.BenchServer() as server:
        for provider in h.hosted_backends(args.backends):
            load += load_rows(provider, server, args)
            rows, flat = memory_rows(provider, server, args.sequential)
            row, released = loop_per_call_row(provider, server, args.loops)
            memory, loops, ok = memory + rows, [*loops, row], ok and flat and released
    ok = ok and all(row[3] == "0" for row in load)
    h.print_table(
        "Load: one Generator per case",
        "backend | case | calls | errors | wall | calls/s | requests at server "
        "| connections opened (per burst)",
        load,
        notes=[
            "A second burst that opens few or no connections reuses the first one's; "
            "the threaded cases open about one connection per thread."
        ],
    )
    quarter = max(1, args.sequential // 4)
    marks = " | ".join(f"+{quarter * i:,}" for i in range(1, 5))
    h.print_table(
        f"Memory across {quarter * 4:,} sequential calls (VmRSS in MB, after gc.collect())",
        f"backend | API | calls | after warm-up | {marks} | RSS growth | blocks kept | verdict",
        memory,
        notes=[
            f"flat: RSS growth <= {RSS_NOISE_MB} MB and at most {BLOCKS_PER_CALL} allocated "
            "blocks kept per call."
        ],
    )
    h.print_table(
        f"asyncio.run() per call ({args.loops:,} event loops, one Generator)",
        "backend | loops | sockets still open | RSS growth, MB (genkit / raw) "
        "| blocks kept per loop (genkit / raw) | verdict",
        loops,
        notes=[
            "Each event loop gets its own async client.  'released': it is closed when its "
            "loop ends: no socket left, and RSS and allocated blocks within "
            f"{RSS_NOISE_MB} MB and {BLOCKS_PER_LOOP} blocks per loop of the raw SDK's "
            "(a client built and closed inside each loop), each side measured in its own "
            "process; 'KEPT': the loops' clients stay until gen.close().  Creating a client "
            "per loop grows RSS on both sides: that is the allocator, not a kept client."
        ],
    )
    print(f"\nexit status {'0' if ok else '1'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
