"""A small, fast version of ``bench/load.py`` in the suite.

One Generator under concurrent bursts (asyncio and threads): every call succeeds,
every answer is its own, and connections are pooled - counted by the fake server as
the TCP connections it accepted.  A burst of N opens at most N connections; the pool
then keeps ``POOL_LIMITS.max_keepalive_connections`` of them idle, and the next burst
reuses those.  Plus memory: sequential calls keep no objects, and a Generator used
from one ``asyncio.run()`` after another does not keep every loop's client.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading

import psutil
import pytest

import genkit
from fakeprovider import FakeProviderServer
from genkit.backends._transport import POOL_LIMITS
from tests.hosted import HOSTED, Hosted, point_sdks_at

BURST = 200
KEPT = POOL_LIMITS.max_keepalive_connections or 0
THREADS = 32


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def client_sockets(server: FakeProviderServer) -> int:
    """This process's established TCP connections to the fake server (client ends)."""
    return sum(
        1
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == server.port and conn.status == "ESTABLISHED"
    )


async def _burst(gen: genkit.Generator, server: FakeProviderServer, streaming: bool) -> int:
    """BURST concurrent calls, each with its own prompt; the connections it opened."""

    async def one(i: int) -> str:
        if not streaming:
            return (await gen.agenerate(f"q{i}")).text
        stream = gen.astream(f"q{i}")
        async for _chunk in stream:
            pass
        return stream.result.text

    server.reset()
    texts = await asyncio.gather(*(one(i) for i in range(BURST)))
    assert texts == [f"echo: q{i}" for i in range(BURST)], "every caller got its own answer"
    assert len(server.requests) == BURST
    return server.connections_opened


@pytest.mark.parametrize("streaming", [False, True], ids=["agenerate", "astream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_concurrent_bursts_share_a_pool(
    server: FakeProviderServer, hosted: Hosted, streaming: bool
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    first = await _burst(gen, server, streaming)
    second = await _burst(gen, server, streaming)
    await gen.aclose()
    assert first <= BURST, "at most one connection per call in flight"
    if streaming and hosted.provider == "openai":
        # openai's Stream closes the response at [DONE], before the chunked body ends,
        # so httpx2 discards the connection: one per stream, never more.
        assert second <= BURST
    else:
        assert second <= BURST - KEPT, f"the second burst reuses the {KEPT} kept idle"


@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_thirty_two_threads_share_one_generator(
    server: FakeProviderServer, hosted: Hosted, streaming: bool
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    failures: list[BaseException] = []
    wrong: list[str] = []

    def work(thread: int) -> None:
        try:
            for i in range(4):
                prompt = f"t{thread} q{i}"
                if streaming:
                    with gen.stream(prompt) as stream:
                        text = "".join(chunk.text for chunk in stream)
                else:
                    text = gen.generate(prompt).text
                if text != f"echo: {prompt}":
                    wrong.append(text)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gen.close()
    assert failures == []
    assert wrong == [], "no answer went to the wrong thread"
    assert len(server.requests) == THREADS * 4
    if streaming and hosted.provider == "openai":
        assert server.connections_opened <= THREADS * 4  # see the openai note above
    else:
        assert server.connections_opened <= THREADS, "at most one connection per thread"


def _kept_blocks(server: FakeProviderServer) -> int:
    server.reset()  # the fake records every request: drop them before counting
    gc.collect()
    return sys.getallocatedblocks()


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_sequential_calls_keep_nothing(server: FakeProviderServer, hosted: Hosted) -> None:
    """1,000 calls after a warm-up keep (nearly) no objects: a leak of one per call shows.

    Counted with ``sys.getallocatedblocks()`` after ``gc.collect()``, far more sensitive
    than RSS (``bench/load.py`` measures both over 10,000 calls).
    """
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")

    def calls(n: int) -> None:
        for i in range(n):
            gen.generate(f"call {i}")
            with gen.stream(f"call {i}") as stream:
                for _chunk in stream:
                    pass

    calls(200)
    before = _kept_blocks(server)
    calls(500)
    kept = _kept_blocks(server) - before
    gen.close()
    # Caches still warming up keep up to ~200; one object per call on either path is 500+.
    assert kept < 400, f"{kept} blocks kept over 1,000 calls"


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_asyncio_run_per_call_releases_each_loops_client(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    """Scripts and sync web handlers call ``asyncio.run(gen.agenerate(...))`` per request."""
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")

    async def one(i: int) -> str:
        return (await gen.agenerate(f"q{i}")).text

    try:
        for i in range(20):
            assert asyncio.run(one(i)) == f"echo: q{i}"
        gc.collect()
        held = client_sockets(server)  # a loop's client is closed by the time run() returns
        assert held <= 1, f"{held} sockets still open after 20 finished event loops"
    finally:
        gen.close()
