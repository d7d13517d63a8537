"""Local generation: genkit's huggingface backend vs ``transformers.pipeline``, same checkpoint.

    python bench/local_generation.py [--device cpu|cuda] [--tokens N] [--batch B] [--rounds R]

What is measured, and why this way:

- the checkpoint is full-size GPT-2 (``GPT2Config()``: 12 layers, d=768, 124M parameters)
  with random weights, built and saved in a temporary directory: no hub access, and cost
  per token is what matters, not the words.  Its tokenizer is a real byte-level BPE with
  GPT-2's vocabulary size (256 bytes + ASCII pairs and triples, 50,257 entries) so
  decoding costs what it costs with gpt2;
- EOS is switched off in ``generation_config.json``, so every run makes exactly
  ``--tokens`` new tokens and tokens/s compare like with like;
- both sides run with their defaults, i.e. what a user gets: the pipeline samples
  (temperature 0.7, top_k 50) in the checkpoint's dtype; genkit samples the same way in
  the dtype it picks (float32 on CPU, bfloat16 on CUDA, with static cache + compile);
- batch 1: one prompt.  Batch B: the pipeline gets B prompts with ``batch_size=B``;
  genkit once as one request with ``n=B`` and once as B concurrent requests from B
  threads (each thread making ``--rounds`` requests back to back, so the engine's
  coalescing is seen in steady state);
- time to first token: from the call to the first generated token (pipeline: a streamer
  that notes the first ``put`` after the prompt; genkit: the first chunk of ``stream()``);
- every case is warmed up once (allocations; on CUDA, compilation of each shape), then
  the cases run interleaved for ``--rounds`` rounds and medians are reported.

CUDA targets from the issue: genkit batch 1 >= 5x the pipeline's tokens/s, and genkit at
batch 64 >= 50x the pipeline's batch-1 tokens/s.  On CPU the same code runs with small
settings (32 tokens, batch 8) and the targets do not apply.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import product
from pathlib import Path
from typing import Any, cast

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is built locally

import torch  # after the offline switch: huggingface_hub reads it on import
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

import genkit
from bench._common import abba, load_average, median, print_machine, print_table

PROMPT = "Once upon a time"
VOCAB = 50257
EOS = "<|endoftext|>"


# --------------------------------------------------------------------------- checkpoint


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
    model = transformers.GPT2LMHeadModel(config).eval()
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    pad = tokenizer.pad_token_id
    transformers.GenerationConfig(eos_token_id=None, pad_token_id=pad).save_pretrained(directory)
    return directory


# --------------------------------------------------------------------------- cases


class FirstToken(transformers.generation.streamers.BaseStreamer):
    """A streamer that only notes when the first generated token arrives."""

    def __init__(self) -> None:
        self.calls = 0
        self.at: float | None = None

    def put(self, value: Any) -> None:
        self.calls += 1
        if self.calls == 2 and self.at is None:  # the first put is the prompt
            self.at = time.perf_counter()

    def end(self) -> None:
        pass


def pipeline_rate(pipe: Any, batch: int, tokens: int) -> float:
    prompts = PROMPT if batch == 1 else [PROMPT] * batch
    started = time.perf_counter()
    pipe(prompts, max_new_tokens=tokens, batch_size=batch)
    return batch * tokens / (time.perf_counter() - started)


def pipeline_first_token(pipe: Any, tokens: int) -> float:
    streamer = FirstToken()
    started = time.perf_counter()
    pipe(PROMPT, max_new_tokens=tokens, streamer=streamer)
    assert streamer.at is not None
    return streamer.at - started


def genkit_rate(gen: genkit.Generator, n: int, tokens: int) -> float:
    started = time.perf_counter()
    result = gen.generate(PROMPT, max_tokens=tokens, n=n)
    elapsed = time.perf_counter() - started
    assert result.usage.output_tokens == n * tokens
    return n * tokens / elapsed


def genkit_concurrent_rate(gen: genkit.Generator, threads: int, tokens: int, reps: int) -> float:
    barrier = threading.Barrier(threads)

    def client(_: int) -> int:
        barrier.wait()
        return sum(gen.generate(PROMPT, max_tokens=tokens).usage.output_tokens for _ in range(reps))

    with ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        made = sum(pool.map(client, range(threads)))
        elapsed = time.perf_counter() - started
    assert made == threads * tokens * reps
    return made / elapsed


def genkit_first_token(gen: genkit.Generator, tokens: int) -> float:
    started = time.perf_counter()
    with gen.stream(PROMPT, max_tokens=tokens) as stream:
        next(iter(stream))
        first = time.perf_counter() - started
        for _ in stream:
            pass
    return first


def measure(cases: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Warm every case up once, then run them interleaved; median per case."""
    for run in cases.values():
        run()
    return {name: median(values) for name, values in abba(cases, rounds).items()}


# --------------------------------------------------------------------------- report


def print_header(device: str, gen: genkit.Generator, args: argparse.Namespace) -> None:
    key = cast(Any, gen.backend).loaded.key
    gpu = torch.cuda.get_device_name() if device == "cuda" else "none used"
    print_machine(
        "Local generation: genkit vs transformers.pipeline",
        ("genkit-sdk", "torch", "transformers"),
        [
            f"GPU: {gpu}",
            f"model: GPT-2 124M (random weights), vocab {VOCAB}, EOS off; {args.tokens} new "
            f"tokens per candidate; batch {args.batch}; {args.rounds} rounds, medians",
            f"genkit: {key.dtype}, static_cache={key.static_cache}, compile={key.compile}, "
            f"max_batch_size={key.max_batch_size}; pipeline: checkpoint dtype (float32)",
        ],
    )


def report(results: dict[str, float], batch: int, on_cuda: bool) -> bool:
    """Print the table and the targets; whether the CUDA targets were met."""

    def rate(label: str, pipe: str, ours: str) -> list[str]:
        gain = results[ours] / results[pipe]
        return [label, f"{results[pipe]:,.1f}", f"{results[ours]:,.1f}", f"{gain:.2f}x"]

    first_pipe, first_ours = results["pipe ttft"], results["genkit ttft"]
    rows = [
        rate("tokens/s, batch 1", "pipe 1", "genkit 1"),
        rate(f"tokens/s, batch {batch}: one request with n={batch}", "pipe B", "genkit n=B"),
        rate(f"tokens/s, batch {batch}: {batch} concurrent requests", "pipe B", "genkit B threads"),
        [
            "time to first token, ms (batch 1)",
            f"{first_pipe * 1e3:,.1f}",
            f"{first_ours * 1e3:,.1f}",
            f"{first_pipe / first_ours:.2f}x",
        ],
    ]
    print_table("Medians", ["case", "pipeline", "genkit", "genkit advantage"], rows)
    single = results["genkit 1"] / results["pipe 1"]
    scaled = max(results["genkit n=B"], results["genkit B threads"]) / results["pipe 1"]
    print(f"\n- genkit batch 1 / pipeline batch 1: {single:.2f}x (CUDA target: >= 5x)")
    print(f"- genkit batch {batch} / pipeline batch 1: {scaled:.1f}x (CUDA target at 64: >= 50x)")
    print(f"- pipeline batch {batch}: one call with {batch} prompts and batch_size={batch}")
    print(f"- load average after the run: {load_average()}")
    if not on_cuda:
        print("- CPU run: the CUDA targets do not apply (no static cache or compile on CPU)")
    return single >= 5 and scaled >= 50


def local_arguments(doc: str | None, argv: Sequence[str] | None) -> tuple[argparse.Namespace, str]:
    """The local benchmarks' flags with their device-dependent defaults, and the device.

    Also quiets transformers' logging and progress bars, which would interleave with the
    tables.
    """
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
    return args, device


def main(argv: Sequence[str] | None = None) -> int:
    args, device = local_arguments(__doc__, argv)
    on_cuda = device == "cuda"

    with tempfile.TemporaryDirectory(prefix="genkit-bench-") as tmp:
        path = build_checkpoint(Path(tmp))
        pipe = transformers.pipeline("text-generation", model=str(path), device=device)
        gen = genkit.load(f"huggingface:{path}", device=device, max_batch_size=args.batch)
        print_header(device, gen, args)
        t, b = args.tokens, args.batch
        results = measure(
            {
                "pipe 1": lambda: pipeline_rate(pipe, 1, t),
                "genkit 1": lambda: genkit_rate(gen, 1, t),
                "pipe B": lambda: pipeline_rate(pipe, b, t),
                "genkit n=B": lambda: genkit_rate(gen, b, t),
                "genkit B threads": lambda: genkit_concurrent_rate(gen, b, t, 3),
                "pipe ttft": lambda: pipeline_first_token(pipe, t),
                "genkit ttft": lambda: genkit_first_token(gen, t),
            },
            args.rounds,
        )

    met = report(results, args.batch, on_cuda)
    return 0 if met or not on_cuda else 1


if __name__ == "__main__":
    sys.exit(main())
