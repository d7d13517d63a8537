"""Minimal HTTP/1.1 over a blocking socket, with the hooks faults need.

``http.server`` cannot send a TCP RST, hold a response open while watching for
the client to hang up, or tell us when a write hit a closed peer, so this
module speaks just enough HTTP/1.1 itself: keep-alive, Content-Length and
chunked bodies in both directions, ``Expect: 100-continue``.
"""

from __future__ import annotations

import contextlib
import enum
import select
import socket
import struct
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

MAX_HEAD_BYTES = 256 * 1024
RECV_SIZE = 256 * 1024

_EXTRA_REASONS = {529: "Overloaded", 499: "Client Closed Request"}


class ClientGoneError(Exception):
    """The peer closed or reset the connection while we were responding."""


class BadRequestError(Exception):
    """The bytes received are not a parseable HTTP/1.1 request."""


class WaitResult(enum.Enum):
    """Why :meth:`HttpConnection.wait` returned."""

    TIMEOUT = "timeout"
    CLIENT_GONE = "client_gone"
    SHUTDOWN = "shutdown"


@dataclass(frozen=True)
class RawRequest:
    """A parsed request; header names are lower-cased, repeats joined by ', '."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        """HTTP/1.1 defaults to keep-alive; HTTP/1.0 must ask for it."""
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn


def reason_phrase(status: int) -> str:
    """Standard reason phrase, plus the non-IANA codes providers use (529)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _EXTRA_REASONS.get(status, "Unknown")


class _DateCache:
    """``formatdate`` costs ~10 µs; the Date header only changes once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def get(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._value = formatdate(now, usegmt=True)
            self._second = now
        return self._value


_DATE = _DateCache()


class HttpConnection:
    """One accepted TCP connection; used by exactly one thread.

    ``wake_fd`` is the read end of the server's shutdown pipe: it becomes
    readable (forever) when the server stops, which ends every wait at once.
    """

    def __init__(self, sock: socket.socket, wake_fd: int) -> None:
        self.sock = sock
        self._wake_fd = wake_fd
        self._buf = bytearray()
        self.closed = False

    # ------------------------------------------------------------------ reading
    def _fill(self) -> bool:
        """Read more bytes into the buffer; False on EOF/reset/shutdown."""
        try:
            data = self.sock.recv(RECV_SIZE)
        except OSError:
            return False
        if not data:
            return False
        self._buf += data
        return True

    def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            if not self._fill():
                raise BadRequestError("connection closed mid-body")
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def _read_line(self) -> bytes:
        while True:
            idx = self._buf.find(b"\r\n")
            if idx >= 0:
                line = bytes(self._buf[:idx])
                del self._buf[: idx + 2]
                return line
            if len(self._buf) > MAX_HEAD_BYTES or not self._fill():
                raise BadRequestError("unterminated line")

    def read_request(self) -> RawRequest | None:
        """Next request on the connection; None when the client is done.

        Raises :class:`BadRequestError` for garbage (the caller answers 400 and
        closes).
        """
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self._buf) > MAX_HEAD_BYTES:
                raise BadRequestError("request head too large")
            if not self._fill():
                if self._buf.strip():
                    raise BadRequestError("connection closed mid-head")
                return None
        head = bytes(self._buf[:end]).decode("latin-1")
        del self._buf[: end + 4]
        lines = head.split("\r\n")
        while lines and not lines[0]:  # tolerate stray CRLFs between requests
            lines.pop(0)
        if not lines:
            raise BadRequestError("empty request")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequestError(f"bad request line: {lines[0]!r}")
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise BadRequestError(f"bad header line: {line!r}")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if headers.get("expect", "").lower() == "100-continue":
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked_body()
        else:
            try:
                length = int(headers.get("content-length", "0") or "0")
            except ValueError as exc:
                raise BadRequestError("bad content-length") from exc
            if length < 0:
                raise BadRequestError("negative content-length")
            body = self._read_exact(length) if length else b""
        return RawRequest(method, target, version, headers, body)

    def _read_chunked_body(self) -> bytes:
        out = bytearray()
        while True:
            size_line = self._read_line().split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise BadRequestError("bad chunk size") from exc
            if size == 0:
                while self._read_line():  # trailers up to the blank line
                    pass
                return bytes(out)
            out += self._read_exact(size)
            if self._read_exact(2) != b"\r\n":
                raise BadRequestError("chunk not followed by CRLF")

    # ------------------------------------------------------------------ writing
    def send(self, data: bytes | bytearray | memoryview) -> None:
        """``sendall`` that turns a vanished peer into :class:`ClientGoneError`."""
        try:
            self.sock.sendall(data)
        except OSError as exc:  # EPIPE, ECONNRESET, EBADF after shutdown...
            raise ClientGoneError(str(exc)) from exc

    @staticmethod
    def head(status: int, headers: list[tuple[str, str]], *, keep_alive: bool) -> bytearray:
        """Status line and headers (with Date and Connection) as bytes."""
        out = bytearray(f"HTTP/1.1 {status} {reason_phrase(status)}\r\n".encode("latin-1"))
        out += f"Date: {_DATE.get()}\r\nServer: fakeprovider\r\n".encode("latin-1")
        for name, value in headers:
            out += f"{name}: {value}\r\n".encode("latin-1")
        out += b"Connection: keep-alive\r\n\r\n" if keep_alive else b"Connection: close\r\n\r\n"
        return out

    def send_response(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        keep_alive: bool,
        declared_length: int | None = None,
    ) -> None:
        """Whole response in one write (one syscall for small replies).

        ``declared_length`` lets a fault announce more bytes than it sends.
        """
        length = len(body) if declared_length is None else declared_length
        out = self.head(status, [*headers, ("Content-Length", str(length))], keep_alive=keep_alive)
        out += body
        self.send(out)

    def start_chunked(
        self, status: int, headers: list[tuple[str, str]], *, keep_alive: bool
    ) -> None:
        """Head of a ``Transfer-Encoding: chunked`` response (used for SSE)."""
        self.send(
            self.head(status, [*headers, ("Transfer-Encoding", "chunked")], keep_alive=keep_alive)
        )

    @staticmethod
    def frame_chunk(data: bytes) -> bytes:
        """One HTTP chunk; callers batch many SSE events into one chunk."""
        return b"%x\r\n%b\r\n" % (len(data), data)

    def send_chunk(self, data: bytes) -> None:
        if data:
            self.send(self.frame_chunk(data))

    def end_chunked(self) -> None:
        self.send(b"0\r\n\r\n")

    # ------------------------------------------------------------------ waiting
    def wait(self, timeout: float | None) -> WaitResult:
        """Sleep up to ``timeout`` s (None: forever) while watching the peer.

        Returns early when the client closes/resets the connection or the
        server shuts down. ``poll`` (not ``select``) because load tests push
        descriptor numbers past FD_SETSIZE.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        watch_sock = True
        while True:
            poller = select.poll()
            poller.register(self._wake_fd, select.POLLIN)
            if watch_sock:
                poller.register(self.sock.fileno(), select.POLLIN)
            if deadline is None:
                ms = None
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return WaitResult.TIMEOUT
                ms = max(1, int(remaining * 1000))
            events = poller.poll(ms)
            if not events:
                if deadline is None:
                    continue
                return WaitResult.TIMEOUT
            for fd, mask in events:
                if fd == self._wake_fd:
                    return WaitResult.SHUTDOWN
                if mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    return WaitResult.CLIENT_GONE
                if self._peer_closed():
                    return WaitResult.CLIENT_GONE
                watch_sock = False  # client sent bytes early; stop watching

    def _peer_closed(self) -> bool:
        try:
            data = self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError:
            return True
        return not data

    # ------------------------------------------------------------------ closing
    def reset(self) -> None:
        """Abort with RST: SO_LINGER(on, 0) makes close() discard and reset."""
        if self.closed:
            return
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.close()
