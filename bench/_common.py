"""Plumbing every benchmark shares: statistics, tables, the machine, the server process.

Measurement hygiene on a small machine is the point of most of this module:

- The server runs in its **own process** (:class:`BenchServer`), never as a thread of
  the process being measured: a server thread would take the GIL from the client
  exactly while the client's time is being measured.
- With two or more cores the server is pinned to the last core and the benchmark to
  the first (:func:`pin_client`), so the two never migrate onto one core and the
  scheduler's choices do not add noise; ``--no-pin`` turns that off.
- Competing variants are run **interleaved** in alternating order (ABBA...,
  :func:`interleave`), so drift (thermal, page cache, other tenants of the VM) lands
  on both sides alike, and differences are also reported **paired** per round.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Every hosted backend genkit has or will have, with the SDK module it imports.
HOSTED: dict[str, str] = {"openai": "openai", "anthropic": "anthropic", "gemini": "google.genai"}
#: The model string the benchmarks load for each backend.
MODELS: dict[str, str] = {
    "openai": "gpt-4o",
    "anthropic": "claude-haiku-4-5",
    "gemini": "gemini-2.5-flash",
}
#: Fake keys: the bench server accepts anything.
KEYS: dict[str, str] = {"openai": "sk-bench", "anthropic": "sk-ant-bench", "gemini": "AIza-bench"}
PROMPT = "Say hello."

PACKAGES = ("genkit-sdk", "openai", "anthropic", "google-genai", "httpx2", "pydantic", "tenacity")


# --------------------------------------------------------------------------- statistics


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile with linear interpolation (numpy's default), no numpy needed."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --------------------------------------------------------------------------- formatting


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f}"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f}"


def signed_us(seconds: float) -> str:
    return f"{seconds * 1e6:+,.1f}"


def pct(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_table(
    title: str, headers: Sequence[str], rows: Iterable[Sequence[object]], notes: Sequence[str] = ()
) -> None:
    """A markdown table: readable in a terminal, pastes into an issue as is."""
    text = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for line in text:
        widths = [max(w, len(cell)) for w, cell in zip(widths, line, strict=True)]
    print(f"\n### {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in text:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
    for note in notes:
        print(f"\n{note}")
    sys.stdout.flush()


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def version_of(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def print_machine(
    title: str, packages: Sequence[str] = PACKAGES, extra: Sequence[str] = ()
) -> None:
    """What the numbers were measured on; a benchmark without this is not comparable."""
    versions = ", ".join(f"{p} {v}" for p in packages if (v := version_of(p)) is not None)
    print(f"## {title}\n")
    print(
        f"- machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}"
    )
    print(
        f"- python: {platform.python_implementation()} {platform.python_version()} "
        f"({sys.executable})"
    )
    print(f"- packages: {versions}")
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"- load average before the run (1, 5, 15 min): {load} "
            "(anything else running on the machine shows here)"
        )
    for line in extra:
        print(f"- {line}")
    sys.stdout.flush()


# --------------------------------------------------------------------------- environment


def hosted_backends(requested: Sequence[str] | None = None) -> list[str]:
    """Hosted backends that exist in this checkout and whose SDK is installed.

    The Anthropic and Gemini backends may land after the benchmarks; a benchmark then
    simply measures the ones that are there and says which it skipped.
    """
    found = []
    for name, module in HOSTED.items():
        if requested and name not in requested:
            continue
        if not (REPO_ROOT / "genkit" / "backends" / f"{name}.py").exists():
            continue
        if importlib.util.find_spec(module.split(".")[0]) is None:
            continue
        with contextlib.suppress(ImportError):
            if importlib.util.find_spec(module) is not None:
                found.append(name)
    return found


def skipped_backends(found: Sequence[str], requested: Sequence[str] | None = None) -> list[str]:
    wanted = requested or list(HOSTED)
    return [name for name in wanted if name not in found]


def clear_sdk_environment() -> None:
    """Drop variables that would point an SDK elsewhere or change its behaviour."""
    for name in (
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "GOOGLE_GEMINI_BASE_URL",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GENKIT_MODEL",
        "GENKIT_TIMEOUT",
        "GENKIT_MAX_RETRIES",
    ):
        os.environ.pop(name, None)


def cpu_layout(pin: bool) -> tuple[int | None, int | None]:
    """(client core, server core): separate cores when there are at least two."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not pin or len(cores) < 2:
        return None, None
    return cores[0], cores[-1]


def pin_client(core: int | None) -> None:
    if core is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {core})


def hygiene_line(client_core: int | None, server_core: int | None, impl: str) -> str:
    where = (
        f"server process pinned to core {server_core}, benchmark to core {client_core}"
        if client_core is not None
        else "server and benchmark unpinned"
    )
    return (
        f"server: {'fakeprovider/lean.py (lean asyncio)' if impl == 'lean' else 'fakeprovider'} "
        f"in a separate process over 127.0.0.1 keep-alive; {where}"
    )


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backends",
        nargs="*",
        choices=list(HOSTED),
        default=None,
        help="hosted backends to measure (default: every one present)",
    )
    parser.add_argument(
        "--server",
        choices=("lean", "fakeprovider"),
        default="lean",
        help="fakeprovider/lean.py (default) or FakeProviderServer, each in its own process",
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin the server and the benchmark to cores"
    )


def start_run(
    title: str, args: argparse.Namespace, *lines: str, pin: bool = True
) -> tuple[list[str], int | None, int | None]:
    """The preamble every server benchmark shares, so each module only states its own setup.

    Clears the SDKs' environment, picks the backends, lays out (and pins) the cores and
    prints the machine header; returns ``(backends, client_core, server_core)``.
    """
    clear_sdk_environment()
    backends = hosted_backends(args.backends)
    skipped = skipped_backends(backends, args.backends)
    client_core, server_core = cpu_layout(not args.no_pin)
    if pin:
        pin_client(client_core)
    extra = [hygiene_line(client_core, server_core, args.server), *lines]
    if skipped:
        extra.append(f"skipped (backend not in this checkout or SDK missing): {', '.join(skipped)}")
    print_machine(title, extra=extra)
    return backends, client_core, server_core


# --------------------------------------------------------------------------- load


def _busy_seconds() -> float | None:
    """CPU seconds all cores spent busy since boot (``/proc/stat``), or None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _process_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime are fields 14-17 of the file, 12-15 after the name.
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class LoadMonitor:
    """How much CPU *other* processes used while a benchmark ran.

    This machine is shared with other work; a benchmark cannot stop it, but it can
    say how much there was, so a reader knows how far to trust the wall-clock tables.
    Measured as all busy CPU time on the machine minus this process's and the bench
    server's, divided by the elapsed time: "other load, in cores".
    """

    def __init__(self) -> None:
        self.pids: list[int] = [os.getpid()]
        self._start = self._snapshot()

    def watch(self, pid: int) -> None:
        self.pids.append(pid)
        self._start = self._snapshot()

    def _snapshot(self) -> tuple[float, float | None, float]:
        return (
            time.monotonic(),
            _busy_seconds(),
            sum(_process_seconds(pid) for pid in self.pids),
        )

    def other_cores(self) -> float | None:
        now, busy, ours = self._snapshot()
        start, busy0, ours0 = self._start
        if busy is None or busy0 is None or now <= start:
            return None
        return max(0.0, ((busy - busy0) - (ours - ours0)) / (now - start))

    def line(self) -> str:
        other = self.other_cores()
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
        if other is None:
            return f"load average after the run: {load}"
        warning = (
            " - the machine was busy with other work: trust the CPU-time and paired columns "
            "over plain wall-clock medians, or rerun when it is idle"
            if other > 0.25
            else ""
        )
        return (
            f"other processes used {other:.2f} of {os.cpu_count()} cores on average during "
            f"the run (load average after: {load}){warning}"
        )


# --------------------------------------------------------------------------- server


@dataclass
class BenchServer:
    """The benchmark server in a child process, driven over its stdin/stdout."""

    chunks: int = 30
    cpu: int | None = None
    impl: str = "lean"
    port: int = 0
    _proc: subprocess.Popen[str] | None = field(default=None, repr=False)

    def __enter__(self) -> BenchServer:
        command = [
            sys.executable,
            "-m",
            "fakeprovider.lean",
            "--chunks",
            str(self.chunks),
            "--impl",
            self.impl,
        ]
        if self.cpu is not None:
            command += ["--cpu", str(self.cpu)]
        self._proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.startswith("READY "):
            self._proc.kill()
            raise RuntimeError(f"bench server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            assert proc.stdin is not None
            proc.stdin.write("quit\n")
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def _command(self, command: str) -> dict[str, Any]:
        assert self._proc is not None
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        result: dict[str, Any] = json.loads(self._proc.stdout.readline())
        return result

    def stats(self) -> dict[str, Any]:
        """``{"connections": n, "requests": n, "by_route": {...}}`` since the last reset."""
        return self._command("stats")

    def reset(self) -> None:
        self._command("reset")

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, provider: str) -> str:
        """The base URL each SDK wants: OpenAI's includes ``/v1``, the others' do not."""
        return self.url + "/v1" if provider == "openai" else self.url


def rss_mib() -> float:
    """Current resident set size of this process in MiB (Linux ``VmRSS``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


# --------------------------------------------------------------------------- timing

#: One timed call: (wall seconds, CPU seconds of this process).
Sample = tuple[float, float]


def timed(call: Callable[[], object], n: int) -> list[Sample]:
    """Wall and process CPU time of each of ``n`` calls, each timed on its own.

    CPU time is the second view because this machine is shared: when other work runs,
    wall time absorbs the waits for a core while this process's CPU time does not.
    Whatever genkit adds is CPU work in this process, so CPU time shows it as clearly
    as an idle machine's wall time would (and with the server's share left out, the
    ratio is the stricter one).
    """
    wall, cpu = time.perf_counter, time.process_time
    out = []
    for _ in range(n):
        w, c = wall(), cpu()
        call()
        out.append((wall() - w, cpu() - c))
    return out


async def atimed(call: Callable[[], Awaitable[object]], n: int) -> list[Sample]:
    wall, cpu = time.perf_counter, time.process_time
    out = []
    for _ in range(n):
        w, c = wall(), cpu()
        await call()
        out.append((wall() - w, cpu() - c))
    return out


@dataclass
class Interleaved:
    """Samples of several variants measured in alternating rounds, wall and CPU."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]
    round_wall: dict[str, list[float]]
    round_cpu: dict[str, list[float]]

    def paired(self, a: str, b: str, *, cpu: bool = False) -> float:
        """Median over rounds of (median of a - median of b) in the same round."""
        rounds = self.round_cpu if cpu else self.round_wall
        return median([x - y for x, y in zip(rounds[a], rounds[b], strict=True)])


class _Collector:
    def __init__(self, names: list[str]) -> None:
        self.result = Interleaved(
            {n: [] for n in names},
            {n: [] for n in names},
            {n: [] for n in names},
            {n: [] for n in names},
        )

    def add(self, name: str, block: list[Sample]) -> None:
        walls = [w for w, _ in block]
        cpus = [c for _, c in block]
        self.result.wall[name].extend(walls)
        self.result.cpu[name].extend(cpus)
        self.result.round_wall[name].append(median(walls))
        self.result.round_cpu[name].append(median(cpus))


def _order(names: list[str], index: int) -> list[str]:
    return names if index % 2 == 0 else list(reversed(names))


def interleave(
    variants: dict[str, Callable[[], list[Sample]]], rounds: int, gc_every: int = 1
) -> Interleaved:
    """Run each variant's block once per round, reversing the order every other round.

    Blocks can be as short as a few calls: this machine's speed drifts from one
    fraction of a second to the next (a shared VM), so the finer the alternation, the
    better the pairs cancel it.  ``gc.collect()`` runs before the round every
    ``gc_every`` rounds, outside the timing, so that one variant does not pay for the
    garbage the other left behind.
    """
    names = list(variants)
    collector = _Collector(names)
    for index in range(rounds):
        if index % gc_every == 0:
            gc.collect()
        for name in _order(names, index):
            collector.add(name, variants[name]())
    return collector.result


async def ainterleave(
    variants: dict[str, Callable[[], Awaitable[list[Sample]]]], rounds: int, gc_every: int = 1
) -> Interleaved:
    names = list(variants)
    collector = _Collector(names)
    for index in range(rounds):
        if index % gc_every == 0:
            gc.collect()
        for name in _order(names, index):
            collector.add(name, await variants[name]())
    return collector.result


def run_python(code: str, python: str = sys.executable, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter from the repository root; return its stdout."""
    result = subprocess.run(
        [python, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env if env is not None else dict(os.environ),
    )
    if result.returncode != 0:
        raise RuntimeError(f"subprocess failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout
