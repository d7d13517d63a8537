"""The harness every benchmark runs on: arguments, the server process, timing, tables.

Measurement hygiene on a small shared machine is the point of most of this module:

- The server runs in its **own process** (:class:`BenchServer`), never as a thread of
  the process being measured: a server thread would take the GIL from the client
  exactly while the client's time is being measured.
- With two or more cores the server is pinned to the last core and the benchmark to
  the first (:func:`pin_client`), so the two never migrate onto one core; ``--no-pin``
  turns that off.
- Competing variants run **interleaved** (ABBA..., or a rotating order for more than
  two: :func:`abba`), so drift (thermal, page cache, other tenants of the VM) lands on
  all of them alike, and differences are also reported **paired** per round.
- Every call is timed in wall-clock time *and* in this process's CPU time
  (:func:`timed`): whatever genkit adds is CPU work in the client, which CPU time shows
  even when other processes take the cores; :class:`LoadMonitor` says how much they did.

A benchmark builds its parser with :func:`parser`, calls :func:`begin` for its
:class:`Run` (backends, cores, header printed), measures inside ``run.server()``, prints
with ``run.table`` and returns ``run.status``.
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
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

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


def columns(rows: Sequence[Sequence[float]]) -> list[float]:
    """The median of each column of a list of equal-length samples."""
    return [median(column) for column in zip(*rows, strict=True)]


def paired(a: Sequence[T], b: Sequence[T], figure: Callable[[T, T], float]) -> float:
    """Median over rounds of ``figure(a, b)``: each sample against the one next to it in time."""
    return median([figure(x, y) for x, y in zip(a, b, strict=True)])


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
    title: str,
    headers: Sequence[str] | str,
    rows: Iterable[Sequence[object]],
    notes: Sequence[str] = (),
) -> None:
    """A markdown table: readable in a terminal, pastes into an issue as is.

    ``headers`` is a list, or one string written as the table's header row
    (``"backend | mode | ratio"``).
    """
    if isinstance(headers, str):
        headers = headers.split(" | ")
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


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def print_machine(
    title: str, packages: Sequence[str] = PACKAGES, extra: Sequence[str] = ()
) -> None:
    """What the numbers were measured on; a benchmark without this is not comparable."""
    versions = ", ".join(f"{p} {v}" for p in packages if (v := version_of(p)) is not None)
    print(f"## {title}\n")
    system = f"{platform.system()} {platform.release()}"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"- machine: {cpu_model()}, {os.cpu_count()} cores, {system}")
    print(f"- python: {python} ({sys.executable})")
    print(f"- packages: {versions}")
    print(
        f"- load average before the run (1, 5, 15 min): {load_average()} "
        "(anything else running on the machine shows here)"
    )
    for line in extra:
        print(f"- {line}")
    sys.stdout.flush()


# --------------------------------------------------------------------------- environment


def backend_present(name: str) -> bool:
    """Whether this checkout has the backend (a module today, a package after issue 10)."""
    folder = REPO_ROOT / "genkit" / "backends"
    return (folder / name).is_dir() or (folder / f"{name}.py").exists()


def hosted_backends(requested: Sequence[str] | None = None) -> list[str]:
    """Hosted backends that exist in this checkout and whose SDK is installed.

    A backend may land after the benchmarks; a benchmark then measures the ones that
    are there and says which it skipped.
    """
    found = []
    for name, module in HOSTED.items():
        if (requested and name not in requested) or not backend_present(name):
            continue
        if importlib.util.find_spec(module.split(".")[0]) is None:
            continue
        with contextlib.suppress(ImportError):
            if importlib.util.find_spec(module) is not None:
                found.append(name)
    return found


def skipped_backends(found: Sequence[str], requested: Sequence[str] | None = None) -> list[str]:
    return [name for name in requested or list(HOSTED) if name not in found]


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


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without ``PYTHON*`` variables, for children timed as a user's would be.

    This machine sets ``PYTHONDONTWRITEBYTECODE``; a child without it uses bytecode
    caches as on a user's machine (and runs from the repository root, so it still
    imports this checkout).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return {**env, **extra}


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


# --------------------------------------------------------------------------- arguments


def add_common_arguments(parser: argparse.ArgumentParser, *, server: bool = True) -> None:
    """``--backends``; with ``server``, also ``--server`` and ``--no-pin``."""
    parser.add_argument(
        "--backends",
        nargs="*",
        choices=list(HOSTED),
        default=None,
        help="hosted backends to measure (default: every one present)",
    )
    if not server:
        return
    parser.add_argument(
        "--server",
        choices=("lean", "fakeprovider"),
        default="lean",
        help="fakeprovider/lean.py (default) or FakeProviderServer, each in its own process",
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin the server and the benchmark to cores"
    )


def parser(
    doc: str | None,
    *,
    server: bool = True,
    modes: Sequence[str] = (),
    **ints: int | tuple[int, str],
) -> argparse.ArgumentParser:
    """A command's parser: its docstring's first paragraph as description, the common
    arguments, ``--modes`` over ``modes`` (all by default) and one integer option per
    keyword: ``rounds=300`` is ``--rounds`` with default 300, ``per_thread=(32, "help")``
    is ``--per-thread`` with its help.
    """
    out = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    for name, value in ints.items():
        default, help_ = value if isinstance(value, tuple) else (value, None)
        out.add_argument(f"--{name.replace('_', '-')}", type=int, default=default, help=help_)
    if modes:
        out.add_argument("--modes", nargs="*", choices=modes, default=list(modes))
    add_common_arguments(out, server=server)
    return out


@dataclass
class Run:
    """One invocation of a benchmark: what it measures, where, and whether targets held."""

    args: argparse.Namespace
    backends: list[str]
    client_core: int | None
    server_core: int | None
    monitor: LoadMonitor = field(default_factory=lambda: LoadMonitor())
    failed: bool = False

    @contextlib.contextmanager
    def server(self, chunks: int = 30, latency: float = 0.0) -> Iterator[BenchServer]:
        """The bench server on its core, watched by the load monitor."""
        impl = getattr(self.args, "server", "lean")
        with BenchServer(chunks, self.server_core, impl, latency=latency) as server:
            self.monitor.watch(server.pid)
            yield server

    def check(self, ok: bool) -> bool:
        """Record a target's outcome; return it."""
        self.failed |= not ok
        return ok

    def table(
        self,
        title: str,
        headers: Sequence[str] | str,
        rows: Iterable[Sequence[object]],
        notes: Sequence[str] = (),
        *,
        footer: bool = False,
    ) -> None:
        """:func:`print_table`; ``footer`` adds how busy the rest of the machine was."""
        print_table(title, headers, rows, [*notes, self.monitor.line()] if footer else notes)

    @property
    def status(self) -> int:
        return 1 if self.failed else 0


def begin(
    title: str,
    args: argparse.Namespace,
    *lines: str,
    pin: bool = True,
    packages: Sequence[str] = PACKAGES,
) -> Run:
    """The preamble every benchmark shares, so each module only states its own setup.

    Clears the SDKs' environment, picks the backends, lays out (and, with ``pin``,
    pins) the cores and prints the machine header with ``lines``.
    """
    clear_sdk_environment()
    requested = getattr(args, "backends", None)
    backends = hosted_backends(requested)
    skipped = skipped_backends(backends, requested)
    client_core, server_core = cpu_layout(not getattr(args, "no_pin", False))
    if pin:
        pin_client(client_core)
    extra = [hygiene_line(client_core, server_core, getattr(args, "server", "lean")), *lines]
    if skipped:
        extra.append(f"skipped (backend not in this checkout or SDK missing): {', '.join(skipped)}")
    print_machine(title, packages, extra)
    return Run(args, backends, client_core, server_core)


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
        return time.monotonic(), _busy_seconds(), sum(_process_seconds(p) for p in self.pids)

    def other_cores(self) -> float | None:
        now, busy, ours = self._snapshot()
        start, busy0, ours0 = self._start
        if busy is None or busy0 is None or now <= start:
            return None
        return max(0.0, ((busy - busy0) - (ours - ours0)) / (now - start))

    def line(self) -> str:
        other = self.other_cores()
        if other is None:
            return f"load average after the run: {load_average()}"
        warning = (
            " - the machine was busy with other work: trust the CPU-time and paired columns "
            "over plain wall-clock medians, or rerun when it is idle"
            if other > 0.25
            else ""
        )
        return (
            f"other processes used {other:.2f} of {os.cpu_count()} cores on average during "
            f"the run (load average after: {load_average()}){warning}"
        )


# --------------------------------------------------------------------------- server


@dataclass
class BenchServer:
    """``fakeprovider/lean.py`` in a child process, driven over its stdin/stdout.

    Counting requests over the control channel never touches the wire being measured.
    """

    chunks: int = 30
    cpu: int | None = None
    impl: str = "lean"
    #: Seconds the server holds each answer (``fakeprovider.lean --latency``).
    latency: float = 0.0
    port: int = 0
    _proc: subprocess.Popen[str] | None = field(default=None, repr=False)

    def __enter__(self) -> BenchServer:
        command = [sys.executable, "-m", "fakeprovider.lean", "--chunks", str(self.chunks)]
        command += ["--impl", self.impl] + ([] if self.cpu is None else ["--cpu", str(self.cpu)])
        command += ["--latency", str(self.latency)] if self.latency else []
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

    def expect(self, requests: int) -> dict[str, Any]:
        """The stats, after checking that exactly ``requests`` arrived since the reset."""
        stats = self.stats()
        if stats["requests"] != requests:
            raise RuntimeError(f"expected {requests} requests, the server saw {stats['requests']}")
        return stats

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


#: One memory checkpoint: (calls made, RSS MiB, allocated blocks).
Point = tuple[int, float, int]


def checkpoint(calls: int) -> Point:
    gc.collect()
    # Every block Python's allocator hands out, strings and list buffers included: a
    # leak of one string per call is 10,000 blocks long before it is a page of RSS.
    return calls, rss_mib(), sys.getallocatedblocks()


def growth(call: Callable[[int], object], marks: Sequence[int], warm_up: int = 200) -> list[Point]:
    """Checkpoints after ``warm_up`` calls (pools open, caches filled) and at each mark."""
    for i in range(warm_up):
        call(i)
    points, wanted = [checkpoint(0)], set(marks)
    for i in range(1, max(marks) + 1):
        call(i)
        if i in wanted:
            points.append(checkpoint(i))
    return points


async def agrowth(
    call: Callable[[int], Awaitable[object]], marks: Sequence[int], warm_up: int = 200
) -> list[Point]:
    for i in range(warm_up):
        await call(i)
    points, wanted = [checkpoint(0)], set(marks)
    for i in range(1, max(marks) + 1):
        await call(i)
        if i in wanted:
            points.append(checkpoint(i))
    return points


# --------------------------------------------------------------------------- timing

#: One timed call: (wall seconds, CPU seconds of this process).
Sample = tuple[float, float]


def timed(call: Callable[[], object], n: int) -> list[Sample]:
    """Wall and process CPU time of each of ``n`` calls, each timed on its own.

    CPU time is the second view because this machine is shared: when other work runs,
    wall time absorbs the waits for a core while this process's CPU time does not.
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


def measured(call: Callable[[], T]) -> tuple[T, float, float]:
    """(result, wall seconds, CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


async def ameasured(call: Callable[[], Awaitable[T]]) -> tuple[T, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = await call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def order(names: list[str], index: int) -> list[str]:
    """Round ``index``'s order: ABBA for two variants; for more, a start that rotates every
    round and a direction that reverses every other, so no variant always follows another."""
    shift = index % len(names) if len(names) > 2 else 0
    names = names[shift:] + names[:shift]
    return names if index % 2 == 0 else names[::-1]


def rounds_of(names: list[str], rounds: int, gc_every: int = 0) -> Iterator[str]:
    """The variants' names in :func:`order`, round after round; ``gc.collect()`` before every
    ``gc_every``-th round, outside the timing, so that no variant pays for another's garbage.

    Samples can be as short as a few calls: this machine's speed drifts from one fraction
    of a second to the next (a shared VM), so the finer the alternation, the better the
    pairs cancel it.
    """
    for index in range(rounds):
        if gc_every and index % gc_every == 0:
            gc.collect()
        yield from order(names, index)


def abba(
    variants: Mapping[str, Callable[[], T]], rounds: int, gc_every: int = 0
) -> dict[str, list[T]]:
    """Each variant's sample once per round (see :func:`rounds_of`)."""
    out: dict[str, list[T]] = {name: [] for name in variants}
    for name in rounds_of(list(variants), rounds, gc_every):
        out[name].append(variants[name]())
    return out


async def aabba(
    variants: Mapping[str, Callable[[], Awaitable[T]]], rounds: int, gc_every: int = 0
) -> dict[str, list[T]]:
    out: dict[str, list[T]] = {name: [] for name in variants}
    for name in rounds_of(list(variants), rounds, gc_every):
        out[name].append(await variants[name]())
    return out


@dataclass
class Interleaved:
    """Samples of several variants measured in alternating rounds, wall and CPU."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]
    round_wall: dict[str, list[float]]
    round_cpu: dict[str, list[float]]

    @classmethod
    def of(cls, blocks: Mapping[str, list[list[Sample]]]) -> Interleaved:
        """From each variant's blocks, one block per round."""
        flat = {n: [s for block in b for s in block] for n, b in blocks.items()}
        per_round = {n: [columns(block) for block in b] for n, b in blocks.items()}
        return cls(
            {n: [w for w, _ in s] for n, s in flat.items()},
            {n: [c for _, c in s] for n, s in flat.items()},
            {n: [w for w, _ in r] for n, r in per_round.items()},
            {n: [c for _, c in r] for n, r in per_round.items()},
        )

    def paired(self, a: str, b: str, *, cpu: bool = False) -> float:
        """Median over rounds of (median of a - median of b) in the same round."""
        rounds = self.round_cpu if cpu else self.round_wall
        return paired(rounds[a], rounds[b], lambda x, y: x - y)

    def ratio(self, a: str, b: str, *, cpu: bool = False) -> float:
        """a/b from the paired difference: ``1 + paired(a, b) / median(b)``."""
        return 1 + self.paired(a, b, cpu=cpu) / median((self.cpu if cpu else self.wall)[b])


def interleave(
    variants: Mapping[str, Callable[[], list[Sample]]], rounds: int, gc_every: int = 1
) -> Interleaved:
    """:func:`abba` over blocks of timed calls."""
    return Interleaved.of(abba(variants, rounds, gc_every))


async def ainterleave(
    variants: Mapping[str, Callable[[], Awaitable[list[Sample]]]], rounds: int, gc_every: int = 1
) -> Interleaved:
    return Interleaved.of(await aabba(variants, rounds, gc_every))


def counted(server: BenchServer, block: Callable[[], list[Sample]], n: int) -> list[Sample]:
    """Run a block and check the server saw exactly one request per call."""
    server.reset()
    samples = block()
    server.expect(n)
    return samples


async def acounted(
    server: BenchServer, block: Callable[[], Awaitable[list[Sample]]], n: int
) -> list[Sample]:
    server.reset()
    samples = await block()
    server.expect(n)
    return samples


#: Rounds between two gc.collect() calls (made outside the timing) in per-call comparisons.
GC_EVERY = 25
WARM_UP = 50


def compare_calls(
    server: BenchServer, calls: Mapping[str, Callable[[], object]], n: int, rounds: int
) -> Interleaved:
    """Per-call comparison: ``WARM_UP`` calls each, then ABBA blocks of ``n`` timed calls,
    each block checked to have sent exactly one request per call."""
    for call in calls.values():
        timed(call, WARM_UP)  # connections, lazy imports, pydantic caches

    def block(call: Callable[[], object]) -> Callable[[], list[Sample]]:
        return lambda: counted(server, lambda: timed(call, n), n)

    return interleave({name: block(call) for name, call in calls.items()}, rounds, GC_EVERY)


async def acompare_calls(
    server: BenchServer, calls: Mapping[str, Callable[[], Awaitable[object]]], n: int, rounds: int
) -> Interleaved:
    for call in calls.values():
        await atimed(call, WARM_UP)

    def block(call: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[list[Sample]]]:
        return lambda: acounted(server, lambda: atimed(call, n), n)

    return await ainterleave({name: block(call) for name, call in calls.items()}, rounds, GC_EVERY)


# --------------------------------------------------------------------------- fresh processes


def fresh(
    code: str,
    *,
    env: dict[str, str] | None = None,
    python: str = sys.executable,
    flags: Sequence[str] = (),
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``code`` in a fresh interpreter from the repository root: (wall seconds, result).

    Raises when the child fails; ``env`` defaults to this process's environment.
    """
    start = time.perf_counter()
    result = subprocess.run(
        [python, *flags, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(
            f"subprocess failed ({result.returncode}): {result.stderr.strip()[-800:]}"
        )
    return wall, result
