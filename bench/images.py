"""Local images: genkit's diffusers backend vs a raw ``StableDiffusionPipeline.__call__``.

    python bench/images.py [--medium] [--size PX] [--steps N] [--rounds R]
    python -m bench.images ...   (the same)

The tests' tiny random Stable Diffusion (``tests/tiny_sd.py``) loaded by genkit; the raw side
calls the very pipeline object genkit loaded, so weights, dtype and scheduler are equal
(``--medium``: channels 8x wider, so denoising dominates).  Batch 1: one seeded image per
call, interleaved, medians, target <= 1.02x.  8 concurrent requests from 8 threads (the
engine batches them as they arrive) against the raw pipeline called 8 times in a row:
images/s, target >= 1.5x.  Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is built locally

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

import genkit.images
from bench import _common as h
from tests.tiny_sd import build_tiny_sd

CONCURRENT = 8
BATCH1_TARGET = 1.02
CONCURRENT_TARGET = 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--medium", action="store_true", help="8x wider pipeline")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (64)")
    parser.add_argument("--steps", type=int, default=4, help="denoising steps (4)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds per case (15)")
    args = parser.parse_args(argv)
    width, size = 8 if args.medium else 1, args.size
    h.print_machine(
        "Local images: genkit vs raw StableDiffusionPipeline.__call__",
        packages=("torch", "diffusers", "transformers", "pillow"),
        extra=[
            f"pipeline: tiny random SD, channel width x{width}, {size}x{size}, "
            f"{args.steps} DDIM steps, float32 on CPU, torch threads {torch.get_num_threads()}"
        ],
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = build_tiny_sd(Path(tmp) / "sd", width=width)
        ig = genkit.images.load(f"huggingface:{path}", size=f"{size}x{size}", steps=args.steps)
        pipe: Any = ig.backend.loaded.text2img  # type: ignore[attr-defined]
        pipe.set_progress_bar_config(disable=True)

        def raw(seed: int) -> Any:
            generator = torch.Generator().manual_seed(seed)
            options = {"height": size, "width": size, "num_inference_steps": args.steps}
            return pipe("a lighthouse at dusk", **options, generator=generator).images[0]

        def ours(seed: int) -> Any:
            return ig.generate("a lighthouse at dusk", seed=seed).image

        raw(0), ours(0)  # warm up both (allocations, the engine thread)

        def time_one(call: Callable[[int], Any]) -> Callable[[], float]:
            seeds = itertools.count()  # round i makes image i on both sides
            return lambda: h.measured(partial(call, next(seeds)))[1]

        times = h.abba({"genkit": time_one(ours), "raw": time_one(raw)}, args.rounds)
        raw1, ours1 = h.median(times["raw"]), h.median(times["genkit"])

        def raw_eight() -> float:
            return CONCURRENT / h.measured(lambda: [raw(k) for k in range(CONCURRENT)])[1]

        def our_eight() -> float:
            barrier = threading.Barrier(CONCURRENT + 1)

            def call(k: int) -> None:
                barrier.wait()
                ours(k)

            threads = [threading.Thread(target=call, args=(k,)) for k in range(CONCURRENT)]
            for thread in threads:
                thread.start()
            barrier.wait()
            start = time.perf_counter()
            for thread in threads:
                thread.join()
            return CONCURRENT / (time.perf_counter() - start)

        engine = ig.backend.engine  # type: ignore[attr-defined]
        batches_before, rounds8 = engine.batches, max(3, args.rounds // 3)
        rates = h.abba({"genkit": our_eight, "raw": raw_eight}, rounds8)
        calls_per_round = (engine.batches - batches_before) / rounds8
        raw8, ours8 = h.median(rates["raw"]), h.median(rates["genkit"])
    ratio1, ratio8 = ours1 / raw1, ours8 / raw8
    ok1, ok8 = ratio1 <= BATCH1_TARGET, ratio8 >= CONCURRENT_TARGET
    rows = [
        ["batch 1, time per image (median)", f"{raw1 * 1000:.1f} ms", f"{ours1 * 1000:.1f} ms"],
        [f"{CONCURRENT} concurrent requests, images/s (median)", f"{raw8:.2f}", f"{ours8:.2f}"],
    ]
    rows[0] += [f"{ratio1:.3f}x", f"<= {BATCH1_TARGET}x", h.verdict(ok1)]
    rows[1] += [f"{ratio8:.2f}x", f">= {CONCURRENT_TARGET}x", h.verdict(ok8)]
    h.print_table(
        "Results",
        ["case", "raw pipeline", "genkit", "ratio", "target", "verdict"],
        rows,
        notes=[
            f"genkit served each round of {CONCURRENT} requests in {calls_per_round:.1f} "
            f"pipeline calls; rounds: {args.rounds} (batch 1), {rounds8} (concurrent)."
        ],
    )
    return 0 if ok1 and ok8 else 1


if __name__ == "__main__":
    sys.exit(main())
