"""``Reply``: a protocol-neutral description of how to answer one request.

A test scripts *what* should happen ("text 'hi' in three chunks", "429 with
Retry-After: 0", "reset the TCP connection after two events") and the server
renders it in the wire format of whichever protocol receives it, so one script
exercises OpenAI, Anthropic and Gemini code paths alike.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ReplyKind = Literal[
    "text",
    "echo",
    "error",
    "raw",
    "reset_before",
    "reset_during",
    "stall",
    "malformed_json",
    "empty_body",
    "truncated_stream",
    "malformed_sse",
    "stream_error",
    "replay",
]

DEFAULT_ECHO_FALLBACK = "Hello from the fake provider"


def _fault_text(after_chunks: int | None) -> str:
    """Filler text long enough that a fault cut after N chunks leaves more unsent."""
    n = max(8, (after_chunks or 0) + 3)
    return " ".join(f"part{i}" for i in range(n))


def _pairs(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in (headers or {}).items())


@dataclass(frozen=True)
class Reply:
    """How to answer one request; build with the classmethod factories.

    Fields are shared by all kinds; each factory documents the ones it uses.
    (The text lives in ``content`` because ``text`` is the factory's name.)
    ``repeat`` (set with :meth:`times`) makes ``server.script`` enqueue the
    reply that many times.
    """

    kind: ReplyKind
    content: str | None = None
    chunks: tuple[str, ...] | None = None
    finish: str = "stop"
    usage: tuple[int, int] | None = None
    candidates: tuple[str, ...] | None = None
    tool_calls: tuple[tuple[str, str], ...] | None = None
    model: str | None = None
    chunk_delay: float = 0.0
    status: int = 200
    message: str | None = None
    error_type: str | None = None
    retry_after: float | str | None = None
    retry_after_ms: float | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str = "application/json"
    after_chunks: int | None = None
    path: str | None = None
    chunk_size: int = 97
    repeat: int = 1

    # ------------------------------------------------------------------ success
    @classmethod
    def text(
        cls,
        text: str = DEFAULT_ECHO_FALLBACK,
        *,
        chunks: Sequence[str] | None = None,
        finish: str = "stop",
        usage: tuple[int, int] | None = None,
        candidates: Sequence[str] | None = None,
        model: str | None = None,
        chunk_delay: float = 0.0,
        headers: Mapping[str, str] | None = None,
        tool_calls: Sequence[tuple[str, Mapping[str, object]]] | None = None,
    ) -> Reply:
        """A successful text completion (JSON, or SSE when the request streams).

        ``chunks`` fixes the streamed pieces (their concatenation is the text);
        by default the text is split into words with their leading spaces.
        ``finish`` is genkit's vocabulary (stop, length, content_filter,
        tool_calls, other, plus stop_sequence) mapped to each provider's own
        value; any other string is sent verbatim. ``usage`` is
        (input_tokens, output_tokens); by default input is the word count of
        the request's messages and output the number of chunks.
        ``candidates`` gives several choices (OpenAI ``n``, Gemini
        ``candidateCount``); Anthropic only ever gets the first.
        ``chunk_delay`` seconds are waited between streamed events.
        ``tool_calls`` ([(name, args)]) are rendered after the text as OpenAI
        ``tool_calls``, Anthropic ``tool_use`` blocks, Gemini ``functionCall``
        parts; giving them turns the default finish into ``tool_calls``, and
        ``finish="tool_calls"`` alone implies one call ``("fake_tool", {})``,
        because real providers never report that finish without a call.
        """
        calls = None
        if tool_calls is not None:
            calls = tuple((name, json.dumps(dict(args))) for name, args in tool_calls)
            if finish == "stop":
                finish = "tool_calls"
        return cls(
            kind="text",
            content="".join(chunks) if chunks is not None else text,
            chunks=tuple(chunks) if chunks is not None else None,
            finish=finish,
            usage=usage,
            candidates=tuple(candidates) if candidates is not None else None,
            tool_calls=calls,
            model=model,
            chunk_delay=chunk_delay,
            headers=_pairs(headers),
        )

    @classmethod
    def echo(cls, *, prefix: str = "echo: ", chunk_delay: float = 0.0) -> Reply:
        """Text reply built from the request: prefix + the last user message.

        This is the server's default, so un-scripted requests get a sensible
        answer that still proves the prompt reached the server.
        """
        return cls(kind="echo", content=prefix, chunk_delay=chunk_delay)

    # ------------------------------------------------------------------- errors
    @classmethod
    def error(
        cls,
        status: int,
        *,
        message: str | None = None,
        error_type: str | None = None,
        retry_after: float | str | None = None,
        retry_after_ms: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """The provider's real JSON error body for ``status``.

        ``error_type`` overrides the per-status default (OpenAI ``error.type``,
        Anthropic ``error.type``, Gemini ``error.status``). ``retry_after`` is
        sent verbatim as ``Retry-After`` (seconds or an HTTP-date string);
        ``retry_after_ms`` as ``retry-after-ms``.
        """
        return cls(
            kind="error",
            status=status,
            message=message,
            error_type=error_type,
            retry_after=retry_after,
            retry_after_ms=retry_after_ms,
            headers=_pairs(headers),
        )

    @classmethod
    def raw(
        cls,
        status: int,
        body: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        content_type: str = "text/html",
    ) -> Reply:
        """Exact bytes with a status, e.g. the HTML 502 page a proxy sends."""
        return cls(
            kind="raw", status=status, body=body, headers=_pairs(headers), content_type=content_type
        )

    # ------------------------------------------------------------------- faults
    @classmethod
    def reset_before(cls) -> Reply:
        """Read the request, then close the socket with a TCP RST; send nothing."""
        return cls(kind="reset_before")

    @classmethod
    def reset_during(cls, after_chunks: int = 2, *, text: str | None = None) -> Reply:
        """Send headers and part of the body, then RST.

        Streams: the opening events plus ``after_chunks`` content events.
        Non-streaming: the first ``after_chunks`` bytes of the JSON body.
        """
        return cls(
            kind="reset_during",
            after_chunks=after_chunks,
            content=text if text is not None else _fault_text(after_chunks),
        )

    @classmethod
    def stall(cls, after_chunks: int | None = None, *, text: str | None = None) -> Reply:
        """Go silent until the client gives up or the server shuts down.

        ``after_chunks=None`` sends nothing at all (not even headers); an int
        sends headers, the opening events and that many content events first.
        """
        return cls(
            kind="stall",
            after_chunks=after_chunks,
            content=text if text is not None else _fault_text(after_chunks),
        )

    @classmethod
    def malformed_json(cls) -> Reply:
        """200 ``application/json`` whose body is not JSON."""
        return cls(kind="malformed_json")

    @classmethod
    def empty_body(cls) -> Reply:
        """200 ``application/json`` with ``Content-Length: 0``."""
        return cls(kind="empty_body")

    @classmethod
    def truncated_stream(
        cls, after_chunks: int = 2, *, text: str | None = None, chunk_delay: float = 0.0
    ) -> Reply:
        """A stream that ends cleanly but without its terminator.

        No ``[DONE]`` (OpenAI), no ``message_delta``/``message_stop``
        (Anthropic), no ``finishReason`` (Gemini). A non-streaming request gets
        a Content-Length body cut in half and the connection closed.
        """
        return cls(
            kind="truncated_stream",
            after_chunks=after_chunks,
            content=text if text is not None else _fault_text(after_chunks),
            chunk_delay=chunk_delay,
        )

    @classmethod
    def malformed_sse(cls, after_chunks: int = 1, *, text: str | None = None) -> Reply:
        """After ``after_chunks`` content events, a ``data:`` line of broken JSON.

        A non-streaming request gets the same as :meth:`malformed_json`.
        """
        return cls(
            kind="malformed_sse",
            after_chunks=after_chunks,
            content=text if text is not None else _fault_text(after_chunks),
        )

    @classmethod
    def stream_error(
        cls,
        after_chunks: int = 2,
        status: int | None = None,
        message: str = "Overloaded",
        *,
        error_type: str | None = None,
        text: str | None = None,
    ) -> Reply:
        """The provider's own mid-stream error event after some content.

        ``status`` defaults to 529 for Anthropic (``overloaded_error``) and 503
        elsewhere. A non-streaming request gets that status as a normal error.
        """
        return cls(
            kind="stream_error",
            after_chunks=after_chunks,
            status=status or 0,
            message=message,
            error_type=error_type,
            content=text if text is not None else _fault_text(after_chunks),
        )

    @classmethod
    def replay(cls, path: str | Path, chunk_size: int = 97) -> Reply:
        """Serve a recorded ``.sse`` file verbatim in ``chunk_size``-byte writes.

        Odd-sized writes split events, lines and even UTF-8 sequences across
        TCP segments, exercising the client's SSE reassembly.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        return cls(kind="replay", path=str(path), chunk_size=chunk_size)

    # ------------------------------------------------------------------ helpers
    def times(self, n: int) -> Reply:
        """This reply for the next ``n`` requests (expanded by ``server.script``)."""
        if n < 1:
            raise ValueError("times() needs n >= 1")
        return dataclasses.replace(self, repeat=n)

    @property
    def is_fault(self) -> bool:
        """True for replies that break the transport or the wire format."""
        return self.kind not in ("text", "echo", "error", "raw", "replay")
