"""Run one batch of jobs through a single ``generate()`` call.

Every candidate of every job is a row.  Prompts are left-padded to one length (decoder-only
models continue from the right edge), ``generate()`` runs greedy with :class:`RowSampler`
doing each row's own sampling, and :class:`RowTracker` - a stopping criterion, evaluated
right after each new token - hands tokens to their jobs and marks a row done when it hits
EOS, its own token budget, its own stop string, or its job is cancelled.  A row of a
``schema=`` request also carries a grammar matcher: :class:`GrammarMask` masks its logits
before the sampler, and the tracker advances the matcher with each token and ends the row
once the grammar is complete (see :mod:`genkit.backends.huggingface._grammar`).  ``generate()``
stops as soon as every row is done, so a closed stream frees the device within one step.

On the GPU path (``static_cache``) shapes are bucketed so the auto-compiled forward
(CUDA graphs) is reused: prompts pad to a multiple of 64, the batch pads to a power of two
with idle rows, and the static KV cache length rounds up to a power of two.  The same code
runs on CPU with compile off, which is how CI covers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genkit.backends.huggingface._deps import torch, transformers
from genkit.backends.huggingface._detokenize import TextStream
from genkit.backends.huggingface._grammar import GrammarMask, advance
from genkit.backends.huggingface._jobs import Job
from genkit.backends.huggingface._loading import LoadedModel
from genkit.backends.huggingface._sampling import GREEDY, RowSampler, Sampling
from genkit.types import FinishReason

__all__ = ["PROMPT_PAD_MULTIPLE", "run_batch"]

#: Static-cache prompts pad to a multiple of this, so nearby lengths share a compiled shape.
PROMPT_PAD_MULTIPLE = 64
_MIN_CACHE_BUCKET = 256


class _Row:
    __slots__ = ("done", "index", "job", "matcher", "stop_watch")

    def __init__(
        self, job: Job | None, index: int, stop_watch: TextStream | None, matcher: Any = None
    ) -> None:
        self.job = job
        self.index = index
        self.stop_watch = stop_watch
        self.matcher = matcher  # this row's grammar state, for a schema= request
        self.done = job is None  # idle padding rows never generate


class RowTracker:
    """Stopping criterion that also delivers each step's tokens to the jobs."""

    def __init__(self, rows: Sequence[_Row], eos_ids: frozenset[int], device: Any) -> None:
        self._rows = rows
        self._eos = eos_ids
        self._device = device
        self._jobs = list(dict.fromkeys(row.job for row in rows if row.job is not None))

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        latest = input_ids[:, -1].tolist()
        for row, token in zip(self._rows, latest, strict=True):
            if row.done:
                continue
            job = row.job
            assert job is not None
            if job.cancelled:
                row.done = True
                continue
            tokens = job.tokens[row.index]
            tokens.append(token)
            watch = row.stop_watch
            reason: FinishReason | None = None
            if token in self._eos or (watch is not None and _completes_stop(watch, token)):
                reason = "stop"
            elif row.matcher is not None and advance(row.matcher, token):
                reason = "stop"  # the grammar is complete: only EOS could follow
            elif len(tokens) >= job.max_new_tokens:
                reason = "length"
            if reason is not None:
                job.finish[row.index] = reason
                row.done = True
        for job in self._jobs:
            if job.streaming:
                job.notify()
        return torch.tensor([row.done for row in self._rows], device=self._device)

    def finish_rest(self) -> None:
        """Rows still open when ``generate()`` returned ran into the model's length limit."""
        for row in self._rows:
            if not row.done and row.job is not None and not row.job.cancelled:
                row.job.finish[row.index] = "length"
                row.done = True


def run_batch(loaded: LoadedModel, jobs: Sequence[Job], shared_generator: Any) -> None:
    """Generate for ``jobs`` (equal ``batch_key``) in one call; results land in the jobs."""
    static = loaded.key.static_cache
    rows, prompts, samplings, generators = _rows(loaded, jobs)
    if static:
        padded_rows = _next_power_of_two(len(rows))
        for _ in range(padded_rows - len(rows)):
            rows.append(_Row(None, 0, None))
            prompts.append(prompts[0])
            samplings.append(GREEDY)
            generators.append(None)
    width = max(len(p) for p in prompts)
    if static:
        width = -(-width // PROMPT_PAD_MULTIPLE) * PROMPT_PAD_MULTIPLE
    input_ids = torch.full((len(rows), width), loaded.pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for i, prompt in enumerate(prompts):
        input_ids[i, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
        attention[i, width - len(prompt) :] = 1
    device = loaded.device
    budget = max(job.max_new_tokens for job in jobs)

    tracker = RowTracker(rows, loaded.eos_ids, device)
    processors: list[Any] = []
    matchers = [row.matcher for row in rows]
    grammars = [job.grammar for job in jobs if job.grammar is not None]
    if grammars:  # before the sampler: it must draw from the allowed tokens only
        vocab = grammars[0].vocab_size
        processors.append(GrammarMask(matchers, vocab, lambda i: rows[i].done, device))
    if any(not s.greedy or s.penalized for s in samplings):
        processors.append(RowSampler(samplings, generators, width, device, shared_generator))
    kwargs: dict[str, Any] = {
        "input_ids": input_ids.to(device),
        "attention_mask": attention.to(device),
        "do_sample": False,
        "num_beams": 1,
        "num_return_sequences": 1,
        "max_new_tokens": budget,
        "pad_token_id": loaded.pad_id,
        "logits_processor": transformers.LogitsProcessorList(processors),
        "stopping_criteria": transformers.StoppingCriteriaList([tracker]),
    }
    if static:
        kwargs["cache_implementation"] = "static"
        kwargs["max_cache_len"] = _cache_bucket(width + budget)
        kwargs["disable_compile"] = not loaded.key.compile
    kwargs.update(jobs[0].options)
    with torch.inference_mode():
        loaded.model.generate(**kwargs)
    tracker.finish_rest()


def _rows(
    loaded: LoadedModel, jobs: Sequence[Job]
) -> tuple[list[_Row], list[list[int]], list[Sampling], list[Any]]:
    rows: list[_Row] = []
    prompts: list[list[int]] = []
    samplings: list[Sampling] = []
    generators: list[Any] = []
    for job in jobs:
        generator = None
        if job.sampling.seed is not None and not job.sampling.greedy:
            generator = torch.Generator(device=loaded.device)
            generator.manual_seed(job.sampling.seed)
        for index in range(job.n):
            watch = TextStream(loaded.tokenizer, job.stops) if job.stops else None
            matcher = job.grammar.start() if job.grammar is not None else None
            rows.append(_Row(job, index, watch, matcher))
            prompts.append(job.prompt)
            samplings.append(job.sampling)
            generators.append(generator)
    return rows, prompts, samplings, generators


def _completes_stop(watch: TextStream, token: int) -> bool:
    watch.push(token)
    return watch.stopped


def _next_power_of_two(value: int) -> int:
    return 1 << (value - 1).bit_length()


def _cache_bucket(length: int) -> int:
    return max(_MIN_CACHE_BUCKET, _next_power_of_two(length))
