"""Throughput check: ``python -m fakeprovider.benchmark``.

Load and stream tests only measure the client if the fake is never the
bottleneck; this prints the fake's own cost per request and per stream.
"""

from __future__ import annotations

import asyncio
import socket
import time

import openai

from .reply import Reply
from .server import FakeProviderServer

_BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi there"}]}'
_REQUEST = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer sk\r\n"
    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(_BODY), _BODY)
)


def _read_response(sock: socket.socket, buf: bytearray) -> None:
    """Consume one Content-Length response from ``sock`` (buffer carries leftovers)."""
    while (end := buf.find(b"\r\n\r\n")) < 0:
        buf += sock.recv(65536)
    head = bytes(buf[:end]).lower()
    length = int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    total = end + 4 + length
    while len(buf) < total:
        buf += sock.recv(65536)
    del buf[:total]


def sequential_sdk(server: FakeProviderServer, n: int) -> tuple[float, float]:
    """(wall s, server-busy s) for n non-streaming calls through one OpenAI client."""
    client = openai.OpenAI(api_key="sk", base_url=server.openai_base_url, max_retries=0)
    server.reset()
    start = time.perf_counter()
    for _ in range(n):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    wall = time.perf_counter() - start
    assert server.connections_opened == 1, server.connections_opened
    client.close()
    return wall, server.busy_seconds


def sequential_raw(server: FakeProviderServer, n: int) -> tuple[float, float]:
    """Same over a bare keep-alive socket: nearly all of the time is the server's."""
    server.reset()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = bytearray()
        start = time.perf_counter()
        for _ in range(n):
            sock.sendall(_REQUEST)
            _read_response(sock, buf)
        wall = time.perf_counter() - start
    return wall, server.busy_seconds


def long_stream_raw(server: FakeProviderServer, chunks: int) -> tuple[float, float]:
    """(wall s, server-busy s) to receive a whole n-chunk SSE body over a bare socket."""
    body = _BODY[:-1] + b',"stream":true}'
    request = _REQUEST.split(b"Content-Length")[0] + b"Content-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    server.reset()
    server.script(Reply.text(chunks=[f"tok{i} " for i in range(chunks)]))
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        start = time.perf_counter()
        sock.sendall(request)
        data = bytearray()
        while not data.endswith(b"0\r\n\r\n"):
            data += sock.recv(1 << 20)
        wall = time.perf_counter() - start
    assert data.count(b"data: ") == chunks + 3, data.count(b"data: ")
    # The busy counter is bumped just after the last byte is sent.
    server.wait_until(lambda srv: srv.busy_seconds > 0, timeout=2)
    return wall, server.busy_seconds


def long_stream(server: FakeProviderServer, chunks: int) -> float:
    server.reset()
    server.script(Reply.text(chunks=[f"tok{i} " for i in range(chunks)]))
    client = openai.OpenAI(api_key="sk", base_url=server.openai_base_url, max_retries=0)
    start = time.perf_counter()
    got = sum(
        1
        for c in client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True
        )
        if c.choices and c.choices[0].delta.content
    )
    elapsed = time.perf_counter() - start
    assert got == chunks, got
    client.close()
    return elapsed


async def _concurrent(port: int, n: int) -> float:
    """Open n connections first, then fire one request on each at once."""
    connected = 0
    all_connected = asyncio.Event()
    gate = asyncio.Event()

    async def one() -> bytes:
        nonlocal connected
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        connected += 1
        if connected == n:
            all_connected.set()
        await gate.wait()
        writer.write(_REQUEST)
        await writer.drain()
        line = await reader.readline()
        writer.close()
        await writer.wait_closed()
        return line

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await all_connected.wait()
    start = time.perf_counter()
    gate.set()
    lines = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    assert all(line.startswith(b"HTTP/1.1 200") for line in lines), set(lines)
    return elapsed


def concurrent(server: FakeProviderServer, n: int) -> float:
    server.reset()
    elapsed = asyncio.run(_concurrent(server.port, n))
    assert server.connections_opened == n, server.connections_opened
    return elapsed


def main() -> None:
    with FakeProviderServer() as server:
        n = 2000
        sequential_sdk(server, 200)  # warm-up
        wall, busy = sequential_sdk(server, n)
        print(
            f"{n} sequential OpenAI SDK calls, one keep-alive connection: {wall:.2f} s "
            f"({wall / n * 1e6:.0f} µs/call end to end, server busy {busy / n * 1e6:.0f} µs/call)"
        )
        wall, busy = sequential_raw(server, n)
        print(
            f"{n} sequential raw keep-alive requests: {wall:.3f} s "
            f"({wall / n * 1e6:.0f} µs/request round trip, server busy {busy / n * 1e6:.0f} µs)"
        )
        for chunks in (5000, 50000):
            wall, busy = long_stream_raw(server, chunks)
            print(
                f"{chunks}-chunk OpenAI SSE stream, raw socket: {wall * 1000:.0f} ms "
                f"(server busy {busy * 1000:.0f} ms)"
            )
            secs = long_stream(server, chunks)
            print(f"{chunks}-chunk OpenAI stream parsed by the SDK: {secs * 1000:.0f} ms")
        secs = concurrent(server, 1000)
        print(f"1000 concurrent connections, one request each: {secs * 1000:.0f} ms")
        server.close_connections()


if __name__ == "__main__":
    main()
