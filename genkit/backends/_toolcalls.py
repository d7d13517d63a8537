"""Streamed tool calls: the bookkeeping every hosted backend's stream decoder shares.

A provider streams a call's id and name first, then its arguments as pieces of JSON
text that parse only once complete.  genkit hands each piece on as it comes
(:class:`~genkit.types.ToolCallDelta`) and reports the call as complete
(:class:`~genkit.types.ToolCallEnd`, arguments parsed) only when the provider has
closed it: a stream cut mid-arguments never yields a half call as complete.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from genkit.errors import InvalidResponseError
from genkit.types import StreamEvent, ToolCallDelta, ToolCallEnd, ToolCallStart

__all__ = ["OpenCalls", "call_id", "parse_arguments"]


def call_id() -> str:
    """An id for a call the provider sent without one (Gemini often does)."""
    return f"call_{uuid.uuid4().hex[:24]}"


def parse_arguments(name: str, text: str, provider: str) -> dict[str, Any]:
    """A complete call's arguments; no text at all is a call without arguments."""
    if not text.strip():
        return {}
    try:
        arguments = json.loads(text)
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        raise InvalidResponseError(
            f"the arguments of tool call {name!r} are not a JSON object: {text[:200]!r}",
            provider=provider,
        )
    return arguments


class OpenCalls:
    """The calls of one stream that have started and not yet ended, by a provider key.

    ``key`` is whatever identifies a call on the wire (OpenAI: choice and call index;
    Anthropic: candidate and content block); ``call_index`` numbers the calls of each
    candidate from 0 in the order they started.
    """

    __slots__ = ("_count", "_open", "_provider")

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._open: dict[Any, tuple[int, int, str, str, list[str]]] = {}
        self._count: dict[int, int] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._open

    def start(self, key: Any, index: int, id: str | None, name: str) -> ToolCallStart:
        call_index = self._count.get(index, 0)
        self._count[index] = call_index + 1
        call = id or call_id()
        self._open[key] = (index, call_index, call, name, [])
        return ToolCallStart(call, name, index, call_index)

    def delta(self, key: Any, text: str) -> ToolCallDelta | None:
        call = self._open.get(key)
        if call is None or not text:
            return None
        call[4].append(text)
        return ToolCallDelta(text, call[0], call[1])

    def end(self, key: Any) -> ToolCallEnd | None:
        call = self._open.pop(key, None)
        if call is None:
            return None
        index, call_index, id, name, pieces = call
        arguments = parse_arguments(name, "".join(pieces), self._provider)
        return ToolCallEnd(id, name, arguments, index, call_index)

    def end_candidate(self, index: int, events: list[StreamEvent]) -> None:
        """End every call of candidate ``index`` still open (its finish closes them)."""
        for key in [k for k, call in self._open.items() if call[0] == index]:
            ended = self.end(key)
            if ended is not None:
                events.append(ended)
