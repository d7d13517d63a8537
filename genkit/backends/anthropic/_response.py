"""Messages API answers and stream events -> genkit's types (the way in).

An answer's content blocks become the assistant turn (``Generation.messages``) in
order: ``text`` -> Text, ``tool_use`` -> ToolCall (its ``toolu_`` id), and every other
block (``thinking`` and ``redacted_thinking`` with their signatures, server tool
blocks) -> ``ProviderPart("anthropic", <the block as a dict>)``, sent back verbatim on
the next turn.  Thinking text is ``Generation.reasoning``; ``stop_reason: "refusal"``
is finish ``content_filter`` with ``stop_details.explanation`` (or its category where
it gives none) as ``Generation.refusal``.  Streams: ``thinking_delta`` ->
ReasoningDelta, a provider block -> ProviderData at its ``content_block_stop`` (once
its signature arrived), tool calls keyed by (candidate, content block).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anthropic

from genkit.backends._toolcalls import OpenCalls
from genkit.backends.anthropic._request import PROVIDER
from genkit.parts import Part, ProviderPart, Text, ToolCall
from genkit.types import (
    Chunk,
    Finish,
    Generation,
    Message,
    ProviderData,
    ReasoningDelta,
    RefusalDelta,
    ResponseMetadata,
    Usage,
    UsageUpdate,
)

if TYPE_CHECKING:  # annotations only
    from genkit.types import FinishReason, StreamEvent

__all__ = ["FINISH_REASONS", "StreamMerger", "events", "generation"]

#: Anthropic ``stop_reason`` -> genkit finish reason; anything else is "other".
FINISH_REASONS: Mapping[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def generation(messages: Sequence[anthropic.types.Message], model: str) -> Generation:
    """The answers of the ``n`` requests as one Generation; usage is their sum."""
    if len(messages) == 1:
        return _one(messages[0], model)
    each = [_one(m, model) for m in messages]
    first = each[0]
    return Generation(
        texts=[g.text for g in each],
        finish_reasons=[g.finish_reasons[0] for g in each],
        raw_finish_reasons=[g.raw_finish_reasons[0] for g in each],
        usage=sum((g.usage for g in each), Usage()),
        model=first.model,
        provider=PROVIDER,
        raw=list(messages),
        # Kept when one turn holds more than text: what the next turn must send back.
        messages=[g.message for g in each] if any(g.messages for g in each) else [],
        reasoning=first.reasoning,
        refusal=first.refusal,
    )


def _one(message: anthropic.types.Message, model: str) -> Generation:
    """One answer (every call but ``n`` > 1)."""
    content = message.content
    texts = [block.text for block in content if block.type == "text"]
    # Text only (nearly every answer): no parts to build, nothing to send back.
    turn, reasoning = ([], None) if len(texts) == len(content) else _turn(content)
    stop_reason = message.stop_reason
    return Generation(
        texts=["".join(texts)],
        # Kept when the turn holds more than text: what the next turn must send back.
        messages=turn,
        reasoning=reasoning,
        refusal=_refusal(message.stop_details) if stop_reason == "refusal" else None,
        finish_reasons=[_finish(stop_reason)],
        raw_finish_reasons=[stop_reason],
        usage=_usage(message.usage),
        model=message.model or model,
        provider=PROVIDER,
        raw=message,
    )


def _turn(content: Sequence[Any]) -> tuple[list[Message], str | None]:
    """An answer with more than text: the assistant turn the next request must send back
    (tool calls, thinking blocks with their signatures), and the thinking text."""
    thinking: list[str] = []
    parts: list[Part] = []
    for block in content:
        if block.type == "text":
            if block.text:
                parts.append(Text(block.text))
        elif block.type == "tool_use":
            parts.append(ToolCall(block.id, block.name, dict(block.input or {})))
        else:
            if block.type == "thinking" and block.thinking:
                thinking.append(block.thinking)
            parts.append(ProviderPart(PROVIDER, block.to_dict(mode="json")))
    return [Message("assistant", tuple(parts))], "".join(thinking) if thinking else None


def _usage(usage: anthropic.types.Usage) -> Usage:
    details = usage.output_tokens_details
    thinking = getattr(details, "thinking_tokens", None) if details is not None else None
    return Usage(usage.input_tokens, usage.output_tokens, thinking or 0)


def _refusal(details: Any) -> str | None:
    """The refusal's explanation (its category where none is given) for a refused turn."""
    if isinstance(details, Mapping):
        explanation, category = details.get("explanation"), details.get("category")
    else:
        explanation = getattr(details, "explanation", None)
        category = getattr(details, "category", None)
    if explanation:
        return str(explanation)
    return f"refused ({category})" if category else None


def events(merger: StreamMerger, index: int, data: bytes, response: Any) -> list[StreamEvent]:
    """The genkit events in one streamed event of candidate ``index``."""
    event = json.loads(data)
    kind = event["type"]
    # Text deltas are nearly every event: handled here, without a dispatch.
    if kind == "content_block_delta":
        delta = event["delta"]
        text = delta.get("text")
        if text and delta.get("type") == "text_delta":
            return [Chunk(text, index)]
        kind = delta.get("type")
        if kind == "thinking_delta":
            thinking = delta.get("thinking")
            if not thinking:
                return []
            merger.grow((index, event.get("index")), "thinking", thinking)
            return [ReasoningDelta(thinking, index)]
        if kind == "signature_delta":
            merger.grow((index, event.get("index")), "signature", delta.get("signature") or "")
            return []
        if kind == "input_json_delta":
            piece = merger.calls.delta((index, event.get("index")), delta.get("partial_json"))
            return [piece] if piece is not None else []
        return []
    if kind == "error":
        # The SDK's own error for it, so the usual mapping (by the error's type)
        # applies and the caller finds the vendor exception as __cause__.
        message = f"{event}"
        raise anthropic.APIStatusError(message, response=response.http_response, body=event)
    return merger.event(index, event)


def _finish(stop_reason: str | None) -> FinishReason:
    return FINISH_REASONS.get(stop_reason or "", "other")


class StreamMerger:
    """Turns the raw stream events of ``n`` emulated candidates into genkit events.

    Usage is reported as the running total over every candidate, because genkit's
    stream keeps the last usage it sees.  ``message_start`` and ``message_delta`` (as
    parsed; ``message_stop`` too when it is what ends a candidate) become
    ``stream.result.raw``.
    """

    __slots__ = ("_blocks", "_finished", "_usage", "calls")

    def __init__(self, n: int) -> None:
        self._usage = [Usage()] * n
        self._finished = [False] * n
        # Client tool calls by (candidate, content block); the ``input: {}`` of a
        # ``tool_use`` block start is a placeholder, never the arguments.
        self.calls = OpenCalls(PROVIDER)
        # Provider blocks (thinking, redacted_thinking, ...) being streamed, by
        # (candidate, content block): handed on whole, signature and all, at their stop.
        self._blocks: dict[tuple[int, Any], dict[str, Any]] = {}

    def grow(self, key: tuple[int, Any], name: str, piece: str) -> None:
        """Append a streamed piece to field ``name`` of an open provider block."""
        block = self._blocks.get(key)
        if block is not None:
            block[name] = (block.get(name) or "") + piece

    def event(self, index: int, event: dict[str, Any]) -> list[StreamEvent]:
        """The genkit events for a stream event other than a content delta."""
        handler = _HANDLERS.get(event["type"])
        return handler(self, index, event) if handler is not None else []

    def _total(self) -> Usage:
        return sum(self._usage, Usage())

    def _message_start(self, index: int, event: dict[str, Any]) -> list[StreamEvent]:
        message = event["message"]
        usage = message.get("usage") or {}
        self._usage[index] = Usage(
            usage.get("input_tokens") or 0, usage.get("output_tokens") or 0, _thinking_tokens(usage)
        )
        model = message.get("model")
        out: list[StreamEvent] = [UsageUpdate(self._total(), event)]
        if model:
            out.append(ResponseMetadata(model, event))
        return out

    def _block_start(self, index: int, event: dict[str, Any]) -> list[StreamEvent]:
        block = event["content_block"]
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            return [Chunk(block["text"], index)]
        key = (index, event.get("index"))
        if kind == "tool_use":
            return [self.calls.start(key, index, block.get("id"), block.get("name") or "")]
        if kind != "text":
            self._blocks[key] = dict(block)
            thinking = block.get("thinking") if kind == "thinking" else None
            if thinking:
                return [ReasoningDelta(thinking, index)]
        return []

    def _block_stop(self, index: int, event: dict[str, Any]) -> list[StreamEvent]:
        key = (index, event.get("index"))
        block = self._blocks.pop(key, None)
        if block is not None:
            return [ProviderData(ProviderPart(PROVIDER, block), index)]
        ended = self.calls.end(key)
        return [ended] if ended is not None else []

    def _message_delta(self, index: int, event: dict[str, Any]) -> list[StreamEvent]:
        # Counts in message_delta are cumulative; input_tokens is optional there.
        usage = event.get("usage") or {}
        before = self._usage[index]
        inputs = usage.get("input_tokens")
        outputs = usage.get("output_tokens")
        self._usage[index] = Usage(
            before.input_tokens if inputs is None else inputs,
            before.output_tokens if outputs is None else outputs,
            _thinking_tokens(usage) or before.reasoning_tokens,
        )
        out: list[StreamEvent] = [UsageUpdate(self._total(), event)]
        delta = event.get("delta") or {}
        reason = delta.get("stop_reason")
        refusal = _refusal(delta.get("stop_details")) if reason == "refusal" else None
        if refusal is not None:
            out.append(RefusalDelta(refusal, index))
        if reason is not None:
            self._finished[index] = True
            out.append(Finish(_finish(reason), reason, index, event))
        return out

    def _message_stop(self, index: int, event: dict[str, Any]) -> list[StreamEvent]:
        # The provider said it is done; a missing stop_reason is still a finished answer.
        if self._finished[index]:
            return []
        self._finished[index] = True
        return [Finish("other", None, index, event)]


def _thinking_tokens(usage: Mapping[str, Any]) -> int:
    details = usage.get("output_tokens_details") or {}
    return int(details.get("thinking_tokens") or 0)


_HANDLERS: Mapping[str, Callable[[StreamMerger, int, dict[str, Any]], list[StreamEvent]]] = {
    "message_start": StreamMerger._message_start,
    "content_block_start": StreamMerger._block_start,
    "content_block_stop": StreamMerger._block_stop,
    "message_delta": StreamMerger._message_delta,
    "message_stop": StreamMerger._message_stop,
}
