"""The small interface every backend implements (the provider side of genkit).

A backend turns a validated :class:`~genkit.params.Request` into its provider's call
and the provider's answer back into genkit's types.  Everything users touch -
defaults, validation, retries, stream bookkeeping - lives in the :class:`Generator`
so that it behaves the same on every backend.  Third-party backends subclass
:class:`Backend` and register under the ``genkit.providers`` entry-point group.
"""

from __future__ import annotations

import contextlib
from _thread import allocate_lock  # threading.Lock itself; `threading` costs ~1 ms to import
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from genkit.params import Request
from genkit.types import Generation

if TYPE_CHECKING:
    import asyncio

    from genkit.capabilities import CapabilityTable
    from genkit.types import StreamItem

__all__ = ["Backend", "BackendSettings", "Lazy", "PerLoop"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BackendSettings:
    """What ``genkit.load()`` hands a backend besides the model name.

    ``api_key``/``base_url`` are ``None`` unless the user passed them; a backend then
    lets its SDK read the SDK's own environment variables, so genkit never overrides
    what the user configured.  ``options`` carries the backend's own load options
    (those named in :attr:`Backend.load_options`).
    """

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def given(self) -> dict[str, Any]:
        """``api_key``/``base_url``/``timeout`` the user set, as SDK client arguments.

        What is left out the SDK reads from its own environment variables.
        """
        given = {"api_key": self.api_key, "base_url": self.base_url, "timeout": self.timeout}
        return {name: value for name, value in given.items() if value is not None}


class Backend(ABC):
    """One provider.  Instances are shared by every call of a Generator: be thread-safe."""

    #: The provider name used in model strings ("openai" in "openai:gpt-4o").
    provider: ClassVar[str]
    #: Per-model capabilities (see :mod:`genkit.capabilities`).
    capabilities: ClassVar[CapabilityTable]
    #: Extra keyword arguments ``genkit.load()`` accepts for this backend.
    load_options: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, model: str, settings: BackendSettings) -> None:
        self.model = model
        self.settings = settings

    def check(self, request: Request) -> None:  # noqa: B027 - optional hook
        """Refuse what the provider would refuse but no capability row can express.

        Called for every request before anything is sent (for streams, when
        ``gen.stream()`` is called rather than on first iteration); raise
        :class:`genkit.InvalidParameterError`.  Most backends need nothing here.
        """

    @abstractmethod
    def generate(self, request: Request) -> Generation: ...

    @abstractmethod
    async def agenerate(self, request: Request) -> Generation: ...

    @abstractmethod
    def stream(self, request: Request) -> Iterator[StreamItem]:
        """Yield events; closing the iterator must release the connection or the device.

        Yield the :data:`~genkit.types.StreamEvent` kinds: a non-empty
        :class:`~genkit.types.Chunk` per piece of answer text (nearly every event: it
        reaches the user as it is, so build nothing else per chunk),
        :class:`~genkit.types.ReasoningDelta` and the ``ToolCall*`` events where the
        provider streams them, one :class:`~genkit.types.Finish` per candidate with
        genkit's reason and the provider's own string, :class:`~genkit.types.UsageUpdate`
        (the last one is kept), :class:`~genkit.types.ResponseMetadata` for the model
        that answered, :class:`~genkit.types.StreamWarning`.  A stream without a
        ``Finish`` for every candidate is reported as cut, never as complete.
        """

    @abstractmethod
    def astream(self, request: Request) -> AsyncIterator[StreamItem]: ...

    def close(self) -> None:  # noqa: B027 - optional hook; stateless backends need nothing
        """Release clients and connections."""

    async def aclose(self) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider}:{self.model}>"


class Lazy(Generic[T]):
    """Build a value on first use, once, even when threads race for it.

    SDK clients are built lazily so that ``genkit.load()`` costs nothing beyond the
    SDK's import, and a Generator used only asynchronously never builds a sync client.
    """

    __slots__ = ("_factory", "_lock", "_value")

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = allocate_lock()
        self._value: T | None = None

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._value = self._factory()
        return value

    @property
    def built(self) -> T | None:
        return self._value


class PerLoop(Generic[T]):
    """One async client per running event loop, closed when its loop shuts down.

    An async HTTP pool belongs to the loop that opened its connections; a Generator
    used from two ``asyncio.run()`` calls in a row needs a fresh pool for the second.
    Scripts and sync web handlers run ``asyncio.run(gen.agenerate(...))`` per request,
    so a finished loop's client must not outlive it with its open sockets: each client
    is watched by a suspended async generator that the loop itself finalizes at
    shutdown (``asyncio.run`` calls ``shutdown_asyncgens()`` before closing the loop),
    which closes the client while the loop can still run the close.  A loop closed
    without that step has its client dropped when the next loop's client is built.
    """

    __slots__ = ("_clients", "_close", "_factory", "_lock", "_watchers")

    def __init__(self, factory: Callable[[], T], close: Callable[[T], Awaitable[object]]) -> None:
        self._factory = factory
        self._close = close
        self._clients: dict[asyncio.AbstractEventLoop, T] = {}
        self._watchers: dict[asyncio.AbstractEventLoop, AsyncGenerator[None]] = {}
        self._lock = allocate_lock()

    def get(self) -> T:
        from asyncio import get_running_loop  # asyncio is not imported by `import genkit`

        loop = get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._build(loop)
        return client

    def _build(self, loop: asyncio.AbstractEventLoop) -> T:
        with self._lock:
            client = self._clients.get(loop)
            if client is not None:
                return client
            for stale in [other for other in self._clients if other.is_closed()]:
                del self._clients[stale]
                self._watchers.pop(stale, None)
            client = self._clients[loop] = self._factory()
            watcher = self._watchers[loop] = self._watch(loop, client)
        # Start the watcher: the loop's first-iteration hook registers it for shutdown.
        with contextlib.suppress(StopIteration):
            watcher.__anext__().send(None)
        return client

    async def _watch(self, loop: asyncio.AbstractEventLoop, client: T) -> AsyncGenerator[None]:
        try:
            yield
        finally:
            with self._lock:
                if self._clients.get(loop) is client:
                    del self._clients[loop]
                    self._watchers.pop(loop, None)
            with contextlib.suppress(Exception):  # best effort: the loop is shutting down
                await self._close(client)

    def current(self) -> T | None:
        from asyncio import get_running_loop

        try:
            return self._clients.get(get_running_loop())
        except RuntimeError:
            return None

    def clear(self) -> list[T]:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
            self._watchers.clear()
        return clients
