"""Local structured output: tokens/s with ``schema=`` (grammar-constrained) vs without.

    python -m bench.local_structured [--device cpu|cuda] [--tokens N] [--batch B] [--rounds R]

What is measured, and why this way:

- the checkpoint is the one ``bench.local_generation`` builds: full-size GPT-2
  (``GPT2Config()``, 124M parameters) with random weights and a byte-level BPE of GPT-2's
  vocabulary size (50,257), so the grammar mask covers as many tokens as with gpt2;
- the schema is a realistic record (integer with bounds, bounded string, enum, list of
  strings, boolean) in a list with ``minItems`` far beyond the budget, so every
  constrained run writes exactly ``--tokens`` tokens and is cut there (genkit raises
  ``OutputValidationError(truncated=True)``; its ``generation.usage`` is what is counted).
  The free side has EOS off, so it writes exactly ``--tokens`` tokens too: like for like;
- both sides sample with genkit's defaults (temperature 0.7, top_k 50), so the only
  difference is the mask: llguidance computing the allowed tokens per row and per step,
  the bitmask applied to the logits, the matcher advanced with each token;
- cases: batch 1; one request with ``n=B`` (every row constrained); ``B`` concurrent
  requests from ``B`` threads where half are constrained and half free (one shared batch;
  the free baseline is ``B`` free requests);
- every case is warmed up once (the llguidance tokenizer is built and the grammar
  compiled there, once per model and schema), then the cases run interleaved for
  ``--rounds`` rounds and medians are reported.

Target (issue 12): constrained >= 90% of unconstrained tokens/s.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is built locally

import torch  # after the offline switch: huggingface_hub reads it on import

import genkit
from bench._common import load_average, pct, print_machine, print_table, verdict
from bench.local_generation import VOCAB, build_checkpoint, local_arguments, measure

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
        made = _cut_run(gen, tokens, n)
    if made != n * tokens:
        raise AssertionError(f"{made} tokens made, not {n} x {tokens}")
    return made


def _cut_run(gen: genkit.Generator, tokens: int, n: int) -> int:
    try:
        gen.generate(PROMPT, max_tokens=tokens, n=n, schema=SCHEMA)
    except genkit.OutputValidationError as cut:  # always: the schema wants more
        generation = cut.generation
        if not cut.truncated or generation is None:
            raise
        return generation.usage.output_tokens
    raise AssertionError("a constrained run ended before its budget")


def rate(gen: genkit.Generator, tokens: int, n: int, constrained: bool) -> float:
    started = time.perf_counter()
    made = one_call(gen, tokens, n, constrained)
    return made / (time.perf_counter() - started)


def concurrent_rate(gen: genkit.Generator, threads: int, tokens: int, mixed: bool) -> float:
    """``threads`` requests at once, 3 each back to back; odd threads constrained if mixed."""
    barrier = threading.Barrier(threads)

    def client(index: int) -> int:
        barrier.wait()
        constrained = mixed and index % 2 == 1
        return sum(one_call(gen, tokens, 1, constrained) for _ in range(3))

    with ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        made = sum(pool.map(client, range(threads)))
        elapsed = time.perf_counter() - started
    return made / elapsed


def report(results: dict[str, float], batch: int) -> bool:
    cases = [
        ("batch 1", "free 1", "schema 1"),
        (f"one request, n={batch} (every row constrained)", "free n", "schema n"),
        (f"{batch} concurrent requests, half constrained", "free threads", "mixed threads"),
    ]
    rows = []
    met = True
    for label, free, constrained in cases:
        ratio = results[constrained] / results[free]
        met = met and ratio >= TARGET
        rows.append(
            [
                label,
                f"{results[free]:,.1f}",
                f"{results[constrained]:,.1f}",
                pct(ratio),
                verdict(ratio >= TARGET),
            ]
        )
    print_table(
        "Medians, tokens/s",
        ["case", "unconstrained", "schema=", "ratio", f">= {pct(TARGET)}"],
        rows,
        notes=[f"- load average after the run: {load_average()}"],
    )
    return met


def main(argv: Sequence[str] | None = None) -> int:
    args, device = local_arguments(__doc__, argv)
    on_cuda = device == "cuda"

    with tempfile.TemporaryDirectory(prefix="genkit-bench-") as tmp:
        path = build_checkpoint(Path(tmp))
        gen = genkit.load(f"huggingface:{path}", device=device, max_batch_size=args.batch)
        key = cast(Any, gen.backend).loaded.key
        gpu = torch.cuda.get_device_name() if on_cuda else "none used"
        print_machine(
            "Local structured output: schema= (llguidance mask) vs unconstrained",
            ("genkit-sdk", "torch", "transformers", "llguidance"),
            [
                f"GPU: {gpu}",
                f"model: GPT-2 124M (random weights), vocab {VOCAB}, EOS off; {args.tokens} "
                f"new tokens per candidate; batch {args.batch}; {args.rounds} rounds, medians",
                f"genkit: {key.dtype}, static_cache={key.static_cache}, "
                f"compile={key.compile}, max_batch_size={key.max_batch_size}",
            ],
        )
        t, b = args.tokens, args.batch
        cases: dict[str, Callable[[], float]] = {
            "free 1": lambda: rate(gen, t, 1, False),
            "schema 1": lambda: rate(gen, t, 1, True),
            "free n": lambda: rate(gen, t, b, False),
            "schema n": lambda: rate(gen, t, b, True),
            "free threads": lambda: concurrent_rate(gen, b, t, False),
            "mixed threads": lambda: concurrent_rate(gen, b, t, True),
        }
        results = measure(cases, args.rounds)
    return 0 if report(results, args.batch) else 1


if __name__ == "__main__":
    sys.exit(main())
