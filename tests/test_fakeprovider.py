"""Self-tests of fakeprovider, driven through the raw vendor SDKs.

If these pass, the fake speaks each wire protocol well enough that the real
openai / anthropic / google-genai clients parse its replies, raise the right
exceptions for its errors and faults, and reuse its keep-alive connections.
Retries are off everywhere so each scripted reply maps to exactly one call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from openai.types.chat import ChatCompletionMessageParam

from fakeprovider import FakeProviderServer, Reply
from tests.shared_recordings import recording

# Provides the ``fake_server`` fixture without touching tests/conftest.py.
pytest_plugins = ["fakeprovider.pytest_plugin"]

USER = [{"role": "user", "content": "What is the capital of France?"}]
# The same turn, typed for each SDK's own message TypedDict.
OAI_USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": USER[0]["content"]}]
ANT_USER: list[anthropic.types.MessageParam] = [{"role": "user", "content": USER[0]["content"]}]
#: The real provider streams replayed below (in ../shared/recordings).
RECORDED_STREAMS = (
    "anthropic_stream_redacted.sse",
    "anthropic_stream_text.sse",
    "anthropic_stream_tool_0.sse",
    "anthropic_stream_tool_1.sse",
    "gemini_stream.sse",
    "openai_stream_0.sse",
    "openai_stream_1.sse",
)


# --------------------------------------------------------------------- clients
# Building an SDK client costs 30-60 ms (TLS context setup), so clients are
# cached per server URL and options. Reuse across tests is safe: the
# ``fake_server`` fixture closes leftover connections and httpcore discards
# idle pooled connections the server has closed.
@functools.cache
def _cached_client(kind: str, url: str, options: tuple[tuple[str, Any], ...]) -> Any:
    kw = dict(options)
    api_key = kw.pop("api_key", None)
    if kind == "openai":
        return openai.OpenAI(
            api_key=api_key or "sk-test", base_url=url + "/v1", max_retries=0, **kw
        )
    if kind == "anthropic":
        return anthropic.Anthropic(
            api_key=api_key or "sk-ant-test", base_url=url, max_retries=0, **kw
        )
    return genai.Client(
        api_key=api_key or "AIza-test",
        http_options=genai_types.HttpOptions(base_url=url, timeout=10_000, **kw),
    )


def oai(server: FakeProviderServer, **kw: Any) -> openai.OpenAI:
    kw.setdefault("timeout", 10)
    client: openai.OpenAI = _cached_client("openai", server.url, tuple(sorted(kw.items())))
    return client


def ant(server: FakeProviderServer, **kw: Any) -> anthropic.Anthropic:
    kw.setdefault("timeout", 10)
    client: anthropic.Anthropic = _cached_client("anthropic", server.url, tuple(sorted(kw.items())))
    return client


def gem(server: FakeProviderServer, **kw: Any) -> genai.Client:
    client: genai.Client = _cached_client("gemini", server.url, tuple(sorted(kw.items())))
    return client


def oai_create(client: openai.OpenAI, **kw: Any) -> Any:
    kw.setdefault("model", "gpt-4o-mini")
    kw.setdefault("messages", USER)
    return client.chat.completions.create(**kw)


def ant_create(client: anthropic.Anthropic, **kw: Any) -> Any:
    kw.setdefault("model", "claude-sonnet-4-6")
    kw.setdefault("max_tokens", 100)
    kw.setdefault("messages", USER)
    return client.messages.create(**kw)


def gem_generate(client: genai.Client, **kw: Any) -> Any:
    kw.setdefault("model", "gemini-2.5-flash")
    kw.setdefault("contents", "What is the capital of France?")
    return client.models.generate_content(**kw)


def gem_stream(client: genai.Client, **kw: Any) -> list[Any]:
    kw.setdefault("model", "gemini-2.5-flash")
    kw.setdefault("contents", "What is the capital of France?")
    return list(client.models.generate_content_stream(**kw))


def drain(stream: Iterable[Any], into: list[Any], pick: Callable[[Any], Any]) -> None:
    """Consume a stream, keeping ``pick(item)`` of each item seen before any error."""
    for item in stream:
        into.append(pick(item))


def anthropic_delta_text(event: Any) -> str | None:
    return event.delta.text if event.type == "content_block_delta" else None


def _text(chunk: Any) -> Any:
    return chunk.text


# ---------------------------------------------------------- non-streaming text
FINISH_CASES = [
    ("stop", "stop", "end_turn", "STOP"),
    ("length", "length", "max_tokens", "MAX_TOKENS"),
    ("content_filter", "content_filter", "refusal", "SAFETY"),
    ("tool_calls", "tool_calls", "tool_use", "STOP"),
    ("other", "other", "pause_turn", "OTHER"),
    ("stop_sequence", "stop", "stop_sequence", "STOP"),
    ("RECITATION", "RECITATION", "RECITATION", "RECITATION"),
]


@pytest.mark.parametrize(("finish", "o_finish", "a_finish", "g_finish"), FINISH_CASES)
def test_non_streaming_text_all_protocols(
    fake_server: FakeProviderServer, finish: str, o_finish: str, a_finish: str, g_finish: str
) -> None:
    reply = Reply.text("Paris is the capital.", finish=finish, usage=(11, 4))
    fake_server.script(reply.times(3))

    r = oai_create(oai(fake_server))
    assert r.choices[0].message.content == "Paris is the capital."
    assert r.choices[0].finish_reason == o_finish
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (11, 4, 15)
    assert r.model == "gpt-4o-mini"
    assert r._request_id
    assert r._request_id.startswith("req_")

    m = ant_create(ant(fake_server), stop_sequences=["###"])
    assert [b.text for b in m.content if b.type == "text"] == ["Paris is the capital."]
    assert m.stop_reason == a_finish
    assert m.stop_sequence == ("###" if finish == "stop_sequence" else None)
    assert (m.usage.input_tokens, m.usage.output_tokens) == (11, 4)

    g = gem_generate(gem(fake_server))
    assert g.text == "Paris is the capital."
    assert str(g.candidates[0].finish_reason.value) == g_finish
    usage = g.usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count) == (11, 4)
    assert usage.total_token_count == 15
    assert g.model_version == "gemini-2.5-flash"


def test_tool_calls_render_natively(fake_server: FakeProviderServer) -> None:
    """OpenAI tool_calls, Anthropic tool_use blocks, Gemini functionCall parts."""
    reply = Reply.text("Checking.", tool_calls=[("get_weather", {"city": "Paris"})])
    fake_server.script(reply.times(6))

    r = oai_create(oai(fake_server))
    assert r.choices[0].finish_reason == "tool_calls"
    call = r.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "get_weather",
        {"city": "Paris"},
    )
    with oai(fake_server).chat.completions.stream(model="gpt-4o", messages=OAI_USER) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Checking."
    tool_calls = final.choices[0].message.tool_calls
    assert tool_calls is not None
    assert tool_calls[0].function.arguments == '{"city": "Paris"}'

    m = ant_create(ant(fake_server))
    assert [b.type for b in m.content] == ["text", "tool_use"]
    assert (m.stop_reason, m.content[1].name, m.content[1].input) == (
        "tool_use",
        "get_weather",
        {"city": "Paris"},
    )
    with ant(fake_server).messages.stream(model="c", max_tokens=9, messages=ANT_USER) as astream:
        amsg = astream.get_final_message()
    assert [b.type for b in amsg.content] == ["text", "tool_use"]
    assert isinstance(amsg.content[1], anthropic.types.ToolUseBlock)
    assert amsg.content[1].input == {"city": "Paris"}

    g = gem_generate(gem(fake_server))
    assert g.candidates[0].finish_reason == genai_types.FinishReason.STOP
    assert [(fc.name, fc.args) for fc in g.function_calls] == [("get_weather", {"city": "Paris"})]
    chunks = gem_stream(gem(fake_server))
    assert chunks[-1].function_calls[0].name == "get_weather"


def test_default_reply_echoes_and_counts_usage(fake_server: FakeProviderServer) -> None:
    r = oai_create(oai(fake_server), messages=[{"role": "user", "content": "one two three"}])
    assert r.choices[0].message.content == "echo: one two three"
    assert r.usage.prompt_tokens == 3
    assert r.usage.completion_tokens == 4  # "echo:", " one", " two", " three"
    fake_server.default = Reply.text("fixed")
    assert oai_create(oai(fake_server)).choices[0].message.content == "fixed"


def test_recorded_requests(fake_server: FakeProviderServer) -> None:
    oai_create(oai(fake_server), temperature=0.5, stream=True)
    ant_create(ant(fake_server))
    gem_stream(gem(fake_server, api_version="v1beta"))
    o, a, g = fake_server.requests
    assert (o.protocol, o.method, o.path, o.stream, o.model) == (
        "openai",
        "POST",
        "/v1/chat/completions",
        True,
        "gpt-4o-mini",
    )
    assert o.body is not None
    assert o.body["temperature"] == 0.5
    assert json.loads(o.raw_body) == o.body
    assert o.headers["authorization"] == "Bearer sk-test"
    assert o.validation_error is None
    assert (a.protocol, a.path, a.stream, a.model) == (
        "anthropic",
        "/v1/messages",
        False,
        "claude-sonnet-4-6",
    )
    assert "anthropic-version" in a.headers
    assert (g.protocol, g.stream, g.model) == ("gemini", True, "gemini-2.5-flash")
    assert g.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert g.query == {"alt": "sse"}
    assert g.headers["x-goog-api-key"] == "AIza-test"
    with pytest.raises(Exception):  # noqa: B017, PT011 - frozen dataclass
        o.model = "x"  # type: ignore[misc]


# ----------------------------------------------------------------- streaming
def test_openai_stream_with_and_without_usage(fake_server: FakeProviderServer) -> None:
    client = oai(fake_server)
    fake_server.script(Reply.text(chunks=["Par", "is", "!"], usage=(7, 3)).times(2))
    chunks = list(oai_create(client, stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.content for c in chunks[1:4]] == ["Par", "is", "!"]
    assert chunks[4].choices[0].finish_reason == "stop"
    assert chunks[5].choices == []
    assert chunks[5].usage is not None
    assert chunks[5].usage.total_tokens == 10
    assert len({c.id for c in chunks}) == 1

    plain = list(oai_create(client, stream=True))
    assert all(c.choices for c in plain)
    assert all(c.usage is None for c in plain)

    fake_server.script(Reply.text("The capital is Paris.", finish="length"))
    with (
        client.chat.completions.stream(
            model="gpt-4o", messages=OAI_USER, stream_options={"include_usage": True}
        ) as stream,
        pytest.raises(openai.LengthFinishReasonError),
    ):
        stream.get_final_completion()


def test_anthropic_stream_events_and_helper(fake_server: FakeProviderServer) -> None:
    client = ant(fake_server)
    fake_server.script(Reply.text("Paris is nice", usage=(9, 3)).times(2))
    events = list(ant_create(client, stream=True))
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]  # the SDK drops the ping event, which the raw bytes do contain
    assert [e.delta.text for e in events if e.type == "content_block_delta"] == [
        "Paris",
        " is",
        " nice",
    ]
    with client.messages.stream(model="claude-x", max_tokens=50, messages=ANT_USER) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(texts) == "Paris is nice"
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (9, 3)


def test_anthropic_stream_raw_bytes_have_ping(fake_server: FakeProviderServer) -> None:
    body = {"model": "claude-x", "max_tokens": 5, "messages": USER, "stream": True}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    with httpx2.Client() as http:
        r = http.post(f"{fake_server.url}/v1/messages", json=body, headers=headers)
    assert r.headers["content-type"].startswith("text/event-stream")
    assert 'event: ping\ndata: {"type": "ping"}\n\n' in r.text
    assert r.headers["request-id"].startswith("req_")


def test_gemini_stream(fake_server: FakeProviderServer) -> None:
    fake_server.script(Reply.text(chunks=["The", " capital", " is Paris."], usage=(5, 3)))
    chunks = gem_stream(gem(fake_server))
    assert [c.text for c in chunks] == ["The", " capital", " is Paris."]
    assert [c.candidates[0].finish_reason for c in chunks[:-1]] == [None, None]
    assert chunks[-1].candidates[0].finish_reason == genai_types.FinishReason.STOP
    assert chunks[0].usage_metadata.candidates_token_count is None
    assert chunks[-1].usage_metadata.total_token_count == 8


def test_gemini_json_array_stream_and_query_key(fake_server: FakeProviderServer) -> None:
    """Legacy transport: no ``alt=sse`` → a JSON array; key via ``?key=``."""
    fake_server.script(Reply.text("a b"))
    with httpx2.Client() as http:
        r = http.post(
            f"{fake_server.url}/v1beta/models/gemini-x:streamGenerateContent?key=AIza",
            json={"contents": [{"parts": [{"text": "hi"}]}]},
        )
    assert r.status_code == 200
    assert r.text.startswith("[")
    assert r.text.endswith("]")
    docs = json.loads(r.text)
    assert [d["candidates"][0]["content"]["parts"][0]["text"] for d in docs] == ["a", " b"]
    assert docs[-1]["candidates"][0]["finishReason"] == "STOP"


def test_multiple_candidates(fake_server: FakeProviderServer) -> None:
    fake_server.script(Reply.text(candidates=["one a", "two b c"]).times(3))
    r = oai_create(oai(fake_server), n=2)
    assert [c.message.content for c in r.choices] == ["one a", "two b c"]
    chunks = list(oai_create(oai(fake_server), n=2, stream=True))
    indices = [c.choices[0].index for c in chunks if c.choices[0].delta.content]
    assert indices == [0, 1, 0, 1, 1]  # interleaved
    cfg = genai_types.GenerateContentConfig(candidate_count=2)
    g = gem_generate(gem(fake_server), config=cfg)
    texts = [c.content.parts[0].text for c in g.candidates]
    assert texts == ["one a", "two b c"]
    # Without explicit candidates, n>1 replicates the text.
    fake_server.script(Reply.text("same"))
    assert [c.message.content for c in oai_create(oai(fake_server), n=3).choices] == ["same"] * 3


async def test_async_clients(fake_server: FakeProviderServer) -> None:
    fake_server.default = Reply.text("async hi")
    client = openai.AsyncOpenAI(api_key="sk", base_url=fake_server.openai_base_url, max_retries=0)
    results = await asyncio.gather(*[oai_create_async(client) for _ in range(20)])
    assert results == ["async hi"] * 20
    await client.close()
    gclient = gem(fake_server)
    g = await gclient.aio.models.generate_content(model="gemini-x", contents="hi")
    assert g.text == "async hi"


async def oai_create_async(client: openai.AsyncOpenAI) -> str | None:
    r = await client.chat.completions.create(model="gpt-4o", messages=OAI_USER)
    return r.choices[0].message.content


def test_long_stream_flows_fast(fake_server: FakeProviderServer) -> None:
    n = 5000
    fake_server.script(Reply.text(chunks=[f"t{i} " for i in range(n)]))
    start = time.perf_counter()
    count = sum(1 for c in oai_create(oai(fake_server), stream=True) if c.choices[0].delta.content)
    elapsed = time.perf_counter() - start
    assert count == n
    assert elapsed < 3.0, f"5,000-chunk stream took {elapsed:.2f}s"


# ------------------------------------------------------------------ replays
def _replay_openai(server: FakeProviderServer, path: Path, size: int) -> dict[str, Any]:
    server.script(Reply.replay(path, chunk_size=size))
    with oai(server).chat.completions.stream(model="gpt-4o-mini", messages=OAI_USER) as s:
        final = s.get_final_completion()
    choice = final.choices[0]
    calls = [(c.function.name, c.function.arguments) for c in choice.message.tool_calls or []]
    return {
        "text": choice.message.content,
        "finish": choice.finish_reason,
        "total": final.usage.total_tokens if final.usage else None,
        "calls": calls,
    }


def _replay_anthropic(server: FakeProviderServer, path: Path, size: int) -> dict[str, Any]:
    server.script(Reply.replay(path, chunk_size=size))
    with ant(server).messages.stream(model="claude-x", max_tokens=100, messages=ANT_USER) as s:
        final = s.get_final_message()
    return {
        "blocks": [b.type for b in final.content],
        "text": "".join(b.text for b in final.content if b.type == "text"),
        "finish": final.stop_reason,
        "usage": (final.usage.input_tokens, final.usage.output_tokens),
        "tools": [(b.name, b.input) for b in final.content if b.type == "tool_use"],
    }


def _replay_gemini(server: FakeProviderServer, path: Path, size: int) -> dict[str, Any]:
    server.script(Reply.replay(path, chunk_size=size))
    chunks = gem_stream(gem(server))
    return {
        "chunks": [c.text for c in chunks],
        "finish": chunks[-1].candidates[0].finish_reason,
        "total": chunks[-1].usage_metadata.total_token_count,
    }


REPLAY_EXPECTATIONS: dict[str, dict[str, Any]] = {
    "openai_stream_0.sse": {
        "text": None,
        "finish": "tool_calls",
        "total": 68,
        "calls": [("get_capital", '{"country":"UK"}')],
    },
    "openai_stream_1.sse": {
        "text": "The capital of the UK is London.",
        "finish": "stop",
        "total": 87,
        "calls": [],
    },
    "anthropic_stream_text.sse": {
        "blocks": ["text"],
        "text": "2",
        "finish": "end_turn",
        "usage": (20, 5),
        "tools": [],
    },
    "gemini_stream.sse": {
        "chunks": ["The", " capital of France", " is Paris.\n"],
        "finish": genai_types.FinishReason.STOP,
        "total": 21,
    },
}


@pytest.mark.parametrize("chunk_size", [97, 1, 4096])
@pytest.mark.parametrize("name", RECORDED_STREAMS)
def test_replay_recordings(fake_server: FakeProviderServer, name: str, chunk_size: int) -> None:
    path = recording(name)
    if name.startswith("openai"):
        got = _replay_openai(fake_server, path, chunk_size)
    elif name.startswith("anthropic"):
        got = _replay_anthropic(fake_server, path, chunk_size)
        assert got["finish"] in ("end_turn", "tool_use")
        assert got["blocks"]
        assert got["usage"][1] >= 5
        if "tool_0" in name:
            assert got["finish"] == "tool_use"
            assert ("get_exchange_rate", {"from_currency": "USD", "to_currency": "EUR"}) in got[
                "tools"
            ]
        if "redacted" in name:
            assert got["blocks"] == ["redacted_thinking", "redacted_thinking", "text"]
            assert got["usage"] == (92, 189)
        if "tool_1" in name:
            assert got["usage"] == (1007, 59)
    else:
        got = _replay_gemini(fake_server, path, chunk_size)
    if name in REPLAY_EXPECTATIONS:
        assert got == REPLAY_EXPECTATIONS[name]


# -------------------------------------------------------------------- errors
OPENAI_ERRORS = [
    (400, openai.BadRequestError),
    (401, openai.AuthenticationError),
    (403, openai.PermissionDeniedError),
    (404, openai.NotFoundError),
    (409, openai.ConflictError),
    (422, openai.UnprocessableEntityError),
    (429, openai.RateLimitError),
    (500, openai.InternalServerError),
    (503, openai.InternalServerError),
]
ANTHROPIC_ERRORS = [
    (400, anthropic.BadRequestError, "invalid_request_error"),
    (401, anthropic.AuthenticationError, "authentication_error"),
    (402, anthropic.PaymentRequiredError, "billing_error"),
    (403, anthropic.PermissionDeniedError, "permission_error"),
    (404, anthropic.NotFoundError, "not_found_error"),
    (413, anthropic.ContentTooLargeError, "request_too_large"),
    (429, anthropic.RateLimitError, "rate_limit_error"),
    (500, anthropic.InternalServerError, "api_error"),
    (503, anthropic.ServiceUnavailableError, "api_error"),
    (504, anthropic.GatewayTimeoutError, "timeout_error"),
    (529, anthropic.OverloadedError, "overloaded_error"),
]
GEMINI_ERRORS = [
    (400, genai_errors.ClientError, "INVALID_ARGUMENT"),
    (403, genai_errors.ClientError, "PERMISSION_DENIED"),
    (404, genai_errors.ClientError, "NOT_FOUND"),
    (429, genai_errors.ClientError, "RESOURCE_EXHAUSTED"),
    (500, genai_errors.ServerError, "INTERNAL"),
    (503, genai_errors.ServerError, "UNAVAILABLE"),
    (504, genai_errors.ServerError, "DEADLINE_EXCEEDED"),
]


@pytest.mark.parametrize(("status", "exc"), OPENAI_ERRORS)
def test_openai_error_statuses(fake_server: FakeProviderServer, status: int, exc: type) -> None:
    fake_server.script(Reply.error(status, message="boom", retry_after=0, retry_after_ms=5))
    with pytest.raises(exc) as info:
        oai_create(oai(fake_server))
    err = info.value
    assert isinstance(err, openai.APIStatusError)
    assert err.status_code == status
    assert "boom" in err.message
    assert err.request_id
    assert err.request_id.startswith("req_")
    assert err.response.headers["retry-after"] == "0"
    assert err.response.headers["retry-after-ms"] == "5"
    if status == 429:
        assert err.code == "rate_limit_exceeded"


@pytest.mark.parametrize(("status", "exc", "etype"), ANTHROPIC_ERRORS)
def test_anthropic_error_statuses(
    fake_server: FakeProviderServer, status: int, exc: type, etype: str
) -> None:
    http_date = "Wed, 21 Oct 2015 07:28:00 GMT"
    fake_server.script_for("anthropic", Reply.error(status, retry_after=http_date))
    with pytest.raises(exc) as info:
        ant_create(ant(fake_server))
    err = info.value
    assert isinstance(err, anthropic.APIStatusError)
    assert err.status_code == status
    assert isinstance(err.body, dict)
    assert err.body["error"]["type"] == etype
    assert err.body["type"] == "error"
    assert err.body["request_id"] == err.request_id
    assert err.response.headers["retry-after"] == http_date


@pytest.mark.parametrize(("status", "exc", "gstatus"), GEMINI_ERRORS)
def test_gemini_error_statuses(
    fake_server: FakeProviderServer, status: int, exc: type[genai_errors.APIError], gstatus: str
) -> None:
    fake_server.script(Reply.error(status, message="nope", retry_after=7).times(2))
    client = gem(fake_server)
    for call in (gem_generate, gem_stream):
        with pytest.raises(exc) as info:
            call(client)
        assert info.value.code == status
        assert info.value.status == gstatus
        assert info.value.message == "nope"
    if status == 429:
        details = info.value.details["error"]["details"]
        assert details[0]["retryDelay"] == "7s"


def test_error_type_override_and_raw_html(fake_server: FakeProviderServer) -> None:
    fake_server.script(
        Reply.error(429, error_type="insufficient_quota", message="quota"),
        Reply.raw(502, b"<html><body>502 Bad Gateway</body></html>"),
    )
    with pytest.raises(openai.RateLimitError) as info:
        oai_create(oai(fake_server))
    assert info.value.type == "insufficient_quota"
    with pytest.raises(openai.InternalServerError) as info2:
        oai_create(oai(fake_server))
    assert info2.value.status_code == 502
    assert info2.value.response.headers["content-type"] == "text/html"
    assert b"502 Bad Gateway" in info2.value.response.content


def test_openai_sdk_retries_on_scripted_429(fake_server: FakeProviderServer) -> None:
    """The motivating scenario: a retrying client sees 429 then succeeds."""
    fake_server.script(Reply.error(429, retry_after=0, retry_after_ms=1), Reply.text("hi"))
    client = openai.OpenAI(api_key="sk", base_url=fake_server.openai_base_url, max_retries=2)
    assert oai_create(client).choices[0].message.content == "hi"
    retries = [r.headers.get("x-stainless-retry-count") for r in fake_server.requests]
    assert retries == ["0", "1"]


def test_script_order_times_and_reset(fake_server: FakeProviderServer) -> None:
    fake_server.script(Reply.text("shared-1"), Reply.text("shared-2"))
    fake_server.script_for("anthropic", Reply.text("ant-only").times(2))
    assert fake_server.pending == 4
    assert ant_create(ant(fake_server)).content[0].text == "ant-only"
    assert oai_create(oai(fake_server)).choices[0].message.content == "shared-1"
    assert ant_create(ant(fake_server)).content[0].text == "ant-only"
    assert ant_create(ant(fake_server)).content[0].text == "shared-2"
    assert ant_create(ant(fake_server)).content[0].text.startswith("echo: ")
    fake_server.script(Reply.text("dropped"))
    fake_server.reset()
    assert fake_server.pending == 0
    assert fake_server.requests == []
    assert fake_server.connections_opened == 0
    with pytest.raises(ValueError, match="unknown protocol"):
        fake_server.script_for("cohere", Reply.text())  # type: ignore[arg-type]


# ----------------------------------------------------------- mid-stream errors
def test_mid_stream_errors_raise_in_every_sdk(fake_server: FakeProviderServer) -> None:
    fake_server.script(Reply.stream_error(after_chunks=2).times(3))

    seen: list[Any] = []
    with pytest.raises(openai.APIError, match="Overloaded"):
        drain(oai_create(oai(fake_server), stream=True), seen, lambda c: c.choices[0].delta.content)
    assert "".join(t for t in seen if t) == "part0 part1"

    texts: list[Any] = []
    with pytest.raises(anthropic.APIStatusError) as info:
        drain(ant_create(ant(fake_server), stream=True), texts, anthropic_delta_text)
    assert [t for t in texts if t is not None] == ["part0", " part1"]
    assert info.value.status_code == 200
    assert info.value.type == "overloaded_error"

    gtexts: list[Any] = []
    gclient = gem(fake_server)  # keep a reference: a collected Client closes its transport
    with pytest.raises(genai_errors.ServerError) as ginfo:
        drain(gclient.models.generate_content_stream(model="g", contents="hi"), gtexts, _text)
    assert gtexts == ["part0", " part1"]
    assert (ginfo.value.code, ginfo.value.status) == (503, "UNAVAILABLE")


# -------------------------------------------------------------------- faults
def test_transport_faults(fake_server: FakeProviderServer) -> None:
    client = oai(fake_server)
    fake_server.script(Reply.reset_before())
    with pytest.raises(openai.APIConnectionError):
        oai_create(client)

    fake_server.script(Reply.reset_during(after_chunks=2))
    got: list[Any] = []
    with pytest.raises((openai.APIConnectionError, httpx2.HTTPError)):
        drain(oai_create(client, stream=True), got, lambda c: c.choices[0].delta.content or "")
    assert "".join(got) == "part0 part1"

    fake_server.script(Reply.truncated_stream(after_chunks=3))
    chunks = list(oai_create(client, stream=True))
    assert [c.choices[0].finish_reason for c in chunks] == [None] * 4  # no finish, no [DONE]

    fake_server.script(Reply.malformed_sse(after_chunks=1))
    with pytest.raises(json.JSONDecodeError):
        list(oai_create(client, stream=True))

    fake_server.script(Reply.malformed_json(), Reply.empty_body())
    with pytest.raises(json.JSONDecodeError):
        oai_create(client)
    with pytest.raises(json.JSONDecodeError):
        oai_create(client)
    # The server survived all of that.
    assert oai_create(client).choices[0].message.content.startswith("echo:")
    assert fake_server.errors == []


def test_truncated_streams_other_protocols(fake_server: FakeProviderServer) -> None:
    fake_server.script(Reply.truncated_stream(after_chunks=2).times(2))
    types_ = [e.type for e in ant_create(ant(fake_server), stream=True)]
    assert "message_delta" not in types_
    assert "message_stop" not in types_
    assert types_.count("content_block_delta") == 2
    chunks = gem_stream(gem(fake_server))
    assert [c.text for c in chunks] == ["part0", " part1"]
    assert all(c.candidates[0].finish_reason is None for c in chunks)


def test_reset_before_anthropic_and_gemini(fake_server: FakeProviderServer) -> None:
    fake_server.script(Reply.reset_before().times(2))
    with pytest.raises(anthropic.APIConnectionError):
        ant_create(ant(fake_server))
    with pytest.raises(httpx2.HTTPError):
        gem_generate(gem(fake_server))


# ---------------------------------------------------------------- keep-alive
def test_keep_alive_reuse_every_protocol(fake_server: FakeProviderServer) -> None:
    # Each client paired with its call: Any links one SDK's client to its own call.
    protocols: list[tuple[Callable[[FakeProviderServer], Any], Callable[[Any], object]]] = [
        (oai, oai_create),
        (ant, ant_create),
        (gem, gem_generate),
    ]
    for make, call in protocols:
        fake_server.close_connections()
        assert fake_server.wait_until(lambda s: s.connections_open == 0)
        fake_server.reset()
        client = make(fake_server)
        for i in range(30):
            fake_server.script(Reply.text(f"r{i}", chunk_delay=0))
            call(client)
        assert fake_server.connections_opened == 1, make.__name__
        assert len({r.connection_id for r in fake_server.requests}) == 1


def test_keep_alive_across_streams_and_errors(fake_server: FakeProviderServer) -> None:
    """Error responses and complete streams leave the connection reusable.

    (Not asserted for OpenAI streams: openai's ``Stream`` breaks at ``[DONE]``
    and closes the response before reading the chunked terminator, so the
    SDK itself discards that connection whatever the server does.)
    """
    client = oai(fake_server)
    fake_server.script(Reply.error(429), Reply.text("a"), Reply.error(500), Reply.error(400))
    for _ in range(4):
        with contextlib.suppress(openai.APIStatusError):
            oai_create(client)
    aclient = ant(fake_server)
    for _ in range(3):
        list(ant_create(aclient, stream=True))
    gclient = gem(fake_server)
    for _ in range(3):
        gem_stream(gclient)
    ids = [r.connection_id for r in fake_server.requests]
    assert len(set(ids[:4])) == 1
    assert len(set(ids[4:7])) == 1
    assert len(set(ids[7:])) == 1
    assert fake_server.connections_opened == 3


# ----------------------------------------------------- early close and stalls
def test_early_close_of_stream_is_observed(fake_server: FakeProviderServer) -> None:
    fake_server.script(Reply.text(" ".join(["w"] * 200), chunk_delay=0.02))
    client = oai(fake_server)
    stream = oai_create(client, stream=True)
    it = iter(stream)
    next(it)
    next(it)
    stream.close()
    assert fake_server.wait_until(lambda s: s.disconnects == 1 and s.connections_open == 0)
    # Healthy afterwards.
    assert oai_create(client).choices[0].message.content.startswith("echo:")


def test_stall_times_out_client_and_server_stays_healthy(fake_server: FakeProviderServer) -> None:
    fake_server.script(Reply.stall(), Reply.stall(after_chunks=1))
    client = oai(fake_server, timeout=0.3)
    start = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        oai_create(client)
    with pytest.raises((openai.APITimeoutError, httpx2.TimeoutException)):
        list(oai_create(client, stream=True))
    assert time.perf_counter() - start < 3
    assert fake_server.wait_until(lambda s: s.disconnects == 2 and s.connections_open == 0)
    assert oai_create(client).choices[0].message.content.startswith("echo:")


def test_stalled_connection_does_not_block_shutdown() -> None:
    server = FakeProviderServer().start()
    server.script(Reply.stall())
    sock = socket.create_connection(("127.0.0.1", server.port))
    body = b'{"model":"m","messages":[{"role":"user","content":"x"}]}'
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    assert server.wait_until(lambda s: len(s.requests) == 1)
    start = time.perf_counter()
    server.close()
    assert time.perf_counter() - start < 1.0
    assert sock.recv(100) == b""  # closed without a response
    sock.close()


# ---------------------------------------------------------------- validation
def _openai_400(server: FakeProviderServer, **kw: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as info:
        oai_create(oai(server), **kw)
    assert server.requests[-1].validation_error == info.value.body["message"]  # type: ignore[index]
    return info.value


def test_openai_validation(fake_server: FakeProviderServer) -> None:
    e = _openai_400(fake_server, temperature=2.5)
    assert (e.param, e.code) == ("temperature", "decimal_above_max_value")
    e = _openai_400(fake_server, messages=[])
    assert e.code == "empty_array"
    e = _openai_400(fake_server, messages=[{"role": "bot", "content": "x"}])
    assert (e.param, e.code) == ("messages[0].role", "invalid_value")
    e = _openai_400(fake_server, extra_body={"top_k": 5})
    assert e.message.endswith("Unrecognized request argument supplied: top_k")
    e = _openai_400(fake_server, stop=["a", "b", "c", "d", "e"])
    assert e.code == "array_above_max_length"
    e = _openai_400(fake_server, stream_options={"include_usage": True})
    assert e.param == "stream_options"
    e = _openai_400(fake_server, model="o3-mini", temperature=0.2)
    assert (e.param, e.code) == ("temperature", "unsupported_value")
    e = _openai_400(fake_server, model="gpt-5", max_tokens=10)
    assert (e.param, e.code) == ("max_tokens", "unsupported_parameter")
    e = _openai_400(fake_server, model="o1", presence_penalty=0.5)
    assert e.code == "unsupported_parameter"
    # Accepted: reasoning model with the default temperature and max_completion_tokens.
    ok = oai_create(oai(fake_server), model="o3", temperature=1, max_completion_tokens=5)
    assert ok.choices[0].message.content
    assert fake_server.requests[-1].validation_error is None


def test_anthropic_validation(fake_server: FakeProviderServer) -> None:
    client = ant(fake_server)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"extra_body": {"temperature": 1.5}}, "temperature: Input should be less than"),
        ({"messages": []}, "messages: List should have at least 1 item"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages.0.role"),
        ({"model": "claude-opus-4-7", "extra_body": {"temperature": 0.2}}, "`temperature` is"),
        ({"model": "claude-sonnet-5", "extra_body": {"top_p": 0.9}}, "`top_p` is deprecated"),
        ({"model": "claude-mythos-1", "extra_body": {"top_k": 5}}, "`top_k` is deprecated"),
        ({"max_tokens": 0}, "max_tokens: Input should be greater than or equal to 1"),
        ({"system": [{"type": "image"}]}, "system.0.type"),
    ]
    for kw, expected in cases:
        with pytest.raises(anthropic.BadRequestError) as info:
            ant_create(client, **kw)
        assert info.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
        assert expected in (fake_server.requests[-1].validation_error or ""), kw
    # claude-sonnet-4-6 still takes sampling parameters.
    assert ant_create(client, extra_body={"temperature": 0.2, "top_k": 3}).content


def test_gemini_validation(fake_server: FakeProviderServer) -> None:
    client = gem(fake_server)
    cfg = genai_types.GenerateContentConfig
    cases: list[tuple[dict[str, Any], str]] = [
        ({"config": cfg(temperature=3.0)}, "temperature"),
        ({"config": cfg(candidate_count=9)}, "candidate_count"),
        ({"config": cfg(top_p=1.5)}, "top_p"),
        ({"config": cfg(stop_sequences=list("abcdef"))}, "stop_sequences"),
        ({"contents": [genai_types.Content(role="assistant", parts=[genai_types.Part(text="x")])]},
         "valid role"),
    ]  # fmt: skip
    for kw, expected in cases:
        with pytest.raises(genai_errors.ClientError) as info:
            gem_generate(client, **kw)
        assert (info.value.code, info.value.status) == (400, "INVALID_ARGUMENT")
        assert expected in (fake_server.requests[-1].validation_error or ""), kw
    with httpx2.Client() as http:
        url = f"{fake_server.url}/v1beta/models/g:generateContent"
        headers = {"x-goog-api-key": "k"}
        r = http.post(url, json={"contents": []}, headers=headers)
        assert r.status_code == 400
        assert "contents is not specified" in r.text
        r = http.post(
            url,
            json={
                "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                "generation_config": {"max_output_tokens": 5, "top_k": 40.0},
                "system_instruction": {"parts": [{"text": "terse"}]},
            },
            headers=headers,
        )
        assert r.status_code == 200, r.text  # snake_case accepted, float topK accepted
        r = http.post(
            url,
            json={"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"max_tokens": 5}},
            headers=headers,
        )
        assert r.status_code == 400
        assert 'Unknown name "max_tokens"' in r.json()["error"]["message"]


def test_auth_errors(fake_server: FakeProviderServer) -> None:
    with pytest.raises(openai.AuthenticationError) as oinfo:
        oai_create(oai(fake_server, api_key="bad-key"))
    assert oinfo.value.code == "invalid_api_key"
    with pytest.raises(anthropic.AuthenticationError) as ainfo:
        ant_create(ant(fake_server, api_key="bad-key"))
    assert ainfo.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    with pytest.raises(genai_errors.ClientError) as ginfo:
        gem_generate(gem(fake_server, api_key="bad-key"))
    assert (ginfo.value.code, ginfo.value.status) == (400, "INVALID_ARGUMENT")
    assert ginfo.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    with httpx2.Client() as http:
        r = http.post(f"{fake_server.openai_base_url}/chat/completions", json={})
        assert r.status_code == 401
        r = http.post(f"{fake_server.url}/v1/models/g:generateContent", json={})
        assert r.status_code == 403
        r = http.get(f"{fake_server.url}/nowhere")
        assert r.status_code == 404
    # Rejections never consume the script.
    assert fake_server.pending == 0


# ------------------------------------------------------------------ capacity
def test_many_concurrent_connections(fake_server: FakeProviderServer) -> None:
    """300 clients at once, each on its own connection (load tests go to 1,000)."""
    n = 300
    body = b'{"model":"m","messages":[{"role":"user","content":"x"}]}'
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    barrier = threading.Barrier(n)
    statuses: list[bytes] = []
    lock = threading.Lock()

    def worker() -> None:
        with socket.create_connection(("127.0.0.1", fake_server.port), timeout=10) as s:
            barrier.wait()
            s.sendall(request)
            data = s.recv(65536)
            with lock:
                statuses.append(data[:12])

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [b"HTTP/1.1 200"] * n
    assert fake_server.connections_opened == n
    assert fake_server.wait_until(lambda s: s.connections_open == 0)


def test_wait_until_times_out(fake_server: FakeProviderServer) -> None:
    start = time.perf_counter()
    assert not fake_server.wait_until(lambda s: s.connections_open > 99, timeout=0.2)
    assert 0.15 < time.perf_counter() - start < 1.0


@pytest.fixture
def private_server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer(strict=False) as server:
        yield server


def test_non_strict_mode_skips_validation(private_server: FakeProviderServer) -> None:
    r = oai_create(oai(private_server), temperature=9)
    assert r.choices[0].message.content
    assert private_server.requests[-1].validation_error is None


def test_env_fixture_points_default_clients_at_the_fake(
    fake_provider_env: FakeProviderServer,
) -> None:
    """SDK clients built with no arguments reach the fake through env vars."""
    fake_provider_env.default = Reply.text("via env")
    assert oai_create(openai.OpenAI(max_retries=0)).choices[0].message.content == "via env"
    assert ant_create(anthropic.Anthropic(max_retries=0)).content[0].text == "via env"
    client = genai.Client()
    assert gem_generate(client).text == "via env"
    assert [r.protocol for r in fake_provider_env.requests] == ["openai", "anthropic", "gemini"]


@pytest.mark.parametrize(
    ("path", "headers", "needle"),
    [
        ("/v1/chat/completions", {"authorization": "Bearer k"}, "could not parse the JSON"),
        ("/v1/messages", {"x-api-key": "k", "anthropic-version": "2023-06-01"}, "not valid JSON"),
        ("/v1beta/models/g:generateContent", {"x-goog-api-key": "k"}, "Invalid JSON payload"),
    ],
)
def test_invalid_json_body_is_a_400(
    fake_server: FakeProviderServer, path: str, headers: dict[str, str], needle: str
) -> None:
    with httpx2.Client() as http:
        r = http.post(fake_server.url + path, content=b"{not json", headers=headers)
    assert r.status_code == 400
    assert needle in r.text
    assert fake_server.requests[-1].body is None
    assert fake_server.requests[-1].raw_body == b"{not json"


def test_garbage_and_abrupt_clients_do_not_hurt_the_server(fake_server: FakeProviderServer) -> None:
    def raw(data: bytes, *, read: bool) -> bytes:
        with socket.create_connection(("127.0.0.1", fake_server.port), timeout=5) as s:
            s.sendall(data)
            return s.recv(4096) if read else b""

    assert raw(b"GARBAGE\r\n\r\n", read=True).startswith(b"HTTP/1.1 400")
    raw(b"POST /v1/chat/completions HTTP/1.1\r\nContent-Le", read=False)
    raw(b"POST /v1/messages HTTP/1.1\r\nContent-Length: 100\r\n\r\n{}", read=False)
    chunked = (
        b"POST /v1/chat/completions HTTP/1.1\r\nAuthorization: Bearer k\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        b'8\r\n{"model"\r\n31\r\n:"m","messages":[{"role":"user","content":"hi"}]}\r\n0\r\n\r\n'
    )
    assert raw(chunked, read=True).startswith(b"HTTP/1.1 200")
    assert fake_server.wait_until(lambda s: s.connections_open == 0)
    assert fake_server.errors == []
    assert (
        oai_create(oai(fake_server)).choices[0].message.content
        == "echo: What is the capital of France?"
    )


def test_bench_server_tool_calls_and_structured_answers_parse_in_the_sdks() -> None:
    """``fakeprovider.lean`` answers what ``bench.tools``/``bench.structured`` ask with bytes
    the real SDK helpers accept: a streamed call whose arguments arrive in one event per
    piece (joining to the JSON object), a tool call, and a structured JSON answer."""
    from bench._common import BenchServer
    from fakeprovider.lean import STREAM_TOOL, STRUCTURED, TOOL_CALL, argument_pieces

    pieces = argument_pieces(40)
    assert len(pieces) == 40
    expected = json.loads("".join(pieces))
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    user: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
    with BenchServer(chunks=40) as server:
        oa = openai.OpenAI(api_key="k", base_url=server.base_url("openai"), max_retries=0)
        tools: Any = [{"type": "function", "function": {"name": STREAM_TOOL, "parameters": schema}}]
        with oa.chat.completions.stream(model="gpt-4o", messages=user, tools=tools) as stream:
            deltas = [
                e.arguments_delta
                for e in stream
                if e.type == "tool_calls.function.arguments.delta" and e.arguments_delta
            ]
            call = stream.get_final_completion().choices[0].message.tool_calls[0]  # type: ignore[index]
        assert deltas == list(pieces)
        assert (call.function.name, json.loads(call.function.arguments)) == (STREAM_TOOL, expected)
        answer = oa.chat.completions.create(model="gpt-4o", messages=user, tools=tools)
        made = answer.choices[0].message.tool_calls[0]  # type: ignore[index]
        assert (made.function.name, json.loads(made.function.arguments)) == TOOL_CALL  # type: ignore[union-attr]
        fmt: Any = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
        text = oa.chat.completions.create(model="gpt-4o", messages=user, response_format=fmt)
        assert json.loads(text.choices[0].message.content or "") == STRUCTURED

        an = anthropic.Anthropic(api_key="k", base_url=server.base_url("anthropic"), max_retries=0)
        declared: Any = [{"name": STREAM_TOOL, "input_schema": schema}]
        args: Any = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": user}
        with an.messages.stream(**args, tools=declared) as astream:
            partial = [e.partial_json for e in astream if e.type == "input_json" and e.partial_json]
            block = astream.get_final_message().content[0]
        assert partial == list(pieces)
        assert block.type == "tool_use"
        assert (block.name, block.input) == (STREAM_TOOL, expected)
        used = an.messages.create(**args, tools=declared).content[0]
        assert used.type == "tool_use"
        assert (used.name, used.input) == TOOL_CALL
        config: Any = {"format": {"type": "json_schema", "schema": schema}}
        structured = an.messages.create(**args, output_config=config).content[0]
        assert structured.type == "text"
        assert json.loads(structured.text) == STRUCTURED
        assert server.stats()["by_route"] == {
            "openai-tool-stream": 1,
            "openai-tool": 1,
            "openai-structured": 1,
            "anthropic-tool-stream": 1,
            "anthropic-tool": 1,
            "anthropic-structured": 1,
        }
