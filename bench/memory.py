"""Memory: resident set size after ``import genkit``, and its growth over 10,000 calls.

After import: VmRSS before and after the statement in fresh interpreters (median of
``--reps``), next to what the vendor SDK's import adds.  Growth: each series (genkit or the
raw SDK, per mode and backend) runs in its own fresh process; after a warm-up RSS and
``sys.getallocatedblocks()`` are read at 0, 25, 50, 75 and 100% of the calls, each after
``gc.collect()`` (a leak of one object per call is ~10,000 blocks long before it is RSS).

Target: from 25% to 100% of the calls the allocated blocks grow by less than 1,000 and RSS
by less than 1 MiB, or by no more than the raw SDK's own series (+0.25 MiB).
"""

from __future__ import annotations

import json
import sys

from bench import _common as h
from bench._backends import genkit_call, genkit_stream, load_generator, raw_client

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
    code, env = _IMPORT_PROBE.format(statement=statement), h.clean_env()
    runs = [h.fresh(code, env=env)[1].stdout.split() for _ in range(reps)]
    before, after = zip(*([float(x) for x in run] for run in runs), strict=True)
    return h.median(before), h.median(after)


def child(series: str, backend: str, url: str, calls: int, core: int | None) -> None:
    """Run one series (``side-mode``) in this fresh process; print its checkpoints as JSON."""
    h.pin_client(core)
    side, mode = series.split("-")
    marks = [round(calls * f) for f in (0.25, 0.5, 0.75, 1.0)]
    gen = load_generator(backend, h.Urls(url))
    raw = raw_client(backend, h.Urls(url))  # held for the whole series (see RawGemini)
    with h.runner("async" if mode == "async" else "sync") as loop:
        if side == "raw":
            call = raw.stream() if mode == "stream" else raw.caller(mode)
        else:
            call = genkit_stream(gen) if mode == "stream" else genkit_call(gen, mode)
        points = h.growth(lambda _: h.once(call, loop), marks)
        if loop is not None:
            loop.run((raw if side == "raw" else gen).aclose())
    print(json.dumps({"points": points}))


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__, calls=10_000, reps=(5, "fresh processes per import row"))
    help_ = "stream: 30-chunk streams instead of calls (slower)"
    parser.add_argument("--modes", nargs="*", choices=MODES, default=["sync", "async"], help=help_)
    help_ = "modes that also get a raw-SDK reference series (default: sync)"
    parser.add_argument("--raw-modes", nargs="*", choices=MODES, default=["sync"], help=help_)
    args = parser.parse_args(argv)
    run = h.begin(
        "Memory (resident set size)",
        args,
        f"after-import rows: median of {args.reps} fresh processes; growth series: one "
        f"fresh process each, {args.calls:,} calls after 200 warm-up calls",
        pin=False,
    )
    statements = [("bare interpreter", "pass"), ("import genkit", "import genkit")]
    for name in run.backends:
        sdk = "from google import genai" if name == "gemini" else f"import {h.HOSTED[name]}"
        load = f'import genkit; genkit.load("{name}:{h.MODELS[name]}"'
        statements += [(sdk, sdk), (f"{load})", f'{load}, api_key="{h.KEYS[name]}")')]
    rows = []
    for label, statement in statements:
        before, after = import_rss(statement, args.reps)
        added = "—" if statement == "pass" else f"+{after - before:.1f}"
        rows.append([label, f"{after:.1f}", added])
    headers = ["statement", "RSS after", "added by the statement"]
    run.table("RSS after import (MiB, fresh processes, medians)", headers, rows)
    growth_rows: list[list[str]] = []
    raw_reference: dict[tuple[str, str], float] = {}
    quarter = round(args.calls * 0.25)
    with run.server() as server:
        for backend in run.backends:
            for mode in args.modes:
                raw_growth = raw_reference.get(
                    (backend, mode), raw_reference.get((backend, "sync"))
                )
                for side in ["raw"] * (mode in args.raw_modes) + ["genkit"]:
                    where = f"{server.url!r}, {args.calls}, {run.client_core}"
                    call = f"child({side + '-' + mode!r}, {backend!r}, {where})"
                    try:
                        output = h.fresh(f"from bench.memory import child; {call}")[1].stdout
                    except RuntimeError as error:
                        raise RuntimeError(f"{side}-{mode} {backend} failed: {error}") from None
                    points = [
                        (int(n), float(rss), int(b)) for n, rss, b in json.loads(output)["points"]
                    ]
                    by_mark = {index: (rss, objects) for index, rss, objects in points}
                    (rss_end, obj_end), (rss_start, obj_start) = (
                        by_mark[args.calls],
                        by_mark[quarter],
                    )
                    rss_growth, obj_growth = rss_end - rss_start, obj_end - obj_start
                    if side == "raw":
                        raw_growth = raw_reference[(backend, mode)] = rss_growth
                    flat_rss = rss_growth < RSS_GROWTH_LIMIT or (
                        raw_growth is not None and rss_growth <= raw_growth + RSS_NOISE
                    )
                    ok = flat_rss and obj_growth < OBJECT_GROWTH_LIMIT
                    flat = h.verdict(run.check(ok)) if side == "genkit" else "(reference)"
                    blocks = f"{points[0][2]:,} → {points[-1][2]:,}"
                    figures = [f"{rss_growth:+.2f}", blocks, f"{obj_growth:+,}", flat]
                    growth_rows.append(
                        [backend, side, mode, *(f"{rss:.1f}" for _, rss, _ in points), *figures]
                    )
    marks = " | ".join(f"@{round(args.calls * f):,}" for f in (0, 0.25, 0.5, 0.75, 1.0))
    run.table(
        f"RSS (MiB) over {args.calls:,} calls, after gc.collect() at each mark",
        f"backend | side | mode | {marks} | RSS 25%→100% | allocated blocks 0 → end "
        "| blocks 25%→100% | flat?",
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
