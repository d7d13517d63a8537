"""Server-sent-event framing, per protocol quirks.

* OpenAI: ``data: <json>\\n\\n`` only, terminator ``data: [DONE]``.
* Anthropic: ``event: <name>\\ndata: <json>\\n\\n`` (events without ``event:``
  are silently dropped by the SDK).
* Gemini: ``data: <json>\\r\\n\\r\\n`` exactly (google-genai rejects ``data:``
  without the space, ``event:`` lines and ``:`` comments); the non-SSE
  ``streamGenerateContent`` variant is a JSON array instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SseEvent:
    """One event; ``event`` is the SSE event name (Anthropic only)."""

    data: str
    event: str | None = None


def frame_event(ev: SseEvent, *, crlf: bool = False) -> bytes:
    """Wire bytes of one event."""
    nl = "\r\n" if crlf else "\n"
    head = f"event: {ev.event}{nl}" if ev.event is not None else ""
    return f"{head}data: {ev.data}{nl}{nl}".encode()


def frame_events(events: Iterable[SseEvent], *, crlf: bool = False) -> list[bytes]:
    return [frame_event(ev, crlf=crlf) for ev in events]


def frame_json_array(events: list[SseEvent], *, closed: bool) -> list[bytes]:
    """Gemini's non-SSE stream: ``[{...}\\r\\n,\\r\\n{...}]`` with no trailing newline.

    ``closed=False`` leaves the array open (a truncated stream).
    """
    out: list[bytes] = []
    for i, ev in enumerate(events):
        prefix = "[" if i == 0 else "\r\n,\r\n"
        out.append((prefix + ev.data).encode())
    if not out:
        out.append(b"[")
    if closed:
        out.append(b"]")
    return out


def coalesce(pieces: Iterable[bytes], limit: int = 64 * 1024) -> list[bytes]:
    """Join small pieces into writes of up to ``limit`` bytes.

    A 5,000-event stream then costs a handful of syscalls instead of 5,000
    tiny TCP segments (TCP_NODELAY is on, so each write would be a packet).
    """
    out: list[bytes] = []
    buf: list[bytes] = []
    size = 0
    for piece in pieces:
        buf.append(piece)
        size += len(piece)
        if size >= limit:
            out.append(b"".join(buf))
            buf, size = [], 0
    if buf:
        out.append(b"".join(buf))
    return out


def cut_stream(
    body: list[tuple[SseEvent, bool]], tail: list[SseEvent], cut: int | None
) -> list[SseEvent]:
    """Whole stream (``cut=None``), or a truncated one for fault replies.

    ``body`` pairs each event with whether it is a content delta (text or
    tool-call arguments). A cut keeps the events before the ``cut+1``-th
    delta and never the ``tail`` (finish, usage, terminator).
    """
    if cut is None:
        return [ev for ev, _ in body] + tail
    out: list[SseEvent] = []
    seen = 0
    for ev, is_delta in body:
        if is_delta:
            if seen == cut:
                break
            seen += 1
        out.append(ev)
    return out


def split_arguments(args: str) -> tuple[str, ...]:
    """A call's JSON arguments as the two halves real providers stream them in.

    Two pieces (each a delta for :func:`cut_stream`) let a fault cut a call *inside*
    its arguments; an argument string too short to split (``{}``) stays whole.
    """
    if len(args) < 2:
        return (args,)
    middle = len(args) // 2
    return (args[:middle], args[middle:])
