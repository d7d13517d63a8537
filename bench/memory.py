"""Memory: resident set size after ``import genkit``, and its growth over 10,000 calls.

    python -m bench.memory [--calls 10000] [--modes sync async stream] [--backends openai ...]

Why it is measured this way:

- **after import**: fresh interpreters (median of ``--reps``), RSS read from
  ``/proc/self/status`` (VmRSS) before and after the statement, so the number is what
  the import itself added, next to what the vendor SDK's import adds;
- **growth**: each series (genkit or the raw SDK, sync or async, per backend) runs in
  its own fresh process against the shared bench server, so one series' allocations
  and allocator state cannot colour another's.  After a warm-up (pools open, lazy
  imports and caches filled) RSS and the number of objects the garbage collector
  tracks are read at 0, 2.5k, 5k, 7.5k and 10k calls, each after ``gc.collect()``;
- a leak of even one small object per call shows as ~10,000 more allocated blocks
  (``sys.getallocatedblocks()``: every object and buffer Python's allocator handed out),
  long before it shows in RSS (which moves in pages and arenas), so both are printed.
  The raw SDK's own series is the reference for what "flat" looks like.

Target: no growth beyond noise: from 2.5k to 10k calls Python's allocated blocks grow
by less than 1,000 (a tenth of a block per call) and RSS by less than 1 MiB, or by no
more than the raw SDK's own series (+0.25 MiB).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

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
    REPO_ROOT,
    BenchServer,
    add_common_arguments,
    clear_sdk_environment,
    median,
    pin_client,
    print_table,
    rss_mib,
    start_run,
    verdict,
)

RSS_GROWTH_LIMIT = 1.0  # MiB, from 2.5k to 10k calls
RSS_NOISE = 0.25  # MiB: genkit may grow as much as its own SDK does, plus this
OBJECT_GROWTH_LIMIT = 1000


# --------------------------------------------------------------------------- after import

_IMPORT_PROBE = """
import sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
before = rss()
{statement}
print(before, rss())
"""


def import_rss(statement: str, reps: int, env: dict[str, str]) -> tuple[float, float]:
    """Median (RSS before, RSS after) the statement in fresh interpreters, MiB."""
    before, after = [], []
    for _ in range(reps):
        result = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE.format(statement=statement)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        a, b = (float(x) for x in result.stdout.split())
        before.append(a)
        after.append(b)
    return median(before), median(after)


# --------------------------------------------------------------------------- growth (child)


def _checkpoint() -> tuple[float, int]:
    gc.collect()
    # Every block Python's allocator hands out, strings and list buffers included: a
    # list that grows by one string per call shows here, not in gc.get_objects().
    return rss_mib(), sys.getallocatedblocks()


def child(series: str, backend: str, url: str, calls: int, core: int | None) -> dict[str, Any]:
    """Run one series in this (fresh) process; return its checkpoints."""
    pin_client(core)
    side, mode = series.split("-")
    server = Urls(url)
    marks = [round(calls * f) for f in (0.25, 0.5, 0.75, 1.0)]
    points: list[tuple[int, float, int]] = []

    if mode == "async":

        async def run() -> None:
            if side == "genkit":
                gen = load_generator(backend, server)
                call = genkit_acall(gen)
            else:
                raw = raw_client(backend, server)
                call = raw.acaller()
            for _ in range(200):
                await call()
            points.append((0, *_checkpoint()))
            for index in range(1, calls + 1):
                await call()
                if index in marks:
                    points.append((index, *_checkpoint()))
            if side == "genkit":
                await gen.aclose()
            else:
                await raw.aclose()

        asyncio.run(run())
    else:
        gen = load_generator(backend, server)
        raw = raw_client(backend, server)  # held for the whole series (see RawGemini)
        sync_call: Callable[[], object]
        if mode == "stream":
            sync_call = genkit_stream(gen) if side == "genkit" else raw.stream
        else:
            sync_call = genkit_call(gen) if side == "genkit" else raw.caller()
        for _ in range(200):
            sync_call()
        points.append((0, *_checkpoint()))
        for index in range(1, calls + 1):
            sync_call()
            if index in marks:
                points.append((index, *_checkpoint()))
    return {"points": points}


def run_series(
    series: str, backend: str, server: BenchServer, calls: int, core: int | None
) -> list[tuple[int, float, int]]:
    command = [
        sys.executable,
        "-m",
        "bench.memory",
        "--child",
        series,
        "--child-backend",
        backend,
        "--child-url",
        server.url,
        "--calls",
        str(calls),
    ]
    if core is not None:
        command += ["--child-core", str(core)]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{series} {backend} failed: {result.stderr.strip()[-800:]}")
    points: list[tuple[int, float, int]] = [tuple(p) for p in json.loads(result.stdout)["points"]]
    return points


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5, help="fresh processes per import row")
    parser.add_argument(
        "--modes",
        nargs="*",
        choices=("sync", "async", "stream"),
        default=["sync", "async"],
        help="stream: 30-chunk streams instead of calls (slower)",
    )
    parser.add_argument(
        "--raw-modes",
        nargs="*",
        choices=("sync", "async", "stream"),
        default=["sync"],
        help="modes that also get a raw-SDK reference series (default: sync)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-backend", help=argparse.SUPPRESS)
    parser.add_argument("--child-url", help=argparse.SUPPRESS)
    parser.add_argument("--child-core", type=int, default=None, help=argparse.SUPPRESS)
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    clear_sdk_environment()
    if args.child:
        print(
            json.dumps(
                child(args.child, args.child_backend, args.child_url, args.calls, args.child_core)
            )
        )
        return 0

    backends, client_core, server_core = start_run(
        "Memory (resident set size)",
        args,
        f"after-import rows: median of {args.reps} fresh processes; growth series: one "
        f"fresh process each, {args.calls:,} calls after 200 warm-up calls",
        pin=False,
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    statements = [("bare interpreter", "pass"), ("import genkit", "import genkit")]
    for name in backends:
        module = HOSTED[name]
        sdk_stmt = "from google import genai" if module == "google.genai" else f"import {module}"
        statements.append((sdk_stmt, sdk_stmt))
        statements.append(
            (
                f'import genkit; genkit.load("{name}:{MODELS[name]}")',
                f'import genkit; genkit.load("{name}:{MODELS[name]}", api_key="{KEYS[name]}")',
            )
        )
    rows = []
    for label, statement in statements:
        before, after = import_rss(statement, args.reps, env)
        rows.append(
            [label, f"{after:.1f}", "—" if statement == "pass" else f"+{after - before:.1f}"]
        )
    print_table(
        "RSS after import (MiB, fresh processes, medians)",
        ["statement", "RSS after", "added by the statement"],
        rows,
    )

    growth_rows = []
    raw_reference: dict[tuple[str, str], float] = {}
    failed = False
    with BenchServer(cpu=server_core, impl=args.server) as server:
        for backend in backends:
            for mode in args.modes:
                raw_growth = raw_reference.get(
                    (backend, mode), raw_reference.get((backend, "sync"))
                )
                sides = ["raw"] if mode in args.raw_modes else []
                for side in [*sides, "genkit"]:
                    points = run_series(f"{side}-{mode}", backend, server, args.calls, client_core)
                    by_mark = {index: (rss, objects) for index, rss, objects in points}
                    quarter = round(args.calls * 0.25)
                    rss_growth = by_mark[args.calls][0] - by_mark[quarter][0]
                    obj_growth = by_mark[args.calls][1] - by_mark[quarter][1]
                    if side == "raw":
                        raw_growth = raw_reference[(backend, mode)] = rss_growth
                    flat_rss = rss_growth < RSS_GROWTH_LIMIT or (
                        raw_growth is not None and rss_growth <= raw_growth + RSS_NOISE
                    )
                    ok = flat_rss and obj_growth < OBJECT_GROWTH_LIMIT
                    if side == "genkit":
                        failed |= not ok
                    growth_rows.append(
                        [backend, side, mode]
                        + [f"{rss:.1f}" for _, rss, _ in points]
                        + [
                            f"{rss_growth:+.2f}",
                            f"{points[0][2]:,} → {points[-1][2]:,}",
                            f"{obj_growth:+,}",
                            verdict(ok) if side == "genkit" else "(reference)",
                        ]
                    )
    marks = [0, *(round(args.calls * f) for f in (0.25, 0.5, 0.75, 1.0))]
    print_table(
        f"RSS (MiB) over {args.calls:,} calls, after gc.collect() at each mark",
        [
            "backend",
            "side",
            "mode",
            *(f"@{m:,}" for m in marks),
            "RSS 25%→100%",
            "allocated blocks 0 → end",
            "blocks 25%→100%",
            "flat?",
        ],
        growth_rows,
        notes=[
            f"flat = between the 25% and 100% marks, Python's allocated blocks "
            f"(sys.getallocatedblocks) grow by < {OBJECT_GROWTH_LIMIT:,} and RSS by "
            f"< {RSS_GROWTH_LIMIT:g} MiB, or by no more than the raw SDK's own series "
            f"(same mode, else sync) + {RSS_NOISE:g} MiB."
        ],
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
