"""Cancelling or abandoning a call releases everything: the connection, tasks, sockets."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable

import pytest

import genkit
from tests.fakeprovider import FakeProviderServer, Reply
from tests.hosted import HOSTED, Hosted, point_sdks_at


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def _open_sockets() -> int:
    """Sockets this process holds (client and in-process server sides alike)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


async def _wait(predicate: Callable[[], bool], limit: float = 5.0) -> bool:
    """Poll without blocking the loop (the server runs on its own threads)."""
    deadline = asyncio.get_running_loop().time() + limit
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_cancelling_agenerate_closes_the_connection(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", timeout=30)
    await gen.agenerate("warm up")  # the pool exists before we count
    sockets_before = _open_sockets()
    tasks_before = asyncio.all_tasks()
    server.script(Reply.stall())
    task = asyncio.create_task(gen.agenerate("hi"))
    assert await _wait(lambda: len(server.requests) == 2), "the request reached the server"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _wait(lambda: server.connections_open <= 1), "the stalled connection is gone"
    assert asyncio.all_tasks() == tasks_before
    await gen.aclose()
    assert await _wait(lambda: _open_sockets() <= sockets_before)


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_cancelling_astream_closes_the_connection(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", timeout=30)
    server.script(Reply.stall(after_chunks=2))
    received: list[str] = []
    first_chunk = asyncio.Event()

    async def consume() -> None:
        async for chunk in gen.astream("hi"):
            received.append(chunk.text)
            first_chunk.set()

    tasks_before = asyncio.all_tasks()
    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_chunk.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert received
    assert await _wait(lambda: server.connections_open == 0), "the stream's connection is gone"
    assert asyncio.all_tasks() == tasks_before
    await gen.aclose()


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_abandoned_streams_leak_no_socket_or_thread(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    gen.generate("warm up")
    server.close_connections()
    assert server.wait_until(lambda s: s.connections_open == 0, timeout=5)
    sockets_before = _open_sockets()
    threads_before = threading.active_count()
    server.default = Reply.text("x " * 500, chunks=["x "] * 500)
    for _ in range(20):
        with gen.stream("hi") as stream:
            for _chunk in stream:
                break
    assert server.wait_until(lambda s: s.connections_open <= 1, timeout=5)
    gen.close()
    assert server.wait_until(lambda s: s.connections_open == 0, timeout=5)
    assert server.wait_until(lambda s: _open_sockets() <= sockets_before, timeout=5)
    assert threading.active_count() <= threads_before
