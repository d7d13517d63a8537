"""Local structured output: tokens/s with ``schema=`` (grammar-constrained) vs without.

    python -m bench.local_structured [--device cpu|cuda] [--tokens N] [--batch B] [--rounds R]

On ``bench.local_generation``'s checkpoint (GPT-2 size, GPT-2's vocabulary, so the mask
covers as many tokens).  The schema asks for far more records than the budget holds, so every
constrained run writes exactly ``--tokens`` tokens and is cut (``OutputValidationError(
truncated=True)``; its usage is counted), like the free side with EOS off; both sample with
genkit's defaults, so the only difference is llguidance's mask per row and step.  Cases:
batch 1; ``n=B``; B concurrent requests, half constrained.  Warm-up once (the grammar is
compiled there), then interleaved for ``--rounds`` rounds; medians.

Target (issue 12): constrained >= 90% of unconstrained tokens/s.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import genkit
from bench import _common as h
from bench.local_generation import local_run, measure, threaded_rate

PROMPT = "Write the records as JSON:"
TARGET = 0.90
RECORD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        "name": {"type": "string", "maxLength": 12},
        "kind": {"enum": ["person", "company", "place"]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3},
        "active": {"type": "boolean"},
    },
    "required": ["id", "name", "kind", "tags", "active"],
}
#: More records than any budget can hold: every constrained run is cut at ``--tokens``.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"records": {"type": "array", "items": RECORD, "minItems": 100_000}},
    "required": ["records"],
}


def one_call(gen: genkit.Generator, tokens: int, n: int, constrained: bool) -> int:
    """Tokens one call made (all ``tokens`` per candidate, checked)."""
    if not constrained:
        made = gen.generate(PROMPT, max_tokens=tokens, n=n).usage.output_tokens
    else:
        try:
            gen.generate(PROMPT, max_tokens=tokens, n=n, schema=SCHEMA)
            raise AssertionError("a constrained run ended before its budget")
        except genkit.OutputValidationError as cut:  # always: the schema wants more
            if not cut.truncated or cut.generation is None:
                raise
            made = cut.generation.usage.output_tokens
    if made != n * tokens:
        raise AssertionError(f"{made} tokens made, not {n} x {tokens}")
    return made


def main(argv: Sequence[str] | None = None) -> int:
    title = "Local structured output: schema= (llguidance mask) vs unconstrained"
    with local_run(
        __doc__, argv, title, ("genkit-sdk", "torch", "transformers", "llguidance")
    ) as setup:
        args, _device, _path, gen = setup
        t, b = args.tokens, args.batch

        def rate(n: int, constrained: bool) -> float:
            started = time.perf_counter()
            return one_call(gen, t, n, constrained) / (time.perf_counter() - started)

        def concurrent(mixed: bool) -> float:
            """``b`` requests at once, 3 each back to back; odd threads constrained if mixed."""
            return threaded_rate(
                b, lambda i: sum(one_call(gen, t, 1, mixed and i % 2 == 1) for _ in range(3))
            )

        cases: dict[str, Callable[[], float]] = {
            "free 1": lambda: rate(1, False),
            "schema 1": lambda: rate(1, True),
            "free n": lambda: rate(b, False),
            "schema n": lambda: rate(b, True),
            "free threads": lambda: concurrent(False),
            "mixed threads": lambda: concurrent(True),
        }
        results = measure(cases, args.rounds)
    rows, met = [], True
    for label, free, constrained in [
        ("batch 1", "free 1", "schema 1"),
        (f"one request, n={b} (every row constrained)", "free n", "schema n"),
        (f"{b} concurrent requests, half constrained", "free threads", "mixed threads"),
    ]:
        ratio = results[constrained] / results[free]
        met = met and ratio >= TARGET
        figures = [f"{results[free]:,.1f}", f"{results[constrained]:,.1f}", h.pct(ratio)]
        rows.append([label, *figures, h.verdict(ratio >= TARGET)])
    h.print_table(
        "Medians, tokens/s",
        ["case", "unconstrained", "schema=", "ratio", f">= {h.pct(TARGET)}"],
        rows,
        notes=[f"- load average after the run: {h.load_average()}"],
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
