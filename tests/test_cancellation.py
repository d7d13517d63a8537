"""Cancelling or abandoning a call releases everything it held.

A server behind a slow model is where callers give up: an asyncio task is cancelled
(a client disconnected, ``asyncio.wait_for`` expired), or a loop breaks out of a
stream once it has what it needs.  Each time, the HTTP connection must close (the
fake server sees the client go, so the provider stops generating and billing) and
nothing may be left behind: no asyncio task, no thread, no open socket.

Sockets are counted from the client's side only - this process's TCP connections to
the fake server's port (psutil) - so the in-process server's own sockets never blur
the count.  Waiting for the server to notice runs on a helper thread started before
anything is counted, so the event loop is never blocked and nothing sleeps.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psutil
import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import HOSTED, Hosted, point_sdks_at

#: A stream that is still being generated when the caller stops reading: two chunks,
#: then nothing until the client leaves - which the server then sees.
UNFINISHED = Reply.stall(after_chunks=2)


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def client_sockets(server: FakeProviderServer) -> int:
    """This process's open TCP connections to the fake server (client ends only)."""
    return sum(
        1
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == server.port and conn.status == "ESTABLISHED"
    )


@dataclass(frozen=True)
class Snapshot:
    tasks: frozenset[asyncio.Task[object]]
    threads: int
    sockets: int


def snapshot(server: FakeProviderServer, *, in_loop: bool = True) -> Snapshot:
    tasks = frozenset(asyncio.all_tasks()) if in_loop else frozenset()
    return Snapshot(tasks, threading.active_count(), client_sockets(server))


class Waiter:
    """``server.wait_until`` for async tests: on one helper thread, never on the loop."""

    def __init__(self, server: FakeProviderServer) -> None:
        self.server = server
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-waiter")
        self._pool.submit(lambda: None).result()  # its thread exists before any count

    async def until(self, predicate: Callable[[FakeProviderServer], bool]) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.server.wait_until, predicate, 5.0)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@pytest.fixture
def waiter(server: FakeProviderServer) -> Iterator[Waiter]:
    waiter = Waiter(server)
    yield waiter
    waiter.close()


async def _warm(gen: genkit.Generator, server: FakeProviderServer, waiter: Waiter) -> Snapshot:
    """One call first, so the pool, the loop's helpers and lazy imports exist before counting."""
    await gen.agenerate("warm up")
    server.reset()
    before = snapshot(server)
    assert before.sockets <= 1
    return before


async def _check_released(
    before: Snapshot, server: FakeProviderServer, waiter: Waiter, disconnects: int = 1
) -> None:
    assert await waiter.until(lambda s: s.disconnects >= disconnects), (
        "the server saw the client go"
    )
    assert await waiter.until(lambda s: client_sockets(s) <= before.sockets), "no socket left"
    assert asyncio.all_tasks() == before.tasks, "no task left"
    assert threading.active_count() == before.threads, "no thread left"


# --------------------------------------------------------------------------- asyncio


@pytest.mark.parametrize("stall", ["before-headers", "in-body"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_cancelling_agenerate_closes_the_connection(
    server: FakeProviderServer, waiter: Waiter, hosted: Hosted, stall: str
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", timeout=30)
    before = await _warm(gen, server, waiter)
    server.script(Reply.stall() if stall == "before-headers" else Reply.stall(after_chunks=5))
    task = asyncio.create_task(gen.agenerate("hi"))
    assert await waiter.until(lambda s: len(s.requests) == 1), "the request reached the server"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _check_released(before, server, waiter)
    await gen.aclose()


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_wait_for_timeout_closes_the_connection(
    server: FakeProviderServer, waiter: Waiter, hosted: Hosted
) -> None:
    """``asyncio.wait_for`` is how most callers bound a call: the same cancellation."""
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", timeout=30)
    before = await _warm(gen, server, waiter)
    server.script(Reply.stall())
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(gen.agenerate("hi"), timeout=0.2)
    assert len(server.requests) == 1, "cancellation is not retried"
    await _check_released(before, server, waiter)
    await gen.aclose()


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_cancelling_during_a_retry_wait_sends_nothing_more(
    server: FakeProviderServer, waiter: Waiter, hosted: Hosted
) -> None:
    """A task cancelled while genkit waits out a ``Retry-After`` stops at once."""
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", timeout=30)
    before = await _warm(gen, server, waiter)
    server.script(Reply.error(503, retry_after=30))
    task = asyncio.create_task(gen.agenerate("hi"))
    assert await waiter.until(lambda s: len(s.requests) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(server.requests) == 1, "no retry after cancellation"
    assert asyncio.all_tasks() == before.tasks
    assert threading.active_count() == before.threads
    await gen.aclose()


@pytest.mark.parametrize("where", ["before-first-chunk", "mid-stream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_cancelling_astream_closes_the_connection(
    server: FakeProviderServer, waiter: Waiter, hosted: Hosted, where: str
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", timeout=30)
    before = await _warm(gen, server, waiter)
    server.script(Reply.stall(after_chunks=0 if where == "before-first-chunk" else 2))
    received: list[str] = []
    first_chunk = asyncio.Event()

    async def consume() -> None:
        async for chunk in gen.astream("hi"):
            received.append(chunk.text)
            first_chunk.set()

    task = asyncio.create_task(consume())
    if where == "mid-stream":
        await asyncio.wait_for(first_chunk.wait(), timeout=5)
    else:
        assert await waiter.until(lambda s: len(s.requests) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert bool(received) == (where == "mid-stream")
    await _check_released(before, server, waiter)
    await gen.aclose()


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_breaking_out_of_astream_closes_the_connection(
    server: FakeProviderServer, waiter: Waiter, hosted: Hosted
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", timeout=30)
    before = await _warm(gen, server, waiter)
    server.script(UNFINISHED.times(2))
    async with gen.astream("hi") as stream:
        async for _chunk in stream:
            break
    await _check_released(before, server, waiter)

    # Without ``async with``, an explicit ``aclose()`` does the same.
    stream = gen.astream("hi")
    async for _chunk in stream:
        break
    await stream.aclose()
    await _check_released(before, server, waiter, disconnects=2)
    await gen.aclose()


# --------------------------------------------------------------------------- threads


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_breaking_out_of_streams_leaks_no_socket_or_thread(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    gen.generate("warm up")
    server.reset()
    before = snapshot(server, in_loop=False)
    server.default = UNFINISHED
    for _ in range(10):
        with gen.stream("hi") as stream:
            for _chunk in stream:
                break
    for _ in range(10):  # no ``with``: the abandoned stream is closed when dropped
        for _chunk in gen.stream("hi"):
            break
    assert server.wait_until(lambda s: s.disconnects == 20, timeout=5), "every stream closed"
    assert server.wait_until(lambda s: client_sockets(s) <= before.sockets, timeout=5)
    assert threading.active_count() == before.threads
    gen.close()
    assert server.wait_until(lambda s: client_sockets(s) == 0, timeout=5)
