"""What a text Generator and an ImageGenerator share about their lifetime.

Both own one backend and must fail the same way once closed: a call after ``close()``,
a retry of a call made before it, a stream opened before it.  One base class keeps that
rule, the idempotent close and the ``with``/``async with`` forms in one place.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from genkit.errors import GeneratorClosedError

__all__ = ["Closable"]


class _Backend(Protocol):
    def close(self) -> Any: ...

    async def aclose(self) -> Any: ...


B = TypeVar("B", bound=_Backend)


class Closable(Generic[B]):
    """A model front end over one backend ``_backend``, closed for good by ``close()``."""

    provider: str
    model: str
    _backend: B
    _closed: bool

    def _live(self) -> B:
        """The backend, for one attempt: a front end closed meanwhile (a stream made
        before ``close()``, a retry after it) fails the same way as a call after it."""
        if self._closed:
            raise GeneratorClosedError(self.provider, self.model)
        return self._backend

    def close(self) -> None:
        """Close the backend's connections (or free its device); afterwards every call
        raises :class:`genkit.GeneratorClosedError`.  Closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._backend.close()

    async def aclose(self) -> None:
        """``close()`` for asyncio (also closes this event loop's connections)."""
        if self._closed:
            return
        self._closed = True
        await self._backend.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
