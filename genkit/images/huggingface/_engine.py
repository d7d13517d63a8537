"""One engine thread per loaded pipeline: the only thread that ever runs it.

A diffusers pipeline keeps per-call state on itself (its scheduler's step index, guidance
scale, progress bar settings), so concurrent callers never call it: they queue
:class:`ImageJob` objects and wait.  When the engine thread is free it takes the oldest job
plus every queued job with the same ``batch_key`` (same kind of call, size, steps,
guidance and extra pipeline arguments), up to ``max_batch_size`` images, and runs them as
one pipeline call: a list of prompts and a list of per-image ``torch.Generator`` objects, so
each image is the one its seed gives alone.  Several requests then cost little more than
one: on a CPU a batch of 8 small images runs in a fraction of 8 single calls.  After a batch
of several jobs the engine gathers the next one as the text engine does
(:mod:`genkit.backends.huggingface._engine`): while requests keep arriving, briefly.

Stopping: a job whose callers all gave up (timeout, cancelled task) is skipped if still
queued, and a running batch whose every job was given up stops at the end of the current
denoising step (``callback_on_step_end``).  Exit follows the text engine's rule
(:mod:`genkit.backends.huggingface._engine`): the thread is a daemon, but it must not be
inside torch when the interpreter tears down (Python ends daemon threads with ``pthread_exit``, and
unwinding through torch's C++ frames aborts with "terminate called without an active
exception").  So an ``atexit`` hook - it runs once every non-daemon thread has finished, so
their requests complete as Python promises - fails what is queued, stops the running batch
at its next step and joins the thread.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from genkit.backends.huggingface._engine import GATHER_FRACTION, GATHER_LIMIT, GATHER_QUIET
from genkit.errors import BadRequestError, GenkitError, ProviderError, ServerError
from genkit.images.huggingface._deps import PROVIDER, torch
from genkit.images.huggingface._loading import LoadedPipeline

__all__ = ["Engine", "ImageJob", "engine_for"]

logger = logging.getLogger("genkit")

#: How long interpreter exit waits for a running batch to reach its next step.
EXIT_WAIT = 30.0


@dataclass(eq=False, slots=True)
class ImageJob:
    """One request: ``len(seeds)`` images of ``prompt``, plus its results once done.

    ``arguments`` are the pipeline keyword arguments every job of a batch shares
    (size, steps, guidance, extra ``provider_options``); ``batch_key`` is their hashable
    form plus the kind of call.  ``image``/``mask`` (PIL) are set for edits.
    """

    mode: str
    prompt: str
    negative_prompt: str | None
    seeds: list[int]
    arguments: Mapping[str, Any]
    batch_key: Hashable
    image: Any = None
    mask: Any = None
    progress: bool = False
    notify: Callable[[], None] = lambda: None
    images: list[Any] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False
    cancelled: bool = False
    completed: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Never start this job; stop its batch at the next step if nobody else needs it."""
        self.cancelled = True

    def complete(self, error: BaseException | None = None) -> None:
        """Called once by the engine thread when the job is finished or failed."""
        self.error = error
        self.done = True
        self.completed.set()
        self.notify()


class _StoppedError(Exception):
    """Raised from the step callback to abandon a batch nobody waits for any more."""


class Engine:
    """Queue, coalesce and run image jobs for one pipeline on a daemon thread."""

    def __init__(self, loaded: LoadedPipeline, max_batch_size: int) -> None:
        self.loaded = loaded
        self.max_batch_size = max_batch_size
        self._queue: deque[ImageJob] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running: list[ImageJob] = []
        self._held = False
        self._closing = False
        self._last_jobs = 0
        self._last_rows = 0
        self._last_seconds = 0.0
        #: Pipeline calls, requests and images run so far: how well requests were coalesced.
        self.batches = 0
        self.jobs = 0
        self.images = 0
        #: The most requests one pipeline call has served.
        self.largest_batch = 0

    # ------------------------------------------------------------------ callers' side

    def submit(self, job: ImageJob) -> None:
        with self._cond:
            if self._closing:
                job.complete(_exiting())
                return
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name=f"genkit-images:{self.loaded.key.source}", daemon=True
                )
                self._thread.start()
                atexit.register(self.stop)  # after torch's own hooks were registered: runs first
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        """Jobs waiting for the engine thread."""
        return len(self._queue)

    @property
    def busy(self) -> bool:
        """Whether a pipeline call is running now."""
        return bool(self._running)

    def wait_busy(self, timeout: float | None = None) -> bool:
        """Block until a pipeline call is running; ``False`` if ``timeout`` ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._running), timeout)

    def wait_pending(self, count: int, timeout: float | None = None) -> bool:
        """Block until at least ``count`` jobs are queued (while :meth:`hold` keeps them)."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._queue) >= count, timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running; ``False`` if ``timeout`` ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._running, timeout)

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Queue without starting anything until the block ends, then serve it as batches.

        For callers that know a burst is coming (a job server filling a queue, a test)
        and want it in as few pipeline calls as possible; a call already running finishes.
        """
        with self._cond:
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()

    def stop(self) -> None:
        """Fail what is queued, stop what runs at its next step, and end the thread.

        Runs at interpreter exit, once non-daemon threads have finished; callers still
        waiting then are daemon threads, and get an error if they are ever scheduled again.
        """
        with self._cond:
            self._closing = True
            queued = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
            thread = self._thread
        for job in queued:
            _complete(job, _exiting())
        if thread is not None and thread is not threading.current_thread():
            thread.join(EXIT_WAIT)

    # ------------------------------------------------------------------ engine thread

    def _serve(self) -> None:
        while True:
            jobs = self._next_batch()
            if jobs is None:
                return
            live = [job for job in jobs if not job.cancelled]
            failure: BaseException | None = None
            started = time.monotonic()
            try:
                if live:
                    self._run(live)
            except BaseException as exc:
                failure = exc
            self._last_seconds = time.monotonic() - started
            for job in jobs:
                error = None
                if failure is not None:
                    error = _exiting() if self._closing else _translate(failure)
                elif job.cancelled and not job.images:
                    error = ProviderError("the request was cancelled", provider=PROVIDER)
                _complete(job, error)
            with self._cond:
                self._running = []
                self._cond.notify_all()

    def _next_batch(self) -> list[ImageJob] | None:
        """The oldest live job, every queued job that can join it, and every cancelled one."""
        with self._cond:
            self._cond.wait_for(lambda: self._closing or (bool(self._queue) and not self._held))
            if self._closing:
                return None
            if self._last_jobs > 1:
                self._gather()
            batch: list[ImageJob] = []
            rest: deque[ImageJob] = deque()
            first: ImageJob | None = None
            rows = 0
            for job in self._queue:
                if job.cancelled:
                    batch.append(job)  # completed without running: nobody is waiting for it
                elif first is None or (
                    job.batch_key == first.batch_key
                    and rows + len(job.seeds) <= self.max_batch_size
                ):
                    first = first or job
                    batch.append(job)
                    rows += len(job.seeds)
                else:
                    rest.append(job)
            self._queue = rest
            self._running = batch
            live = sum(not job.cancelled for job in batch)
            self._last_jobs = live
            self._last_rows = rows
            if live:
                self.batches += 1
                self.jobs += live
                self.images += rows
                self.largest_batch = max(self.largest_batch, live)
            self._cond.notify_all()
            return batch

    def _gather(self) -> None:
        """Wait (lock held, released while waiting) for the callers of the last batch."""
        wanted = min(self._last_rows, self.max_batch_size)
        deadline = time.monotonic() + min(GATHER_FRACTION * self._last_seconds, GATHER_LIMIT)
        seen = len(self._queue)
        while sum(len(job.seeds) for job in self._queue if not job.cancelled) < wanted:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing:
                return
            self._cond.wait(min(GATHER_QUIET, remaining))
            if len(self._queue) == seen:
                return  # a quiet gap: nobody else is coming soon
            seen = len(self._queue)

    def _run(self, jobs: list[ImageJob]) -> None:
        """One pipeline call for every image of ``jobs``; each job gets its own slice."""
        first = jobs[0]
        pipe = self.loaded.pipeline(first.mode)
        prompts: list[str] = []
        negatives: list[str] = []
        generators: list[Any] = []
        images: list[Any] = []
        masks: list[Any] = []
        device = self.loaded.device if self.loaded.device.type == "cuda" else "cpu"
        for job in jobs:
            for seed in job.seeds:
                prompts.append(job.prompt)
                negatives.append(job.negative_prompt or "")
                generators.append(torch.Generator(device=device).manual_seed(seed))
                images.append(job.image)
                masks.append(job.mask)
        kwargs: dict[str, Any] = dict(first.arguments)
        kwargs.update(
            prompt=prompts,
            generator=generators,
            num_images_per_prompt=1,
            output_type="pil",
            callback_on_step_end=self._step_check(jobs),
        )
        if any(job.negative_prompt for job in jobs):
            kwargs["negative_prompt"] = negatives  # "" is what diffusers uses for None
        if first.mode != "text2img":
            kwargs["image"] = images
        if first.mode == "inpaint":
            kwargs["mask_image"] = masks
        pipe.set_progress_bar_config(disable=not any(job.progress for job in jobs))
        with torch.inference_mode():
            output = pipe(**kwargs)
        produced = list(output.images)
        start = 0
        for job in jobs:
            job.images = produced[start : start + len(job.seeds)]
            start += len(job.seeds)

    def _step_check(self, jobs: list[ImageJob]) -> Callable[..., Any]:
        def check(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> Any:
            if self._closing or all(job.cancelled for job in jobs):
                raise _StoppedError
            return tensors

        return check


def _exiting() -> ProviderError:
    return ProviderError("the interpreter is exiting", provider=PROVIDER, retryable=False)


def _complete(job: ImageJob, error: GenkitError | None) -> None:
    try:
        job.complete(error)
    except Exception:  # a waiter's callback must never take the engine thread down
        logger.exception("genkit: notifying a local image request failed")


def _translate(exc: BaseException) -> GenkitError:
    """A fresh genkit error per job; running out of memory may pass once the batch is gone."""
    text = f"{type(exc).__name__}: {exc}"
    error: ProviderError
    if isinstance(exc, _StoppedError):
        error = ProviderError("the request was cancelled", provider=PROVIDER)
    elif isinstance(exc, torch.cuda.OutOfMemoryError):
        error = ServerError(
            f"local image generation ran out of device memory ({text})", provider=PROVIDER
        )
    elif isinstance(exc, ValueError | TypeError):
        error = BadRequestError(f"the pipeline rejected the request ({text})", provider=PROVIDER)
    else:
        error = ProviderError(f"local image generation failed ({text})", provider=PROVIDER)
    error.__cause__ = exc
    return error


_engines: dict[object, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(loaded: LoadedPipeline, max_batch_size: int) -> Engine:
    """The one engine of a loaded pipeline, shared like the pipeline itself."""
    with _engines_lock:
        engine = _engines.get(loaded.key)
        if engine is None:
            engine = _engines[loaded.key] = Engine(loaded, max_batch_size)
        return engine
