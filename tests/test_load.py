"""A small version of ``bench/load.py`` in the suite: bursts on one Generator, pooled."""

from __future__ import annotations

import asyncio
import threading

import pytest

import genkit
from tests.fakeprovider import FakeProviderServer, Reply
from tests.hosted import HOSTED, Hosted, point_sdks_at

BURST = 100  # the pool keeps 100 idle connections (genkit.backends._transport)


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    fake_server.default = Reply.text("pooled answer", chunks=["pooled", " answer"])
    return fake_server


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_concurrent_bursts_reuse_connections(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    for _burst in range(2):
        results = await asyncio.gather(*(gen.agenerate(f"q{i}") for i in range(BURST)))
        assert [r.text for r in results] == ["pooled answer"] * BURST
    assert len(server.requests) == 2 * BURST
    # The first burst needs one connection per call in flight; the second reuses them.
    assert server.connections_opened <= BURST
    await gen.aclose()


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_concurrent_streams(server: FakeProviderServer, hosted: Hosted) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")

    async def one(i: int) -> str:
        stream = gen.astream(f"q{i}")
        async for _chunk in stream:
            pass
        return stream.result.text

    texts = await asyncio.gather(*(one(i) for i in range(50)))
    assert texts == ["pooled answer"] * 50
    await gen.aclose()


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_thirty_two_threads_share_one_generator(server: FakeProviderServer, hosted: Hosted) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(4):
                assert gen.generate(f"q{i}").text == "pooled answer"
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(server.requests) == 128
    assert server.connections_opened <= 32
    gen.close()
