"""Typed stream events and the provider's raw finish reason, on every backend.

``stream.events()`` yields every event (text, finish, usage, ...) as its own class;
plain iteration keeps yielding only the text chunks.  Each candidate ends with one
``Finish`` carrying genkit's reason and the provider's own string, which also lands
in ``Generation.raw_finish_reasons`` for streamed and non-streamed calls alike.
Hosted backends run through the real vendor SDKs against the local fake server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from genkit.backends.base import Backend, BackendSettings
from genkit.capabilities import CapabilityTable, ModelCapabilities
from genkit.params import Request
from tests.hosted import HOSTED, Hosted, point_sdks_at
from tests.shared_recordings import recording

#: What each provider calls genkit's "stop" and "length" on the wire.
RAW = {
    "openai": {"stop": "stop", "length": "length"},
    "anthropic": {"stop": "end_turn", "length": "max_tokens"},
    "gemini": {"stop": "STOP", "length": "MAX_TOKENS"},
}


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def _load(hosted: Hosted) -> genkit.Generator:
    return genkit.load(f"{hosted.provider}:{hosted.model}", max_retries=0)


async def _events(
    gen: genkit.Generator, mode: str, prompt: str = "hi", **params: Any
) -> tuple[list[genkit.StreamEvent], genkit.Generation]:
    if mode == "stream":
        with gen.stream(prompt, **params) as stream:
            events = list(stream.events())
        return events, stream.result
    async with gen.astream(prompt, **params) as astream:
        events = [event async for event in astream.events()]
    return events, astream.result


def _check_events(
    events: list[genkit.StreamEvent],
    result: genkit.Generation,
    reasons: list[tuple[str, str | None]],
) -> None:
    """Text deltas join to the text, one Finish per candidate with both reasons, usage."""
    for index, text in enumerate(result.texts):
        deltas = [e.text for e in events if isinstance(e, genkit.Chunk) and e.index == index]
        assert "".join(deltas) == text
    finishes = sorted(
        (e for e in events if isinstance(e, genkit.Finish)), key=lambda finish: finish.index
    )
    assert [(f.index, f.reason, f.raw_reason) for f in finishes] == [
        (index, reason, raw) for index, (reason, raw) in enumerate(reasons)
    ]
    usages = [e.usage for e in events if isinstance(e, genkit.UsageUpdate)]
    assert usages
    assert usages[-1] == result.usage
    assert result.finish_reasons == [reason for reason, _ in reasons]
    assert result.raw_finish_reasons == [raw for _, raw in reasons]
    assert result.raw_finish_reason == reasons[0][1]
    assert all(isinstance(e.type, str) for e in events)


# --------------------------------------------------------------------------- hosted


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_hosted_events_carry_text_finish_and_usage(
    server: FakeProviderServer, hosted: Hosted, mode: str
) -> None:
    server.script(Reply.text("one two three", chunks=["one", " two", " three"], usage=(4, 3)))
    events, result = await _events(_load(hosted), mode)
    assert [e.text for e in events if isinstance(e, genkit.Chunk)] == ["one", " two", " three"]
    assert result.text == "one two three"
    assert result.usage == genkit.Usage(4, 3)
    _check_events(events, result, [("stop", RAW[hosted.provider]["stop"])])
    # The finish comes after the last text of its candidate.
    kinds = [e.type for e in events]
    assert kinds.index("finish") > max(i for i, kind in enumerate(kinds) if kind == "text")


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_hosted_raw_finish_reason_streamed(
    server: FakeProviderServer, hosted: Hosted, mode: str
) -> None:
    server.script(Reply.text("cut short", finish="length", usage=(2, 2)))
    events, result = await _events(_load(hosted), mode)
    _check_events(events, result, [("length", RAW[hosted.provider]["length"])])


@pytest.mark.parametrize("finish", ["stop", "length"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_hosted_raw_finish_reason_not_streamed(
    server: FakeProviderServer, hosted: Hosted, finish: str
) -> None:
    server.script(Reply.text("a b", finish=finish), Reply.text("a b", finish=finish))
    gen = _load(hosted)
    for result in (gen.generate("hi"), await gen.agenerate("hi")):
        assert result.finish_reason == finish
        assert result.raw_finish_reason == RAW[hosted.provider][finish]
        assert result.raw_finish_reasons == [RAW[hosted.provider][finish]]
    await gen.aclose()


@pytest.mark.parametrize("hosted", [h for h in HOSTED if h.provider != "anthropic"], ids=str)
async def test_one_finish_per_candidate(server: FakeProviderServer, hosted: Hosted) -> None:
    server.script(Reply.text(candidates=["a b", "c d e"], usage=(3, 5)))
    events, result = await _events(_load(hosted), "stream", n=2)
    assert result.texts == ["a b", "c d e"]
    raw = RAW[hosted.provider]["stop"]
    _check_events(events, result, [("stop", raw), ("stop", raw)])


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_plain_iteration_still_yields_only_text_chunks(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    server.script(Reply.text("x y", chunks=["x", " y"], usage=(1, 2)))
    with _load(hosted).stream("hi") as stream:
        chunks = list(stream)
    assert all(type(chunk) is genkit.Chunk for chunk in chunks)
    assert [(c.text, c.index) for c in chunks] == [("x", 0), (" y", 0)]
    assert stream.result.raw_finish_reason == RAW[hosted.provider]["stop"]


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_a_cut_stream_yields_no_finish_and_raises(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    server.script(Reply.truncated_stream(2))
    seen: list[genkit.StreamEvent] = []
    with _load(hosted).stream("hi") as stream:
        events = stream.events()
        seen.append(next(events))
        with pytest.raises(genkit.GenkitError):
            seen.extend(events)
    assert seen
    assert not any(isinstance(e, genkit.Finish) for e in seen)
    assert stream.result.raw_finish_reason is None
    assert stream.result.finish_reason is None


def test_events_work_with_match(server: FakeProviderServer) -> None:
    server.script(Reply.text("p q", usage=(2, 2)))
    text: list[str] = []
    finished: list[tuple[str, str | None]] = []
    usage: list[genkit.Usage] = []
    with genkit.load("openai:gpt-4o").stream("hi") as stream:
        for event in stream.events():
            match event:
                case genkit.Chunk(text=piece):
                    text.append(piece)
                case genkit.Finish(reason=reason, raw_reason=raw):
                    finished.append((reason, raw))
                case genkit.UsageUpdate(usage=counted):
                    usage.append(counted)
                case genkit.ResponseMetadata(model=model):
                    assert model
    assert ("".join(text), finished, usage) == ("p q", [("stop", "stop")], [genkit.Usage(2, 2)])


# --------------------------------------------------------------------------- recordings


@pytest.mark.parametrize(
    ("model", "name", "finish", "raw"),
    [
        ("openai:gpt-4o-mini", "openai_stream_1.sse", "stop", "stop"),
        ("openai:gpt-4o-mini", "openai_length_stream.sse", "length", "length"),
        ("anthropic:claude-sonnet-4-6", "anthropic_stream_text.sse", "stop", "end_turn"),
        (
            "anthropic:claude-sonnet-4-6",
            "anthropic_refusal_stream.sse",
            "content_filter",
            "refusal",
        ),
        ("gemini:gemini-2.5-flash", "gemini_stream.sse", "stop", "STOP"),
    ],
)
def test_recorded_streams_report_both_reasons(
    server: FakeProviderServer, model: str, name: str, finish: str, raw: str
) -> None:
    server.script(Reply.replay(recording(name), chunk_size=97))
    with genkit.load(model).stream("hi") as stream:
        events = list(stream.events())
    _check_events(events, stream.result, [(finish, raw)])


@pytest.mark.parametrize(
    ("model", "name", "raw"),
    [
        ("openai:gpt-4o-mini", "openai_refusal.json", "stop"),
        ("anthropic:claude-sonnet-4-6", "anthropic_refusal.json", "refusal"),
        ("gemini:gemini-2.5-flash", "gemini_structured.json", "STOP"),
    ],
)
def test_recorded_answers_report_the_raw_reason(
    server: FakeProviderServer, model: str, name: str, raw: str
) -> None:
    server.script(Reply.replay(recording(name)))
    assert genkit.load(model).generate("hi").raw_finish_reason == raw


# --------------------------------------------------------------------------- local backends


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_test_provider_events(mode: str) -> None:
    gen = genkit.load("test:echo")
    events, result = await _events(gen, mode, "alpha beta gamma", n=2)
    assert result.texts == ["alpha beta gamma"] * 2
    _check_events(events, result, [("stop", "stop"), ("stop", "stop")])
    assert gen.generate("a b", max_tokens=1).raw_finish_reasons == ["length"]


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_local_model_events(tiny_gpt2_path: Path, mode: str) -> None:
    gen = genkit.load(f"huggingface:{tiny_gpt2_path}")
    events, result = await _events(gen, mode, "Hello", max_tokens=6, temperature=0.0)
    assert result.finish_reason in ("stop", "length")
    _check_events(events, result, [(result.finish_reason, result.finish_reason)])
    generated = gen.generate("Hello", max_tokens=6, temperature=0.0)
    assert generated.raw_finish_reasons == generated.finish_reasons


# --------------------------------------------------------------------------- backend contract


class _Wrong(Backend):
    """A backend that yields something that is not a stream event."""

    provider = "wrongevents"
    capabilities = CapabilityTable([], default=ModelCapabilities(supported=frozenset()))

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)

    def generate(self, request: Request) -> genkit.Generation:
        raise NotImplementedError

    async def agenerate(self, request: Request) -> genkit.Generation:
        raise NotImplementedError

    def stream(self, request: Request) -> Iterator[Any]:
        yield genkit.Chunk("a")
        yield {"finish_reason": "stop"}

    def astream(self, request: Request) -> Any:
        raise NotImplementedError


def test_a_backend_yielding_a_non_event_gets_a_clear_error() -> None:
    genkit.register("wrongevents", _Wrong)
    stream = genkit.load("wrongevents:m").stream("hi")
    with pytest.raises(genkit.InvalidResponseError, match="not a stream event"):
        list(stream.events())


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_leaving_events_early_keeps_the_stream_readable(mode: str) -> None:
    gen = genkit.load("test:echo")
    if mode == "stream":
        stream = gen.stream("one two three")
        for event in stream.events():
            assert isinstance(event, genkit.Chunk)
            break
        assert [c.text for c in stream] == [" two", " three"]  # back to text only
        result = stream.result
    else:
        astream = gen.astream("one two three")
        async for event in astream.events():
            assert isinstance(event, genkit.Chunk)
            break
        assert [c.text async for c in astream] == [" two", " three"]
        result = await astream.get_result()
    assert (result.text, result.raw_finish_reason) == ("one two three", "stop")


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_fallback_stream_events_come_from_the_answering_model(
    server: FakeProviderServer, mode: str
) -> None:
    server.script(Reply.error(503), Reply.text("from b", usage=(1, 2)))
    gen = genkit.load("openai:gpt-4o", fallbacks=["anthropic:claude-sonnet-4-6"], max_retries=0)
    if mode == "stream":
        with gen.stream("hi") as stream:
            events = list(stream.events())
        result = stream.result
    else:
        async with gen.astream("hi") as astream:
            events = [event async for event in astream.events()]
        result = await astream.get_result()
    assert result.text == "from b"
    _check_events(events, result, [("stop", "end_turn")])


def _recorded_thinking(name: str) -> str:
    """The reasoning text in a recorded stream, read straight from its JSON events."""
    import json

    thinking: list[str] = []
    for line in recording(name).read_text().splitlines():
        if not line.startswith("data:"):
            continue
        event = json.loads(line[5:])
        delta = event.get("delta") or {}
        if delta.get("type") == "thinking_delta":
            thinking.append(delta["thinking"])
        for candidate in event.get("candidates") or ():
            for part in (candidate.get("content") or {}).get("parts") or ():
                if part.get("thought") and part.get("text"):
                    thinking.append(part["text"])
    return "".join(thinking)


@pytest.mark.parametrize(
    ("model", "name", "raw"),
    [
        ("anthropic:claude-sonnet-4-6", "anthropic_thinking_stream.sse", "end_turn"),
        ("gemini:gemini-2.5-flash", "gemini_thinking_stream.sse", "STOP"),
    ],
)
def test_recorded_reasoning_arrives_as_reasoning_deltas(
    server: FakeProviderServer, model: str, name: str, raw: str
) -> None:
    server.script(Reply.replay(recording(name), chunk_size=97))
    with genkit.load(model).stream("hi") as stream:
        events = list(stream.events())
    reasoning = "".join(e.text for e in events if isinstance(e, genkit.ReasoningDelta))
    expected = _recorded_thinking(name)
    assert expected
    assert reasoning == expected
    assert expected not in stream.result.text  # reasoning is not the answer
    kinds = [e.type for e in events]
    assert kinds.index("reasoning") < kinds.index("text")
    _check_events(events, stream.result, [("stop", raw)])


def test_gemini_blocked_prompt_reports_the_block_reason(server: FakeProviderServer) -> None:
    import json

    blocked = {
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7},
    }
    body = json.dumps(blocked).encode()
    server.script(
        Reply.raw(200, body, content_type="application/json"),
        Reply.raw(200, b"data: " + body + b"\r\n\r\n", content_type="text/event-stream"),
    )
    gen = genkit.load("gemini:gemini-2.5-flash")
    assert gen.generate("hi").raw_finish_reason == "PROHIBITED_CONTENT"
    with gen.stream("hi") as stream:
        events = list(stream.events())
    _check_events(events, stream.result, [("content_filter", "PROHIBITED_CONTENT")])
    assert isinstance(stream.result.raw, list)
    assert all(isinstance(event, dict) for event in stream.result.raw)


# --------------------------------------------------------------------------- tool calls


def _check_calls(events: list[genkit.StreamEvent]) -> list[genkit.ToolCallEnd]:
    """Each call: a start, argument pieces that join to its arguments, then one end."""
    import json

    ends = [e for e in events if isinstance(e, genkit.ToolCallEnd)]
    starts = [e for e in events if isinstance(e, genkit.ToolCallStart)]
    assert [(s.index, s.call_index, s.id, s.name) for s in starts] == [
        (e.index, e.call_index, e.id, e.name) for e in ends
    ]
    for end in ends:
        assert end.id
        pieces = [
            e.arguments
            for e in events
            if isinstance(e, genkit.ToolCallDelta)
            and (e.index, e.call_index) == (end.index, end.call_index)
        ]
        assert json.loads("".join(pieces) or "{}") == end.arguments
        order = [
            events.index(e) for e in events if getattr(e, "call_index", None) == end.call_index
        ]
        assert events[order[0]].type == "tool_call_start"
        assert events[order[-1]] is end
    finish = next(i for i, e in enumerate(events) if isinstance(e, genkit.Finish))
    assert all(events.index(end) < finish for end in ends)
    return ends


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
async def test_streamed_tool_calls_start_grow_and_end(
    server: FakeProviderServer, hosted: Hosted, mode: str
) -> None:
    calls = [("get_weather", {"city": "Paris", "days": 2}), ("now", {})]
    server.script(Reply.text("Checking.", tool_calls=calls, usage=(5, 9)))
    events, result = await _events(_load(hosted), mode)
    ends = _check_calls(events)
    assert [(e.name, e.arguments, e.call_index) for e in ends] == [
        ("get_weather", {"city": "Paris", "days": 2}, 0),
        ("now", {}, 1),
    ]
    assert len({e.id for e in ends}) == 2
    assert result.text == "Checking."
    assert result.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("openai:gpt-4o-mini", "openai_tool_stream_usage.sse"),
        ("openai:gpt-4o-mini", "openai_tools_parallel_stream.sse"),
        ("anthropic:claude-sonnet-4-6", "anthropic_tools_parallel_stream.sse"),
        ("anthropic:claude-sonnet-4-6", "anthropic_tools_noargs_stream.sse"),
        ("anthropic:claude-sonnet-4-6", "anthropic_thinking_tool_stream.sse"),
        ("gemini:gemini-2.5-flash", "gemini_thinking_tool_stream.sse"),
    ],
)
def test_recorded_tool_call_streams(server: FakeProviderServer, model: str, name: str) -> None:
    server.script(Reply.replay(recording(name), chunk_size=97))
    with genkit.load(model).stream("hi") as stream:
        events = list(stream.events())
    assert _check_calls(events)
    assert stream.result.finish_reason == "tool_calls"


def test_a_call_cut_mid_arguments_never_ends(server: FakeProviderServer) -> None:
    import json

    def chunk(delta: dict[str, Any]) -> bytes:
        body = {"model": "gpt-4o", "choices": [{"index": 0, "delta": delta}]}
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    call = {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": '{"a": '}}
    server.script(Reply.raw(200, chunk({"tool_calls": [call]}), content_type="text/event-stream"))
    seen: list[genkit.StreamEvent] = []
    stream = genkit.load("openai:gpt-4o", max_retries=0).stream("hi")
    events = stream.events()
    seen.append(next(events))
    with pytest.raises(genkit.InvalidResponseError):
        seen.extend(events)
    assert [e.type for e in seen] == ["tool_call_start", "tool_call_delta"]
