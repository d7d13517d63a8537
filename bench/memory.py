"""Memory: resident set size after ``import genkit``, and its growth over 10,000 calls.

    python -m bench.memory [--calls 10000] [--modes sync async stream] [--backends openai ...]

Why it is measured this way:

- **after import**: fresh interpreters (median of ``--reps``), RSS read from
  ``/proc/self/status`` (VmRSS) before and after the statement, so the number is what
  the import itself added, next to what the vendor SDK's import adds;
- **growth**: each series (genkit or the raw SDK, sync or async, per backend) runs in
  its own fresh process against the shared bench server, so one series' allocations
  and allocator state cannot colour another's.  After a warm-up (pools open, lazy
  imports and caches filled) RSS and ``sys.getallocatedblocks()`` are read at 0, 2.5k,
  5k, 7.5k and 10k calls, each after ``gc.collect()``: a leak of even one small object
  per call shows as ~10,000 more blocks long before it shows in RSS (which moves in
  pages and arenas).  The raw SDK's own series is the reference for what "flat" is.

Target: no growth beyond noise: from 2.5k to 10k calls Python's allocated blocks grow
by less than 1,000 (a tenth of a block per call) and RSS by less than 1 MiB, or by no
more than the raw SDK's own series (+0.25 MiB).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable

from bench._backends import (
    Urls,
    genkit_acall,
    genkit_call,
    genkit_stream,
    load_generator,
    raw_client,
)
from bench._common import (
    HOSTED,
    KEYS,
    MODELS,
    Point,
    agrowth,
    begin,
    clean_env,
    fresh,
    growth,
    median,
    parser,
    pin_client,
    verdict,
)

RSS_GROWTH_LIMIT = 1.0  # MiB, from 2.5k to 10k calls
RSS_NOISE = 0.25  # MiB: genkit may grow as much as its own SDK does, plus this
OBJECT_GROWTH_LIMIT = 1000
MODES = ("sync", "async", "stream")

_IMPORT_PROBE = """
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
before = rss()
{statement}
print(before, rss())
"""


def import_rss(statement: str, reps: int) -> tuple[float, float]:
    """Median (RSS before, RSS after) the statement in fresh interpreters, MiB."""
    runs = [fresh(_IMPORT_PROBE.format(statement=statement), env=clean_env()) for _ in range(reps)]
    before, after = zip(*(map(float, result.stdout.split()) for _, result in runs), strict=True)
    return median(before), median(after)


def child(series: str, backend: str, url: str, calls: int, core: int | None) -> None:
    """Run one series in this (fresh) process; print its checkpoints as JSON."""
    pin_client(core)
    side, mode = series.split("-")
    server = Urls(url)
    marks = [round(calls * f) for f in (0.25, 0.5, 0.75, 1.0)]
    if mode == "async":

        async def run() -> list[Point]:
            if side == "genkit":
                gen = load_generator(backend, server)
                call, close = genkit_acall(gen), gen.aclose
            else:
                raw = raw_client(backend, server)
                call, close = raw.acaller(), raw.aclose
            points = await agrowth(lambda _: call(), marks)
            await close()
            return points

        points = asyncio.run(run())
    else:
        gen = load_generator(backend, server)
        raw = raw_client(backend, server)  # held for the whole series (see RawGemini)
        calls_: dict[str, Callable[[], object]] = {
            "genkit-stream": genkit_stream(gen),
            "raw-stream": raw.stream,
            "genkit-sync": genkit_call(gen),
            "raw-sync": raw.caller(),
        }
        points = growth(lambda _: calls_[series](), marks)
    print(json.dumps({"points": points}))


def run_series(series: str, backend: str, url: str, calls: int, core: int | None) -> list[Point]:
    code = (
        f"from bench.memory import child; child({series!r}, {backend!r}, {url!r}, {calls}, {core})"
    )
    try:
        _, result = fresh(code)
    except RuntimeError as error:
        raise RuntimeError(f"{series} {backend} failed: {error}") from None
    return [
        (int(n), float(rss), int(blocks)) for n, rss, blocks in json.loads(result.stdout)["points"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser_ = parser(__doc__, calls=10_000, reps=(5, "fresh processes per import row"))
    parser_.add_argument(
        "--modes",
        nargs="*",
        choices=MODES,
        default=["sync", "async"],
        help="stream: 30-chunk streams instead of calls (slower)",
    )
    parser_.add_argument(
        "--raw-modes",
        nargs="*",
        choices=MODES,
        default=["sync"],
        help="modes that also get a raw-SDK reference series (default: sync)",
    )
    args = parser_.parse_args(argv)
    run = begin(
        "Memory (resident set size)",
        args,
        f"after-import rows: median of {args.reps} fresh processes; growth series: one "
        f"fresh process each, {args.calls:,} calls after 200 warm-up calls",
        pin=False,
    )
    statements = [("bare interpreter", "pass"), ("import genkit", "import genkit")]
    for name in run.backends:
        sdk = (
            "from google import genai"
            if HOSTED[name] == "google.genai"
            else f"import {HOSTED[name]}"
        )
        load = f'import genkit; genkit.load("{name}:{MODELS[name]}"'
        statements += [(sdk, sdk), (f"{load})", f'{load}, api_key="{KEYS[name]}")')]
    rows = []
    for label, statement in statements:
        before, after = import_rss(statement, args.reps)
        rows.append(
            [label, f"{after:.1f}", "—" if statement == "pass" else f"+{after - before:.1f}"]
        )
    run.table(
        "RSS after import (MiB, fresh processes, medians)",
        ["statement", "RSS after", "added by the statement"],
        rows,
    )

    growth_rows = []
    raw_reference: dict[tuple[str, str], float] = {}
    quarter = round(args.calls * 0.25)
    with run.server() as server:
        for backend in run.backends:
            for mode in args.modes:
                raw_growth = raw_reference.get(
                    (backend, mode), raw_reference.get((backend, "sync"))
                )
                for side in ["raw"] * (mode in args.raw_modes) + ["genkit"]:
                    points = run_series(
                        f"{side}-{mode}", backend, server.url, args.calls, run.client_core
                    )
                    by_mark = {index: (rss, objects) for index, rss, objects in points}
                    rss_growth = by_mark[args.calls][0] - by_mark[quarter][0]
                    obj_growth = by_mark[args.calls][1] - by_mark[quarter][1]
                    if side == "raw":
                        raw_growth = raw_reference[(backend, mode)] = rss_growth
                    flat_rss = rss_growth < RSS_GROWTH_LIMIT or (
                        raw_growth is not None and rss_growth <= raw_growth + RSS_NOISE
                    )
                    ok = flat_rss and obj_growth < OBJECT_GROWTH_LIMIT
                    blocks = f"{points[0][2]:,} → {points[-1][2]:,}"
                    flat = verdict(run.check(ok)) if side == "genkit" else "(reference)"
                    rss = [f"{rss:.1f}" for _, rss, _ in points]
                    figures = [f"{rss_growth:+.2f}", blocks, f"{obj_growth:+,}", flat]
                    growth_rows.append([backend, side, mode, *rss, *figures])
    marks = [0, *(round(args.calls * f) for f in (0.25, 0.5, 0.75, 1.0))]
    run.table(
        f"RSS (MiB) over {args.calls:,} calls, after gc.collect() at each mark",
        " | ".join(["backend | side | mode", *(f"@{m:,}" for m in marks), "RSS 25%→100%"])
        + " | allocated blocks 0 → end | blocks 25%→100% | flat?",
        growth_rows,
        notes=[
            f"flat = between the 25% and 100% marks, Python's allocated blocks "
            f"(sys.getallocatedblocks) grow by < {OBJECT_GROWTH_LIMIT:,} and RSS by "
            f"< {RSS_GROWTH_LIMIT:g} MiB, or by no more than the raw SDK's own series "
            f"(same mode, else sync) + {RSS_NOISE:g} MiB."
        ],
    )
    return run.status


if __name__ == "__main__":
    sys.exit(main())
