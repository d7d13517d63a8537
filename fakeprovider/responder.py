"""Execute one ``Reply`` for one request on one connection.

All protocol knowledge lives in the renderers; this module only decides the
transport choreography: JSON vs. chunked SSE, where to cut, when to RST, how
to stall without blocking shutdown.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from typing import Protocol as TypingProtocol

from .anthropic import render as render_anthropic
from .errors import (
    ErrorSpec,
    gemini_retry_info,
    render_error,
    request_id_headers,
    retry_after_value,
)
from .gemini import render as render_gemini
from .httpwire import ClientGoneError, HttpConnection, WaitResult
from .images import EDIT_PATHS, ImagesRenderer, add_gemini_images, wants_gemini_image
from .openai import render as render_openai
from .recorded import Protocol
from .reply import Reply
from .sse import SseEvent, coalesce, frame_events, frame_json_array
from .textplan import TextPlan, build_plan


class ServerStoppingError(Exception):
    """The server is shutting down; drop the connection quietly."""


class _Renderer(TypingProtocol):
    def render_json(self, plan: TextPlan) -> dict[str, Any]: ...

    def render_stream(
        self, plan: TextPlan, body: dict[str, Any] | None, cut: int | None
    ) -> list[SseEvent]: ...

    def stream_error_event(self, spec: ErrorSpec) -> SseEvent: ...

    def malformed_event(self) -> SseEvent: ...


RENDERERS: dict[Protocol, _Renderer] = {
    "openai": render_openai,
    "anthropic": render_anthropic,
    "gemini": render_gemini,
}

_JSON_TYPES: dict[Protocol, str] = {
    "openai": "application/json",
    "anthropic": "application/json",
    "gemini": "application/json; charset=UTF-8",
}
_SSE_TYPES: dict[Protocol, str] = {
    "openai": "text/event-stream; charset=utf-8",
    "anthropic": "text/event-stream; charset=utf-8",
    "gemini": "text/event-stream",
}
_MALFORMED_JSON = b'{"id": "broken", "choices": [{"index": 0, "message": {"content": "Hel'


@lru_cache(maxsize=64)
def _read_recording(path: str) -> bytes:
    return Path(path).read_bytes()


@dataclass(frozen=True)
class Exchange:
    """The request facts a reply needs."""

    protocol: Protocol
    body: dict[str, Any] | None
    model: str
    stream: bool
    gemini_sse: bool
    keep_alive: bool
    request_id: str
    endpoint: str = "chat"
    path: str = ""

    @property
    def json_array_stream(self) -> bool:
        """Gemini ``streamGenerateContent`` without ``alt=sse`` (legacy SDK)."""
        return self.protocol == "gemini" and self.stream and not self.gemini_sse


class Responder:
    """Writes one reply; :meth:`run` says whether the connection may be reused."""

    def __init__(
        self, conn: HttpConnection, ex: Exchange, on_disconnect: Callable[[], None]
    ) -> None:
        self.conn = conn
        self.ex = ex
        self._on_disconnect = on_disconnect
        self.renderer: _Renderer = RENDERERS[ex.protocol]
        if ex.endpoint == "images":
            self.renderer = ImagesRenderer(ex.body, edit=ex.path in EDIT_PATHS)

    # ----------------------------------------------------------------- driver
    def run(self, reply: Reply) -> bool:
        try:
            return self._dispatch(reply)
        except ClientGoneError:
            self._on_disconnect()
            return False
        except ServerStoppingError:
            return False

    def run_error(self, spec: ErrorSpec) -> bool:
        """Answer with the server's own rejection (auth or validation)."""
        try:
            return self.send_error(spec)
        except ClientGoneError:
            self._on_disconnect()
            return False

    def _dispatch(self, reply: Reply) -> bool:
        kind = reply.kind
        if kind in ("text", "echo"):
            return self._text(reply)
        if kind == "error":
            return self.send_error(self._error_spec(reply), reply)
        if kind == "raw":
            headers = [("Content-Type", reply.content_type), *reply.headers]
            self.conn.send_response(
                reply.status, headers, reply.body, keep_alive=self.ex.keep_alive
            )
            return self.ex.keep_alive
        if kind == "reset_before":
            self.conn.reset()
            return False
        if kind == "replay":
            return self._replay(reply)
        if kind == "malformed_json" or (kind == "malformed_sse" and not self.ex.stream):
            self._json_bytes(_MALFORMED_JSON)
            return self.ex.keep_alive
        if kind == "empty_body":
            self._json_bytes(b"")
            return self.ex.keep_alive
        if kind == "stream_error" and not self.ex.stream:
            return self.send_error(self._stream_error_spec(reply), reply)
        return self._fault(reply)

    # ------------------------------------------------------------------ pieces
    def _base_headers(self) -> list[tuple[str, str]]:
        return request_id_headers(self.ex.protocol, self.ex.request_id)

    def _json_bytes(
        self, body: bytes, status: int = 200, extra: tuple[tuple[str, str], ...] = ()
    ) -> None:
        headers = [("Content-Type", _JSON_TYPES[self.ex.protocol]), *self._base_headers(), *extra]
        self.conn.send_response(status, headers, body, keep_alive=self.ex.keep_alive)

    def _plan(self, reply: Reply) -> TextPlan:
        return build_plan(reply, self.ex.protocol, self.ex.body, self.ex.model)

    def _text(self, reply: Reply) -> bool:
        plan = self._plan(reply)
        if not self.ex.stream:
            doc = self.renderer.render_json(plan)
            if self.ex.protocol == "gemini" and wants_gemini_image(self.ex.body):
                doc = add_gemini_images(doc)
            body = json.dumps(doc, separators=(",", ":"))
            self._json_bytes(body.encode(), extra=reply.headers)
            return self.ex.keep_alive
        events = self.renderer.render_stream(plan, self.ex.body, None)
        self._start_stream(reply.headers)
        self._send_events(self._frame(events, complete=True), reply.chunk_delay)
        self.conn.end_chunked()
        return self.ex.keep_alive

    def _frame(self, events: list[SseEvent], *, complete: bool) -> list[bytes]:
        if self.ex.json_array_stream:
            return frame_json_array(events, closed=complete)
        return frame_events(events, crlf=self.ex.protocol == "gemini")

    def _start_stream(self, extra: tuple[tuple[str, str], ...] = ()) -> None:
        ctype = _JSON_TYPES["gemini"] if self.ex.json_array_stream else _SSE_TYPES[self.ex.protocol]
        headers = [("Content-Type", ctype), ("Cache-Control", "no-cache"), *self._base_headers()]
        self.conn.start_chunked(200, [*headers, *extra], keep_alive=self.ex.keep_alive)

    def _pause(self, seconds: float) -> None:
        result = self.conn.wait(seconds)
        if result is WaitResult.CLIENT_GONE:
            raise ClientGoneError("client closed during chunk delay")
        if result is WaitResult.SHUTDOWN:
            raise ServerStoppingError

    def _send_events(self, pieces: list[bytes], delay: float) -> None:
        if delay <= 0:
            for block in coalesce(pieces):
                self.conn.send_chunk(block)
            return
        for i, piece in enumerate(pieces):
            if i:
                self._pause(delay)
            self.conn.send_chunk(piece)

    # ------------------------------------------------------------------ errors
    def _error_spec(self, reply: Reply) -> ErrorSpec:
        details: tuple[dict[str, Any], ...] = ()
        if (
            self.ex.protocol == "gemini"
            and reply.status == 429
            and isinstance(reply.retry_after, int | float)
        ):
            details = (gemini_retry_info(reply.retry_after),)
        return ErrorSpec(reply.status, reply.message, reply.error_type, details=details)

    def _stream_error_spec(self, reply: Reply) -> ErrorSpec:
        status = reply.status or (529 if self.ex.protocol == "anthropic" else 503)
        return ErrorSpec(status, reply.message, reply.error_type)

    def send_error(self, spec: ErrorSpec, reply: Reply | None = None) -> bool:
        """Pre-stream error response with the provider's body and headers."""
        body, ctype = render_error(self.ex.protocol, spec, self.ex.request_id)
        if self.ex.json_array_stream:
            body = b"[" + body.rstrip() + b"]"
        headers = [("Content-Type", ctype), *self._base_headers()]
        if reply is not None:
            if reply.retry_after is not None:
                headers.append(("Retry-After", retry_after_value(reply.retry_after)))
            if reply.retry_after_ms is not None:
                headers.append(("retry-after-ms", retry_after_value(reply.retry_after_ms)))
            headers.extend(reply.headers)
        headers.extend(spec.headers)
        self.conn.send_response(spec.status, headers, body, keep_alive=self.ex.keep_alive)
        return self.ex.keep_alive

    # ------------------------------------------------------------------ faults
    def _fault(self, reply: Reply) -> bool:
        """reset_during, stall, truncated_stream, malformed_sse, stream_error."""
        kind = reply.kind
        if kind == "stall" and reply.after_chunks is None:
            return self._hold()
        plan = self._plan(reply)
        cut = reply.after_chunks or 0
        if not self.ex.stream:
            return self._json_fault(kind, plan, cut)
        events = self.renderer.render_stream(plan, self.ex.body, cut)
        if kind == "malformed_sse":
            events.append(self.renderer.malformed_event())
        elif kind == "stream_error":
            events.append(self.renderer.stream_error_event(self._stream_error_spec(reply)))
        complete = kind == "stream_error" and self.ex.json_array_stream
        self._start_stream()
        self._send_events(self._frame(events, complete=complete), reply.chunk_delay)
        if kind == "reset_during":
            self.conn.reset()
            return False
        if kind == "stall":
            return self._hold()
        self.conn.end_chunked()  # truncated_stream / malformed_sse / stream_error end cleanly
        return self.ex.keep_alive

    def _json_fault(self, kind: str, plan: TextPlan, cut: int) -> bool:
        body = json.dumps(self.renderer.render_json(plan), separators=(",", ":")).encode()
        if kind == "truncated_stream":
            cut = len(body) // 2
        headers = [("Content-Type", _JSON_TYPES[self.ex.protocol]), *self._base_headers()]
        self.conn.send_response(
            200, headers, body[:cut], keep_alive=False, declared_length=len(body)
        )
        if kind == "reset_during":
            self.conn.reset()
        elif kind == "stall":
            return self._hold()
        return False

    def _hold(self) -> bool:
        """Stay silent until the client leaves (a disconnect) or the server stops."""
        result = self.conn.wait(None)
        if result is WaitResult.CLIENT_GONE:
            raise ClientGoneError("client gave up on a stalled response")
        return False

    def _replay(self, reply: Reply) -> bool:
        assert reply.path is not None
        data = _read_recording(reply.path)
        self._start_stream(reply.headers)
        size = reply.chunk_size
        for start in range(0, len(data), size):
            self.conn.send_chunk(data[start : start + size])
        self.conn.end_chunked()
        return self.ex.keep_alive
