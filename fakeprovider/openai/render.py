"""OpenAI Chat Completions bodies: ``chat.completion`` JSON and chunk streams.

Details the SDK's ``.stream()`` helper depends on: the finish chunk carries
``"delta": {}``, and the usage chunk (sent only when the request set
``stream_options.include_usage``) has ``"choices": []``.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ErrorSpec, openai_error_object
from ..sse import SseEvent, cut_stream
from ..textplan import TextPlan

FINISH = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
}


def finish_reason(finish: str) -> str:
    """genkit vocabulary → OpenAI; anything else (incl. "other") verbatim."""
    return FINISH.get(finish, finish)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _usage(plan: TextPlan) -> dict[str, Any]:
    return {
        "prompt_tokens": plan.input_tokens,
        "completion_tokens": plan.output_tokens,
        "total_tokens": plan.input_tokens + plan.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion_id(plan: TextPlan) -> str:
    return f"chatcmpl-fake{plan.serial:010d}"


def _call_id(plan: TextPlan, choice: int, call: int) -> str:
    return f"call_fake{plan.serial:08d}{choice}{call}"


def _message(plan: TextPlan, i: int) -> dict[str, Any]:
    text = plan.text(i)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text if text or not plan.tool_calls else None,
        "refusal": None,
        "annotations": [],
    }
    if plan.tool_calls:
        message["tool_calls"] = [
            {
                "id": _call_id(plan, i, j),
                "type": "function",
                "function": {"name": name, "arguments": args},
            }
            for j, (name, args) in enumerate(plan.tool_calls)
        ]
    return message


def render_json(plan: TextPlan) -> dict[str, Any]:
    """Non-streaming ``chat.completion``."""
    return {
        "id": completion_id(plan),
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": [
            {
                "index": i,
                "message": _message(plan, i),
                "logprobs": None,
                "finish_reason": finish_reason(plan.finish),
            }
            for i in range(len(plan.choices))
        ],
        "usage": _usage(plan),
        "service_tier": "default",
        "system_fingerprint": "fp_fakeprovider",
    }


def wants_usage(body: dict[str, Any] | None) -> bool:
    options = (body or {}).get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def render_stream(plan: TextPlan, body: dict[str, Any] | None, cut: int | None) -> list[SseEvent]:
    """Role chunk(s), content chunks (n>1 interleaved), tool-call chunks,
    finish chunk(s), usage chunk (if ``include_usage``), ``[DONE]``.

    ``cut`` keeps that many content/tool-argument chunks and drops everything
    after them (finish, usage, ``[DONE]``).
    """
    include_usage = wants_usage(body)
    base: dict[str, Any] = {
        "id": completion_id(plan),
        "object": "chat.completion.chunk",
        "created": plan.created,
        "model": plan.model,
        "service_tier": "default",
        "system_fingerprint": "fp_fakeprovider",
    }
    if include_usage:
        base["usage"] = None
    # Hot path for long streams: splice choice JSON into a fixed envelope.
    envelope = _dumps({**base, "choices": ["@@"]})
    head, tail = envelope.split('"@@"')

    def chunk(choice: dict[str, Any]) -> SseEvent:
        return SseEvent(head + _dumps(choice) + tail)

    def delta(index: int, payload: dict[str, Any]) -> SseEvent:
        return chunk({"index": index, "delta": payload, "logprobs": None, "finish_reason": None})

    events: list[tuple[SseEvent, bool]] = [
        (delta(i, {"role": "assistant", "content": "", "refusal": None}), False)
        for i in range(len(plan.choices))
    ]
    for k in range(plan.max_chunks):
        for i, pieces in enumerate(plan.choices):
            if k < len(pieces):
                text = (
                    f'{head}{{"index":{i},"delta":{{"content":{_dumps(pieces[k])}}},'
                    f'"logprobs":null,"finish_reason":null}}{tail}'
                )
                events.append((SseEvent(text), True))
    for i in range(len(plan.choices)):
        for j, (name, _args) in enumerate(plan.tool_calls):
            opening = {
                "index": j,
                "id": _call_id(plan, i, j),
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            events.append((delta(i, {"tool_calls": [opening]}), False))
            for piece in plan.arguments_streamed(j):
                argument = {"index": j, "function": {"arguments": piece}}
                events.append((delta(i, {"tool_calls": [argument]}), True))
    reason = finish_reason(plan.finish)
    closing = [
        chunk({"index": i, "delta": {}, "logprobs": None, "finish_reason": reason})
        for i in range(len(plan.choices))
    ]
    if include_usage:
        closing.append(SseEvent(_dumps({**base, "choices": [], "usage": _usage(plan)})))
    closing.append(SseEvent("[DONE]"))
    return cut_stream(events, closing, cut)


def stream_error_event(spec: ErrorSpec) -> SseEvent:
    """Mid-stream error: a chunk with a top-level ``error`` (SDK raises APIError)."""
    return SseEvent(_dumps({"error": openai_error_object(spec)}))


def malformed_event() -> SseEvent:
    return SseEvent('{"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"ind')
