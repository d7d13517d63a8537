"""What a fallback chain costs when its primary answers: chain vs plain Generator, per call.

The method of ``bench.call_overhead`` (A/A rows included) with ``genkit.load(model)`` in one
slot and ``genkit.load(model, fallbacks=[next hosted backend])`` in the other, both reading
keys and base URLs from the environment.  Since a shared machine's noise can exceed 1%, the
chain's own extra is also timed in-process without the network (a stub primary alone vs the
same stub with the real fallback behind it, best of 7) and divided by the plain call's CPU time.

Target: the chain's median per call ≤ 1.01 x the plain Generator's (paired).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import genkit
from bench import _common as h
from bench._backends import PARAMS, SHAPES, Shape, genkit_call
from bench.call_overhead import Sides, overhead_parser, per_call
from bench.diagnose import StubBackend, best_of
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
    other = others[0] if others else backend
    return f"{other}:{h.MODELS[other]}" + ("" if others else "-fallback")


def sides(backend: str, mode: str, shape: Shape, control: bool, server: Any) -> Sides:
    """plain vs chain; with ``control`` a second plain Generator in the chain's slot (A/A)."""
    for name, (key, url) in VARIABLES.items():  # every SDK reads its endpoint from there
        os.environ.update({key: h.KEYS[name], url: server.base_url(name)})
    model = f"{backend}:{h.MODELS[backend]}"
    plain = genkit.load(model)
    fallbacks = [] if control else [fallback_of(backend, h.hosted_backends(None))]
    chained = genkit.load(model, fallbacks=fallbacks) if fallbacks else genkit.load(model)
    calls = {"plain": genkit_call(plain, mode, shape), "chain": genkit_call(chained, mode, shape)}
    return calls, [plain, chained]


def meets(result: h.Interleaved, cpu: bool) -> bool:
    return result.ratio("chain", "plain", cpu=cpu) <= RATIO_TARGET


def layer_extra(fallback: str, shape: str, calls: int = 20_000) -> float:
    """Seconds the chain adds per call when its primary answers, without the network."""
    plain = genkit.Generator(StubBackend())
    chained = FallbackGenerator([genkit.Generator(StubBackend()), genkit.load(fallback)])
    kwargs: dict[str, Any] = PARAMS if shape == "params" else {}

    def loop(gen: genkit.Generator) -> float:
        generate, clock = gen.generate, time.perf_counter
        start = clock()
        for _ in range(calls):
            generate(h.PROMPT, **kwargs)
        return (clock() - start) / calls

    return best_of(lambda: loop(chained)) - best_of(lambda: loop(plain))


def cells(label: tuple[str, str, str], result: h.Interleaved, cpu: bool) -> list[str]:
    samples = result.cpu if cpu else result.wall
    ratio = result.ratio("chain", "plain", cpu=cpu)
    medians = [h.us(h.median(samples["plain"])), h.us(h.median(samples["chain"]))]
    delta = h.signed_us(result.paired("chain", "plain", cpu=cpu))
    return [*label, *medians, delta, f"{ratio:.4f}", h.verdict(ratio <= RATIO_TARGET)]


def main(argv: list[str] | None = None) -> int:
    args = overhead_parser(__doc__, flags=("no_control",)).parse_args(argv)
    run = h.begin(
        "Fallback chain overhead when the primary answers (non-streaming)",
        args,
        f"{args.rounds} rounds x {args.calls} calls per side, mode and request shape, "
        "ABBA-interleaved, after 50 warm-up calls each",
        "plain: genkit.load(model); chain: genkit.load(model, fallbacks=[next backend])",
    )
    every = h.hosted_backends(None)
    rows = per_call(run, run.backends, SHAPES, sides=sides, meets=meets)
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
        "Client CPU time per call, µs", headers, [cells(*r, cpu=True) for r in rows], footer=True
    )
    layer_rows = []
    for (backend, mode, shape), result in rows:
        if mode == "sync" and "A/A" not in backend:
            fallback, plain_cpu = fallback_of(backend, every), h.median(result.cpu["plain"])
            extra = layer_extra(fallback, shape)
            ratio = 1 + extra / plain_cpu
            figures = [
                h.us(extra),
                h.us(plain_cpu),
                f"{ratio:.4f}",
                h.verdict(ratio <= RATIO_TARGET),
            ]
            layer_rows.append([backend, shape, fallback, *figures])
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
