"""Where genkit's own time goes on the per-call and per-chunk paths.

1. genkit's layer alone: a Generator over a stub backend that answers at once, timed with
   ``perf_counter`` (best of 7): the floor of genkit's overhead whatever the provider.
2. cProfile of real calls against the bench server: self time of every function in
   ``genkit/`` per call or chunk.  cProfile adds about a microsecond per function call, so
   read these as *where* the time goes; view 1 and ``bench.call_overhead`` give the costs.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import genkit
from bench._backends import PARAMS, genkit_call, genkit_stream, load_generator
from bench._common import PROMPT, REPO_ROOT, begin, parser, pct, print_table, timed, us
from genkit.backends.base import Backend, BackendSettings
from genkit.capabilities import CapabilityTable, ModelCapabilities
from genkit.params import Request
from genkit.types import Chunk, Finish, Generation, StreamEvent, Usage, UsageUpdate


class StubBackend(Backend):
    """Answers at once, so that only genkit's own layer is left to time."""

    provider = "stub"
    capabilities = CapabilityTable(
        [], default=ModelCapabilities(supported=frozenset(genkit.SHARED_PARAMETERS))
    )

    def __init__(self, events: int = 0) -> None:
        super().__init__("stub-model", BackendSettings())
        self.answer = Generation(["hello"], ["stop"], Usage(3, 5), "stub-model", "stub")
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
    gen, streaming = genkit.Generator(StubBackend()), genkit.Generator(StubBackend(chunks))
    clock = time.perf_counter

    def per_call(call: Callable[[], Any], asynced: bool) -> float:
        """Best of 7 loops of ``calls`` calls (``asynced``: awaited, in one ``asyncio.run``)."""

        def loop() -> float:
            start = clock()
            for _ in range(calls):
                call()
            return (clock() - start) / calls

        async def aloop() -> float:
            start = clock()
            for _ in range(calls):
                await call()
            return (clock() - start) / calls

        return best_of(lambda: asyncio.run(aloop()) if asynced else loop())

    async def nothing() -> None:
        return None

    params = "system=, temperature=, max_tokens="
    cases: list[tuple[str, Callable[[], Any], bool]] = [
        ("gen.generate(prompt)", lambda: gen.generate(PROMPT), False),
        (f"gen.generate(prompt, {params})", lambda: gen.generate(PROMPT, **PARAMS), False),
        ("await gen.agenerate(prompt)", lambda: gen.agenerate(PROMPT), True),
        (f"await gen.agenerate(prompt, {params})", lambda: gen.agenerate(PROMPT, **PARAMS), True),
    ]
    floor = {False: per_call(lambda: None, False), True: per_call(nothing, True)}
    rows = [[name, us(per_call(call, a) - floor[a]), "per call"] for name, call, a in cases]
    events = streaming.backend.events  # type: ignore[attr-defined]

    def bare() -> float:
        start = clock()
        "".join([e.text for e in iter(events) if isinstance(e, Chunk) and e.text])
        return clock() - start

    def wrapped() -> float:
        start = clock()
        with streaming.stream(PROMPT) as stream:
            for _chunk in stream:
                pass
            _ = stream.result.text
        return clock() - start

    async def awrapped() -> float:
        start = clock()
        async with streaming.astream(PROMPT) as stream:
            async for _chunk in stream:
                pass
            _ = stream.result.text
        return clock() - start

    floor = best_of(bare)
    label = "gen.stream(): Stream wrapper per text chunk"
    rows.append([label, us((best_of(wrapped) - floor) / chunks), "per chunk"])
    label = "gen.astream(): AsyncStream wrapper per text chunk"
    extra = best_of(lambda: asyncio.run(awrapped())) - floor
    rows.append([label, us(extra / chunks), "per chunk (includes asyncio.run setup / chunks)"])
    return rows


def profiled(
    title: str, unit: str, run: Callable[[], object], runs: int, per: int, top: int
) -> None:
    """Print genkit's functions by self time over ``runs`` profiled calls of ``run``."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(runs):
        run()
    profile.disable()
    stats = pstats.Stats(profile)
    mine = sorted(
        (
            (tottime, calls, f"{Path(file).relative_to(REPO_ROOT)}:{line} {name}")
            for (file, line, name), (_, calls, tottime, _, _) in stats.stats.items()  # type: ignore[attr-defined]
            if file.startswith(str(REPO_ROOT / "genkit"))
        ),
        reverse=True,
    )
    own, total = sum(t for t, _, _ in mine) / per, stats.total_tt / per  # type: ignore[attr-defined]
    share = pct(own / total)
    print_table(
        f"{title} under cProfile, genkit functions by self time",
        ["function", f"µs per {unit}", f"calls per {unit}"],
        [[where, us(t / per), f"{calls / per:g}"] for t, calls, where in mine[:top]],
        notes=[f"genkit self time {us(own)} µs of {us(total)} µs per profiled {unit} ({share})."],
    )


def main(argv: list[str] | None = None) -> int:
    chunks = (2000, "text chunks per stream")
    args = parser(__doc__, calls=2000, chunks=chunks, top=12).parse_args(argv)
    run = begin("Profile of genkit's per-call and per-chunk path", args)
    run.table(
        "genkit's layer alone (stub backend, no network, no profiler; best of 7), µs",
        ["what", "µs", "unit"],
        layer_costs(args.calls, args.chunks),
        notes=["Subtracted: an empty call / a bare loop over the same events."],
    )
    with run.server(chunks=args.chunks) as server:
        for backend in run.backends:
            gen = load_generator(backend, server)
            call, stream = genkit_call(gen), genkit_stream(gen)
            timed(call, 100)
            title = f"{backend}: gen.generate(prompt)"
            profiled(title, "call", call, args.calls, args.calls, args.top)
            stream()
            runs = max(1, 20_000 // args.chunks)
            title = f"{backend}: gen.stream(prompt)"
            profiled(title, "chunk", stream, runs, runs * args.chunks, args.top)
            gen.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
