"""Where genkit's own time goes on the per-call and per-chunk paths.

    python -m bench.profile_calls [--calls 2000] [--chunks 2000] [--top 12]

Two views, because each alone misleads:

1. **genkit's layer alone, no network.**  A :class:`genkit.Generator` over a stub
   backend that returns a ready answer (or yields ready stream events): what
   ``Generator`` + retry policy + stream wrapper cost per call / per chunk, timed with
   ``perf_counter`` and no profiler (best of several repeats).  This is the floor of
   genkit's overhead, whatever the provider.
2. **cProfile of real calls** through each backend against the bench server: the self
   time of every function defined in ``genkit/``, per call (or per chunk), and its
   share of the whole call.  cProfile adds roughly a microsecond to every function
   call it sees, and genkit's path is many small functions, so read these as *where*
   the time goes, not as absolute costs (view 1 and ``bench.call_overhead`` give
   those).  Work genkit makes the *SDK* do (e.g. a config object to convert) shows up
   in the SDK's functions, not genkit's: ``bench.call_overhead`` catches that.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path

import genkit
from bench._backends import (
    PARAMS,
    genkit_call,
    genkit_stream,
    load_generator,
)
from bench._common import (
    PROMPT,
    REPO_ROOT,
    BenchServer,
    begin,
    parser,
    pct,
    print_table,
    timed,
    us,
)
from genkit.backends.base import Backend, BackendSettings
from genkit.capabilities import CapabilityTable, ModelCapabilities
from genkit.params import Request
from genkit.types import Chunk, Finish, Generation, StreamEvent, Usage, UsageUpdate

GENKIT_DIR = str(REPO_ROOT / "genkit")


class StubBackend(Backend):
    """Answers at once, so that only genkit's own layer is left to time."""

    provider = "stub"
    capabilities = CapabilityTable(
        [], default=ModelCapabilities(supported=frozenset(genkit.SHARED_PARAMETERS))
    )

    def __init__(self, events: int = 0) -> None:
        super().__init__("stub-model", BackendSettings())
        self.answer = Generation(
            texts=["hello"],
            finish_reasons=["stop"],
            usage=Usage(3, 5),
            model="stub-model",
            provider="stub",
        )
        self.events: list[StreamEvent] = [Chunk(f" tok{i % 100}") for i in range(events)]
        self.events += [Finish("stop", "stop"), UsageUpdate(Usage(3, events))]

    def generate(self, request: Request) -> Generation:
        return self.answer

    async def agenerate(self, request: Request) -> Generation:
        return self.answer

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        yield from self.events

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        for event in self.events:
            yield event


def best_of(run: Callable[[], float], repeats: int = 7) -> float:
    """The least-disturbed of several repeats: the right estimator for a CPU-bound loop."""
    return min(run() for _ in range(repeats))


def layer_costs(calls: int, chunks: int) -> list[list[str]]:
    gen = genkit.Generator(StubBackend())
    streaming = genkit.Generator(StubBackend(chunks))
    clock = time.perf_counter

    def per_call(call: Callable[[], object]) -> float:
        start = clock()
        for _ in range(calls):
            call()
        return (clock() - start) / calls

    def per_acall(call: Callable[[], Awaitable[object]]) -> float:
        async def loop() -> float:
            start = clock()
            for _ in range(calls):
                await call()
            return (clock() - start) / calls

        return asyncio.run(loop())

    async def aempty() -> None:
        return None

    baseline = best_of(lambda: per_call(lambda: None))
    abaseline = best_of(lambda: per_acall(aempty))
    sync: dict[str, Callable[[], object]] = {
        "gen.generate(prompt)": lambda: gen.generate(PROMPT),
        "gen.generate(prompt, system=, temperature=, max_tokens=)": lambda: gen.generate(
            PROMPT, **PARAMS
        ),
    }
    asynced: dict[str, Callable[[], Awaitable[object]]] = {
        "await gen.agenerate(prompt)": lambda: gen.agenerate(PROMPT),
        "await gen.agenerate(prompt, system=, temperature=, max_tokens=)": lambda: gen.agenerate(
            PROMPT, **PARAMS
        ),
    }
    rows = [[k, us(best_of(partial(per_call, c)) - baseline), "per call"] for k, c in sync.items()]
    rows += [
        [k, us(best_of(partial(per_acall, c)) - abaseline), "per call"] for k, c in asynced.items()
    ]
    events = streaming.backend.events  # type: ignore[attr-defined]

    def bare_stream() -> float:
        start = clock()
        parts = [event.text for event in iter(events) if isinstance(event, Chunk) and event.text]
        "".join(parts)
        return clock() - start

    def wrapped_stream() -> float:
        start = clock()
        with streaming.stream(PROMPT) as stream:
            for _chunk in stream:
                pass
            _ = stream.result.text
        return clock() - start

    async def awrapped_stream() -> float:
        start = clock()
        async with streaming.astream(PROMPT) as stream:
            async for _chunk in stream:
                pass
            _ = stream.result.text
        return clock() - start

    bare = best_of(bare_stream)
    label = "gen.stream(): Stream wrapper per text chunk"
    rows.append([label, us((best_of(wrapped_stream) - bare) / chunks), "per chunk"])
    label = "gen.astream(): AsyncStream wrapper per text chunk"
    extra = best_of(lambda: asyncio.run(awrapped_stream())) - bare
    rows.append([label, us(extra / chunks), "per chunk (includes asyncio.run setup / chunks)"])
    return rows


def genkit_self_time(
    profile: cProfile.Profile, per: int, top: int
) -> tuple[list[list[str]], float, float]:
    """Rows for genkit's functions by self time per unit, their sum, and the total."""
    stats = pstats.Stats(profile)
    raw_stats: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    total = float(stats.total_tt)  # type: ignore[attr-defined]
    mine = []
    for (filename, line, name), (_cc, calls, tottime, _cum, _callers) in raw_stats.items():
        if filename.startswith(GENKIT_DIR):
            where = f"{Path(filename).relative_to(REPO_ROOT)}:{line} {name}"
            mine.append((tottime, calls, where))
    mine.sort(reverse=True)
    own = sum(t for t, _, _ in mine)
    rows = [[where, us(t / per), f"{calls / per:g}"] for t, calls, where in mine[:top]]
    return rows, own / per, total / per


def profiled(
    title: str, unit: str, run: Callable[[], object], runs: int, per: int, top: int
) -> None:
    """Print genkit's functions by self time over ``runs`` profiled calls of ``run``."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(runs):
        run()
    profile.disable()
    rows, own, total = genkit_self_time(profile, per, top)
    print_table(
        f"{title} under cProfile, genkit functions by self time",
        ["function", f"µs per {unit}", f"calls per {unit}"],
        rows,
        notes=[
            f"genkit self time {us(own)} µs of {us(total)} µs per profiled {unit} "
            f"({pct(own / total)})."
        ],
    )


def profile_backend(backend: str, server: BenchServer, calls: int, chunks: int, top: int) -> None:
    gen = load_generator(backend, server)
    call, stream = genkit_call(gen), genkit_stream(gen)
    timed(call, 100)
    profiled(f"{backend}: gen.generate(prompt)", "call", call, calls, calls, top)
    stream()
    runs = max(1, 20_000 // chunks)
    profiled(f"{backend}: gen.stream(prompt)", "chunk", stream, runs, runs * chunks, top)
    gen.close()


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__, calls=2000, chunks=(2000, "text chunks per stream"), top=12).parse_args(
        argv
    )
    run = begin("Profile of genkit's per-call and per-chunk path", args)
    run.table(
        "genkit's layer alone (stub backend, no network, no profiler; best of 7), µs",
        ["what", "µs", "unit"],
        layer_costs(args.calls, args.chunks),
        notes=["Subtracted: an empty call / a bare loop over the same events."],
    )
    with run.server(chunks=args.chunks) as server:
        for backend in run.backends:
            profile_backend(backend, server, args.calls, args.chunks, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
