"""Gemini ``GenerateContentResponse`` bodies, whole or as stream chunks.

Each stream chunk is a full response carrying only new text; ``finishReason``
appears only on the last, and ``usageMetadata`` is on every chunk with the
candidate counts filled in only at the end (as the real API does).
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ErrorSpec, gemini_error_object
from ..sse import SseEvent
from ..textplan import TextPlan

FINISH = {
    "stop": "STOP",
    "stop_sequence": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "other": "OTHER",
}


def finish_reason(finish: str) -> str:
    """genkit vocabulary → Gemini enum name; anything else verbatim."""
    return FINISH.get(finish, finish)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def response_id(plan: TextPlan) -> str:
    return f"fakeResp{plan.serial:012d}"


def _usage(plan: TextPlan, final: bool) -> dict[str, Any]:
    if not final:
        return {"promptTokenCount": plan.input_tokens, "totalTokenCount": plan.input_tokens}
    return {
        "promptTokenCount": plan.input_tokens,
        "candidatesTokenCount": plan.output_tokens,
        "totalTokenCount": plan.input_tokens + plan.output_tokens,
    }


def _parts(plan: TextPlan, text: str, *, with_calls: bool) -> list[dict[str, Any]]:
    """A text part (unless empty next to calls), then ``functionCall`` parts."""
    calls = plan.tool_calls if with_calls else ()
    parts: list[dict[str, Any]] = [{"text": text}] if text or not calls else []
    parts += [{"functionCall": {"name": name, "args": json.loads(args)}} for name, args in calls]
    return parts


def _candidate(parts: list[dict[str, Any]], index: int, finish: str | None) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if finish is not None:
        cand["finishReason"] = finish
    cand["index"] = index
    return cand


def render_json(plan: TextPlan) -> dict[str, Any]:
    """Non-streaming ``generateContent`` response.

    Gemini has no tool-call finish reason: a call is a ``functionCall`` part
    with ``finishReason: STOP``, exactly as rendered here.
    """
    reason = finish_reason(plan.finish)
    return {
        "candidates": [
            _candidate(_parts(plan, plan.text(i), with_calls=True), i, reason)
            for i in range(len(plan.choices))
        ],
        "usageMetadata": _usage(plan, final=True),
        "modelVersion": plan.model,
        "responseId": response_id(plan),
    }


def render_stream(plan: TextPlan, body: dict[str, Any] | None, cut: int | None) -> list[SseEvent]:
    """One chunk per text piece (candidates side by side); finish and any
    ``functionCall`` parts ride on the last.

    ``cut`` keeps that many chunks and never sends a ``finishReason``.
    """
    del body
    total = max(1, plan.max_chunks)
    reason = finish_reason(plan.finish)
    tail_obj = {"modelVersion": plan.model, "responseId": response_id(plan)}
    mid_tail = "," + _dumps({"usageMetadata": _usage(plan, final=False), **tail_obj})[1:]
    final_tail = "," + _dumps({"usageMetadata": _usage(plan, final=True), **tail_obj})[1:]
    count = total if cut is None else min(cut, total)
    events: list[SseEvent] = []
    for k in range(count):
        final = cut is None and k == total - 1
        cands = [
            _candidate(
                _parts(plan, pieces[k] if k < len(pieces) else "", with_calls=final),
                i,
                reason if final else None,
            )
            for i, pieces in enumerate(plan.choices)
            if k < len(pieces) or final
        ]
        events.append(
            SseEvent('{"candidates":' + _dumps(cands) + (final_tail if final else mid_tail))
        )
    return events


def stream_error_event(spec: ErrorSpec) -> SseEvent:
    """A chunk whose first key is ``error`` (google-genai raises by ``code``)."""
    return SseEvent(_dumps({"error": gemini_error_object(spec)}))


def malformed_event() -> SseEvent:
    return SseEvent('{"candidates":[{"content":{"parts":[{"text":"bro')
