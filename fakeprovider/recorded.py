"""What the fake provider saw: one immutable record per HTTP request.

Tests assert on these instead of on mocks, so the record keeps both the parsed
view (``body``, ``model``, ``stream``) and the exact bytes (``raw_body``) that
the vendor SDK put on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Protocol = Literal["openai", "anthropic", "gemini"]
"""The three wire protocols the server speaks."""

RecordedProtocol = Literal["openai", "anthropic", "gemini", "unknown"]
"""``"unknown"`` marks requests to paths no protocol serves (answered 404)."""

PROTOCOLS: tuple[Protocol, ...] = ("openai", "anthropic", "gemini")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received, recorded before the reply is sent.

    ``validation_error`` says why the server itself rejected the request
    (missing/invalid API key or an invalid body); it is ``None`` when the
    request was accepted and answered with the scripted or default reply.
    """

    protocol: RecordedProtocol
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any] | None
    raw_body: bytes
    stream: bool
    model: str
    validation_error: str | None = None
    connection_id: int = 0
    received_at: float = field(default=0.0, compare=False)
