"""Chat Completions answers and stream chunks -> genkit's types (the way in)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import openai

from genkit.backends._toolcalls import OpenCalls
from genkit.backends.openai._request import PROVIDER
from genkit.types import (
    Chunk,
    Finish,
    FinishReason,
    Generation,
    ResponseMetadata,
    StreamEvent,
    Usage,
    UsageUpdate,
)

__all__ = ["FINISH_REASONS", "events", "generation"]

FINISH_REASONS: Mapping[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}


def generation(response: Any, model: str) -> Generation:
    """A whole answer; ``model`` is the one asked for, for a response that names none."""
    choices = sorted(response.choices, key=lambda c: c.index)
    usage = response.usage
    return Generation(
        texts=[c.message.content or "" for c in choices],
        finish_reasons=[FINISH_REASONS.get(c.finish_reason, "other") for c in choices],
        raw_finish_reasons=[c.finish_reason for c in choices],
        usage=Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage(),
        model=response.model or model,
        provider=PROVIDER,
        raw=response,
    )


def events(data: bytes, response: Any, calls: OpenCalls) -> list[StreamEvent]:
    """The genkit events in one streamed chunk (a list: cheaper than a generator).

    Text becomes a Chunk handed to the user as it is; the chunks that finish a
    choice or report usage (every stream ends with them) also give the model's
    name, and those chunks (as parsed) become ``stream.result.raw``.
    """
    chunk = json.loads(data)
    if chunk.get("error"):
        # The SDK's own error for it: mapped as usual, and the caller finds the
        # vendor exception as __cause__.
        body = chunk["error"]
        message = body.get("message") if isinstance(body, Mapping) else None
        raise openai.APIError(
            message if isinstance(message, str) else "An error occurred during streaming",
            response.http_request,
            body=body,
        )
    out: list[StreamEvent] = []
    final = False  # a finish or usage chunk (the last ones of a stream)
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta")
        text = delta.get("content") if delta else None
        if text:
            out.append(Chunk(text, choice.get("index") or 0))
        if delta and delta.get("tool_calls"):
            _tool_call_events(choice.get("index") or 0, delta["tool_calls"], calls, out)
        reason = choice.get("finish_reason")
        if reason:
            index = choice.get("index") or 0
            final = True
            calls.end_candidate(index, out)
            out.append(Finish(FINISH_REASONS.get(reason, "other"), reason, index, chunk))
    usage = chunk.get("usage")
    if usage:
        tokens = Usage(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)
        out.append(UsageUpdate(tokens, chunk))
        final = True
    if final:  # the model rides on the final chunks
        model = chunk.get("model")
        if model:
            out.append(ResponseMetadata(model, chunk))
    return out


def _tool_call_events(
    index: int, deltas: list[dict[str, Any]], calls: OpenCalls, out: list[StreamEvent]
) -> None:
    """Tool-call pieces of one choice: keyed by the call's ``index`` (never by name), the
    first piece carries id and name; the choice's finish ends them."""
    for position, piece in enumerate(deltas):
        key = (index, piece.get("index", position))
        function = piece.get("function") or {}
        if key not in calls:
            out.append(calls.start(key, index, piece.get("id"), function.get("name") or ""))
        delta = calls.delta(key, function.get("arguments") or "")
        if delta is not None:
            out.append(delta)
