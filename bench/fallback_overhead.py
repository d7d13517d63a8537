"""What a fallback chain costs when its primary answers: chain vs plain Generator, per call.

    python -m bench.fallback_overhead [--calls 5] [--rounds 300] [--backends openai ...]

The harness of ``bench.call_overhead`` (ABBA blocks, paired medians, wall clock and CPU
time, one request per call checked after every block, A/A rows), with a plain
``genkit.load(model)`` in one slot and ``genkit.load(model, fallbacks=[other])`` in the
other, ``other`` being the next hosted backend.  Both read keys and base URLs from the
environment, keep genkit's default retries and make the same request; the chain only adds
checking the fallback's request and a ``try``.  Because a shared machine's noise can exceed
1%, the chain's extra work is also timed on its own, in-process and without the network
(a stub primary alone against the same stub with the real fallback behind it, best of 7),
and divided by the plain Generator's per-call CPU time: a second, steadier estimate.

Target: the chain's median per call ≤ 1.01 x the plain Generator's (paired).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import genkit
from bench._backends import PARAMS, SHAPES, genkit_call
from bench._common import (
    KEYS,
    MODELS,
    PROMPT,
    Interleaved,
    begin,
    compare_calls,
    hosted_backends,
    median,
    once,
    parser,
    runner,
    signed_us,
    us,
    verdict,
)
from bench.profile_calls import StubBackend, best_of
from genkit.fallback import FallbackGenerator

RATIO_TARGET = 1.01
VARIABLES = {
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL"),
    "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL"),
}


def fallback_of(backend: str, every: list[str]) -> str:
    """The next hosted backend's model, so that the check is another provider's."""
    others = [b for b in every if b != backend]
    return f"{others[0]}:{MODELS[others[0]]}" if others else f"{backend}:{MODELS[backend]}-fallback"


def measure(
    backend: str, every: list[str], shape: Any, mode: str, server: Any, args: Any, control: bool
) -> Interleaved:
    """plain vs chain; with ``control`` a second plain Generator in the chain's slot (A/A)."""
    model = f"{backend}:{MODELS[backend]}"
    plain = genkit.load(model)
    chained = (
        genkit.load(model)
        if control
        else genkit.load(model, fallbacks=[fallback_of(backend, every)])
    )
    with runner(mode) as loop:
        calls = {
            "plain": genkit_call(plain, mode, shape),
            "chain": genkit_call(chained, mode, shape),
        }
        if once(calls["plain"], loop) != once(calls["chain"], loop):
            raise RuntimeError("the chain and the plain Generator disagree on the answer")
        result = compare_calls(server, calls, args.calls, args.rounds, loop)
        for gen in (plain, chained):
            if loop is not None:
                loop.run(gen.aclose())
            gen.close()
    return result


def layer_extra(fallback: str, shape: str, calls: int = 20_000) -> float:
    """Seconds the chain adds per call when its primary answers, without the network."""
    plain = genkit.Generator(StubBackend())
    chained = FallbackGenerator([genkit.Generator(StubBackend()), genkit.load(fallback)])
    kwargs: dict[str, Any] = PARAMS if shape == "params" else {}

    def per_call(gen: genkit.Generator) -> float:
        generate, clock = gen.generate, time.perf_counter
        start = clock()
        for _ in range(calls):
            generate(PROMPT, **kwargs)
        return (clock() - start) / calls

    return best_of(lambda: per_call(chained)) - best_of(lambda: per_call(plain))


def cells(label: tuple[str, str, str], result: Interleaved, cpu: bool) -> list[str]:
    samples = result.cpu if cpu else result.wall
    ratio = result.ratio("chain", "plain", cpu=cpu)
    medians = [us(median(samples["plain"])), us(median(samples["chain"]))]
    delta = signed_us(result.paired("chain", "plain", cpu=cpu))
    return [*label, *medians, delta, f"{ratio:.4f}", verdict(ratio <= RATIO_TARGET)]


def main(argv: list[str] | None = None) -> int:
    parser_ = parser(
        __doc__,
        modes=("sync", "async"),
        flags=("no_control",),
        calls=(5, "calls per block"),
        rounds=(300, "ABBA rounds"),
    )
    parser_.add_argument("--shapes", nargs="*", choices=SHAPES, default=list(SHAPES))
    args = parser_.parse_args(argv)
    run = begin(
        "Fallback chain overhead when the primary answers (non-streaming)",
        args,
        f"{args.rounds} rounds x {args.calls} calls per side, mode and request shape, "
        "ABBA-interleaved, after 50 warm-up calls each",
        "plain: genkit.load(model); chain: genkit.load(model, fallbacks=[next backend])",
    )
    every, backends = hosted_backends(None), run.backends
    plan = (
        []
        if not backends or args.no_control
        else [(f"{backends[0]} A/A", m, "plain", True) for m in args.modes]
    )
    plan += [(b, m, s, False) for b in backends for s in args.shapes for m in args.modes]
    rows: list[tuple[tuple[str, str, str], Interleaved]] = []
    with run.server() as server:
        for backend in every:  # every SDK reads its key and endpoint from the environment
            key, url = VARIABLES[backend]
            os.environ.update({key: KEYS[backend], url: server.base_url(backend)})
        for label, mode, shape, control in plan:
            result = measure(label.split()[0], every, shape, mode, server, args, control)
            rows.append(((label, mode, shape), result))
            if not control:
                run.check(
                    all(
                        result.ratio("chain", "plain", cpu=cpu) <= RATIO_TARGET
                        for cpu in (False, True)
                    )
                )
    headers = ["backend", "mode", "request", "plain median", "chain median", "Δ paired"]
    headers += ["chain/plain (paired)", f"target ≤ {RATIO_TARGET}"]
    run.table(
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
    run.table(
        "Client CPU time per call, µs",
        headers,
        [cells(*row, cpu=True) for row in rows],
        footer=True,
    )
    layer_rows = []
    for (backend, mode, shape), result in rows:
        if mode == "sync" and "A/A" not in backend:
            extra, plain_cpu = (
                layer_extra(fallback_of(backend, every), shape),
                median(result.cpu["plain"]),
            )
            figures = [us(extra), us(plain_cpu), f"{1 + extra / plain_cpu:.4f}"]
            layer_rows.append(
                [
                    backend,
                    shape,
                    fallback_of(backend, every),
                    *figures,
                    verdict(1 + extra / plain_cpu <= RATIO_TARGET),
                ]
            )
    run.table(
        "The chain's own extra per call (stub primary, no network, best of 7), µs",
        "primary | request | fallback checked | chain extra | plain call CPU (above) "
        f"| 1 + extra / plain | target ≤ {RATIO_TARGET}",
        layer_rows,
        notes=["The steadier estimate: noise on a shared machine moves whole calls, not this."],
    )
    return run.status


if __name__ == "__main__":
    sys.exit(main())
