"""genkit's single retry policy, the same for every backend.

Vendor SDKs retry on their own by default; genkit turns that off in every backend
so the number of requests a provider sees is exactly ``1 + max_retries``.

The first attempt runs without tenacity at all: most calls succeed, and importing
and setting up tenacity would cost more than the rest of genkit's per-call work.
Only when an attempt fails with a retryable error does tenacity take over the
remaining attempts, with exponential backoff and jitter, the server's
``Retry-After`` honoured, and a total time bound.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from genkit.errors import InvalidParameterError, ProviderError

if TYPE_CHECKING:
    import tenacity

__all__ = ["RetryPolicy", "parse_retry_after"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How genkit retries a failed attempt.

    - ``max_retries``: attempts after the first (``GENKIT_MAX_RETRIES``, default 2).
    - ``initial_backoff`` / ``max_backoff``: exponential backoff bounds in seconds;
      each wait is jittered down by up to 25% so clients spread out.
    - ``max_retry_after``: the longest ``Retry-After`` genkit will sleep for.  A longer
      one fails fast with :class:`genkit.RateLimitError` whose ``retry_after`` says
      what the server asked, instead of blocking the caller for minutes.
    - ``total_timeout``: no new attempt starts once this much time has passed since
      the first one began (waits included).
    """

    max_retries: int = 2
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    total_timeout: float = 120.0

    def __post_init__(self) -> None:
        # A bad policy would otherwise surface later as a raw TypeError inside a call,
        # or silently as no waiting at all (a negative backoff) or no retries.
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise InvalidParameterError(
                "RetryPolicy.max_retries",
                f"expected an integer, got {type(self.max_retries).__name__}",
                allowed="an integer >= 0",
            )
        if self.max_retries < 0:
            raise InvalidParameterError(
                "RetryPolicy.max_retries", f"got {self.max_retries}", allowed="an integer >= 0"
            )
        for name, infinite_ok in _SECONDS:
            value = getattr(self, name)
            number_ok = isinstance(value, int | float) and not isinstance(value, bool)
            if (
                not number_ok
                or math.isnan(value)
                or value < 0
                or (math.isinf(value) and not infinite_ok)
            ):
                shown = f"{value!r}" if number_ok else type(value).__name__
                raise InvalidParameterError(
                    f"RetryPolicy.{name}",
                    f"got {shown}",
                    allowed="seconds >= 0" + (" (math.inf for no bound)" if infinite_ok else ""),
                )
        if self.max_backoff < self.initial_backoff:
            raise InvalidParameterError(
                "RetryPolicy.max_backoff",
                f"{self.max_backoff} is less than initial_backoff {self.initial_backoff}",
                allowed="max_backoff >= initial_backoff",
            )

    def should_retry(self, error: BaseException) -> bool:
        if not isinstance(error, ProviderError) or not error.retryable:
            return False
        return error.retry_after is None or error.retry_after <= self.max_retry_after

    def backoff(self, retry_number: int, error: BaseException | None) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based)."""
        if isinstance(error, ProviderError) and error.retry_after is not None:
            return max(0.0, error.retry_after)
        import random  # only a retry needs it; ``import genkit`` stays without it

        base: float = min(self.initial_backoff * 2.0 ** (retry_number - 1), self.max_backoff)
        return base * (1 - 0.25 * random.random())

    # ---------------------------------------------------------------- sync

    def call(self, attempt: Callable[[], T], on_retry: Callable[[float], None] | None = None) -> T:
        """Run ``attempt`` until it succeeds or the policy gives up; raise the last error.

        ``on_retry(wait)`` hears each decision to retry, before the wait (telemetry).
        """
        started = time.monotonic()
        try:
            return attempt()
        except ProviderError as error:
            if self.max_retries == 0 or not self.should_retry(error):
                raise
            first_error = error
        import tenacity

        retrying = tenacity.Retrying(**self._tenacity_args(started, on_retry))
        return retrying(_replay_first(first_error, attempt))

    # ---------------------------------------------------------------- async

    async def acall(
        self, attempt: Callable[[], Awaitable[T]], on_retry: Callable[[float], None] | None = None
    ) -> T:
        started = time.monotonic()
        try:
            return await attempt()
        except ProviderError as error:
            if self.max_retries == 0 or not self.should_retry(error):
                raise
            first_error = error
        import asyncio

        import tenacity

        retrying = tenacity.AsyncRetrying(
            sleep=asyncio.sleep, **self._tenacity_args(started, on_retry)
        )
        return await retrying(_areplay_first(first_error, attempt))

    # ---------------------------------------------------------------- shared

    def _tenacity_args(
        self, started: float, on_retry: Callable[[float], None] | None
    ) -> dict[str, Any]:
        import logging  # here, with tenacity: ``import genkit`` loads neither

        import tenacity

        logger = logging.getLogger("genkit")

        def wait(state: tenacity.RetryCallState) -> float:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            return self.backoff(state.attempt_number, error)

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number > self.max_retries:
                return True
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            # Give up now, with the real error, rather than sleep past the total bound.
            next_delay = self.backoff(state.attempt_number, error)
            return time.monotonic() - started + next_delay > self.total_timeout

        def before_sleep(state: tenacity.RetryCallState) -> None:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            logger.info(
                "genkit: attempt %d failed (%s); retrying in %.2fs",
                state.attempt_number,
                type(error).__name__,
                state.upcoming_sleep,
            )
            if on_retry is not None:
                on_retry(state.upcoming_sleep)

        return {
            "stop": stop,
            "wait": wait,
            "retry": tenacity.retry_if_exception(self.should_retry),
            "before_sleep": before_sleep,
            "reraise": True,
        }


#: RetryPolicy's durations, and whether ``math.inf`` (no bound) makes sense for each.
_SECONDS = (
    ("initial_backoff", False),
    ("max_backoff", False),
    ("max_retry_after", True),
    ("total_timeout", True),
)


def _replay_first(error: ProviderError, attempt: Callable[[], T]) -> Callable[[], T]:
    """Let tenacity see the already-failed first attempt, so it counts it and waits first."""
    pending = [error]

    def run() -> T:
        if pending:
            raise pending.pop()
        return attempt()

    return run


def _areplay_first(
    error: ProviderError, attempt: Callable[[], Awaitable[T]]
) -> Callable[[], Awaitable[T]]:
    pending = [error]

    async def run() -> T:
        if pending:
            raise pending.pop()
        return await attempt()

    return run


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """The wait a response asks for, in seconds: ``retry-after-ms``, else ``Retry-After``.

    ``Retry-After`` may be seconds or an HTTP date; anything unparseable is ignored.
    """
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())
