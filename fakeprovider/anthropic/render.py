"""Anthropic Messages bodies: ``message`` JSON and the named-event stream.

The SDK's ``messages.stream()`` helper needs ``message_start`` first with
``usage`` in it, ``content_block_start`` before deltas, and ``usage`` in
``message_delta`` (cumulative), so all are always present.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ErrorSpec, anthropic_error_object
from ..sse import SseEvent, cut_stream
from ..textplan import TextPlan

FINISH = {
    "stop": "end_turn",
    "length": "max_tokens",
    "content_filter": "refusal",
    "tool_calls": "tool_use",
    "stop_sequence": "stop_sequence",
    "other": "pause_turn",
}


def stop_reason(finish: str) -> str:
    """genkit vocabulary → Anthropic ``stop_reason``; anything else verbatim."""
    return FINISH.get(finish, finish)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def message_id(plan: TextPlan) -> str:
    return f"msg_fake{plan.serial:016d}"


def _usage(plan: TextPlan, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": plan.input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _tool_id(plan: TextPlan, index: int) -> str:
    return f"toolu_fake{plan.serial:012d}{index}"


def _has_text_block(plan: TextPlan) -> bool:
    return bool(plan.text(0)) or not plan.tool_calls


def render_json(plan: TextPlan) -> dict[str, Any]:
    """Non-streaming ``message``: a text block, then any ``tool_use`` blocks."""
    text = plan.text(0)
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content += [
        {"type": "tool_use", "id": _tool_id(plan, j), "name": name, "input": json.loads(args)}
        for j, (name, args) in enumerate(plan.tool_calls)
    ]
    return {
        "id": message_id(plan),
        "type": "message",
        "role": "assistant",
        "model": plan.model,
        "content": content,
        "stop_reason": stop_reason(plan.finish),
        "stop_sequence": plan.stop_sequence,
        "usage": _usage(plan, plan.output_tokens),
    }


def _event(name: str, payload: dict[str, Any]) -> SseEvent:
    return SseEvent(_dumps({"type": name, **payload}), event=name)


def render_stream(plan: TextPlan, body: dict[str, Any] | None, cut: int | None) -> list[SseEvent]:
    """message_start, then per block start/(ping)/deltas/stop, message_delta, message_stop.

    ``cut`` keeps that many deltas (text or tool-input) and drops
    message_delta and message_stop.
    """
    del body  # same shape whatever was asked
    start_message: dict[str, Any] = {
        "id": message_id(plan),
        "type": "message",
        "role": "assistant",
        "model": plan.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _usage(plan, 1),
    }
    events: list[tuple[SseEvent, bool]] = [
        (_event("message_start", {"message": start_message}), False)
    ]
    index = 0
    if _has_text_block(plan):
        text_block = {"type": "text", "text": ""}
        events.append(
            (_event("content_block_start", {"index": 0, "content_block": text_block}), False)
        )
        events += [
            (
                SseEvent(
                    '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":'
                    + _dumps(piece)
                    + "}}",
                    event="content_block_delta",
                ),
                True,
            )
            for piece in plan.choices[0]
        ]
        events.append((_event("content_block_stop", {"index": 0}), False))
        index = 1
    for j, (name, _args) in enumerate(plan.tool_calls):
        tool_block = {"type": "tool_use", "id": _tool_id(plan, j), "name": name, "input": {}}
        events.append(
            (_event("content_block_start", {"index": index, "content_block": tool_block}), False)
        )
        for partial in ("", *plan.arguments_streamed(j)):
            json_delta = {"type": "input_json_delta", "partial_json": partial}
            payload = {"index": index, "delta": json_delta}
            events.append((_event("content_block_delta", payload), bool(partial)))
        events.append((_event("content_block_stop", {"index": index}), False))
        index += 1
    # Like the real API: a ping right after the first content_block_start.
    events.insert(2, (SseEvent('{"type": "ping"}', event="ping"), False))
    usage = _usage(plan, plan.output_tokens)
    del usage["service_tier"]
    delta = {"stop_reason": stop_reason(plan.finish), "stop_sequence": plan.stop_sequence}
    closing = [
        _event("message_delta", {"delta": delta, "usage": usage}),
        _event("message_stop", {}),
    ]
    return cut_stream(events, closing, cut)


def stream_error_event(spec: ErrorSpec) -> SseEvent:
    """``event: error`` (SDK raises APIStatusError with status 200)."""
    error = {"details": None, **anthropic_error_object(spec)}
    return SseEvent(_dumps({"type": "error", "error": error}), event="error")


def malformed_event() -> SseEvent:
    return SseEvent(
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_del',
        event="content_block_delta",
    )
