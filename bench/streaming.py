"""Streaming: chunks per second and time to first chunk, ``gen.stream`` vs the raw SDK stream.

    python -m bench.streaming [--chunks 3000] [--rounds 8] [--backends openai ...]

Why it is measured this way:

- one long stream (thousands of chunks) per sample, so per-chunk costs dominate and
  the request's fixed cost does not; the server sends it from pre-rendered bytes, one
  HTTP chunk per SSE event, in the provider's exact wire format, so what is measured
  is client-side parsing plus genkit's wrapper;
- both consumers do the same work: read each chunk's text as it arrives and have the
  whole text at the end (the raw loop joins its parts; genkit's ``stream.result`` does);
  the OpenAI raw stream asks for ``include_usage`` as genkit does;
- throughput = text chunks / (end - start of the call), in wall time and in this
  process's CPU time (the second is robust to other work on a shared machine; the
  client is CPU-bound here, so on an idle machine the two agree); time to first chunk
  = first text chunk - start of the call; genkit and raw runs alternate ABBA, and the
  ratio is paired (each genkit stream against the raw stream next to it), medians;
- each sample checks that both sides received the same number of chunks and text.

Target: genkit ≥ 95 % of the raw SDK's chunks per second.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import sys
import time
from collections.abc import Awaitable, Callable

import genkit
from bench._backends import (
    RawClient,
    StreamResult,
    genkit_astream,
    genkit_stream,
    load_generator,
    raw_client,
)
from bench._common import (
    BenchServer,
    LoadMonitor,
    add_common_arguments,
    median,
    ms,
    pct,
    print_table,
    start_run,
    verdict,
)

THROUGHPUT_TARGET = 0.95


def _check(result: StreamResult, chunks: int, expected: str) -> StreamResult:
    if result[1] != chunks or result[2] != expected:
        raise RuntimeError(f"stream delivered {result[1]} chunks, expected {chunks}")
    return result


async def _close_async(raw: RawClient, gen: genkit.Generator) -> None:
    await raw.aclose()
    await gen.aclose()


#: One stream: (time to first chunk s, chunks per wall second, chunks per CPU second)
Run = tuple[float, float, float]


def run_sync(
    raw: Callable[[], StreamResult], gk: Callable[[], StreamResult], chunks: int, rounds: int
) -> dict[str, list[Run]]:
    """{"raw"|"genkit": [Run, ...]} from ABBA-interleaved streams."""
    runs: dict[str, list[Run]] = {"raw": [], "genkit": []}
    expected = raw()[2]
    gk()
    variants: dict[str, Callable[[], StreamResult]] = {"raw": raw, "genkit": gk}
    for index in range(rounds):
        for name in ("raw", "genkit") if index % 2 == 0 else ("genkit", "raw"):
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            first, _, _ = _check(variants[name](), chunks, expected)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            runs[name].append((first, chunks / wall, chunks / cpu))
    return runs


def run_async(
    raw: Callable[[], Awaitable[StreamResult]],
    gk: Callable[[], Awaitable[StreamResult]],
    chunks: int,
    rounds: int,
    cleanup: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, list[Run]]:
    async def main() -> dict[str, list[Run]]:
        runs: dict[str, list[Run]] = {"raw": [], "genkit": []}
        expected = (await raw())[2]
        await gk()
        variants = {"raw": raw, "genkit": gk}
        for index in range(rounds):
            for name in ("raw", "genkit") if index % 2 == 0 else ("genkit", "raw"):
                gc.collect()
                wall, cpu = time.perf_counter(), time.process_time()
                first, _, _ = _check(await variants[name](), chunks, expected)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                runs[name].append((first, chunks / wall, chunks / cpu))
        if cleanup is not None:
            await cleanup()  # the async pools belong to this loop
        return runs

    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=2000, help="text chunks per stream")
    parser.add_argument("--rounds", type=int, default=16, help="ABBA rounds (streams per side)")
    parser.add_argument("--modes", nargs="*", choices=("sync", "async"), default=["sync", "async"])
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    backends, _client_core, server_core = start_run(
        "Streaming throughput",
        args,
        f"{args.chunks} text chunks per stream, {args.rounds} streams per side and mode, "
        "ABBA-interleaved after one warm-up stream each; medians",
    )

    rows = []
    cpu_rows = []
    failed = False
    monitor = LoadMonitor()
    with BenchServer(chunks=args.chunks, cpu=server_core, impl=args.server) as server:
        monitor.watch(server.pid)
        for backend in backends:
            raw = raw_client(backend, server)
            gen = load_generator(backend, server)
            for mode in args.modes:
                if mode == "sync":
                    runs = run_sync(raw.stream, genkit_stream(gen), args.chunks, args.rounds)
                else:
                    runs = run_async(
                        raw.astream,
                        genkit_astream(gen),
                        args.chunks,
                        args.rounds,
                        functools.partial(_close_async, raw, gen),
                    )
                raw_first, raw_rate, raw_cpu = (
                    median(col) for col in zip(*runs["raw"], strict=True)
                )
                gk_first, gk_rate, gk_cpu = (
                    median(col) for col in zip(*runs["genkit"], strict=True)
                )
                # Paired: each genkit stream against the raw stream next to it in time.
                pairs = list(zip(runs["raw"], runs["genkit"], strict=True))
                ratio = median([g[1] / r[1] for r, g in pairs])
                cpu_ratio = median([g[2] / r[2] for r, g in pairs])
                ok = ratio >= THROUGHPUT_TARGET and cpu_ratio >= THROUGHPUT_TARGET
                failed |= not ok
                rows.append(
                    [
                        backend,
                        mode,
                        f"{raw_rate:,.0f}",
                        f"{gk_rate:,.0f}",
                        pct(ratio),
                        ms(raw_first),
                        ms(gk_first),
                        f"{(1 / gk_rate - 1 / raw_rate) * 1e6:+.2f}",
                        verdict(ratio >= THROUGHPUT_TARGET),
                    ]
                )
                cpu_rows.append(
                    [
                        backend,
                        mode,
                        f"{raw_cpu:,.0f}",
                        f"{gk_cpu:,.0f}",
                        pct(cpu_ratio),
                        f"{(1 / gk_cpu - 1 / raw_cpu) * 1e6:+.2f}",
                        verdict(cpu_ratio >= THROUGHPUT_TARGET),
                    ]
                )
            gen.close()
            raw.close()

    print_table(
        "Long stream, wall clock: chunks per second and time to first chunk (medians)",
        [
            "backend",
            "mode",
            "raw chunks/s",
            "genkit chunks/s",
            "genkit/raw",
            "raw TTFC ms",
            "genkit TTFC ms",
            "Δ µs per chunk",
            "target ≥ 95%",
        ],
        rows,
        notes=[
            "genkit/raw (paired) = median over rounds of genkit's rate / the adjacent raw "
            "stream's rate; the rate columns are plain medians.",
            "TTFC = time from the call to the first text chunk, on a warm connection.",
        ],
    )
    print_table(
        "Long stream, client CPU time: chunks per CPU second (robust to other load)",
        [
            "backend",
            "mode",
            "raw chunks/CPU s",
            "genkit chunks/CPU s",
            "genkit/raw",
            "Δ CPU µs per chunk",
            "target ≥ 95%",
        ],
        cpu_rows,
        notes=[monitor.line()],
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
