"""``generateContent`` answers and stream events -> genkit's types (the way in).

Output usage counts thinking tokens too (``thoughts_token_count``), as OpenAI's
``completion_tokens`` counts reasoning tokens: both are billed as output.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import httpx2
from google.genai import errors as genai_errors
from google.genai import models as genai_models
from google.genai import types

from genkit.backends._toolcalls import OpenCalls, call_id
from genkit.backends.gemini._request import PROVIDER, SIGNATURE, THOUGHT
from genkit.errors import InvalidResponseError
from genkit.types import (
    Chunk,
    Finish,
    FinishReason,
    Generation,
    Message,
    Part,
    ProviderData,
    ProviderPart,
    ReasoningDelta,
    ResponseMetadata,
    StreamEvent,
    Text,
    ToolCall,
    Usage,
    UsageUpdate,
)

__all__ = ["FINISH_REASONS", "StreamState", "generation", "response_usage"]

_CONTENT_FILTER: FinishReason = "content_filter"

#: Gemini ``finishReason`` -> genkit finish reason; anything else is "other".
#: A model that called a function ends with ``STOP``; genkit reports that as
#: "tool_calls" (see :func:`_finish`).  A *malformed* or unexpected call is "other":
#: there is no call for the caller to run.
FINISH_REASONS: Mapping[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    # Seen only with automatic_continuation=False: the per-request token limit.
    "CONTINUATION": "length",
    "SAFETY": _CONTENT_FILTER,
    "RECITATION": _CONTENT_FILTER,
    "BLOCKLIST": _CONTENT_FILTER,
    "PROHIBITED_CONTENT": _CONTENT_FILTER,
    "SPII": _CONTENT_FILTER,
    "IMAGE_SAFETY": _CONTENT_FILTER,
    "IMAGE_PROHIBITED_CONTENT": _CONTENT_FILTER,
    "IMAGE_RECITATION": _CONTENT_FILTER,
    "MODEL_ARMOR": _CONTENT_FILTER,
    "ESCALATION": _CONTENT_FILTER,
    "PUP_LIMITED_DISABLED": _CONTENT_FILTER,
}


def generation(response: types.GenerateContentResponse, n: int, model: str) -> Generation:
    """A whole answer of ``n`` candidates; ``model`` is the one asked for."""
    candidates = sorted(response.candidates or [], key=_index)
    reasoning: str | None = None
    messages: list[Message] = []
    if candidates:
        turns = [_turn(c) for c in candidates]
        texts = [turn.text for turn in turns]
        reasons = [
            _finish(c.finish_reason, turn.called) for c, turn in zip(candidates, turns, strict=True)
        ]
        raw_reasons = [_raw(c.finish_reason) for c in candidates]
        reasoning = turns[0].reasoning
        if any(turn.more_than_text for turn in turns):
            messages = [turn.message() for turn in turns]
    elif _blocked(response):
        # The prompt itself was refused: no candidate, only promptFeedback.
        texts, reasons = [""] * n, [_CONTENT_FILTER] * n
        raw_reasons = [_block_reason(response)] * n
    else:
        raise InvalidResponseError("response has no candidates", provider=PROVIDER)
    return Generation(
        texts=texts,
        finish_reasons=list(reasons),
        raw_finish_reasons=raw_reasons,
        usage=response_usage(response.usage_metadata),
        model=response.model_version or model,
        provider=PROVIDER,
        raw=response,
        messages=messages,
        reasoning=reasoning,
    )


def _index(candidate: types.Candidate) -> int:
    return candidate.index or 0


def _finish(reason: types.FinishReason | None, called_function: bool) -> FinishReason:
    return _finish_name(reason.value if reason is not None else "", called_function)


class _Turn:
    """One candidate's parts read in one pass: answer text, thoughts, calls, signatures."""

    __slots__ = ("called", "more_than_text", "parts", "reasoning", "text")

    def __init__(self, candidate: types.Candidate) -> None:
        self.parts: list[Part] = []
        self.called = False
        self.more_than_text = False
        texts: list[str] = []
        thoughts: list[str] = []
        content = candidate.content
        for part in (content.parts or ()) if content is not None else ():
            signature = part.thought_signature
            if part.thought:
                if part.text:
                    thoughts.append(part.text)
                if signature is not None:
                    self._provider({SIGNATURE: signature, THOUGHT: part.text or ""})
                continue
            if signature is not None:
                self._provider({SIGNATURE: signature})
            call = part.function_call
            if call is not None:
                self.called = self.more_than_text = True
                self.parts.append(ToolCall(call.id or call_id(), call.name or "", call.args or {}))
            elif part.text:
                texts.append(part.text)
                self.parts.append(Text(part.text))
        self.text = "".join(texts)
        self.reasoning = "".join(thoughts) if thoughts else None

    def _provider(self, data: dict[str, Any]) -> None:
        self.more_than_text = True
        self.parts.append(ProviderPart(PROVIDER, data))

    def message(self) -> Message:
        return Message("assistant", tuple(self.parts))


_turn = _Turn


def _raw(reason: types.FinishReason | None) -> str | None:
    """The finish reason as Gemini wrote it ("STOP", "MAX_TOKENS")."""
    return reason.value if reason is not None else None


def _block_reason(response: types.GenerateContentResponse) -> str | None:
    """Why the prompt was refused, as Gemini wrote it ("SAFETY"), for a blocked prompt."""
    feedback = response.prompt_feedback
    reason = feedback.block_reason if feedback is not None else None
    return reason.value if reason is not None else None


def _blocked(response: types.GenerateContentResponse) -> bool:
    feedback = response.prompt_feedback
    return feedback is not None and feedback.block_reason is not None


def response_usage(metadata: types.GenerateContentResponseUsageMetadata | None) -> Usage:
    if metadata is None:
        return Usage()
    thoughts = metadata.thoughts_token_count or 0
    output = (metadata.candidates_token_count or 0) + thoughts
    return Usage(metadata.prompt_token_count or 0, output, thoughts)


class StreamState:
    """Turns the JSON events of ``streamGenerateContent?alt=sse`` bodies into genkit events.

    Reads the wire dicts directly (camelCase, as the API sends them) rather than
    building the SDK's pydantic response per event.  Remembers which candidates called
    a function, since the call arrives in an earlier event than the ``STOP`` that ends
    the candidate.

    Automatic continuation, as google-genai does it (on unless ``provider_options``
    say ``automatic_continuation=False``): a request whose first candidate ends with
    ``CONTINUATION`` and a new ``continuationToken`` is followed by another request
    with that token; the ``CONTINUATION`` is not a finish, and the usage of finished
    requests is added to the next one's (each request's usage is its own).
    """

    __slots__ = (
        "_before",
        "_calls",
        "_continues",
        "_hop",
        "_n",
        "_reason",
        "_sent",
        "_token",
        "_tools",
        "response",
    )

    def __init__(self, n: int, continues: bool) -> None:
        self._n = n
        self._calls: set[int] = set()
        self._tools = OpenCalls(PROVIDER)
        self._continues = continues
        self.response: httpx2.Response | None = None  # for the SDK's in-stream errors
        self._before: Usage | None = None  # usage of the requests already finished
        self._hop: Usage | None = None  # this request's usage so far
        self._sent: str | None = None  # the continuation token this request was sent with
        self._token: str | None = None  # the latest one it returned
        self._reason: str | None = None  # the first candidate's last finish reason

    def next_request(self) -> str | None:
        """The continuation token to send the next request with; None when finished."""
        token = self._token
        if token is None or token == self._sent:
            return None
        if not self._continues or self._reason != "CONTINUATION":
            return None
        if self._hop is not None:
            self._before = self._hop if self._before is None else self._before + self._hop
        self._sent, self._token, self._reason, self._hop = token, None, None, None
        return token

    def events(self, data: bytes) -> list[StreamEvent]:
        """The genkit events in one SSE event (a list: cheaper per event than a generator)."""
        chunk = json.loads(data)
        if "error" in chunk:
            # An error inside a 200 stream: the SDK's own error for it, as the SDK
            # raises it, so it is classified like an HTTP error status.
            error = chunk["error"]
            code: Any = error.get("code") if isinstance(error, Mapping) else None
            genai_errors.APIError.raise_error(code, chunk, self.response)
        events: list[StreamEvent] = []
        candidates = chunk.get("candidates") or ()
        raw: dict[str, Any] | None = None
        for position, candidate in enumerate(candidates):
            index = candidate.get("index")
            if index is None:
                index = position
            content = candidate.get("content")
            parts = content.get("parts") if content else None
            if parts:
                if len(parts) == 1 and len(parts[0]) == 1 and "text" in parts[0]:
                    text = parts[0]["text"]  # the common event: one plain text part
                    if text:
                        events.append(Chunk(text, index))
                else:
                    self._parts(index, parts, events)
            reason = candidate.get("finishReason")
            if position == 0 and (reason or "continuationToken" in candidate):
                reason = self._first(candidate, reason)
            if reason:
                if raw is None:  # the final event, for stream.result.raw
                    raw = _sdk_json(chunk, self.response)
                finish = _finish_name(reason, index in self._calls)
                events.append(Finish(finish, reason, index, raw))
        if not candidates and _wire_blocked(chunk):
            # The prompt itself was refused: no candidate, only promptFeedback.
            feedback = chunk.get("promptFeedback") or {}
            block = feedback.get("blockReason")
            raw = _sdk_json(chunk, self.response)
            events.extend(Finish(_CONTENT_FILTER, block, index, raw) for index in range(self._n))
        metadata = chunk.get("usageMetadata")
        if metadata is not None:
            usage = self._hop = _wire_usage(metadata)
            if self._before is not None:
                usage = usage + self._before
            events.append(UsageUpdate(usage, raw))
        if raw is not None:
            model = chunk.get("modelVersion")
            if model:
                events.append(ResponseMetadata(model, raw))
        return events

    def _parts(self, index: int, parts: list[Any], events: list[StreamEvent]) -> None:
        """A streamed candidate's parts in order: thoughts, signatures, text, calls.

        A signature comes before the part it was sent with (``ProviderData``, so the
        turn keeps it there); Gemini sends each function call whole, in one part, so
        a call is its start, arguments and end at once.
        """
        for part in parts:
            signature = part.get("thoughtSignature")
            text = part.get("text")
            if part.get("thought"):
                if text:
                    events.append(ReasoningDelta(text, index))
                if signature:
                    data = {SIGNATURE: _decode(signature), THOUGHT: text or ""}
                    events.append(ProviderData(ProviderPart(PROVIDER, data), index))
                continue
            if signature:
                data = {SIGNATURE: _decode(signature)}
                events.append(ProviderData(ProviderPart(PROVIDER, data), index))
            call = part.get("functionCall")
            if call is not None:
                self._calls.add(index)
                key = object()  # a call is never continued in a later event
                events.append(self._tools.start(key, index, call.get("id"), call.get("name") or ""))
                piece = self._tools.delta(key, json.dumps(call.get("args") or {}))
                if piece is not None:
                    events.append(piece)
                ended = self._tools.end(key)
                if ended is not None:
                    events.append(ended)
            elif text:
                events.append(Chunk(text, index))

    def _first(self, candidate: Mapping[str, Any], reason: str | None) -> str | None:
        """Note the first candidate's continuation token; the finish reason to report."""
        token = candidate.get("continuationToken")
        if isinstance(token, str) and token:
            self._token = token
        elif reason and reason != "CONTINUATION":
            self._token = None
        if reason:
            self._reason = reason
            if reason == "CONTINUATION" and self._continues and self._token is not None:
                return None  # not finished: the next request continues it
        return reason


def _sdk_json(chunk: Mapping[str, Any], response: httpx2.Response | None) -> dict[str, Any]:
    """An event in the SDK's JSON form (snake_case, its HTTP headers included).

    ``stream.result.raw`` keeps this form, the one it had when the SDK decoded the
    stream; built once per stream, for the final event only.
    """
    parsed = types.GenerateContentResponse._from_response(
        response=genai_models._GenerateContentResponse_from_mldev(chunk), kwargs={}
    )
    if response is not None:
        parsed.sdk_http_response = types.HttpResponse(headers=dict(response.headers))
    return parsed.to_json_dict()


_URLSAFE = str.maketrans("-_", "+/")


def _decode(signature: str) -> bytes:
    """A thought signature's bytes from the wire's base64 (either alphabet, as the SDK)."""
    text = signature.translate(_URLSAFE)
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _finish_name(reason: str, called_function: bool) -> FinishReason:
    finish = FINISH_REASONS.get(reason, "other")
    return "tool_calls" if finish == "stop" and called_function else finish


def _wire_blocked(chunk: Mapping[str, Any]) -> bool:
    feedback = chunk.get("promptFeedback")
    return isinstance(feedback, Mapping) and feedback.get("blockReason") is not None


def _wire_usage(metadata: Mapping[str, Any]) -> Usage:
    thoughts = metadata.get("thoughtsTokenCount") or 0
    output = (metadata.get("candidatesTokenCount") or 0) + thoughts
    return Usage(metadata.get("promptTokenCount") or 0, output, thoughts)
