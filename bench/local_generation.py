"""Local generation: genkit's huggingface backend vs ``transformers.pipeline``, same checkpoint.

    python bench/local_generation.py [--device cpu|cuda] [--tokens N] [--batch B] [--rounds R]

The checkpoint is full-size GPT-2 (124M parameters) with random weights and a byte-level BPE
of GPT-2's vocabulary size, built locally, EOS off: every run makes exactly ``--tokens``.
Both sides sample with their defaults (genkit: float32 on CPU, bfloat16 + static cache +
compile on CUDA).  Cases: batch 1; batch B as the pipeline with ``batch_size=B``, genkit with
``n=B`` and B concurrent requests from B threads (3 each, so coalescing is steady); time to
first token (pipeline: a streamer's first ``put`` after the prompt; genkit: the first chunk).
Each case is warmed up once (on CUDA, compiling each shape), then all run interleaved for
``--rounds`` rounds; medians.

CUDA targets from the issue: genkit batch 1 >= 5x the pipeline's tokens/s, and genkit at batch
64 >= 50x the pipeline's batch-1 tokens/s.  On CPU (defaults: 32 tokens, batch 8) they do not
apply.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import product
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is built locally

import torch  # after the offline switch: huggingface_hub reads it on import
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

import genkit
from bench import _common as h

PROMPT = "Once upon a time"
VOCAB = 50257
EOS = "<|endoftext|>"


def ascii_bpe(vocab_size: int) -> Any:
    """A byte-level BPE with ``vocab_size`` entries: bytes, then printable-ASCII pairs, triples.

    Built from a vocabulary and merge list directly (no training), so it is deterministic
    and as large as GPT-2's; nearly every token decodes to plain ASCII text.
    """
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    printable = [chr(c) for c in range(33, 127)]  # byte-level maps these bytes to themselves
    vocab = {char: i for i, char in enumerate(alphabet)}
    merges: list[tuple[str, str]] = []
    pairs = [a + b for a, b in product(printable, repeat=2)]
    for pair in pairs:
        vocab[pair] = len(vocab)
        merges.append((pair[0], pair[1]))
    for pair, char in product(pairs, printable):
        if len(vocab) >= vocab_size - 1:
            break
        vocab[pair + char] = len(vocab)
        merges.append((pair, char))
    vocab[EOS] = len(vocab)
    bpe = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token=EOS, bos_token=EOS, unk_token=EOS, pad_token=EOS
    )


def build_checkpoint(directory: Path) -> Path:
    """Save random full-size GPT-2 weights, the tokenizer, and a config with EOS off."""
    tokenizer = ascii_bpe(VOCAB)
    assert len(tokenizer) == VOCAB
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=VOCAB, bos_token_id=None, eos_token_id=None)
    transformers.GPT2LMHeadModel(config).eval().save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    pad = tokenizer.pad_token_id
    transformers.GenerationConfig(eos_token_id=None, pad_token_id=pad).save_pretrained(directory)
    return directory


@contextlib.contextmanager
def local_run(
    doc: str | None,
    argv: Sequence[str] | None,
    title: str,
    packages: Sequence[str],
    extra: str = "",
) -> Iterator[tuple[argparse.Namespace, str, Path, genkit.Generator]]:
    """The local benchmarks' setup: flags with device-dependent defaults, the checkpoint in a
    temporary directory, genkit loaded on it, the header printed; quiets transformers' logs."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None)
    parser.add_argument("--tokens", type=int, default=None, help="new tokens per candidate")
    parser.add_argument("--batch", type=int, default=None, help="the large batch size")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    args.tokens = args.tokens or (200 if device == "cuda" else 32)
    args.batch = args.batch or (64 if device == "cuda" else 8)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    with tempfile.TemporaryDirectory(prefix="genkit-bench-") as tmp:
        path = build_checkpoint(Path(tmp))
        gen = genkit.load(f"huggingface:{path}", device=device, max_batch_size=args.batch)
        key: Any = gen.backend.loaded.key  # type: ignore[attr-defined]
        gpu = torch.cuda.get_device_name() if device == "cuda" else "none used"
        model = (
            f"model: GPT-2 124M (random weights), vocab {VOCAB}, EOS off; {args.tokens} new "
            f"tokens per candidate; batch {args.batch}; {args.rounds} rounds, medians"
        )
        cache = f"static_cache={key.static_cache}, compile={key.compile}"
        genkit_line = f"genkit: {key.dtype}, {cache}, max_batch_size={key.max_batch_size}{extra}"
        h.print_machine(title, packages, [f"GPU: {gpu}", model, genkit_line])
        yield args, device, path, gen


def measure(cases: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Warm every case up once, then run them interleaved; median per case."""
    for run in cases.values():
        run()
    return {name: h.median(values) for name, values in h.abba(cases, rounds).items()}


def threaded_rate(threads: int, client: Callable[[int], int]) -> float:
    """Tokens per second of ``threads`` clients started together (``client(i)``: tokens made)."""
    barrier = threading.Barrier(threads)

    def run(index: int) -> int:
        barrier.wait()
        return client(index)

    with ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        made = sum(pool.map(run, range(threads)))
        return made / (time.perf_counter() - started)


class FirstToken(transformers.generation.streamers.BaseStreamer):
    """A streamer that only notes when the first generated token arrives."""

    def __init__(self) -> None:
        self.calls, self.at = 0, 0.0

    def put(self, value: Any) -> None:
        self.calls += 1
        if self.calls == 2:  # the first put is the prompt
            self.at = time.perf_counter()

    def end(self) -> None:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    title, packages = "Local generation: genkit vs transformers.pipeline", ("torch", "transformers")
    extra = "; pipeline: checkpoint dtype (float32)"
    with local_run(__doc__, argv, title, ("genkit-sdk", *packages), extra) as setup:
        args, device, path, gen = setup
        pipe = transformers.pipeline("text-generation", model=str(path), device=device)
        t, b = int(args.tokens), int(args.batch)

        def pipeline_rate(batch: int) -> float:
            started = time.perf_counter()
            pipe(PROMPT if batch == 1 else [PROMPT] * batch, max_new_tokens=t, batch_size=batch)
            return batch * t / (time.perf_counter() - started)

        def pipeline_first_token() -> float:
            streamer, started = FirstToken(), time.perf_counter()
            pipe(PROMPT, max_new_tokens=t, streamer=streamer)
            assert streamer.calls > 1
            return streamer.at - started

        def genkit_rate(n: int) -> float:
            started = time.perf_counter()
            made = gen.generate(PROMPT, max_tokens=t, n=n).usage.output_tokens
            assert made == n * t
            return made / (time.perf_counter() - started)

        def genkit_client(_: int) -> int:
            made = sum(gen.generate(PROMPT, max_tokens=t).usage.output_tokens for _ in range(3))
            assert made == 3 * t
            return made

        def genkit_first_token() -> float:
            started = time.perf_counter()
            with gen.stream(PROMPT, max_tokens=t) as stream:
                next(iter(stream))
                first = time.perf_counter() - started
                for _ in stream:
                    pass
            return first

        results = measure(
            {
                "pipe 1": lambda: pipeline_rate(1),
                "genkit 1": lambda: genkit_rate(1),
                "pipe B": lambda: pipeline_rate(b),
                "genkit n=B": lambda: genkit_rate(b),
                "genkit B threads": lambda: threaded_rate(b, genkit_client),
                "pipe ttft": pipeline_first_token,
                "genkit ttft": genkit_first_token,
            },
            args.rounds,
        )

    def rate(label: str, pipe: str, ours: str) -> list[str]:
        gain = results[ours] / results[pipe]
        return [label, f"{results[pipe]:,.1f}", f"{results[ours]:,.1f}", f"{gain:.2f}x"]

    first_pipe, first_ours = results["pipe ttft"], results["genkit ttft"]
    rows = [
        rate("tokens/s, batch 1", "pipe 1", "genkit 1"),
        rate(f"tokens/s, batch {b}: one request with n={b}", "pipe B", "genkit n=B"),
        rate(f"tokens/s, batch {b}: {b} concurrent requests", "pipe B", "genkit B threads"),
        ["time to first token, ms (batch 1)", h.ms(first_pipe), h.ms(first_ours)],
    ]
    rows[-1].append(f"{first_pipe / first_ours:.2f}x")
    h.print_table("Medians", ["case", "pipeline", "genkit", "genkit advantage"], rows)
    single = results["genkit 1"] / results["pipe 1"]
    scaled = max(results["genkit n=B"], results["genkit B threads"]) / results["pipe 1"]
    print(f"\n- genkit batch 1 / pipeline batch 1: {single:.2f}x (CUDA target: >= 5x)")
    print(f"- genkit batch {b} / pipeline batch 1: {scaled:.1f}x (CUDA target at 64: >= 50x)")
    print(f"- pipeline batch {b}: one call with {b} prompts and batch_size={b}")
    print(f"- load average after the run: {h.load_average()}")
    if device != "cuda":
        print("- CPU run: the CUDA targets do not apply (no static cache or compile on CPU)")
    return 0 if device != "cuda" or (single >= 5 and scaled >= 50) else 1


if __name__ == "__main__":
    sys.exit(main())
