"""A request as the engine sees it, and how the caller's thread hears about its progress.

The engine thread appends each new token to ``Job.tokens[row]`` and sets
``Job.finish[row]`` when a candidate ends, then calls ``Job.notify``; the caller reads
those lists from its own thread.  Appending before setting the finish reason, and setting
``done`` last, means a reader that sees a finish reason (or ``done``) also sees every token
before it: no lock is needed on the per-token path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from genkit.backends.huggingface._sampling import Sampling
from genkit.types import FinishReason

__all__ = ["Job", "freeze"]


@dataclass(eq=False, slots=True)
class Job:
    """One request: ``n`` candidates continuing ``prompt``, plus its results so far.

    ``batch_key`` says which jobs may share a ``generate()`` call (equal extra ``generate()``
    keyword arguments); ``streaming`` jobs are notified every step, others only at the end.
    ``grammar`` (a :class:`~genkit.backends.huggingface._grammar.Grammar`) constrains every
    candidate to a ``schema=``; jobs with and without one share batches.
    """

    prompt: list[int]
    n: int
    max_new_tokens: int
    sampling: Sampling
    stops: tuple[str, ...]
    options: Mapping[str, Any]
    batch_key: Hashable
    streaming: bool = False
    grammar: Any = None
    notify: Callable[[], None] = lambda: None
    tokens: list[list[int]] = field(default_factory=list)
    finish: list[FinishReason | None] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False
    cancelled: bool = False
    completed: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.tokens = [[] for _ in range(self.n)]
        self.finish = [None] * self.n

    def cancel(self) -> None:
        """Stop generating for this job at the next step (or never start it)."""
        self.cancelled = True

    def complete(self, error: BaseException | None = None) -> None:
        """Called once by the engine thread when the job will get no more tokens."""
        self.error = error
        self.done = True
        self.completed.set()
        self.notify()

    @property
    def output_tokens(self) -> int:
        return sum(len(row) for row in self.tokens)


def freeze(value: Any) -> Hashable:
    """A hashable stand-in for provider options, so equal options compare equal.

    Options that cannot be frozen get a key of their own: such a job runs in a batch alone.
    """
    try:
        frozen = _freeze(value)
        hash(frozen)
    except TypeError:
        return object()
    return frozen


def _freeze(value: Any) -> Hashable:
    if isinstance(value, Mapping):
        return ("{", tuple(sorted((repr(k), _freeze(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("[", tuple(_freeze(v) for v in value))
    if isinstance(value, set | frozenset):
        return ("set", frozenset(_freeze(v) for v in value))
    hash(value)
    return (type(value).__name__, value)
