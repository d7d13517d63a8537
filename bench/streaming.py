"""Streaming: chunks per second and time to first chunk, ``gen.stream`` vs the raw SDK stream.

    python -m bench.streaming [--chunks 2000] [--rounds 16] [--backends openai ...]

On the harness (``bench/_common.py``): genkit and raw streams alternate ABBA, each
timed in wall and CPU time after a ``gc.collect()``.  What is this module's own:

- one long stream (thousands of chunks) per sample, so per-chunk costs dominate and
  the request's fixed cost does not; the server sends it from pre-rendered bytes, one
  HTTP chunk per SSE event, in the provider's exact wire format, so what is measured
  is client-side parsing plus genkit's wrapper;
- both consumers do the same work: read each chunk's text as it arrives and have the
  whole text at the end (the raw loop joins its parts; genkit's ``stream.result`` does);
  the OpenAI raw stream asks for ``include_usage`` as genkit does;
- throughput = text chunks / (end - start of the call); time to first chunk = first
  text chunk - start of the call; the ratio is paired (each genkit stream against the
  raw stream next to it), medians; each sample checks both sides' chunks and text.

Target: genkit ≥ 95 % of the raw SDK's chunks per second.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bench._backends import StreamResult, genkit_astream, genkit_stream, load_generator, raw_client
from bench._common import (
    aabba,
    abba,
    ameasured,
    begin,
    columns,
    measured,
    ms,
    paired,
    parser,
    pct,
    verdict,
)

THROUGHPUT_TARGET = 0.95
R = TypeVar("R")
S = TypeVar("S")

#: One stream: (time to first chunk s, chunks per wall second, chunks per CPU second)
Sample = tuple[float, float, float]


def figures(result: StreamResult, wall: float, cpu: float, chunks: int, text: str) -> Sample:
    if result[1] != chunks or result[2] != text:
        raise RuntimeError(f"stream delivered {result[1]} chunks, expected {chunks}")
    return result[0], chunks / wall, chunks / cpu


def run_sync(
    streams: dict[str, Callable[[], R]], rounds: int, figure: Callable[[R, float, float, R], S]
) -> dict[str, list[S]]:
    """{"raw"|"genkit": [figures, ...]} from ABBA-interleaved streams, after a warm-up each.

    ``figure(result, wall, cpu, expected)`` checks one stream's result against the first
    warm-up stream's (so both sides must deliver the same) and returns its figures.
    """
    expected = [stream() for stream in streams.values()][0]  # noqa: RUF015 (warm both up)

    def sample(stream: Callable[[], R]) -> Callable[[], S]:
        def one() -> S:
            gc.collect()
            return figure(*measured(stream), expected)

        return one

    return abba({name: sample(stream) for name, stream in streams.items()}, rounds)


def run_async(
    streams: dict[str, Callable[[], Awaitable[R]]],
    rounds: int,
    figure: Callable[[R, float, float, R], S],
    *cleanup: Callable[[], Awaitable[object]],
) -> dict[str, list[S]]:
    async def main() -> dict[str, list[S]]:
        expected = [await stream() for stream in streams.values()][0]  # noqa: RUF015

        def sample(stream: Callable[[], Awaitable[R]]) -> Callable[[], Awaitable[S]]:
            async def one() -> S:
                gc.collect()
                return figure(*await ameasured(stream), expected)

            return one

        runs = await aabba({name: sample(stream) for name, stream in streams.items()}, rounds)
        for close in cleanup:
            await close()  # the async pools belong to this loop
        return runs

    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    rounds = (16, "ABBA rounds (streams per side)")
    chunks = (2000, "text chunks per stream")
    args = parser(__doc__, modes=("sync", "async"), chunks=chunks, rounds=rounds).parse_args(argv)
    run = begin(
        "Streaming throughput",
        args,
        f"{args.chunks} text chunks per stream, {args.rounds} streams per side and mode, "
        "ABBA-interleaved after one warm-up stream each; medians",
    )
    rows, cpu_rows = [], []
    with run.server(chunks=args.chunks) as server:
        for backend in run.backends:
            raw, gen = raw_client(backend, server), load_generator(backend, server)
            for mode in args.modes:

                def figure(r: StreamResult, wall: float, cpu: float, e: StreamResult) -> Sample:
                    return figures(r, wall, cpu, args.chunks, e[2])

                if mode == "sync":
                    runs = run_sync(
                        {"raw": raw.stream, "genkit": genkit_stream(gen)}, args.rounds, figure
                    )
                else:
                    streams = {"raw": raw.astream, "genkit": genkit_astream(gen)}
                    runs = run_async(streams, args.rounds, figure, raw.aclose, gen.aclose)
                raw_first, raw_rate, raw_cpu = columns(runs["raw"])
                gk_first, gk_rate, gk_cpu = columns(runs["genkit"])
                ratio = paired(runs["raw"], runs["genkit"], lambda r, g: g[1] / r[1])
                cpu_ratio = paired(runs["raw"], runs["genkit"], lambda r, g: g[2] / r[2])
                run.check(ratio >= THROUGHPUT_TARGET and cpu_ratio >= THROUGHPUT_TARGET)
                per_chunk = f"{(1 / gk_rate - 1 / raw_rate) * 1e6:+.2f}"
                cells = [backend, mode, f"{raw_rate:,.0f}", f"{gk_rate:,.0f}", pct(ratio)]
                ttfc = [ms(raw_first), ms(gk_first)]
                rows.append([*cells, *ttfc, per_chunk, verdict(ratio >= THROUGHPUT_TARGET)])
                per_chunk = f"{(1 / gk_cpu - 1 / raw_cpu) * 1e6:+.2f}"
                cells = [backend, mode, f"{raw_cpu:,.0f}", f"{gk_cpu:,.0f}", pct(cpu_ratio)]
                cpu_rows.append([*cells, per_chunk, verdict(cpu_ratio >= THROUGHPUT_TARGET)])
            gen.close()
            raw.close()

    run.table(
        "Long stream, wall clock: chunks per second and time to first chunk (medians)",
        "backend | mode | raw chunks/s | genkit chunks/s | genkit/raw | raw TTFC ms "
        "| genkit TTFC ms | Δ µs per chunk | target ≥ 95%",
        rows,
        notes=[
            "genkit/raw (paired) = median over rounds of genkit's rate / the adjacent raw "
            "stream's rate; the rate columns are plain medians.",
            "TTFC = time from the call to the first text chunk, on a warm connection.",
        ],
    )
    run.table(
        "Long stream, client CPU time: chunks per CPU second (robust to other load)",
        "backend | mode | raw chunks/CPU s | genkit chunks/CPU s | genkit/raw "
        "| Δ CPU µs per chunk | target ≥ 95%",
        cpu_rows,
        footer=True,
    )
    return run.status


if __name__ == "__main__":
    sys.exit(main())
