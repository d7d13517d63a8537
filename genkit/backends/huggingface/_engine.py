"""One engine thread per loaded model: the only thread that ever runs ``generate()`` on it.

torch modules are not re-entrant once a KV cache is involved, so concurrent callers never
touch the model: they queue :class:`Job` objects and wait.  When the engine thread is
free it takes the oldest job plus every queued job that can share its ``generate()`` call
(same extra ``generate()`` arguments, rows up to ``max_batch_size``) and runs them as one
left-padded batch.  Under light load a request runs alone at once; under heavy load
requests that queued during the previous batch run together, so throughput rises with load.
A job joins only at a batch boundary: this is static batching, not continuous batching.

Callers under steady load resubmit the moment their previous result arrives, but not at
the same instant (thread wake-ups, GIL hand-offs); starting with whoever is first would
split them over two batches.  So after a batch of several jobs the engine keeps gathering
while requests keep arriving - until as many rows are queued as that batch had, until
:data:`GATHER_QUIET` passes with no new request, or at the latest after
:data:`GATHER_FRACTION` of the last batch's duration (capped at :data:`GATHER_LIMIT`).
A request after a lone one never waits; one after a busy spell waits one quiet gap.

The engine thread is a daemon (a queue that waits for work must not keep the process alive),
but it must not be inside torch when the interpreter shuts down: Python 3.11 ends daemon
threads with ``pthread_exit``, whose unwinding through torch's C++ frames aborts the process
("terminate called without an active exception", status 134) - after a ``break`` out of a
stream, a ``TimeoutError``, Ctrl-C, or a daemon thread still generating.  So an ``atexit``
hook (it runs once every non-daemon thread has finished, before teardown) cancels every job,
lets the running ``generate()`` return at its next step and joins the thread.  Callers still
waiting then are daemon threads; like any daemon thread at exit, their call never returns.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque

from genkit.backends.huggingface._batch import run_batch
from genkit.backends.huggingface._deps import PROVIDER, torch
from genkit.backends.huggingface._jobs import Job
from genkit.backends.huggingface._loading import LoadedModel
from genkit.errors import BadRequestError, GenkitError, ProviderError, ServerError

__all__ = ["GATHER_FRACTION", "GATHER_LIMIT", "GATHER_QUIET", "Engine", "engine_for"]

#: After a batch of several jobs, gather the next one while requests arrive this close ...
GATHER_QUIET = 0.002
#: ... for at most this share of the last batch's duration ...
GATHER_FRACTION = 0.05
#: ... and never longer than this many seconds.
GATHER_LIMIT = 0.05

logger = logging.getLogger("genkit")


class Engine:
    """Queue, coalesce and run jobs for one model on a daemon thread started on first use."""

    def __init__(self, loaded: LoadedModel, max_batch_size: int) -> None:
        self.loaded = loaded
        self.max_batch_size = max_batch_size
        self._queue: deque[Job] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._batch: list[Job] = []
        self._stopping = False
        self._running = 0
        self._last_jobs = 0
        self._last_rows = 0
        self._last_seconds = 0.0
        #: Batches, rows and tokens run so far: how well requests were coalesced.
        self.batches = 0
        self.rows = 0
        self.tokens = 0
        # Unseeded rows draw from here; torch's global RNG is never touched.
        self._generator = torch.Generator(device=loaded.device)
        self._generator.seed()

    def submit(self, job: Job) -> None:
        with self._cond:
            if self._stopping:
                raise ProviderError(
                    "local generation has stopped: the interpreter is exiting",
                    provider=PROVIDER,
                    retryable=False,
                )
            self._queue.append(job)
            if self._thread is None:
                _stop_at_exit()
                self._thread = threading.Thread(
                    target=self._serve, name=f"genkit-hf:{self.loaded.key.source}", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def stop(self) -> None:
        """Cancel every job, let ``generate()`` return at its next step, and end the thread.

        For interpreter exit: the engine takes no jobs afterwards, and the callers of jobs it
        dropped are never woken (only daemon threads can still be waiting then).
        """
        with self._cond:
            self._stopping = True
            for job in (*self._queue, *self._batch):
                job.cancel()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    @property
    def pending(self) -> int:
        """Jobs waiting for the engine thread."""
        return len(self._queue)

    @property
    def busy(self) -> bool:
        return self._running > 0

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running; ``False`` if ``timeout`` ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._running, timeout)

    def _serve(self) -> None:
        while True:
            jobs = self._next_batch()
            if jobs is None:
                return
            failure: BaseException | None = None
            live = [job for job in jobs if not job.cancelled]
            started = time.monotonic()
            try:
                if live:
                    run_batch(self.loaded, live, self._generator)
            except BaseException as exc:
                failure = exc
            self._last_seconds = time.monotonic() - started
            self.tokens += sum(job.output_tokens for job in live)
            if self._stopping:
                return  # cut short at exit: its results are partial, so none is delivered
            for job in jobs:
                _complete(job, None if failure is None else _translate(failure))
            with self._cond:
                self._running = 0
                self._batch = []
                self._cond.notify_all()

    def _next_batch(self) -> list[Job] | None:
        """The oldest live job, every queued job that can join it, and every cancelled one.

        ``None`` once :meth:`stop` was called.
        """
        with self._cond:
            self._cond.wait_for(lambda: bool(self._queue) or self._stopping)
            if self._last_jobs > 1:
                self._gather()
            if self._stopping:
                return None
            batch: list[Job] = []
            rest: deque[Job] = deque()
            first: Job | None = None
            rows = 0
            for job in self._queue:
                if job.cancelled:
                    batch.append(job)  # completed without running: nobody is waiting for it
                elif first is None or (
                    job.batch_key == first.batch_key and rows + job.n <= self.max_batch_size
                ):
                    first = first or job
                    batch.append(job)
                    rows += job.n
                else:
                    rest.append(job)
            self._queue = rest
            self._batch = batch
            self._running = len(batch)
            self._last_jobs = sum(not job.cancelled for job in batch)
            self._last_rows = rows
            self.batches += 1
            self.rows += rows
            return batch

    def _gather(self) -> None:
        """Wait (lock held, released while waiting) for the callers of the last batch."""
        wanted = min(self._last_rows, self.max_batch_size)
        deadline = time.monotonic() + min(GATHER_FRACTION * self._last_seconds, GATHER_LIMIT)
        seen = len(self._queue)
        while self._queued_rows() < wanted and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(min(GATHER_QUIET, remaining))
            if len(self._queue) == seen:
                return  # a quiet gap: nobody else is coming soon
            seen = len(self._queue)

    def _queued_rows(self) -> int:
        return sum(job.n for job in self._queue if not job.cancelled)


def _complete(job: Job, error: GenkitError | None) -> None:
    try:
        job.complete(error)
    except Exception:  # a waiter's callback must never take the engine thread down
        logger.exception("genkit: notifying a local generation request failed")


def _translate(exc: BaseException) -> GenkitError:
    """A fresh genkit error per job (each caller may attach its own partial result).

    The caller's own bad ``provider_options`` are not retried; running out of memory may
    pass once the batch it shared is gone.
    """
    text = f"{type(exc).__name__}: {exc}"
    error: ProviderError
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        error = ServerError(
            f"local generation ran out of device memory ({text})", provider=PROVIDER
        )
    elif isinstance(exc, ValueError | TypeError):
        error = BadRequestError(f"generate() rejected the request ({text})", provider=PROVIDER)
    else:
        error = ProviderError(f"local generation failed ({text})", provider=PROVIDER)
    error.__cause__ = exc
    return error


_engines: dict[object, Engine] = {}
_engines_lock = threading.Lock()
_exit_hook_registered = False


def _stop_at_exit() -> None:
    """Register :func:`_stop_engines` with ``atexit`` once, when the first engine starts.

    Registered late on purpose: ``atexit`` runs hooks last-in first-out, so the engines stop
    before the exit hooks of libraries imported earlier (torch's among them) run.
    """
    global _exit_hook_registered
    with _engines_lock:
        if not _exit_hook_registered:
            _exit_hook_registered = True
            atexit.register(_stop_engines)


def _stop_engines() -> None:
    with _engines_lock:
        engines = list(_engines.values())
    for engine in engines:
        engine.stop()


def engine_for(loaded: LoadedModel) -> Engine:
    """The one engine of a loaded model, shared like the model itself."""
    with _engines_lock:
        engine = _engines.get(loaded.key)
        if engine is None:
            engine = _engines[loaded.key] = Engine(loaded, loaded.key.max_batch_size)
        return engine
