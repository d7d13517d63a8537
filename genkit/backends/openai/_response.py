"""Chat Completions answers and stream chunks -> genkit's types (the way in)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import openai

from genkit.backends._toolcalls import OpenCalls, parse_arguments
from genkit.backends.openai._request import PROVIDER
from genkit.errors import InvalidResponseError
from genkit.parts import Part, Text, ToolCall
from genkit.types import (
    Chunk,
    Finish,
    FinishReason,
    Generation,
    Message,
    ReasoningDelta,
    RefusalDelta,
    ResponseMetadata,
    StreamEvent,
    StreamWarning,
    Usage,
    UsageUpdate,
)

__all__ = ["FINISH_REASONS", "StreamState", "events", "generation"]

#: genkit's finish reasons are OpenAI's own words, plus the legacy ``function_call``.
FINISH_REASONS: Mapping[str, FinishReason] = {
    **{reason: reason for reason in ("stop", "length", "content_filter", "tool_calls")},
    "function_call": "tool_calls",
}
#: Where OpenAI-compatible servers (vLLM, DeepSeek, ...) put reasoning text; OpenAI's
#: own Chat Completions returns none (only its token count).
_REASONING_FIELDS = ("reasoning_content", "reasoning")


def _usage(usage: Any) -> Usage:
    details = usage.completion_tokens_details
    reasoning = (details.reasoning_tokens or 0) if details is not None else 0
    return Usage(usage.prompt_tokens, usage.completion_tokens, reasoning)


def _reasoning_text(message: Any) -> str | None:
    extra = message.model_extra or {}
    for name in _REASONING_FIELDS:
        value = extra.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def generation(response: Any, model: str) -> Generation:
    """A whole answer; ``model`` is the one asked for, for a response that names none.

    A choice whose message carries tool calls gets its turn as parts (text first, then
    the calls in order); a refusal (``message.refusal``) makes that choice's finish
    ``content_filter``, the provider's own reason staying in ``raw_finish_reasons``.
    """
    choices = response.choices
    if len(choices) > 1:
        choices = sorted(choices, key=lambda c: c.index)
    usage = response.usage
    warnings: list[str] = []
    finishes: list[FinishReason | None] = []
    for choice in choices:
        reason = FINISH_REASONS.get(choice.finish_reason, "other")
        if choice.message.refusal:
            reason = "content_filter"
        finishes.append(reason)
    # Turns are built only when a choice called tools: a text-only answer needs none.
    messages: list[Message] = []
    if any(choice.message.tool_calls for choice in choices):
        messages = [_turn(c.message, c.finish_reason, warnings) for c in choices]
    first = choices[0].message if choices else None
    return Generation(
        texts=[c.message.content or "" for c in choices],
        finish_reasons=finishes,
        raw_finish_reasons=[c.finish_reason for c in choices],
        usage=_usage(usage) if usage else Usage(),
        model=response.model or model,
        provider=PROVIDER,
        raw=response,
        warnings=warnings,
        # Filled only when some turn holds more than its text (see Generation.messages).
        messages=messages if any(not isinstance(m.content, str) for m in messages) else [],
        reasoning=_reasoning_text(first) if first is not None else None,
        refusal=(first.refusal or None) if first is not None else None,
    )


def _turn(message: Any, finish: str | None, warnings: list[str]) -> Message:
    """One choice's assistant turn: its text alone, or text then tool calls as parts."""
    text = message.content or ""
    if not message.tool_calls:
        return Message("assistant", text)
    parts: list[Part] = [Text(text)] if text else []
    for call in message.tool_calls:
        if call.type != "function":
            # genkit sends function tools only; another kind could not be answered.
            raise InvalidResponseError(
                f"a {call.type!r} tool call, but genkit declared function tools only",
                provider=PROVIDER,
            )
        name, arguments = call.function.name, call.function.arguments
        try:
            parsed = parse_arguments(name, arguments, PROVIDER)
        except InvalidResponseError:
            if finish != "length":
                raise
            # Cut at max_tokens mid-arguments: never reported as a complete call.
            warnings.append(f"tool call {name!r} was cut off at max_tokens and is left out")
            continue
        parts.append(ToolCall(call.id, name, parsed))
    return Message("assistant", tuple(parts) if parts else text)


class StreamState:
    """What decoding one stream remembers between chunks: the calls still open (keyed
    by choice and the call's ``index``, never by name) and the choices that refused."""

    __slots__ = ("calls", "refused")

    def __init__(self) -> None:
        self.calls = OpenCalls(PROVIDER)
        self.refused: set[int] = set()


def events(data: bytes, response: Any, state: StreamState) -> list[StreamEvent]:
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
        index = choice.get("index") or 0
        delta = choice.get("delta")
        if delta:
            text = delta.get("content")
            if text:
                out.append(Chunk(text, index))
            refusal = delta.get("refusal")
            if refusal:
                state.refused.add(index)
                out.append(RefusalDelta(refusal, index))
            for name in _REASONING_FIELDS:
                thought = delta.get(name)
                if thought and isinstance(thought, str):
                    out.append(ReasoningDelta(thought, index))
                    break
            if delta.get("tool_calls"):
                _tool_call_events(index, delta["tool_calls"], state.calls, out)
        reason = choice.get("finish_reason")
        if reason:
            final = True
            _end_calls(state.calls, index, reason, out)
            mapped = (
                "content_filter" if index in state.refused else FINISH_REASONS.get(reason, "other")
            )
            out.append(Finish(mapped, reason, index, chunk))
    usage = chunk.get("usage")
    if usage:
        details = usage.get("completion_tokens_details") or {}
        tokens = Usage(
            usage.get("prompt_tokens") or 0,
            usage.get("completion_tokens") or 0,
            details.get("reasoning_tokens") or 0,
        )
        out.append(UsageUpdate(tokens, chunk))
        final = True
    if final:  # the model rides on the final chunks
        model = chunk.get("model")
        if model:
            out.append(ResponseMetadata(model, chunk))
    return out


def _end_calls(calls: OpenCalls, index: int, reason: str, out: list[StreamEvent]) -> None:
    """End choice ``index``'s open calls; one cut at max_tokens is left out with a warning."""
    while True:
        try:
            calls.end_candidate(index, out)
            return
        except InvalidResponseError as error:
            if reason != "length":
                raise
            # end() has forgotten the broken call: the rest are ended on the next pass.
            out.append(StreamWarning(f"a tool call cut off at max_tokens is left out ({error})"))


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
