"""The harness every benchmark runs on: arguments, the server process, timing, tables.

Measurement hygiene on a small shared machine is most of it.  The server runs in its **own
process** (:class:`BenchServer`; a thread would take the GIL from the client being timed),
pinned to the last core and the benchmark to the first (``--no-pin`` turns that off).
Competing variants run **interleaved** (:func:`abba`), so drift lands on all alike, and
differences are also reported **paired** per round.  Every call is timed in wall-clock time
*and* this process's CPU time (:func:`timed`): genkit's cost is CPU work in the client,
which CPU time shows even while other processes take the cores; :class:`LoadMonitor` says
how much they did.  A benchmark builds its :func:`parser`, calls :func:`begin` for its
:class:`Run`, measures inside ``run.server()`` and prints with ``run.table``.  An async mode
runs on one event loop (:func:`runner`), its calls timed one by one inside it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from statistics import median as median
from typing import Any, TypeVar, cast

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Every hosted backend with the SDK module it imports, the model loaded, a fake key.
HOSTED = {"openai": "openai", "anthropic": "anthropic", "gemini": "google.genai"}
MODELS = {"openai": "gpt-4o", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}
KEYS = {"openai": "sk-bench", "anthropic": "sk-ant-bench", "gemini": "AIza-bench"}
PROMPT = "Say hello."
PACKAGES = ("genkit-sdk", "openai", "anthropic", "google-genai", "httpx2", "pydantic", "tenacity")
#: Variables that would point an SDK elsewhere or change its behaviour: cleared.
SDK_VARIABLES = (
    *("OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"),
    *("ANTHROPIC_AUTH_TOKEN", "GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "GOOGLE_API_KEY"),
    *("GOOGLE_GENAI_USE_VERTEXAI", "GENKIT_MODEL", "GENKIT_TIMEOUT", "GENKIT_MAX_RETRIES"),
)
FLAGS = {
    "no_control": "skip the A/A rows (the same side twice: the noise floor of the run)",
    "no_wire_check": "skip comparing genkit's and the raw SDK's requests on fakeprovider",
}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile with linear interpolation (numpy's default)."""
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


def print_table(title: str, headers: Any, rows: Any, notes: Sequence[str] = ()) -> None:
    """A markdown table (``headers`` a list or one ``"a | b"`` string): reads in a terminal,
    pastes into an issue as is."""
    headers = headers.split(" | ") if isinstance(headers, str) else headers
    text = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(c) for c in column) for column in zip(headers, *text, strict=True)]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)) for x in [headers, *text]
    ]
    rule = "|".join("-" * (w + 2) for w in widths)
    print(
        f"\n### {title}\n\n"
        + "\n".join([f"| {lines[0]} |", f"|{rule}|", *(f"| {x} |" for x in lines[1:])])
    )
    for note in notes:
        print(f"\n{note}")
    sys.stdout.flush()


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def print_machine(
    title: str, packages: Sequence[str] = PACKAGES, extra: Sequence[str] = ()
) -> None:
    """What the numbers were measured on; a benchmark without this is not comparable."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(x for x in lines if "model name" in x).split(":", 1)[1].strip()
    versions = []
    for package in packages:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{package} {metadata.version(package)}")
    python = f"{platform.python_implementation()} {platform.python_version()}"
    system = f"{platform.system()} {platform.release()}"
    print(f"## {title}\n\n- machine: {cpu}, {os.cpu_count()} cores, {system}")
    print(f"- python: {python} ({sys.executable})\n- packages: {', '.join(versions)}")
    print(
        f"- load average before the run (1, 5, 15 min): {load_average()} "
        "(anything else running on the machine shows here)"
    )
    for line in extra:
        print(f"- {line}")
    sys.stdout.flush()


def backend_present(name: str) -> bool:
    """Whether this checkout has the backend (a package, or a module as before issue 10)."""
    folder = REPO_ROOT / "genkit" / "backends"
    return (folder / name).is_dir() or (folder / f"{name}.py").exists()


def hosted_backends(requested: Sequence[str] | None = None) -> list[str]:
    """Hosted backends in this checkout whose SDK is installed (a benchmark measures those)."""
    found = []
    for name, module in HOSTED.items():
        if (requested and name not in requested) or not backend_present(name):
            continue
        with contextlib.suppress(ImportError):
            if importlib.util.find_spec(module.split(".")[0]) and importlib.util.find_spec(module):
                found.append(name)
    return found


def clear_sdk_environment() -> None:
    for name in SDK_VARIABLES:
        os.environ.pop(name, None)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without ``PYTHON*`` variables, for children timed as a user's would be
    (this machine sets ``PYTHONDONTWRITEBYTECODE``; a user's interpreter uses bytecode caches)."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}, **extra}


def pin_client(core: int | None) -> None:
    if core is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {core})


def parser(
    doc: str | None,
    *,
    backends: bool = True,
    server: bool = True,
    modes: Sequence[str] = (),
    flags: Sequence[str] = (),
    **ints: int | tuple[int, str],
) -> argparse.ArgumentParser:
    """A command's parser: its docstring's first paragraph as description, one integer option
    per keyword (``per_thread=(32, "help")``: ``--per-thread``, default 32), ``--modes``, the
    :data:`FLAGS` named, ``--backends`` and, with ``server``, ``--server`` and ``--no-pin``."""
    out = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    for name, value in ints.items():
        default, help_ = value if isinstance(value, tuple) else (value, None)
        out.add_argument(f"--{name.replace('_', '-')}", type=int, default=default, help=help_)
    if modes:
        out.add_argument("--modes", nargs="*", choices=modes, default=list(modes))
    for flag in flags:
        out.add_argument(f"--{flag.replace('_', '-')}", action="store_true", help=FLAGS[flag])
    if backends:
        help_ = "hosted backends to measure (default: every one present)"
        out.add_argument("--backends", nargs="*", choices=list(HOSTED), default=None, help=help_)
    if server:
        help_ = "fakeprovider/lean.py (default) or FakeProviderServer, each in its own process"
        out.add_argument("--server", choices=("lean", "fakeprovider"), default="lean", help=help_)
        help_ = "do not pin the server and the benchmark to cores"
        out.add_argument("--no-pin", action="store_true", help=help_)
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
        with BenchServer(chunks, self.server_core, impl, latency) as server:
            self.monitor.watch(server.pid)
            yield server

    def check(self, ok: bool) -> bool:
        """Record a target's outcome; return it."""
        self.failed |= not ok
        return ok

    def table(
        self, title: str, headers: Any, rows: Any, notes: Sequence[str] = (), footer: bool = False
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
    """The preamble every benchmark shares: clears the SDKs' environment, picks the backends,
    lays out (with ``pin``, pins) the cores and prints the machine header with ``lines``."""
    clear_sdk_environment()
    requested = getattr(args, "backends", None)
    backends = hosted_backends(requested)
    cores = sorted(os.sched_getaffinity(0))
    if getattr(args, "no_pin", False) or len(cores) < 2:
        client, server, where = None, None, "server and benchmark unpinned"
    else:
        client, server = cores[0], cores[-1]
        where = f"server process pinned to core {server}, benchmark to core {client}"
    if pin:
        pin_client(client)
    lean = getattr(args, "server", "lean") == "lean"
    impl = "fakeprovider/lean.py (lean asyncio)" if lean else "fakeprovider"
    extra = [f"server: {impl} in a separate process over 127.0.0.1 keep-alive; {where}", *lines]
    if skipped := [name for name in requested or list(HOSTED) if name not in backends]:
        extra.append(f"skipped (backend not in this checkout or SDK missing): {', '.join(skipped)}")
    print_machine(title, packages, extra)
    return Run(args, backends, client, server)


@contextlib.contextmanager
def runner(mode: str) -> Iterator[asyncio.Runner | None]:
    """None for the sync mode; for ``async``, one event loop that the whole mode runs on."""
    if mode == "sync":
        yield None
        return
    with asyncio.Runner() as loop:
        yield loop


def once(call: Callable[[], Any], loop: asyncio.Runner | None) -> Any:
    """One call, a plain one or (with ``loop``) a coroutine function run to its end."""
    return call() if loop is None else loop.run(call())


class LoadMonitor:
    """How much CPU *other* processes used while a benchmark ran, in cores: all busy CPU time
    (``/proc/stat``) minus this process's and the bench server's, over the elapsed time."""

    def __init__(self) -> None:
        self.pids = [os.getpid()]
        self.start = self.snapshot()

    def watch(self, pid: int) -> None:
        self.pids.append(pid)
        self.start = self.snapshot()

    def snapshot(self) -> tuple[float, float, float]:
        def seconds(path: str, fields: list[int]) -> float:
            with contextlib.suppress(OSError):  # a process that has gone counts nothing
                text = Path(path).read_text()  # /proc/stat: its first line's fields come first
                values = text.split()[1:] if path == "/proc/stat" else text.rsplit(")")[-1].split()
                return sum(int(values[i]) for i in fields) / os.sysconf("SC_CLK_TCK")
            return 0.0

        # /proc/stat: user nice system idle iowait irq softirq steal; /proc/PID/stat after the
        # name: utime, stime, cutime, cstime are fields 11-14.
        busy = seconds("/proc/stat", [0, 1, 2, 5, 6, 7])
        return (
            time.monotonic(),
            busy,
            sum(seconds(f"/proc/{p}/stat", [11, 12, 13, 14]) for p in self.pids),
        )

    def line(self) -> str:
        (now, busy, ours), (start, busy0, ours0) = self.snapshot(), self.start
        other = max(0.0, ((busy - busy0) - (ours - ours0)) / max(now - start, 1e-9))
        warning = (
            " - the machine was busy with other work: trust the CPU-time and paired columns "
            "over plain wall-clock medians, or rerun when it is idle"
        )
        return (
            f"other processes used {other:.2f} of {os.cpu_count()} cores on average during "
            f"the run (load average after: {load_average()}){warning if other > 0.25 else ''}"
        )


@dataclass
class Urls:
    """Where each provider's SDK sends its requests, from the server's root URL."""

    url: str

    def base_url(self, provider: str) -> str:
        """OpenAI's SDK wants ``/v1`` in its base URL, the others do not."""
        return self.url + "/v1" if provider == "openai" else self.url


class BenchServer(Urls):
    """``fakeprovider/lean.py`` in a child process (``impl``: lean or fakeprovider), driven
    over its stdin/stdout: counting requests never touches the wire being measured."""

    def __init__(
        self, chunks: int = 30, cpu: int | None = None, impl: str = "lean", latency: float = 0.0
    ) -> None:
        # No --cpu without a core, no --latency without one: options left at None are not sent.
        options = {"--chunks": chunks, "--impl": impl, "--cpu": cpu, "--latency": latency or None}
        self.command = [sys.executable, "-m", "fakeprovider.lean"]
        self.command += [str(x) for k, v in options.items() if v is not None for x in (k, v)]

    def __enter__(self) -> BenchServer:
        pipe, env = subprocess.PIPE, {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        popen = subprocess.Popen(
            self.command, cwd=REPO_ROOT, stdin=pipe, stdout=pipe, text=True, env=env
        )
        self.proc: Any = cast(Any, popen)
        self.pid, line = self.proc.pid, self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError(f"bench server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()

    def stats(self, command: str = "stats") -> dict[str, Any]:
        """``{"connections": n, "requests": n, "by_route": {...}}`` since the last reset."""
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        result: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return result

    def reset(self) -> None:
        self.stats("reset")

    def expect(self, requests: int) -> dict[str, Any]:
        """The stats, after checking that exactly ``requests`` arrived since the reset."""
        if (stats := self.stats())["requests"] != requests:
            raise RuntimeError(f"expected {requests} requests, the server saw {stats['requests']}")
        return stats


#: One memory checkpoint: (calls made, RSS MiB, allocated blocks).
Point = tuple[int, float, int]


def rss_mib() -> float:
    """Current resident set size of this process in MiB (Linux ``VmRSS``)."""
    lines = Path("/proc/self/status").read_text().splitlines()
    return int(next(x for x in lines if x.startswith("VmRSS:")).split()[1]) / 1024


def growth(call: Callable[[int], object], marks: Sequence[int], warm_up: int = 200) -> list[Point]:
    """Checkpoints (after ``gc.collect()``) after ``warm_up`` calls and at each mark.  The
    allocated blocks count strings and list buffers too: a leak of one string per call is
    10,000 blocks long before it is a page of RSS."""
    for i in range(warm_up):
        call(i)
    gc.collect()
    points = [(0, rss_mib(), sys.getallocatedblocks())]
    for i in range(1, max(marks) + 1):
        call(i)
        if i in marks:
            gc.collect()
            points.append((i, rss_mib(), sys.getallocatedblocks()))
    return points


#: One timed call: (wall seconds, CPU seconds of this process).
Sample = tuple[float, float]
#: Rounds between two gc.collect() calls (outside the timing) in per-call comparisons.
GC_EVERY = 25
WARM_UP = 50


def timed(call: Callable[[], object], n: int) -> list[Sample]:
    """Wall and process CPU time of each of ``n`` calls, each timed on its own: on a shared
    machine wall time absorbs the waits for a core, this process's CPU time does not."""
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


def abba(
    variants: Mapping[str, Callable[[], T]], rounds: int, gc_every: int = 0
) -> dict[str, list[T]]:
    """Each variant's sample once per round: ABBA for two variants; for more, a start that
    rotates every round and a direction that reverses every other, so no variant always
    follows another; ``gc.collect()`` before every ``gc_every``-th round, outside the timing.
    Samples can be a few calls: this machine's speed drifts from one fraction of a second
    to the next (a shared VM), so the finer the alternation, the better pairs cancel it."""
    out: dict[str, list[T]] = {name: [] for name in variants}
    names = list(variants)
    for index in range(rounds):
        if gc_every and index % gc_every == 0:
            gc.collect()
        shift = index % len(names) if len(names) > 2 else 0
        turn = names[shift:] + names[:shift]
        for name in turn if index % 2 == 0 else turn[::-1]:
            out[name].append(variants[name]())
    return out


@dataclass
class Interleaved:
    """Per-call samples of variants measured in alternating blocks: every call's wall and CPU
    time, and each block's medians (``round_*``), per variant."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]
    round_wall: dict[str, list[float]]
    round_cpu: dict[str, list[float]]

    def paired(self, a: str, b: str, *, cpu: bool = False) -> float:
        """Median over rounds of (median of a - median of b) in the same round."""
        rounds = self.round_cpu if cpu else self.round_wall
        return paired(rounds[a], rounds[b], lambda x, y: x - y)

    def ratio(self, a: str, b: str, *, cpu: bool = False, base: str | None = None) -> float:
        """a/b from the paired difference: ``1 + paired(a, b) / median(base or b)``."""
        return 1 + self.paired(a, b, cpu=cpu) / median((self.cpu if cpu else self.wall)[base or b])


def compare_calls(
    server: BenchServer | None,
    calls: Mapping[str, Callable[[], Any]],
    n: int,
    rounds: int,
    loop: asyncio.Runner | None = None,
    before: Callable[[Any], object] | None = None,
    warm_up: int = WARM_UP,
) -> Interleaved:
    """Per-call comparison: ``warm_up`` calls each (connections, lazy imports, caches), then
    ABBA blocks of ``n`` calls timed one by one, each block checked to have sent exactly one
    request per call (unless ``server`` is None).  With ``loop`` the calls are coroutine
    functions, timed inside it; ``before(name)`` runs ahead of each variant's warm-up and
    blocks, outside the timing."""

    def block(name: str, call: Callable[[], Any], k: int) -> Callable[[], list[Sample]]:
        def run() -> list[Sample]:
            if before is not None:
                before(name)
            if server is not None:
                server.reset()
            samples = timed(call, k) if loop is None else loop.run(atimed(call, k))
            if server is not None and k == n:
                server.expect(n)
            return samples

        return run

    for name, call in calls.items():
        block(name, call, warm_up)()
    blocks = abba({name: block(name, call, n) for name, call in calls.items()}, rounds, GC_EVERY)
    flat = {name: [s for block in b for s in block] for name, b in blocks.items()}
    per_round = {name: [columns(block) for block in b] for name, b in blocks.items()}
    return Interleaved(
        {name: [w for w, _ in s] for name, s in flat.items()},
        {name: [c for _, c in s] for name, s in flat.items()},
        {name: [w for w, _ in r] for name, r in per_round.items()},
        {name: [c for _, c in r] for name, r in per_round.items()},
    )


def sample_streams(
    streams: Mapping[str, Callable[[], Any]],
    rounds: int,
    figure: Callable[[Any, float, float, Any], T],
    loop: asyncio.Runner | None = None,
) -> dict[str, list[T]]:
    """{name: [figures]} of ABBA-interleaved streams after a warm-up each, a ``gc.collect()``
    before every one; ``figure(result, wall, cpu, expected)`` checks a stream's result against
    the first warm-up stream's (so every side must deliver the same) and returns its figures."""
    expected = [once(stream, loop) for stream in streams.values()][0]  # noqa: RUF015

    def sample(stream: Callable[[], Any]) -> Callable[[], T]:
        def one() -> T:
            gc.collect()
            return figure(
                *(measured(stream) if loop is None else loop.run(ameasured(stream))), expected
            )

        return one

    return abba({name: sample(stream) for name, stream in streams.items()}, rounds)


def fresh(
    code: str,
    *,
    env: dict[str, str] | None = None,
    python: str = sys.executable,
    flags: Sequence[str] = (),
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``code`` in a fresh interpreter from the repository root: (wall seconds, result);
    raises when the child fails.  ``env`` defaults to this process's environment."""
    start = time.perf_counter()
    command = [python, *flags, "-c", code]
    result = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=False, env=env
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(
            f"subprocess failed ({result.returncode}): {result.stderr.strip()[-800:]}"
        )
    return wall, result
