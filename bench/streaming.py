"""Streaming: chunks per second and time to first chunk, ``gen.stream`` vs the raw SDK stream.

One long stream per sample, so per-chunk costs dominate; the server sends pre-rendered bytes,
one HTTP chunk per SSE event in the provider's format, so what is measured is client-side
parsing plus genkit's wrapper.  Both sides read each chunk's text as it arrives and have the
whole text at the end (OpenAI's raw stream asks for ``include_usage`` as genkit does).
Streams alternate ABBA after a ``gc.collect()`` each, timed in wall and CPU time; ratios are
paired, medians; every sample checks both sides' chunks and text.

Target: genkit ≥ 95 % of the raw SDK's chunks per second.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import genkit
from bench import _common as h
from bench._backends import RawClient, StreamResult, genkit_stream, load_generator, raw_client

TARGET = 0.95
#: One stream: (time to first item s, items per wall second, items per CPU second)
Sample = tuple[float, float, float]
PAIRED_NOTE = (
    "genkit/raw (paired) = median over rounds of genkit's rate / the adjacent raw "
    "stream's rate; the rate columns are plain medians."
)


def figures(
    count: int | None = None,
) -> Callable[[StreamResult, float, float, StreamResult], Sample]:
    """Checks a stream against the expected (``count`` items, or as many) and gives its figures."""

    def figure(result: StreamResult, wall: float, cpu: float, expected: StreamResult) -> Sample:
        want = expected[1] if count is None else count
        if result[1:] != (want, expected[2]):
            raise RuntimeError(
                f"a stream read {result[1:]!r:.200}, expected {want} and {expected[2]!r:.200}"
            )
        return result[0], want / wall, want / cpu

    return figure


def rate_row(
    run: h.Run,
    label: Sequence[str],
    runs: dict[str, list[Sample]],
    index: int,
    target: float,
    extra: Sequence[str] = (),
) -> list[str]:
    """A table row for figure ``index`` (1: wall, 2: CPU): both medians, the paired ratio, Δ µs
    per item; records the target."""
    raw, gk = (h.median([s[index] for s in runs[side]]) for side in ("raw", "genkit"))
    ratio = h.paired(runs["raw"], runs["genkit"], lambda r, g: g[index] / r[index])
    run.check(ratio >= target)
    cells = [*label, f"{raw:,.0f}", f"{gk:,.0f}", h.pct(ratio), *extra]
    return [*cells, f"{(1 / gk - 1 / raw) * 1e6:+.2f}", h.verdict(ratio >= target)]


def compare_streams(
    run: h.Run,
    streams: Callable[[Any, Any, str], dict[str, Callable[[], Any]]],
    rounds: int,
    figure: Any,
    chunks: int,
) -> list[tuple[str, str, dict[str, list[Sample]]]]:
    """Per backend and mode, ``streams(raw, gen, mode)`` sampled ABBA for ``rounds`` rounds."""
    out = []
    with run.server(chunks=chunks) as server:
        for backend in run.backends:
            raw, gen = raw_client(backend, server), load_generator(backend, server)
            for mode in run.args.modes:
                with h.runner(mode) as loop:
                    runs = h.sample_streams(streams(raw, gen, mode), rounds, figure, loop)
                    out.append((backend, mode, runs))
                    if loop is not None:  # the async pools belong to this loop
                        loop.run(raw.aclose())
                        loop.run(gen.aclose())
            gen.close()
            raw.close()
    return out


def main(argv: list[str] | None = None) -> int:
    rounds, chunks = (16, "ABBA rounds (streams per side)"), (2000, "text chunks per stream")
    args = h.parser(__doc__, modes=("sync", "async"), chunks=chunks, rounds=rounds).parse_args(argv)
    run = h.begin(
        "Streaming throughput",
        args,
        f"{args.chunks} text chunks per stream, {args.rounds} streams per side and mode, "
        "ABBA-interleaved after one warm-up stream each; medians",
    )
    rows, cpu_rows = [], []

    def sides(raw: RawClient, gen: genkit.Generator, mode: str) -> dict[str, Callable[[], Any]]:
        return {"raw": raw.stream(mode), "genkit": genkit_stream(gen, mode)}

    compared = compare_streams(run, sides, args.rounds, figures(args.chunks), args.chunks)
    for backend, mode, runs in compared:
        ttfc = [h.ms(h.median([s[0] for s in runs[side]])) for side in ("raw", "genkit")]
        rows.append(rate_row(run, [backend, mode], runs, 1, TARGET, ttfc))
        cpu_rows.append(rate_row(run, [backend, mode], runs, 2, TARGET))
    run.table(
        "Long stream, wall clock: chunks per second and time to first chunk (medians)",
        "backend | mode | raw chunks/s | genkit chunks/s | genkit/raw | raw TTFC ms "
        "| genkit TTFC ms | Δ µs per chunk | target ≥ 95%",
        rows,
        notes=[
            PAIRED_NOTE,
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
