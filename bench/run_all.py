"""Run every benchmark, one after another, and keep the output.

    python -m bench.run_all            # a few minutes: shorter settings, same methods
    python -m bench.run_all --full     # each benchmark's own defaults (~15 minutes)
    python -m bench.run_all --only import_time streaming

Each benchmark runs in a fresh interpreter (nothing one leaves behind colours the next).
Output goes to the terminal and to ``bench/results/<UTC time>.md`` (git-ignored).  The
peers benchmark runs only when ``bench/.venv-peers`` exists (``python -m bench.peers
--setup``); ``local_generation`` and ``local_structured`` only when asked for with ``--only``.
Exit status: 0 when every target was met, 1 otherwise, 2 when a benchmark crashed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench._common import REPO_ROOT

#: (module, arguments for the quick run); --full drops the arguments.
PLAN: list[tuple[str, list[str]]] = [
    ("import_time", ["--reps", "9"]),
    ("call_overhead", ["--rounds", "120"]),
    ("fallback_overhead", ["--rounds", "120"]),
    ("streaming", ["--rounds", "10"]),
    ("tools", ["--rounds", "60", "--stream-rounds", "6"]),
    ("structured", ["--rounds", "60"]),
    ("concurrency", ["--rounds", "3", "--budget", "200"]),
    ("memory", ["--modes", "sync", "async", "--raw-modes", "sync", "--reps", "3"]),
    ("profile_calls", ["--calls", "1000", "--chunks", "1000", "--top", "8"]),
    ("peers", ["--rounds", "60", "--stream-rounds", "4", "--reps", "5"]),
]
OPTIONAL = {"local_generation", "local_structured"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="each benchmark's own defaults")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark modules to run")
    args = parser.parse_args(argv)
    plan = [(name, [] if args.full else extra) for name, extra in PLAN]
    if args.only:
        if unknown := sorted(set(args.only) - {name for name, _ in PLAN} - OPTIONAL):
            parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
        plan = [(name, extra) for name, extra in plan if name in args.only]
        plan += [(name, []) for name in args.only if name in OPTIONAL]
    (REPO_ROOT / "bench" / "results").mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_path = REPO_ROOT / "bench" / "results" / f"{stamp}.md"
    statuses: list[tuple[str, str, float]] = []
    with log_path.open("w") as log:
        log.write(f"# genkit benchmarks, {stamp}\n\n")
        for name, extra in plan:
            if name == "peers" and not (REPO_ROOT / "bench" / ".venv-peers").exists():
                statuses.append((name, "skipped: run `python -m bench.peers --setup` first", 0.0))
                continue
            command = [sys.executable, "-m", f"bench.{name}", *extra]
            banner = f"\n\n<!-- $ {' '.join(['python', *command[1:]])} -->\n"
            print(banner, flush=True)
            log.write(banner)
            started, crashed = time.monotonic(), False
            pipe, out = subprocess.PIPE, subprocess.STDOUT
            with subprocess.Popen(
                command, cwd=REPO_ROOT, stdout=pipe, stderr=out, text=True
            ) as proc:
                for line in proc.stdout or ():
                    sys.stdout.write(line)
                    log.write(line)
                    crashed |= line.startswith("Traceback (most recent call last)")
            code = proc.returncode
            status = {0: "all targets met", 1: "some target NOT met"}.get(code, f"crashed ({code})")
            if crashed and code != 0:
                status = f"crashed ({code}): see the traceback above"
            statuses.append((name, status, time.monotonic() - started))
            log.flush()
        summary = "\n\n## Summary\n\n| benchmark | result | seconds |\n|---|---|---|\n" + "".join(
            f"| {name} | {status} | {elapsed:.0f} |\n" for name, status, elapsed in statuses
        )
        print(summary)
        log.write(summary)
    print(f"\nfull output: {log_path.relative_to(REPO_ROOT)}")
    if any(status.startswith("crashed") for _, status, _ in statuses):
        return 2
    return 0 if all(status != "some target NOT met" for _, status, _ in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())
