"""``FakeProviderServer``: one local HTTP server speaking all three LLM APIs.

Thread-per-connection on blocking sockets: simple to reason about, fast for
the sequential keep-alive traffic most tests make, and fine for the 1,000
concurrent connections of load tests. Every accepted socket gets TCP_NODELAY
(otherwise small SSE writes meet 40 ms Nagle/delayed-ACK stalls), the listen
backlog is large enough for connection storms, and a self-pipe lets shutdown
interrupt every wait at once.
"""

from __future__ import annotations

import _thread
import collections
import contextlib
import errno
import functools
import json
import os
import select
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self

from .anthropic.validate import validate_anthropic
from .auth import check_auth
from .errors import ErrorSpec, new_request_id
from .gemini.validate import validate_gemini
from .httpwire import BadRequestError, ClientGoneError, HttpConnection, RawRequest
from .images import parse_multipart, validate_openai_images
from .openai.validate import validate_openai
from .recorded import PROTOCOLS, Protocol, RecordedRequest
from .reply import Reply
from .responder import Exchange, Responder
from .routing import route

VALIDATORS: dict[Protocol, Callable[[dict[str, Any] | None], ErrorSpec | None]] = {
    "openai": validate_openai,
    "anthropic": validate_anthropic,
    "gemini": validate_gemini,
}
_NOT_FOUND = b'{"error": {"message": "Not found: no fake provider serves this path."}}'


def _parse_body(raw: bytes) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


class FakeProviderServer:
    """Local OpenAI + Anthropic + Gemini endpoint with scripted replies.

    Use as a context manager (or :meth:`start`/:meth:`close`). Replies come
    from, in order: the per-protocol queue (:meth:`script_for`), the shared
    FIFO queue (:meth:`script`), then :attr:`default`. Requests the server
    rejects itself (auth, validation when ``strict``) do not consume a reply.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, backlog: int = 4096, strict: bool = True
    ) -> None:
        self.host = host
        self._requested_port = port
        self.backlog = backlog
        self.strict = strict
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._generation = 0
        self._queue: collections.deque[Reply] = collections.deque()
        self._proto_queues: dict[Protocol, collections.deque[Reply]] = {
            p: collections.deque() for p in PROTOCOLS
        }
        self._default: Reply = Reply.echo()
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._opened = 0
        self._disconnects = 0
        self._busy = 0.0
        self._conn_ids = 0
        self._open: dict[int, socket.socket] = {}
        self._server_closed: set[int] = set()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1
        self._stopping = False
        self.port = 0

    # ------------------------------------------------------------- lifecycle
    def start(self) -> Self:
        """Bind, listen and serve in a daemon thread. Idempotent."""
        if self._listener is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self._requested_port))
        listener.listen(self.backlog)
        listener.setblocking(False)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"fakeprovider-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, end stalls, close every connection, join threads."""
        if self._listener is None or self._stopping:
            return
        self._stopping = True
        os.write(self._wake_w, b"x")  # never read: stays readable for every poller
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        self._listener.close()
        self._shutdown_sockets()
        if self.wait_until(lambda s: not s._open, timeout):
            os.close(self._wake_r)  # every connection thread is gone: safe to close
            os.close(self._wake_w)
        self._listener = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ URLs
    @property
    def url(self) -> str:
        if self._listener is None:
            raise RuntimeError("FakeProviderServer is not running; call start() or use `with`")
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def gemini_base_url(self) -> str:
        return self.url

    # ------------------------------------------------------------- scripting
    @staticmethod
    def _expand(replies: Iterable[Reply]) -> list[Reply]:
        out: list[Reply] = []
        for reply in replies:
            if not isinstance(reply, Reply):
                raise TypeError(f"script() takes Reply objects, got {type(reply).__name__}")
            out.extend([reply] * reply.repeat)
        return out

    def script(self, *replies: Reply) -> None:
        """Append replies to the shared FIFO consumed by requests of any protocol."""
        expanded = self._expand(replies)
        with self._lock:
            self._queue.extend(expanded)

    def script_for(self, protocol: Protocol, *replies: Reply) -> None:
        """Append replies to one protocol's queue (consumed before the shared one)."""
        if protocol not in self._proto_queues:
            raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
        expanded = self._expand(replies)
        with self._lock:
            self._proto_queues[protocol].extend(expanded)

    @property
    def default(self) -> Reply:
        """Reply for requests nothing was scripted for (``Reply.echo()`` initially)."""
        return self._default

    @default.setter
    def default(self, reply: Reply) -> None:
        if not isinstance(reply, Reply):
            raise TypeError("default must be a Reply")
        self._default = reply

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed (all queues)."""
        with self._lock:
            return len(self._queue) + sum(len(q) for q in self._proto_queues.values())

    def _next_reply(self, protocol: Protocol) -> Reply:
        with self._lock:
            queue = self._proto_queues[protocol]
            if queue:
                return queue.popleft()
            if self._queue:
                return self._queue.popleft()
        return self._default

    # ------------------------------------------------------------ observation
    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of recorded requests in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of bugs inside the fake itself (should stay empty)."""
        with self._lock:
            return list(self._errors)

    @property
    def connections_opened(self) -> int:
        return self._opened

    @property
    def connections_open(self) -> int:
        return len(self._open)

    @property
    def disconnects(self) -> int:
        return self._disconnects

    @property
    def busy_seconds(self) -> float:
        """Total time spent handling requests (parse body → response written).

        Includes scripted delays and stalls; meant for throughput checks.
        """
        return self._busy

    def reset(self) -> None:
        """Clear queues, recorded requests and counters; restore the default reply.

        Open connections stay open (``connections_open`` is live state); see
        :meth:`close_connections`.
        """
        with self._changed:
            self._queue.clear()
            for queue in self._proto_queues.values():
                queue.clear()
            self._requests.clear()
            self._errors.clear()
            self._opened = 0
            self._disconnects = 0
            self._busy = 0.0
            self._default = Reply.echo()
            self._bump()

    def close_connections(self) -> None:
        """Close every open connection from the server side (not counted as disconnects)."""
        self._shutdown_sockets()

    def wait_until(
        self, predicate: Callable[[FakeProviderServer], bool], timeout: float = 5.0
    ) -> bool:
        """Block until ``predicate(server)`` holds; False after ``timeout`` s.

        Woken by every request, connection and disconnect event, so tests need
        no sleeps.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                generation = self._generation
            if predicate(self):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._changed:
                self._changed.wait_for(
                    functools.partial(self._changed_since, generation),
                    timeout=min(remaining, 0.1),
                )

    def _changed_since(self, generation: int) -> bool:
        return self._generation != generation

    def _bump(self) -> None:
        """Caller holds the lock: note a state change and wake waiters."""
        self._generation += 1
        self._changed.notify_all()

    # ------------------------------------------------------------ connections
    def _shutdown_sockets(self) -> None:
        """Shut down (not close) every open socket: its thread wakes and cleans up."""
        with self._lock:
            self._server_closed.update(self._open)
            for sock in self._open.values():
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _accept_loop(self) -> None:
        """Accept until shutdown; survive transient errors such as EMFILE."""
        assert self._listener is not None
        listener = self._listener
        poller = select.poll()
        poller.register(listener.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while not self._stopping:
            events = poller.poll()
            if any(fd == self._wake_r for fd, _ in events):
                return
            while not self._stopping:
                try:
                    sock, _ = listener.accept()
                except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                    break
                except OSError as exc:
                    if exc.errno in (errno.EBADF, errno.EINVAL):  # listener closed
                        return
                    # EMFILE/ENFILE/ENOBUFS: out of resources. Note it, back off
                    # briefly (interruptible by shutdown) and keep serving.
                    with self._lock:
                        self._errors.append(f"accept() failed: {exc!r}")
                    select.select([self._wake_r], [], [], 0.05)
                    break
                try:
                    self._adopt(sock)
                except OSError:  # peer already gone (e.g. reset while queued)
                    sock.close()

    def _adopt(self, sock: socket.socket) -> None:
        """Hand a new connection to its own thread.

        ``_thread.start_new_thread`` rather than ``threading.Thread.start``:
        the latter blocks until the new thread has run, which under a burst
        of 1,000 connects (GIL contended) made accepting take ~0.5 s. Such
        threads never block interpreter exit, like daemon threads.
        """
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._changed:
            self._conn_ids += 1
            conn_id = self._conn_ids
            self._open[conn_id] = sock
            self._opened += 1
            self._bump()
        try:
            _thread.start_new_thread(self._serve, (sock, conn_id))
        except RuntimeError:  # cannot start new thread: shed the connection
            self._forget(conn_id)
            sock.close()

    def _forget(self, conn_id: int) -> None:
        with self._changed:
            self._open.pop(conn_id, None)
            self._server_closed.discard(conn_id)
            self._bump()

    def _serve(self, sock: socket.socket, conn_id: int) -> None:
        conn = HttpConnection(sock, self._wake_r)
        try:
            while not self._stopping:
                try:
                    raw = conn.read_request()
                except BadRequestError as exc:
                    body = json.dumps({"error": {"message": f"Bad request: {exc}"}}).encode()
                    conn.send_response(
                        400, [("Content-Type", "application/json")], body, keep_alive=False
                    )
                    break
                if raw is None:
                    break
                started = time.perf_counter()
                keep = self._handle(conn, raw, conn_id)
                self._busy += time.perf_counter() - started  # racy but only a statistic
                if not keep:
                    break
        except ClientGoneError:  # client left while we answered a 400/404
            pass
        except Exception:  # a bug in the fake: record it, drop the connection
            if not self._stopping:
                with self._lock:
                    self._errors.append(traceback.format_exc())
        finally:
            with self._changed:
                self._open.pop(conn_id, None)
                self._server_closed.discard(conn_id)
                self._bump()
            conn.close()

    def _note_disconnect(self, conn_id: int) -> None:
        with self._changed:
            if conn_id not in self._server_closed and not self._stopping:
                self._disconnects += 1
                self._bump()

    # --------------------------------------------------------------- requests
    def _record(self, rec: RecordedRequest) -> None:
        with self._changed:
            self._requests.append(rec)
            self._bump()

    def _handle(self, conn: HttpConnection, raw: RawRequest, conn_id: int) -> bool:
        """Answer one request; returns whether the connection stays open."""
        rt = route(raw.target, raw.method)
        body = _parse_body(raw.body)
        if body is None and rt.endpoint == "images":  # image edits are multipart
            body = parse_multipart(raw.headers.get("content-type", ""), raw.body)
        protocol = rt.protocol
        if protocol is None:
            self._record(
                RecordedRequest(
                    "unknown",
                    raw.method,
                    rt.path,
                    rt.query,
                    raw.headers,
                    body,
                    raw.body,
                    False,
                    "",
                    "no such endpoint",
                    conn_id,
                    time.time(),
                )
            )
            conn.send_response(
                404, [("Content-Type", "application/json")], _NOT_FOUND, keep_alive=raw.keep_alive
            )
            return raw.keep_alive
        if protocol == "gemini":
            stream, model = rt.gemini_stream, rt.gemini_model
        else:
            stream = bool(body and body.get("stream") is True)
            model_value = (body or {}).get("model")
            model = model_value if isinstance(model_value, str) else ""
        rejection = check_auth(protocol, raw.headers, rt.query)
        if rejection is None and self.strict:
            if rt.endpoint == "images":
                rejection = validate_openai_images(body, rt.path)
            else:
                rejection = VALIDATORS[protocol](body)
        self._record(
            RecordedRequest(
                protocol,
                raw.method,
                rt.path,
                rt.query,
                raw.headers,
                body,
                raw.body,
                stream,
                model,
                rejection.message if rejection else None,
                conn_id,
                time.time(),
            )
        )
        exchange = Exchange(
            protocol=protocol,
            body=body,
            model=model,
            stream=stream,
            gemini_sse=rt.gemini_sse,
            keep_alive=raw.keep_alive,
            request_id=new_request_id(),
            endpoint=rt.endpoint,
            path=rt.path,
        )
        responder = Responder(conn, exchange, lambda: self._note_disconnect(conn_id))
        if rejection is not None:
            return responder.run_error(rejection)
        return responder.run(self._next_reply(protocol))
