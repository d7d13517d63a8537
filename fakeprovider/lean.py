"""A lean benchmark server for the three hosted wire protocols, run as its own process.

Why not only :class:`fakeprovider.FakeProviderServer`: that server is built to be faithful and
scriptable (it validates every request, records it, renders replies per request,
can inject faults), which is what tests need and what a benchmark does not.  Every
microsecond it spends per request is added to both sides of a genkit-vs-raw-SDK
comparison and every jitter it has widens the noise band that a 5 % difference has
to stand out of.  This server answers from bytes rendered once at start-up, by the same
``<protocol>/render.py`` modules the test server uses:

- asyncio ``Protocol`` on raw sockets, HTTP/1.1 keep-alive, ``TCP_NODELAY``;
- OpenAI Chat Completions (JSON and SSE with ``[DONE]`` and a usage chunk), Anthropic
  Messages (JSON and ``event:``/``data:`` SSE) and Gemini ``generateContent`` /
  ``streamGenerateContent?alt=sse`` (JSON and CRLF SSE), so the real SDKs parse
  real wire formats;
- a model name containing ``bench-fail`` gets a 503 in that protocol's error shape,
  which is how ``bench.peers`` counts the requests each library sends for one call;
- ``--latency SECONDS`` holds every answer that long after its request arrived, as a
  real provider spends seconds generating: without it a client's throughput is bound
  by its CPU alone, with it also by how many requests it keeps in flight (its
  connection pool), which is what ``bench.concurrency --latency`` shows.
- an OpenAI or Anthropic request that declares ``tools`` is answered with a tool call
  (:data:`TOOL_CALL`; streamed: one :data:`STREAM_TOOL` call whose arguments arrive in
  ``--chunks`` pieces, one event each), and one asking for structured output
  (``response_format`` / ``output_config``) with :data:`STRUCTURED` as its JSON text
  (``bench.tools``, ``bench.structured``).

It is started by :class:`bench._common.BenchServer` with ``python -m fakeprovider.lean``
and controlled over stdin/stdout (``stats``, ``reset``, ``quit``) so that counting
requests never goes over the wire being measured.  ``--impl fakeprovider`` serves the
project's ``fakeprovider.FakeProviderServer`` behind the same control channel,
to compare the two servers' costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .anthropic import render as render_anthropic
from .errors import ErrorSpec, render_error
from .gemini import render as render_gemini
from .openai import render as render_openai
from .recorded import Protocol
from .responder import _JSON_TYPES as JSON_TYPES
from .responder import _SSE_TYPES as SSE_TYPES
from .sse import frame_events
from .textplan import TextPlan, split_words

RENDERERS = {"openai": render_openai, "anthropic": render_anthropic, "gemini": render_gemini}

#: A 30-token answer, as a real short reply would be.
TEXT = (
    "Hello! I'm just a computer program, so I don't have feelings, but I'm here "
    "and ready to help you. How can I assist you today?"
)
INPUT_TOKENS = 12
OUTPUT_TOKENS = 30

Response = bytes


def stream_pieces(chunks: int) -> list[str]:
    """The text of each streamed chunk: short token-sized pieces, like a real stream."""
    return [f" tok{i % 100}" for i in range(chunks)]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _http(status: str, content_type: str, body: bytes, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\n"
        f"content-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\n"
        f"{extra}"
        "connection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


def _http_chunked(content_type: str, events: list[bytes], extra: str = "") -> bytes:
    """One HTTP chunk per SSE event, as the real APIs flush them, then the last chunk."""
    head = (
        "HTTP/1.1 200 OK\r\n"
        f"content-type: {content_type}\r\n"
        "transfer-encoding: chunked\r\n"
        "cache-control: no-cache\r\n"
        f"{extra}"
        "connection: keep-alive\r\n\r\n"
    ).encode()
    parts = [head]
    for event in events:
        parts.append(b"%x\r\n%s\r\n" % (len(event), event))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


# ------------------------------------------------------------ rendered once, by fakeprovider

#: Model names as the real APIs echo them back.
MODELS: dict[Protocol, str] = {
    "openai": "gpt-4o-2024-08-06",
    "anthropic": "claude-sonnet-4-5-20250929",
    "gemini": "gemini-2.5-flash",
}
#: Request-id header per protocol (Gemini sends none; it marks SSE as an attachment).
_EXTRA = {
    "openai": "x-request-id: req_bench\r\n",
    "anthropic": "request-id: req_bench\r\n",
    "gemini": "content-disposition: attachment\r\n",
}


def _plan(protocol: Protocol, pieces: tuple[str, ...], output_tokens: int) -> TextPlan:
    return TextPlan(
        model=MODELS[protocol],
        choices=(pieces,),
        finish="stop",
        input_tokens=INPUT_TOKENS,
        output_tokens=output_tokens,
        serial=1,
        created=1756380852,
        stop_sequence=None,
    )


def render_json(protocol: Protocol) -> bytes:
    """The whole non-streaming answer (:data:`TEXT`), with the protocol's headers."""
    body = RENDERERS[protocol].render_json(_plan(protocol, split_words(TEXT), OUTPUT_TOKENS))
    extra = _EXTRA[protocol] if protocol != "gemini" else ""
    return _http("200 OK", JSON_TYPES[protocol], _dumps(body), extra)


def render_stream(protocol: Protocol, chunks: int) -> bytes:
    """A ``chunks``-piece stream, one HTTP chunk per SSE event (OpenAI with its usage chunk)."""
    plan = _plan(protocol, tuple(stream_pieces(chunks)), chunks)
    body = {"stream_options": {"include_usage": True}}
    events = RENDERERS[protocol].render_stream(plan, body, None)
    framed = frame_events(events, crlf=protocol == "gemini")
    return _http_chunked(SSE_TYPES[protocol], framed, _EXTRA[protocol])


#: The call every request that declares tools is answered with (``bench.tools``).
TOOL_CALL: tuple[str, dict[str, Any]] = ("tool_00", {"city": "Paris", "days": 3})
#: The tool a streamed tool call names (``bench.tools``): its arguments stream in pieces.
STREAM_TOOL = "write_note"
#: The JSON answer to every request that asks for structured output (``bench.structured``).
STRUCTURED: dict[str, Any] = {
    "name": "Ada Lovelace",
    "age": 36,
    "email": "ada@example.com",
    "tags": ["math", "engines", "poetry"],
    "address": {"street": "12 St James's Square", "city": "London", "country": "UK"},
    "score": 9.5,
}
#: Request fields that say a request declares tools / asks for structured output.
_TOOL_FIELD = b'"tools"'
_SCHEMA_FIELDS = (b'"response_format"', b'"output_config"')


def argument_pieces(fragments: int) -> tuple[str, ...]:
    """``fragments`` token-sized pieces of one call's arguments, joining to a JSON object."""
    body = tuple(f"tok{i % 100} " for i in range(max(fragments - 2, 0)))
    return ('{"text":"', *body, '"}')


def _tool_plan(protocol: Protocol, fragments: int | None) -> TextPlan:
    """A turn that only calls a tool: :data:`TOOL_CALL`, or with ``fragments`` one
    :data:`STREAM_TOOL` call whose arguments stream in that many pieces."""
    pieces: tuple[tuple[str, ...], ...] = ()
    if fragments is None:
        calls = ((TOOL_CALL[0], json.dumps(TOOL_CALL[1])),)
    else:
        streamed = argument_pieces(fragments)
        calls, pieces = ((STREAM_TOOL, "".join(streamed)),), (streamed,)
    plan = _plan(protocol, (), fragments or OUTPUT_TOKENS)
    return replace(plan, finish="tool_calls", tool_calls=calls, argument_pieces=pieces)


def render_tool_call(protocol: Protocol) -> bytes:
    """The whole answer to a request with tools: one :data:`TOOL_CALL`."""
    body = RENDERERS[protocol].render_json(_tool_plan(protocol, None))
    return _http("200 OK", JSON_TYPES[protocol], _dumps(body), _EXTRA[protocol])


def render_tool_stream(protocol: Protocol, fragments: int) -> bytes:
    """A streamed tool call whose arguments arrive in ``fragments`` pieces."""
    events = RENDERERS[protocol].render_stream(
        _tool_plan(protocol, fragments), {"stream_options": {"include_usage": True}}, None
    )
    framed = frame_events(events, crlf=protocol == "gemini")
    return _http_chunked(SSE_TYPES[protocol], framed, _EXTRA[protocol])


def render_structured(protocol: Protocol) -> bytes:
    """The whole answer to a request for structured output: :data:`STRUCTURED` as text."""
    text = json.dumps(STRUCTURED)
    body = RENDERERS[protocol].render_json(_plan(protocol, (text,), OUTPUT_TOKENS))
    return _http("200 OK", JSON_TYPES[protocol], _dumps(body), _EXTRA[protocol])


def render_overload(protocol: Protocol) -> bytes:
    """A 503 in the protocol's error shape (``bench-fail`` models get it)."""
    body, ctype = render_error(protocol, ErrorSpec(503, "bench overload"), "req_bench")
    return _http("503 Service Unavailable", ctype, body)


NOT_FOUND = _http("404 Not Found", "application/json", b'{"error":{"message":"not found"}}')
BAD_REQUEST = _http(
    "400 Bad Request",
    "application/json",
    b'{"error":{"message":"bench server: bad request"}}',
    "connection: close\r\n",
)


# --------------------------------------------------------------------------- server


class Canned:
    """Every response this server can send, rendered once."""

    def __init__(self, chunks: int) -> None:
        self.openai = render_json("openai")
        self.openai_stream = render_stream("openai", chunks)
        self.openai_error = render_overload("openai")
        self.openai_tool = render_tool_call("openai")
        self.openai_tool_stream = render_tool_stream("openai", chunks)
        self.openai_structured = render_structured("openai")
        self.anthropic = render_json("anthropic")
        self.anthropic_tool = render_tool_call("anthropic")
        self.anthropic_tool_stream = render_tool_stream("anthropic", chunks)
        self.anthropic_structured = render_structured("anthropic")
        self.anthropic_stream = render_stream("anthropic", chunks)
        self.anthropic_error = render_overload("anthropic")
        self.gemini = render_json("gemini")
        self.gemini_stream = render_stream("gemini", chunks)
        self.gemini_error = render_overload("gemini")


class Stats:
    """Counters read by the control thread; plain ints, so no lock is needed."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: Counter[str] = Counter()

    def snapshot(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "requests": sum(self.requests.values()),
            "by_route": dict(self.requests),
        }

    def reset(self) -> None:
        self.connections = 0
        self.requests = Counter()


def _wants_stream(body: bytes) -> bool:
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get("stream") is True


class HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length request bodies (what the SDKs send)."""

    def __init__(self, canned: Canned, stats: Stats, latency: float = 0.0) -> None:
        self.canned = canned
        self.stats = stats
        self.latency = latency
        self.buffer = bytearray()
        self.head: bytes | None = None
        self.need = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stats.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.head is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                self.head = bytes(self.buffer[:end])
                del self.buffer[: end + 4]
                self.need = self._content_length(self.head)
                if self.need < 0:
                    self._send(BAD_REQUEST)
                    self._close()
                    return
            if len(self.buffer) < self.need:
                return
            body = bytes(self.buffer[: self.need])
            del self.buffer[: self.need]
            head, self.head = self.head, None
            if self.latency > 0:  # in order: every answer is held equally long
                asyncio.get_running_loop().call_later(
                    self.latency, self._send, self._route(head, body)
                )
            else:
                self._send(self._route(head, body))

    @staticmethod
    def _content_length(head: bytes) -> int:
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding":
                return -1  # no SDK benchmarked here sends chunked request bodies
        return length

    def _route(self, head: bytes, body: bytes) -> bytes:
        line = head.split(b"\r\n", 1)[0]
        parts = line.split(b" ")
        target = parts[1] if len(parts) > 1 else b""
        canned = self.canned
        fail = b"bench-fail" in body or b"bench-fail" in target
        if target.endswith(b"/chat/completions"):
            route, response = self._pick(
                "openai", body, fail, canned.openai, canned.openai_stream, canned.openai_error
            )
        elif target.endswith(b"/v1/messages"):
            route, response = self._pick(
                "anthropic",
                body,
                fail,
                canned.anthropic,
                canned.anthropic_stream,
                canned.anthropic_error,
            )
        elif b":streamGenerateContent" in target:
            route, response = ("gemini-stream", canned.gemini_stream)
            if fail:
                route, response = ("gemini-fail", canned.gemini_error)
        elif b":generateContent" in target:
            route, response = ("gemini", canned.gemini)
            if fail:
                route, response = ("gemini-fail", canned.gemini_error)
        else:
            route, response = ("not-found", NOT_FOUND)
        self.stats.requests[route] += 1
        return response

    def _pick(
        self,
        protocol: str,
        body: bytes,
        fail: bool,
        answer: bytes,
        stream: bytes,
        error: bytes,
    ) -> tuple[str, bytes]:
        """(route, response) for one OpenAI or Anthropic request, by what its body asks:
        a failure, a tool call (streamed or not), structured output, a stream, text."""
        canned = self.canned
        if fail:
            return f"{protocol}-fail", error
        streaming = _wants_stream(body)
        if _TOOL_FIELD in body:
            if streaming:
                return f"{protocol}-tool-stream", getattr(canned, f"{protocol}_tool_stream")
            return f"{protocol}-tool", getattr(canned, f"{protocol}_tool")
        if not streaming and any(field in body for field in _SCHEMA_FIELDS):
            return f"{protocol}-structured", getattr(canned, f"{protocol}_structured")
        return (f"{protocol}-stream", stream) if streaming else (protocol, answer)

    def _send(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()


# --------------------------------------------------------------------------- control


def _control(
    stats_of: Callable[[], dict[str, Any]], reset: Callable[[], None], stop: Callable[[], None]
) -> None:
    """Answer the parent's commands on stdin; EOF (parent gone) stops the server."""
    for raw in sys.stdin:
        command = raw.strip()
        if command == "stats":
            print(json.dumps(stats_of()), flush=True)
        elif command == "reset":
            reset()
            print("{}", flush=True)
        elif command == "quit":
            break
    stop()


async def _serve_lean(host: str, port: int, chunks: int, latency: float = 0.0) -> None:
    canned = Canned(chunks)
    stats = Stats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: HttpProtocol(canned, stats, latency),
        host,
        port,
        backlog=4096,
        reuse_address=True,
    )
    bound = server.sockets[0].getsockname()[1]
    done = asyncio.Event()

    def stop() -> None:
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=_control, args=(stats.snapshot, stats.reset, stop), daemon=True).start()
    print(f"READY {bound}", flush=True)
    async with server:
        await done.wait()


def _serve_fakeprovider(chunks: int) -> None:
    """The project's test server, in this process, behind the same control channel."""
    from .reply import Reply
    from .server import FakeProviderServer

    with FakeProviderServer() as server:
        server.default = Reply.text(TEXT, chunks=stream_pieces(chunks) if chunks > 1 else None)
        port = server.port
        done = threading.Event()

        def stats() -> dict[str, Any]:
            return {
                "connections": server.connections_opened,
                "requests": len(server.requests),
                "by_route": {},
            }

        print(f"READY {port}", flush=True)
        _control(stats, server.reset, done.set)
        done.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=30, help="text chunks per streamed reply")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one core")
    parser.add_argument("--impl", choices=("lean", "fakeprovider"), default="lean")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds each answer is held (lean only)"
    )
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {args.cpu})
    if args.impl == "fakeprovider":
        _serve_fakeprovider(args.chunks)
    else:
        asyncio.run(_serve_lean(args.host, args.port, args.chunks, args.latency))


if __name__ == "__main__":
    main()
