"""Per-row sampling, so requests with different settings and seeds share one batch.

``generate()`` applies one temperature/top-k/top-p to a whole batch and draws from torch's
global RNG, which would force one request per call and make ``seed`` a process-wide lock.
Instead :class:`RowSampler` is the last logits processor of a *greedy* ``generate()``:
per row it applies OpenAI's presence/frequency penalties, then temperature, top-k and
top-p, draws the token, and returns scores where only that token is finite, so greedy
decoding picks exactly it.  Each seeded request draws from its own ``torch.Generator``
with the same shape every step, so its text depends on its seed alone, not on what it was
batched with; unseeded rows share one generator seeded from the OS.

Penalties follow OpenAI's definition over the tokens generated so far (not the prompt)::

    logit[t] -= presence_penalty * (count[t] > 0) + frequency_penalty * count[t]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from genkit.backends.huggingface._deps import torch

__all__ = ["MIN_TEMPERATURE", "RowSampler", "Sampling"]

#: Temperatures below this are greedy: dividing logits by them overflows float32.
MIN_TEMPERATURE = 1e-4


@dataclass(frozen=True, slots=True)
class Sampling:
    """How one request picks tokens; ``top_k=0`` and ``top_p=1`` switch those filters off."""

    temperature: float
    top_k: int = 0
    top_p: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int | None = None

    @property
    def greedy(self) -> bool:
        return self.temperature < MIN_TEMPERATURE

    @property
    def penalized(self) -> bool:
        return self.presence_penalty != 0.0 or self.frequency_penalty != 0.0


GREEDY = Sampling(temperature=0.0)


class RowSampler:
    """A logits processor choosing each row's next token by that row's own :class:`Sampling`.

    ``generators[i]`` is row ``i``'s ``torch.Generator`` (rows of one request share it;
    ``None`` means the shared one); ``prompt_length`` is where generated tokens start in
    ``input_ids``, prompts being padded to one length.  Runs on the engine thread only.
    """

    def __init__(
        self,
        rows: Sequence[Sampling],
        generators: Sequence[Any],
        prompt_length: int,
        device: Any,
        shared_generator: Any,
    ) -> None:
        sampled = [i for i, row in enumerate(rows) if not row.greedy]
        picked = [rows[i] for i in sampled]
        self._sampled = torch.tensor(sampled, device=device, dtype=torch.long)
        self._all_sampled = bool(sampled) and len(sampled) == len(rows)
        # Rows drawing from one generator are drawn together, in a fixed order, every step.
        by_generator: dict[int, tuple[Any, list[int]]] = {}
        for position, row in enumerate(sampled):
            generator = generators[row] if generators[row] is not None else shared_generator
            by_generator.setdefault(id(generator), (generator, []))[1].append(position)
        self._groups = [
            (generator, torch.tensor(positions, device=device, dtype=torch.long), len(positions))
            for generator, positions in by_generator.values()
        ]
        self._temperature = torch.tensor(
            [[row.temperature] for row in picked], device=device, dtype=torch.float32
        )
        self._top_k = [row.top_k for row in picked]
        self._top_k_plan: tuple[int, Any, Any] | None = None
        # top_p of 1 keeps everything: an infinite limit, so rounding in cumsum never drops a token
        self._top_p = torch.tensor(
            [[row.top_p if row.top_p < 1.0 else float("inf")] for row in picked], device=device
        )
        self._use_top_p = any(row.top_p < 1.0 for row in picked)
        self._penalized = any(row.penalized for row in rows)
        self._presence = torch.tensor([[r.presence_penalty] for r in rows], device=device)
        self._frequency = torch.tensor([[r.frequency_penalty] for r in rows], device=device)
        self._seen = prompt_length
        self._counts: Any = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self._penalized:
            scores = self._penalize(input_ids, scores)
        if self._all_sampled:
            chosen = self._draw(scores)
        else:
            chosen = scores.argmax(dim=-1)
            if self._groups:
                chosen[self._sampled] = self._draw(scores.index_select(0, self._sampled))
        picked = torch.full_like(scores, float("-inf"))
        return picked.scatter_(1, chosen.unsqueeze(1), 0.0)

    def _penalize(self, input_ids: Any, scores: Any) -> Any:
        if self._counts is None:
            self._counts = torch.zeros_like(scores)
        new = input_ids[:, self._seen :]
        self._seen = input_ids.shape[1]
        if new.numel():
            self._counts.scatter_add_(1, new, torch.ones_like(new, dtype=scores.dtype))
        counts = self._counts
        return scores - self._presence * (counts > 0) - self._frequency * counts

    def _draw(self, logits: Any) -> Any:
        logits = self._apply_top_k(logits / self._temperature)
        if self._use_top_p:
            logits = self._apply_top_p(logits)
        probs = torch.softmax(logits, dim=-1)
        if len(self._groups) == 1 and self._groups[0][2] == probs.shape[0]:
            return torch.multinomial(probs, 1, generator=self._groups[0][0]).squeeze(1)
        draws = torch.empty(probs.shape[0], dtype=torch.long, device=probs.device)
        for generator, positions, _ in self._groups:
            drawn = torch.multinomial(probs[positions], 1, generator=generator)
            draws[positions] = drawn.squeeze(1)
        return draws

    def _apply_top_k(self, logits: Any) -> Any:
        if self._top_k_plan is None:
            self._top_k_plan = self._plan_top_k(logits.shape[-1], logits.device)
        largest, kth, off = self._top_k_plan
        if not largest:
            return logits
        threshold = torch.topk(logits, largest, dim=-1).values.gather(1, kth)
        threshold = threshold.masked_fill(off, float("-inf"))
        return logits.masked_fill(logits < threshold, float("-inf"))

    def _plan_top_k(self, vocab: int, device: Any) -> tuple[int, Any, Any]:
        """Per row: the rank of its k-th logit, or "off" where top_k does not filter."""
        active = [0 < k < vocab for k in self._top_k]
        largest = max((k for k, on in zip(self._top_k, active, strict=True) if on), default=0)
        kth = [k - 1 if on else 0 for k, on in zip(self._top_k, active, strict=True)]
        return (
            largest,
            torch.tensor(kth, device=device).unsqueeze(1),
            torch.tensor([not on for on in active], device=device).unsqueeze(1),
        )

    def _apply_top_p(self, logits: Any) -> Any:
        # Keep the most likely tokens until their mass reaches top_p (the one crossing it too).
        ordered, order = logits.sort(dim=-1, descending=True)
        probs = ordered.softmax(dim=-1)
        mass_before = probs.cumsum(dim=-1) - probs
        drop = torch.zeros_like(mass_before, dtype=torch.bool)
        drop.scatter_(1, order, mass_before >= self._top_p)
        return logits.masked_fill(drop, float("-inf"))
