"""What a fallback chain costs when its primary answers: chain vs plain Generator, per call.

    python -m bench.fallback_overhead [--calls 5] [--rounds 300] [--backends openai ...]

The same harness as ``bench.call_overhead`` (lean server in its own process on its own
core, ABBA-interleaved blocks, paired medians, wall clock and CPU time, the server's
request count checked after every block), with a plain ``genkit.load(model)`` in one
slot and ``genkit.load(model, fallbacks=[other])`` in the other.  Both are configured
the same way (keys and base URLs from the environment, genkit's default retries) and
make the same request; the chain only adds checking the fallback's request and a
``try``.  ``other`` is the next hosted backend, so the check is another provider's.

Because a shared machine's noise can exceed 1%, the chain's extra work is also timed
on its own, in-process and without the network: a stub primary alone against the same
stub primary with the real fallback's Generator behind it (best of 7 loops), and that
extra divided by the plain Generator's per-call time measured above gives a second,
steadier estimate of the ratio.

Target: the chain's median per call ≤ 1.01 x the plain Generator's (paired).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import genkit
from bench._backends import (
    MAX_TOKENS,
    SHAPES,
    SYSTEM,
    TEMPERATURE,
    Shape,
    genkit_acall,
    genkit_call,
)
from bench._common import (
    KEYS,
    MODELS,
    PROMPT,
    BenchServer,
    Interleaved,
    LoadMonitor,
    add_common_arguments,
    ainterleave,
    atimed,
    clear_sdk_environment,
    cpu_layout,
    hosted_backends,
    hygiene_line,
    interleave,
    median,
    pin_client,
    print_machine,
    print_table,
    signed_us,
    skipped_backends,
    timed,
    us,
    verdict,
)
from bench.call_overhead import GC_EVERY, acounted, counted
from bench.profile_calls import StubBackend, best_of
from genkit.fallback import FallbackGenerator

RATIO_TARGET = 1.01
KEY_VARIABLES = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
}
URL_VARIABLES = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "gemini": "GOOGLE_GEMINI_BASE_URL",
}


def point_at(server: BenchServer, backends: list[str]) -> None:
    """Every SDK reads its key and endpoint from the environment, on both sides alike."""
    for backend in backends:
        os.environ[KEY_VARIABLES[backend]] = KEYS[backend]
        os.environ[URL_VARIABLES[backend]] = server.base_url(backend)


def pair(
    backend: str, backends: list[str], control: bool = False
) -> tuple[genkit.Generator, genkit.Generator]:
    """(plain, chain) for ``backend``; the chain falls back to the next backend.

    With ``control``, a second plain Generator takes the chain's slot (an A/A check).
    """
    model = f"{backend}:{MODELS[backend]}"
    if control:
        return genkit.load(model), genkit.load(model)
    others = [b for b in backends if b != backend]
    fallback = f"{others[0]}:{MODELS[others[0]]}" if others else f"{model}-fallback"
    return genkit.load(model), genkit.load(model, fallbacks=[fallback])


def measure_sync(
    backend: str,
    backends: list[str],
    shape: Shape,
    server: BenchServer,
    calls: int,
    rounds: int,
    control: bool = False,
) -> Interleaved:
    plain, chained = pair(backend, backends, control)
    plain_call, chain_call = genkit_call(plain, shape), genkit_call(chained, shape)
    if plain_call() != chain_call():
        raise RuntimeError("the chain and the plain Generator disagree on the answer")
    timed(plain_call, 50)
    timed(chain_call, 50)
    result = interleave(
        {
            "plain": lambda: counted(server, lambda: timed(plain_call, calls), calls),
            "chain": lambda: counted(server, lambda: timed(chain_call, calls), calls),
        },
        rounds,
        gc_every=GC_EVERY,
    )
    plain.close()
    chained.close()
    return result


def measure_async(
    backend: str,
    backends: list[str],
    shape: Shape,
    server: BenchServer,
    calls: int,
    rounds: int,
    control: bool = False,
) -> Interleaved:
    async def run() -> Interleaved:
        plain, chained = pair(backend, backends, control)
        plain_call, chain_call = genkit_acall(plain, shape), genkit_acall(chained, shape)
        if await plain_call() != await chain_call():
            raise RuntimeError("the chain and the plain Generator disagree on the answer")
        await atimed(plain_call, 50)
        await atimed(chain_call, 50)
        result = await ainterleave(
            {
                "plain": lambda: acounted(server, lambda: atimed(plain_call, calls), calls),
                "chain": lambda: acounted(server, lambda: atimed(chain_call, calls), calls),
            },
            rounds,
            gc_every=GC_EVERY,
        )
        await plain.aclose()
        await chained.aclose()
        return result

    return asyncio.run(run())


def layer_extra(fallback: str, shape: Shape, calls: int = 20_000) -> float:
    """Seconds the chain adds per call when its primary answers, without the network."""
    plain = genkit.Generator(StubBackend())
    chained = FallbackGenerator([genkit.Generator(StubBackend()), genkit.load(fallback)])
    kwargs: dict[str, Any] = {}
    if shape == "params":
        kwargs = {"system": SYSTEM, "temperature": TEMPERATURE, "max_tokens": MAX_TOKENS}

    def per_call(gen: genkit.Generator) -> Callable[[], float]:
        def run() -> float:
            generate, clock = gen.generate, time.perf_counter
            start = clock()
            for _ in range(calls):
                generate(PROMPT, **kwargs)
            return (clock() - start) / calls

        return run

    return best_of(per_call(chained)) - best_of(per_call(plain))


def cells(backend: str, mode: str, shape: str, result: Interleaved, cpu: bool) -> list[str]:
    samples = result.cpu if cpu else result.wall
    plain_med, chain_med = median(samples["plain"]), median(samples["chain"])
    paired = result.paired("chain", "plain", cpu=cpu)
    ratio = 1 + paired / plain_med
    return [
        backend,
        mode,
        shape,
        us(plain_med),
        us(chain_med),
        signed_us(paired),
        f"{ratio:.4f}",
        verdict(ratio <= RATIO_TARGET),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5, help="calls per block")
    parser.add_argument("--rounds", type=int, default=300, help="ABBA rounds")
    parser.add_argument("--modes", nargs="*", choices=("sync", "async"), default=["sync", "async"])
    parser.add_argument("--shapes", nargs="*", choices=SHAPES, default=list(SHAPES))
    parser.add_argument(
        "--no-control",
        action="store_true",
        help="skip the A/A rows (a second plain Generator in the chain's slot: the noise floor)",
    )
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    clear_sdk_environment()
    backends = hosted_backends(args.backends)
    every = hosted_backends(None)
    skipped = skipped_backends(backends, args.backends)
    client_core, server_core = cpu_layout(not args.no_pin)
    pin_client(client_core)
    print_machine(
        "Fallback chain overhead when the primary answers (non-streaming)",
        extra=[
            hygiene_line(client_core, server_core, args.server),
            f"{args.rounds} rounds x {args.calls} calls per side, mode and request shape, "
            "ABBA-interleaved, after 50 warm-up calls each",
            "plain: genkit.load(model); chain: genkit.load(model, fallbacks=[next backend])",
        ]
        + ([f"skipped: {', '.join(skipped)}"] if skipped else []),
    )
    rows: list[tuple[str, str, str, Interleaved]] = []
    monitor = LoadMonitor()
    with BenchServer(chunks=30, cpu=server_core, impl=args.server) as server:
        monitor.watch(server.pid)
        point_at(server, every)
        if backends and not args.no_control:
            first = backends[0]
            for mode, measure in (("sync", measure_sync), ("async", measure_async)):
                if mode in args.modes:
                    result = measure(first, every, "plain", server, args.calls, args.rounds, True)
                    rows.append((f"{first} A/A", mode, "plain", result))
        for backend in backends:
            for shape in args.shapes:
                if "sync" in args.modes:
                    result = measure_sync(backend, every, shape, server, args.calls, args.rounds)
                    rows.append((backend, "sync", shape, result))
                if "async" in args.modes:
                    result = measure_async(backend, every, shape, server, args.calls, args.rounds)
                    rows.append((backend, "async", shape, result))

    headers = ["backend", "mode", "request", "plain median", "chain median", "Δ paired"]
    headers += ["chain/plain (paired)", f"target ≤ {RATIO_TARGET}"]
    print_table(
        "Wall clock per call, µs",
        headers,
        [cells(*row, cpu=False) for row in rows],
        notes=[
            "Δ paired = median over rounds of (chain block median - plain block median); "
            "chain/plain = 1 + Δ paired / plain median.",
            "Every block was checked: the server saw exactly one request per call.",
            "A/A rows time a second plain Generator in the chain's slot: the noise floor "
            "of this run.",
        ],
    )
    print_table(
        "Client CPU time per call, µs",
        headers,
        [cells(*row, cpu=True) for row in rows],
        notes=[monitor.line()],
    )
    layer_rows = []
    for backend, mode, shape, result in rows:
        if mode != "sync" or "A/A" in backend:
            continue
        others = [b for b in every if b != backend]
        fallback = f"{others[0]}:{MODELS[others[0]]}" if others else f"{backend}:fallback"
        extra = layer_extra(fallback, shape)  # type: ignore[arg-type]
        plain_cpu = median(result.cpu["plain"])
        layer_rows.append(
            [
                backend,
                shape,
                fallback,
                us(extra),
                us(plain_cpu),
                f"{1 + extra / plain_cpu:.4f}",
                verdict(1 + extra / plain_cpu <= RATIO_TARGET),
            ]
        )
    print_table(
        "The chain's own extra per call (stub primary, no network, best of 7), µs",
        [
            "primary",
            "request",
            "fallback checked",
            "chain extra",
            "plain call CPU (above)",
            "1 + extra / plain",
            f"target ≤ {RATIO_TARGET}",
        ],
        layer_rows,
        notes=["The steadier estimate: noise on a shared machine moves whole calls, not this."],
    )
    ok = all(
        1 + r.paired("chain", "plain", cpu=cpu) / median((r.cpu if cpu else r.wall)["plain"])
        <= RATIO_TARGET
        for name, *_, r in rows
        if "A/A" not in name
        for cpu in (False, True)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
