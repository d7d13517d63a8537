"""``schema=`` on local models: grammar-constrained decoding with llguidance.

A hosted provider promises JSON of the requested shape; a local model has to be made to
write it.  The canonical schema (objects closed by
:func:`genkit._jsonschema.local_grammar_schema`, compact whitespace forced) is compiled
once per model and schema into an llguidance grammar.  Each constrained candidate (row)
gets its own ``LLMatcher``; before every step :class:`GrammarMask` sets the logits of the
tokens that row's grammar forbids to ``-inf`` - a per-row mask that runs *before* genkit's
own sampler, so constrained and free rows share one ``generate()`` batch and each still
samples with its own temperature and seed.  The batch's row tracker advances the matcher
with every sampled token (:func:`advance`) and ends the row the moment the grammar is
complete, without spending a step on EOS.

Why these choices:

- llguidance has no dependencies (a 3 MB wheel), works per row, and needs no compiler;
  xgrammar pulls in triton.  It is imported only when a schema is used.
- A grammar follows JSON Schema literally: an open object lets a weak model invent keys,
  and flexible whitespace lets it write spaces, until ``max_tokens``.  Both are closed.
- EOS is allowed only where the grammar accepts.  A row cut by ``max_tokens`` before the
  grammar completed keeps ``finish_reason == "length"``, so the core reports
  :class:`~genkit.errors.OutputValidationError` with ``truncated=True``: constrained does
  not mean complete.
- The llguidance tokenizer costs up to a second to build for a 50k vocabulary: it is
  built once per loaded model; a grammar once per (model, schema).  Rows get cheap deep
  copies of a compiled matcher.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genkit._jsonschema import local_grammar_schema
from genkit.backends.huggingface._deps import PROVIDER, torch
from genkit.backends.huggingface._loading import LoadedModel
from genkit.errors import InvalidParameterError, MissingDependencyError, UnsupportedParameterError

__all__ = ["JSON_OPTIONS", "Grammar", "GrammarMask", "advance", "compile_schema"]

#: llguidance JSON options applied over anything the schema's ``x-guidance`` says: no
#: whitespace between tokens, compact separators, unknown keywords refused, not ignored.
JSON_OPTIONS: Mapping[str, Any] = {
    "whitespace_flexible": False,
    "item_separator": ",",
    "key_separator": ":",
    "lenient": False,
}


@dataclass(frozen=True, slots=True)
class Grammar:
    """A compiled schema for one model: ``start()`` gives a row its own matcher."""

    matcher: Any
    vocab_size: int

    def start(self) -> Any:
        return self.matcher.deep_copy()


_lock = threading.Lock()
_tokenizers: dict[object, Any] = {}
_grammars: dict[tuple[object, str], Grammar] = {}
#: Distinct (model, schema) grammars kept; past it the cache starts again.
_CACHE_SIZE = 256


def _llguidance() -> Any:
    try:
        import llguidance
        import llguidance.hf
    except ImportError:
        raise MissingDependencyError(PROVIDER, "llguidance", "local") from None
    return llguidance


def _tokenizer(loaded: LoadedModel, model: str) -> Any:
    """The llguidance tokenizer of a loaded model, built once per model."""
    found = _tokenizers.get(loaded.key)
    if found is not None:
        return found
    llguidance = _llguidance()
    hf = loaded.tokenizer
    eos = sorted(loaded.eos_ids) or hf.eos_token_id
    try:
        built = llguidance.hf.from_tokenizer(hf, eos_token=eos)
    except (ValueError, TypeError) as error:
        # Only "fast" (tokenizers-backed) tokenizers can be wrapped.
        raise UnsupportedParameterError(
            "schema",
            PROVIDER,
            model,
            [],
            message=f"model {model!r}: its tokenizer ({type(hf).__name__}) cannot drive "
            f"grammar-constrained decoding ({error})",
        ) from None
    with _lock:
        return _tokenizers.setdefault(loaded.key, built)


def compile_schema(loaded: LoadedModel, schema: Mapping[str, Any], model: str) -> Grammar:
    """The :class:`Grammar` of ``schema`` on this model (compiled once, then cached).

    Raises :class:`~genkit.errors.InvalidParameterError` naming ``schema`` when
    llguidance cannot compile it (an unknown string ``format``, a bad ``pattern``).
    """
    text = json.dumps(schema, sort_keys=True)
    key = (loaded.key, text)
    found = _grammars.get(key)
    if found is not None:
        return found
    tokenizer = _tokenizer(loaded, model)
    matcher_cls = _llguidance().LLMatcher
    grammar = matcher_cls.grammar_from_json_schema(
        local_grammar_schema(schema), overrides=dict(JSON_OPTIONS)
    )
    failed, messages = matcher_cls.validate_grammar_with_warnings(grammar, tokenizer)
    problem = (messages[0] if messages else "unknown") if failed else ""
    matcher = None if failed else matcher_cls(tokenizer, grammar, log_level=0)
    if matcher is not None and matcher.is_error():
        problem = matcher.get_error() or "unknown"
    if problem:
        raise InvalidParameterError(
            "schema",
            f"the local grammar engine (llguidance) cannot compile it: {problem.splitlines()[0]}",
            provider=PROVIDER,
            allowed="JSON Schema that llguidance supports (see its json_schema.md)",
        )
    built = Grammar(matcher, int(tokenizer.vocab_size))
    with _lock:
        if len(_grammars) >= _CACHE_SIZE:
            _grammars.clear()
        return _grammars.setdefault(key, built)


def advance(matcher: Any, token: int) -> bool:
    """Feed a sampled token to a row's matcher; whether the row is finished by it.

    Finished means the grammar is complete (only EOS could follow) or, should a token
    outside the mask ever get through, broken: either way nothing more can make the
    answer valid.
    """
    return not matcher.consume_token(token) or bool(matcher.is_stopped())


class GrammarMask:
    """A logits processor forbidding, per constrained row, what its grammar forbids.

    ``matchers[i]`` is row ``i``'s ``LLMatcher`` (``None`` for a free row), ``vocab_size``
    the llguidance tokenizer's; ``done(i)`` tells whether row ``i`` has finished (its
    logits no longer matter).  Runs on the engine thread, before
    :class:`~genkit.backends.huggingface._sampling.RowSampler`.
    """

    def __init__(
        self,
        matchers: Sequence[Any],
        vocab_size: int,
        done: Callable[[int], bool],
        device: Any,
    ) -> None:
        import numpy

        self._np = numpy
        self._matchers = list(matchers)
        self._constrained = [i for i, m in enumerate(matchers) if m is not None]
        self._done = done
        self._device = device
        self._vocab = vocab_size
        self._words = (vocab_size + 31) // 32
        self._bits = numpy.full((len(matchers), self._words), -1, dtype=numpy.int32)
        self._executor = _executor(_llguidance())

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        live = [i for i in self._constrained if not self._done(i)]
        if not live:
            return scores
        np = self._np
        bits = self._bits
        if len(live) == 1:
            row = bits[live[0]]
            self._matchers[live[0]].unsafe_compute_mask_ptr(row.ctypes.data, row.nbytes)
        else:  # llguidance's thread pool computes the rows in parallel
            pairs = [(self._matchers[i], i) for i in live]
            self._executor.unsafe_compute_mask_ptr(
                pairs, bits.ctypes.data, bits[0].nbytes, len(bits)
            )
        # Unpacked and applied with numpy: a mask is ~50k elements per row, too small for
        # torch's thread pool, whose hand-offs cost milliseconds on a busy CPU.
        allowed = np.unpackbits(bits[live].view(np.uint8), axis=1, bitorder="little")
        width = min(self._vocab, scores.shape[-1])
        allowed = allowed[:, :width].view(bool)
        if scores.device.type == "cpu" and scores.dtype == torch.float32:
            logits = scores.numpy()  # the same memory: masked in place
            for k, i in enumerate(live):
                np.copyto(logits[i, :width], -np.inf, where=~allowed[k])
                logits[i, width:] = -np.inf  # ids beyond the tokenizer: never allowed
            return scores
        forbidden = torch.ones((len(live), scores.shape[-1]), dtype=torch.bool)
        forbidden[:, :width] = torch.from_numpy(~allowed)
        rows = torch.tensor(live, dtype=torch.long, device=scores.device)
        forbidden = forbidden.to(scores.device, non_blocking=True)
        scores[rows] = scores[rows].masked_fill(forbidden, float("-inf"))
        return scores


_executor_instance: Any = None


def _executor(llguidance: Any) -> Any:
    """One llguidance thread pool per process: it computes the rows' masks in parallel."""
    global _executor_instance
    with _lock:
        if _executor_instance is None:
            _executor_instance = llguidance.LLExecutor()
        return _executor_instance
