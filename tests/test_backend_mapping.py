"""The Anthropic and Gemini backends' own mapping, through the real SDKs and the fake server.

Every test loads a model with ``genkit.load()`` and asserts on what the vendor SDK
put on the wire (``server.requests``) and on what genkit made of the answer.  Nothing
is mocked; the fake server speaks each provider's protocol and refuses bodies the
real API would refuse.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from google.genai import errors as genai_errors

import genkit
from fakeprovider import FakeProviderServer, Reply
from genkit.backends.anthropic._request import DEFAULT_MAX_TOKENS
from tests.shared_recordings import recording

FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)
ANTHROPIC_KEY = "sk-ant-mapping-0123456789abcdef"
GEMINI_KEY = "AIza-mapping-0123456789abcdef"
CLAUDE = "anthropic:claude-sonnet-4-6"
GEMINI = "gemini:gemini-2.5-flash"


@dataclass(frozen=True)
class Hosted:
    """What the provider-parametrized tests need to know about one backend."""

    model: str
    sdk_error: type[BaseException]

    def __str__(self) -> str:
        return self.model.split(":", 1)[0]


BOTH = [Hosted(CLAUDE, anthropic.APIError), Hosted(GEMINI, genai_errors.APIError)]


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    """The fake server, with each SDK pointed at it by its own environment variables."""
    for name in (
        "GOOGLE_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_GENAI_USE_ENTERPRISE",
        "GOOGLE_GENAI_API_VERSION",
        "GOOGLE_GENAI_HTTP_CLIENT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_server.anthropic_base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_server.gemini_base_url)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    return fake_server


def last_body(server: FakeProviderServer) -> dict[str, Any]:
    """The body of the last request, which the strict fake must have accepted."""
    request = server.requests[-1]
    assert request.validation_error is None, request.validation_error
    assert request.body is not None
    return request.body


def config(body: dict[str, Any]) -> dict[str, Any]:
    generation_config: dict[str, Any] = body["generationConfig"]
    return generation_config


def sse(*events: dict[str, Any], named: bool = False) -> bytes:
    """An SSE body: Anthropic names every event, Gemini names none (and uses CRLF)."""
    if named:
        return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)
    return b"".join(f"data: {json.dumps(e)}\r\n\r\n".encode() for e in events)


def gemini_json(payload: dict[str, Any]) -> Reply:
    return Reply.raw(200, json.dumps(payload).encode(), content_type="application/json")


def gemini_stream(*chunks: dict[str, Any]) -> Reply:
    return Reply.raw(200, sse(*chunks), content_type="text/event-stream")


def collect(stream: genkit.Stream) -> list[str]:
    return [chunk.text for chunk in stream]


def read_into(stream: genkit.Stream, got: list[str]) -> None:
    """Read a stream, keeping each chunk's text in ``got`` even when the stream then fails."""
    for chunk in stream:
        got.append(chunk.text)


# =========================================================================== Anthropic


def test_anthropic_every_shared_parameter_lands_in_its_field(server: FakeProviderServer) -> None:
    genkit.load(CLAUDE).generate(
        "hi", max_tokens=17, temperature=0.5, top_p=0.9, top_k=40, stop=["END", "STOP"]
    )
    body = last_body(server)
    assert body["model"] == "claude-sonnet-4-6"
    assert body["max_tokens"] == 17
    assert body["temperature"] == 0.5
    assert body["top_p"] == 0.9
    assert body["top_k"] == 40
    assert body["stop_sequences"] == ["END", "STOP"]
    assert not {"stop", "n", "seed"} & body.keys()


def test_anthropic_sends_a_default_max_tokens(server: FakeProviderServer) -> None:
    genkit.load(CLAUDE).generate("hi")
    assert last_body(server)["max_tokens"] == DEFAULT_MAX_TOKENS == 4096


def test_anthropic_large_max_tokens_is_sent_not_refused_by_the_sdk(
    server: FakeProviderServer,
) -> None:
    # Without an explicit timeout anthropic refuses this before any request (ValueError).
    genkit.load(CLAUDE).generate("hi", max_tokens=64_000)
    assert last_body(server)["max_tokens"] == 64_000


def test_anthropic_system_messages_become_the_top_level_system(
    server: FakeProviderServer,
) -> None:
    prompt = [
        {"role": "system", "content": "be terse"},
        {"role": "system", "content": "answer in French"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "bonjour"},
        {"role": "user", "content": "and?"},
    ]
    genkit.load(CLAUDE).generate(prompt)
    body = last_body(server)
    assert body["system"] == "be terse\n\nanswer in French"
    assert body["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "bonjour"},
        {"role": "user", "content": "and?"},
    ]


def test_anthropic_system_keyword_and_no_system(server: FakeProviderServer) -> None:
    gen = genkit.load(CLAUDE)
    gen.generate("hi", system="be terse")
    assert last_body(server)["system"] == "be terse"
    gen.generate("hi")
    assert "system" not in last_body(server)


NEWEST_CLAUDES = [
    "claude-opus-4-7",
    "claude-opus-4-8-20270101",
    "claude-opus-4-10",
    "claude-opus-5",
    "claude-sonnet-5-20280101",
    "claude-haiku-5",
    "claude-fable-1",
    "claude-mythos-preview",
]


@pytest.mark.parametrize("model", NEWEST_CLAUDES)
@pytest.mark.parametrize("name", ["temperature", "top_p", "top_k"])
def test_anthropic_newest_models_reject_sampling_before_any_request(
    server: FakeProviderServer, model: str, name: str
) -> None:
    params: dict[str, Any] = {name: 40 if name == "top_k" else 0.5}
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        genkit.load(f"anthropic:{model}").generate("hi", **params)
    assert info.value.parameter == name
    assert info.value.provider == "anthropic"
    assert {"max_tokens", "stop", "n"} <= set(info.value.supported)
    assert len(server.requests) == 0


@pytest.mark.parametrize("model", ["claude-opus-4-7", "claude-sonnet-5"])
def test_anthropic_dropping_sampling_on_the_newest_models_is_accepted(
    server: FakeProviderServer, model: str
) -> None:
    gen = genkit.load(f"anthropic:{model}", temperature=0.3, top_k=5, drop_unsupported=True)
    result = gen.generate("hi", max_tokens=8, stop="END")
    body = last_body(server)
    assert not {"temperature", "top_p", "top_k"} & body.keys()
    assert body["max_tokens"] == 8
    assert body["stop_sequences"] == ["END"]
    assert len(result.warnings) == 2


@pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    "model",
    [
        "claude-opus-4-6",
        "claude-opus-4-5-20251101",
        "claude-opus-4-1-20250805",
        "claude-opus-4-20250514",
        "claude-sonnet-4-6",
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
        "claude-3-5-sonnet-20241022",
        "claude-3-haiku-20240307",
        "claude-next-unknown",
    ],
)
def test_anthropic_older_and_unknown_models_take_sampling(
    server: FakeProviderServer, model: str
) -> None:
    genkit.load(f"anthropic:{model}").generate("hi", temperature=0.3, top_p=0.8, top_k=3)
    body = last_body(server)
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.3, 0.8, 3)


def test_anthropic_temperature_above_one_is_refused_not_clamped(
    server: FakeProviderServer,
) -> None:
    with pytest.raises(genkit.InvalidParameterError, match=r"\[0, 1\]") as info:
        genkit.load(CLAUDE).generate("hi", temperature=1.5)
    assert info.value.parameter == "temperature"
    assert len(server.requests) == 0


@pytest.mark.parametrize("name", ["seed", "presence_penalty", "frequency_penalty"])
def test_anthropic_has_no_seed_or_penalties(server: FakeProviderServer, name: str) -> None:
    params: dict[str, Any] = {name: 1}
    with pytest.raises(genkit.UnsupportedParameterError):
        genkit.load(CLAUDE).generate("hi", **params)
    assert len(server.requests) == 0


@pytest.mark.parametrize("stop", ["\n", ["END", "  "]])
def test_anthropic_whitespace_stop_sequences_are_refused_first(
    server: FakeProviderServer, stop: str | list[str]
) -> None:
    with pytest.raises(genkit.InvalidParameterError, match="whitespace") as info:
        genkit.load(CLAUDE).generate("hi", stop=stop)
    assert info.value.parameter == "stop"
    assert len(server.requests) == 0


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "other"),
        ("a_reason_from_the_future", "other"),
    ],
)
def test_anthropic_stop_reasons(
    server: FakeProviderServer, stop_reason: str, expected: str
) -> None:
    server.script(Reply.text("x y", finish=stop_reason), Reply.text("x y", finish=stop_reason))
    gen = genkit.load(CLAUDE)
    assert gen.generate("hi").finish_reason == expected
    with gen.stream("hi") as stream:
        assert collect(stream) == ["x", " y"]
    assert stream.result.finish_reason == expected


def test_anthropic_usage_non_stream_and_stream(server: FakeProviderServer) -> None:
    server.script(Reply.text("a b c", usage=(3, 5)), Reply.text("a b c", usage=(3, 5)))
    gen = genkit.load(CLAUDE)
    assert gen.generate("hi").usage == genkit.Usage(3, 5)
    assert gen.stream("hi").result.usage == genkit.Usage(3, 5)


def test_anthropic_text_blocks_are_joined_and_other_blocks_skipped(
    server: FakeProviderServer,
) -> None:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "text", "text": "Let me check. "},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
            {"type": "text", "text": "Done."},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 4, "output_tokens": 9},
    }
    server.script(Reply.raw(200, json.dumps(message).encode(), content_type="application/json"))
    result = genkit.load(CLAUDE).generate("hi")
    assert result.text == "Let me check. Done."
    assert result.finish_reason == "tool_calls"
    assert result.model == "claude-sonnet-4-6"


def test_anthropic_stream_counts_input_from_message_start_when_delta_omits_it(
    server: FakeProviderServer,
) -> None:
    start: dict[str, Any] = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-x",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 11, "output_tokens": 1},
        },
    }
    events: list[dict[str, Any]] = [
        start,
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 6},
        },
        {"type": "message_stop"},
    ]
    server.script(Reply.raw(200, sse(*events, named=True), content_type="text/event-stream"))
    result = genkit.load(CLAUDE).stream("hi").result
    assert (result.text, result.finish_reason, result.usage) == ("ok", "stop", genkit.Usage(11, 6))
    assert result.model == "claude-x"


def test_anthropic_provider_options_go_to_the_body_and_win(server: FakeProviderServer) -> None:
    gen = genkit.load(CLAUDE, provider_options={"metadata": {"user_id": "u1"}})
    gen.generate("hi", top_k=3, provider_options={"top_k": 7, "service_tier": "auto"})
    body = last_body(server)
    assert body["metadata"] == {"user_id": "u1"}
    assert body["service_tier"] == "auto"
    assert body["top_k"] == 7


def test_anthropic_sdk_retries_are_off(server: FakeProviderServer) -> None:
    server.script(Reply.error(529, retry_after=0).times(3))
    with pytest.raises(genkit.ServerError):
        genkit.load(CLAUDE, retry=FAST).generate("hi")
    assert [r.headers.get("x-stainless-retry-count") for r in server.requests] == ["0"] * 3


def test_anthropic_explicit_key_and_base_url(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    key = "sk-ant-explicit-0123456789"
    gen = genkit.load(CLAUDE, api_key=key, base_url=server.anthropic_base_url)
    gen.generate("hi")
    headers = server.requests[-1].headers
    assert key in headers.get("x-api-key", "") + headers.get("authorization", "")
    assert key not in repr(gen)


def test_anthropic_missing_key_names_the_variable(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(genkit.MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        genkit.load(CLAUDE)


# ----------------------------------------------------------------- Anthropic n > 1


def test_anthropic_n_is_emulated_with_concurrent_requests(server: FakeProviderServer) -> None:
    server.script(*(Reply.text(word, usage=(2, 1)) for word in ("one", "two", "three")))
    result = genkit.load(CLAUDE).generate("hi", n=3)
    assert sorted(result.texts) == ["one", "three", "two"]
    assert result.finish_reasons == ["stop"] * 3
    assert result.usage == genkit.Usage(6, 3)  # every request is billed
    assert len(server.requests) == 3
    assert all("n" not in (r.body or {}) for r in server.requests)


async def test_anthropic_n_is_emulated_with_asyncio_gather(server: FakeProviderServer) -> None:
    server.script(Reply.text("one", usage=(2, 1)), Reply.text("two", usage=(2, 1)))
    gen = genkit.load(CLAUDE)
    result = await gen.agenerate("hi", n=2)
    assert sorted(result.texts) == ["one", "two"]
    assert result.usage == genkit.Usage(4, 2)
    assert len(server.requests) == 2
    await gen.aclose()


def test_anthropic_n_streams_every_candidate(server: FakeProviderServer) -> None:
    server.script(Reply.text("a b", usage=(2, 2)), Reply.text("c d", usage=(2, 2)))
    with genkit.load(CLAUDE).stream("hi", n=2) as stream:
        indexes = {chunk.index for chunk in stream}
    assert indexes == {0, 1}
    assert sorted(stream.result.texts) == ["a b", "c d"]
    assert stream.result.finish_reasons == ["stop", "stop"]
    assert stream.result.usage == genkit.Usage(4, 4)


async def test_anthropic_n_astreams_every_candidate(server: FakeProviderServer) -> None:
    server.script(Reply.text("a b"), Reply.text("c d"))
    gen = genkit.load(CLAUDE)
    stream = gen.astream("hi", n=2)
    result = await stream.get_result()
    assert sorted(result.texts) == ["a b", "c d"]
    assert len(server.requests) == 2
    await gen.aclose()


def test_anthropic_n_fails_as_a_whole_when_one_request_fails(server: FakeProviderServer) -> None:
    server.script(Reply.text("fine"), Reply.error(400))
    with pytest.raises(genkit.BadRequestError):
        genkit.load(CLAUDE).generate("hi", n=2)
    assert len(server.requests) == 2


def test_anthropic_n_stream_closes_every_connection_when_one_fails_to_open(
    server: FakeProviderServer,
) -> None:
    server.script(Reply.stall(after_chunks=1), Reply.error(403))
    with pytest.raises(genkit.PermissionDeniedError):
        collect(genkit.load(CLAUDE).stream("hi", n=2))
    assert server.wait_until(lambda s: s.disconnects == 1, timeout=5)


def test_anthropic_n_above_the_cap_is_refused(server: FakeProviderServer) -> None:
    with pytest.raises(genkit.InvalidParameterError, match="at most 8"):
        genkit.load(CLAUDE).generate("hi", n=9)
    assert len(server.requests) == 0


# ----------------------------------------------------------- Anthropic stream errors


@pytest.mark.parametrize(
    ("status", "error_type", "cls", "genkit_status"),
    [
        (529, "overloaded_error", genkit.ServerError, 529),
        (429, "rate_limit_error", genkit.RateLimitError, 429),
        (500, "api_error", genkit.ServerError, 500),
        (400, "invalid_request_error", genkit.BadRequestError, 400),
        (500, "brand_new_error", genkit.ServerError, 500),
    ],
)
def test_anthropic_mid_stream_error_event_is_typed_by_its_type(
    server: FakeProviderServer,
    status: int,
    error_type: str,
    cls: type[genkit.ProviderError],
    genkit_status: int,
) -> None:
    server.script(Reply.stream_error(after_chunks=2, status=status, error_type=error_type))
    stream = genkit.load(CLAUDE, retry=FAST).stream("hi")
    got: list[str] = []
    with pytest.raises(cls) as info:
        read_into(stream, got)
    error = info.value
    assert type(error) is cls
    assert (error.provider, error.status_code) == ("anthropic", genkit_status)
    assert isinstance(error.__cause__, anthropic.APIStatusError)
    assert error.__cause__.status_code == 200  # what the SDK says: it came inside a 200
    assert error.partial is not None
    assert error.partial.text == "".join(got) != ""
    assert error.partial.finish_reason is None
    assert len(server.requests) == 1


# ----------------------------------------------------------------- Anthropic replays


def _text_deltas(path: Path) -> str:
    """The text of a recorded Messages stream, read independently of genkit."""
    text = []
    for line in path.read_text().splitlines():
        if line.startswith("data:"):
            event = json.loads(line[5:])
            delta = event.get("delta", {})
            if event.get("type") == "content_block_delta" and delta.get("type") == "text_delta":
                text.append(delta["text"])
    return "".join(text)


@pytest.mark.parametrize(
    ("name", "finish", "usage", "model"),
    [
        ("anthropic_stream_text.sse", "stop", (20, 5), "claude-sonnet-4-5-20250929"),
        ("anthropic_stream_tool_0.sse", "tool_calls", (1591, 175), "claude-sonnet-4-6"),
        ("anthropic_stream_tool_1.sse", "stop", (1007, 59), "claude-sonnet-4-6"),
        ("anthropic_stream_redacted.sse", "stop", (92, 189), "claude-sonnet-4-5-20250929"),
    ],
)
@pytest.mark.parametrize("chunk_size", [1, 97])
def test_anthropic_real_recorded_streams(
    server: FakeProviderServer,
    name: str,
    finish: str,
    usage: tuple[int, int],
    model: str,
    chunk_size: int,
) -> None:
    server.script(Reply.replay(recording(name), chunk_size=chunk_size))
    result = genkit.load(CLAUDE).stream("hi").result
    assert result.text == _text_deltas(recording(name))
    assert result.finish_reason == finish
    assert result.usage == genkit.Usage(*usage)
    assert result.model == model


def test_anthropic_recorded_text_stream_exactly(server: FakeProviderServer) -> None:
    server.script(Reply.replay(recording("anthropic_stream_text.sse")))
    with genkit.load(CLAUDE).stream("1+1?") as stream:
        assert collect(stream) == ["2"]


# =========================================================================== Gemini


def test_gemini_every_shared_parameter_lands_in_generation_config(
    server: FakeProviderServer,
) -> None:
    server.script(Reply.text(candidates=["a", "b"]))
    genkit.load(GEMINI).generate(
        "hi",
        max_tokens=17,
        temperature=1.5,
        top_p=0.9,
        top_k=40,
        stop=["END", "STOP"],
        seed=7,
        n=2,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
    )
    generation = config(last_body(server))
    assert generation["maxOutputTokens"] == 17
    assert generation["temperature"] == 1.5
    assert generation["topP"] == 0.9
    assert generation["topK"] == 40
    assert generation["stopSequences"] == ["END", "STOP"]
    assert generation["seed"] == 7
    assert generation["candidateCount"] == 2
    assert generation["presencePenalty"] == 0.5
    assert generation["frequencyPenalty"] == -0.5


def test_gemini_system_and_roles(server: FakeProviderServer) -> None:
    prompt = [
        {"role": "system", "content": "be terse"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "system", "content": "answer in French"},
        {"role": "user", "content": "and?"},
    ]
    genkit.load(GEMINI).generate(prompt)
    body = last_body(server)
    assert body["systemInstruction"]["parts"] == [{"text": "be terse\n\nanswer in French"}]
    assert [(c["role"], c["parts"]) for c in body["contents"]] == [
        ("user", [{"text": "hi"}]),
        ("model", [{"text": "hello"}]),
        ("user", [{"text": "and?"}]),
    ]


def test_gemini_no_system_no_config(server: FakeProviderServer) -> None:
    genkit.load(GEMINI).generate("hi")
    body = last_body(server)
    assert "systemInstruction" not in body
    assert not body.get("generationConfig")


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("stop", ["a", "b", "c", "d", "e", "f"], "at most 5"),
        ("n", 9, "at most 8"),
        ("temperature", 2.5, r"\[0, 2\]"),
        ("presence_penalty", 2.5, r"\[-2, 2\]"),
        ("seed", 2**40, "2147483647"),
    ],
)
def test_gemini_limits_are_checked_before_any_request(
    server: FakeProviderServer, name: str, value: Any, allowed: str
) -> None:
    with pytest.raises(genkit.InvalidParameterError, match=allowed) as info:
        genkit.load(GEMINI).generate("hi", **{name: value})
    assert info.value.parameter == name
    assert len(server.requests) == 0


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "other"),
        ("UNEXPECTED_TOOL_CALL", "other"),
        ("LANGUAGE", "other"),
        ("OTHER", "other"),
    ],
)
def test_gemini_finish_reasons(server: FakeProviderServer, reason: str, expected: str) -> None:
    server.script(Reply.text("x y", finish=reason), Reply.text("x y", finish=reason))
    gen = genkit.load(GEMINI)
    assert gen.generate("hi").finish_reason == expected
    with gen.stream("hi") as stream:
        assert collect(stream) == ["x", " y"]
    assert stream.result.finish_reason == expected


FUNCTION_CALL = {
    "content": {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}]},
    "finishReason": "STOP",
    "index": 0,
}


def test_gemini_a_function_call_is_tool_calls(server: FakeProviderServer) -> None:
    server.script(
        gemini_json({"candidates": [FUNCTION_CALL]}),
        gemini_stream(
            {"candidates": [{**FUNCTION_CALL, "finishReason": None}]},
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": ""}]},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ]
            },
        ),
    )
    gen = genkit.load(GEMINI)
    result = gen.generate("hi")
    assert (result.text, result.finish_reason) == ("", "tool_calls")
    assert gen.stream("hi").result.finish_reason == "tool_calls"


def test_gemini_blocked_prompt_is_content_filter_with_empty_text(
    server: FakeProviderServer,
) -> None:
    blocked = {
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7},
    }
    server.script(gemini_json(blocked), gemini_stream(blocked), gemini_json(blocked))
    gen = genkit.load(GEMINI)
    result = gen.generate("hi")
    assert (result.texts, result.finish_reasons) == ([""], ["content_filter"])
    assert result.usage == genkit.Usage(7, 0)
    with gen.stream("hi") as stream:
        assert collect(stream) == []
    assert stream.result.finish_reason == "content_filter"
    assert gen.generate("hi", n=2).finish_reasons == ["content_filter"] * 2


def test_gemini_safety_block_without_content(server: FakeProviderServer) -> None:
    server.script(gemini_json({"candidates": [{"finishReason": "SAFETY", "index": 0}]}))
    result = genkit.load(GEMINI).generate("hi")
    assert (result.text, result.finish_reason) == ("", "content_filter")


def test_gemini_no_candidates_and_no_feedback_is_invalid(server: FakeProviderServer) -> None:
    server.script(gemini_json({"usageMetadata": {"promptTokenCount": 1}}))
    with pytest.raises(genkit.InvalidResponseError, match="no candidates"):
        genkit.load(GEMINI, max_retries=0).generate("hi")


def test_gemini_thoughts_are_not_text_but_are_output_tokens(server: FakeProviderServer) -> None:
    server.script(
        gemini_json(
            {
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [
                                {"text": "thinking about it", "thought": True},
                                {"text": "Paris"},
                            ],
                        },
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": 5,
                    "candidatesTokenCount": 1,
                    "thoughtsTokenCount": 30,
                },
                "modelVersion": "gemini-2.5-flash-001",
            }
        )
    )
    result = genkit.load(GEMINI).generate("hi")
    assert result.text == "Paris"
    assert result.usage == genkit.Usage(5, 31, 30)
    assert result.reasoning == "thinking about it"
    assert result.model == "gemini-2.5-flash-001"


def test_gemini_usage_non_stream_and_stream(server: FakeProviderServer) -> None:
    server.script(Reply.text("a b c", usage=(3, 5)), Reply.text("a b c", usage=(3, 5)))
    gen = genkit.load(GEMINI)
    assert gen.generate("hi").usage == genkit.Usage(3, 5)
    assert gen.stream("hi").result.usage == genkit.Usage(3, 5)


def test_gemini_candidates(server: FakeProviderServer) -> None:
    server.script(
        Reply.text(candidates=["one", "two", "three"]), Reply.text(candidates=["a b", "c"])
    )
    gen = genkit.load(GEMINI)
    result = gen.generate("hi", n=3)
    assert result.texts == ["one", "two", "three"]
    assert result.finish_reasons == ["stop"] * 3
    with gen.stream("hi", n=2) as stream:
        indexes = {chunk.index for chunk in stream}
    assert indexes == {0, 1}
    assert stream.result.texts == ["a b", "c"]
    assert len(server.requests) == 2


def test_gemini_provider_options_are_config_fields(server: FakeProviderServer) -> None:
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    gen = genkit.load(GEMINI, provider_options={"safety_settings": safety})
    gen.generate(
        "hi",
        temperature=0.2,
        provider_options={"thinking_config": {"thinking_budget": 0}, "temperature": 0.9},
    )
    body = last_body(server)
    assert body["safetySettings"] == safety
    assert config(body)["thinkingConfig"] in ({"thinkingBudget": 0}, {"thinking_budget": 0})
    assert config(body)["temperature"] == 0.9


def test_gemini_unknown_provider_option_is_refused_before_any_request(
    server: FakeProviderServer,
) -> None:
    with pytest.raises(genkit.InvalidParameterError, match="GenerateContentConfig") as info:
        genkit.load(GEMINI).generate("hi", provider_options={"not_a_field": 1})
    assert info.value.parameter == "provider_options"
    assert len(server.requests) == 0


def test_gemini_paths_and_api_version(server: FakeProviderServer) -> None:
    genkit.load(GEMINI).generate("hi")
    assert server.requests[-1].path == "/v1/models/gemini-2.5-flash:generateContent"
    assert genkit.load(GEMINI).stream("hi").result.text
    assert server.requests[-1].path == "/v1/models/gemini-2.5-flash:streamGenerateContent"
    assert server.requests[-1].query.get("alt") == "sse"
    genkit.load(GEMINI, api_version="v1beta").generate("hi")
    assert server.requests[-1].path == "/v1beta/models/gemini-2.5-flash:generateContent"


def test_gemini_google_alias(server: FakeProviderServer) -> None:
    result = genkit.load("google:gemini-2.5-flash").generate("hi")
    assert result.provider == "gemini"


def test_gemini_timeouts_are_sent_in_seconds(server: FakeProviderServer) -> None:
    gen = genkit.load(GEMINI)
    gen.generate("hi")
    assert server.requests[-1].headers["x-server-timeout"] == "600"
    gen.generate("hi", timeout=7)
    assert server.requests[-1].headers["x-server-timeout"] == "7"


def test_gemini_keys(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    genkit.load(GEMINI).generate("hi")
    assert server.requests[-1].headers["x-goog-api-key"] == GEMINI_KEY
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-google-variable-0123")
    genkit.load(GEMINI).generate("hi")
    assert server.requests[-1].headers["x-goog-api-key"] == "AIza-google-variable-0123"
    monkeypatch.delenv("GOOGLE_API_KEY")
    with pytest.raises(genkit.MissingAPIKeyError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        genkit.load(GEMINI)
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL")
    gen = genkit.load(GEMINI, api_key="AIza-explicit-0123456", base_url=server.gemini_base_url)
    gen.generate("hi")
    assert server.requests[-1].headers["x-goog-api-key"] == "AIza-explicit-0123456"
    assert "AIza-explicit-0123456" not in repr(gen)


def test_gemini_sdk_retries_are_off(server: FakeProviderServer) -> None:
    server.script(Reply.error(503, retry_after=0).times(3))
    with pytest.raises(genkit.ServerError):
        genkit.load(GEMINI, max_retries=0).generate("hi")
    assert len(server.requests) == 1


def test_gemini_api_key_invalid_is_an_authentication_error(server: FakeProviderServer) -> None:
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ],
        }
    }
    server.script(Reply.raw(400, json.dumps(body).encode(), content_type="application/json"))
    with pytest.raises(genkit.AuthenticationError) as info:
        genkit.load(GEMINI).generate("hi")
    assert (info.value.status_code, info.value.retryable) == (400, False)
    assert len(server.requests) == 1


def test_gemini_retry_info_in_the_body_is_honoured(server: FakeProviderServer) -> None:
    body = {
        "error": {
            "code": 429,
            "message": "quota",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "29s"}],
        }
    }
    server.script(Reply.raw(429, json.dumps(body).encode(), content_type="application/json"))
    with pytest.raises(genkit.RateLimitError) as info:
        genkit.load(GEMINI, max_retries=0).generate("hi")
    assert info.value.retry_after == 29.0


@pytest.mark.parametrize(
    ("status", "cls"),
    [(503, genkit.ServerError), (429, genkit.RateLimitError), (400, genkit.BadRequestError)],
)
def test_gemini_mid_stream_error_is_typed_by_its_code(
    server: FakeProviderServer, status: int, cls: type[genkit.ProviderError]
) -> None:
    server.script(Reply.stream_error(after_chunks=2, status=status))
    got: list[str] = []
    with pytest.raises(cls) as info:
        read_into(genkit.load(GEMINI, retry=FAST).stream("hi"), got)
    error = info.value
    assert (error.provider, error.status_code) == ("gemini", status)
    assert isinstance(error.__cause__, genai_errors.APIError)
    assert error.partial is not None
    assert error.partial.text == "".join(got) != ""
    assert len(server.requests) == 1


async def test_gemini_async_calls_run_on_httpx2(server: FakeProviderServer) -> None:
    """google-genai would pick aiohttp for async calls when installed; genkit hands it httpx2."""
    server.script(Reply.reset_before(), Reply.reset_before())
    gen = genkit.load(GEMINI, max_retries=0)
    with pytest.raises(genkit.ConnectionError) as info:
        await gen.agenerate("hi")
    assert isinstance(info.value.__cause__, httpx2.TransportError)
    with pytest.raises(genkit.ConnectionError) as info:
        async for _ in gen.astream("hi"):
            pass
    assert isinstance(info.value.__cause__, httpx2.TransportError)
    await gen.aclose()


@pytest.mark.parametrize("chunk_size", [1, 97])
def test_gemini_real_recorded_stream(server: FakeProviderServer, chunk_size: int) -> None:
    server.script(Reply.replay(recording("gemini_stream.sse"), chunk_size=chunk_size))
    with genkit.load(GEMINI).stream("What is the capital of France?") as stream:
        assert collect(stream) == ["The", " capital of France", " is Paris.\n"]
    result = stream.result
    assert result.finish_reason == "stop"
    assert result.usage == genkit.Usage(13, 8)
    assert result.model == "gemini-2.0-flash-exp"


# =========================================================================== both backends


@pytest.mark.parametrize("hosted", BOTH, ids=str)
@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, genkit.BadRequestError, False),
        (401, genkit.AuthenticationError, False),
        (403, genkit.PermissionDeniedError, False),
        (404, genkit.NotFoundError, False),
        (413, genkit.BadRequestError, False),
        (429, genkit.RateLimitError, True),
        (500, genkit.ServerError, True),
        (503, genkit.ServerError, True),
        (504, genkit.ServerError, True),
        (529, genkit.ServerError, True),
    ],
)
def test_error_statuses(
    server: FakeProviderServer,
    hosted: Hosted,
    status: int,
    cls: type[genkit.ProviderError],
    retryable: bool,
) -> None:
    server.script(Reply.error(status, retry_after=0).times(3))
    with pytest.raises(cls) as info:
        genkit.load(hosted.model, retry=FAST, max_retries=2).generate("hi")
    error = info.value
    assert (error.provider, error.status_code, error.retryable) == (str(hosted), status, retryable)
    assert isinstance(error.__cause__, hosted.sdk_error)
    assert len(server.requests) == (3 if retryable else 1)


@pytest.mark.parametrize("hosted", BOTH, ids=str)
async def test_error_statuses_async_and_streaming(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    server.script(Reply.error(429, retry_after=0).times(2), Reply.error(404))
    gen = genkit.load(hosted.model, retry=FAST, max_retries=1)
    with pytest.raises(genkit.RateLimitError):
        await gen.agenerate("hi")
    with pytest.raises(genkit.NotFoundError):
        async for _ in gen.astream("hi"):
            pass
    assert len(server.requests) == 3
    await gen.aclose()


@pytest.mark.parametrize("hosted", BOTH, ids=str)
def test_retry_after_is_read_and_a_retry_succeeds(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    server.script(Reply.error(429, retry_after=7))
    with pytest.raises(genkit.RateLimitError) as info:
        genkit.load(hosted.model, max_retries=0).generate("hi")
    assert info.value.retry_after == 7.0
    server.script(Reply.error(429, retry_after=0), Reply.text("ok"))
    assert genkit.load(hosted.model, retry=FAST).generate("hi").text == "ok"
    assert len(server.requests) == 3


@pytest.mark.parametrize("hosted", BOTH, ids=str)
@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        (Reply.reset_before(), genkit.ConnectionError),
        (Reply.malformed_json(), genkit.InvalidResponseError),
        (Reply.empty_body(), genkit.InvalidResponseError),
        (Reply.truncated_stream(), genkit.ConnectionError),  # Content-Length not met
        (Reply.raw(502, b"<html>bad gateway</html>"), genkit.ServerError),
    ],
    ids=["reset", "malformed-json", "empty-body", "cut-body", "html-502"],
)
def test_transport_faults_are_typed(
    server: FakeProviderServer, hosted: Hosted, fault: Reply, cls: type[genkit.ProviderError]
) -> None:
    server.script(fault)
    with pytest.raises(cls) as info:
        genkit.load(hosted.model, max_retries=0).generate("hi")
    assert info.value.provider == str(hosted)
    assert info.value.retryable


@pytest.mark.parametrize("hosted", BOTH, ids=str)
@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        (Reply.reset_during(after_chunks=2), genkit.ConnectionError),
        (Reply.truncated_stream(after_chunks=2), genkit.InvalidResponseError),
        (Reply.malformed_sse(after_chunks=2), genkit.InvalidResponseError),
    ],
    ids=["reset-during", "truncated", "malformed-sse"],
)
def test_stream_faults_keep_the_partial_text(
    server: FakeProviderServer, hosted: Hosted, fault: Reply, cls: type[genkit.ProviderError]
) -> None:
    server.script(fault)
    stream = genkit.load(hosted.model, max_retries=0).stream("hi")
    got: list[str] = []
    with pytest.raises(cls) as info:
        read_into(stream, got)
    assert got
    assert info.value.partial is not None
    assert info.value.partial.text == "".join(got)
    assert info.value.partial.finish_reason is None


@pytest.mark.parametrize("hosted", BOTH, ids=str)
async def test_async_stream_faults_are_typed(server: FakeProviderServer, hosted: Hosted) -> None:
    server.script(Reply.reset_during(after_chunks=2), Reply.malformed_sse(after_chunks=1))
    gen = genkit.load(hosted.model, max_retries=0)
    for cls in (genkit.ConnectionError, genkit.InvalidResponseError):
        with pytest.raises(cls):
            async for _ in gen.astream("hi"):
                pass
    await gen.aclose()


@pytest.mark.parametrize("hosted", BOTH, ids=str)
def test_a_stall_ends_within_the_timeout(server: FakeProviderServer, hosted: Hosted) -> None:
    server.script(Reply.stall(), Reply.stall(after_chunks=1))
    gen = genkit.load(hosted.model, timeout=0.3, max_retries=0)
    with pytest.raises(genkit.TimeoutError):
        gen.generate("hi")
    with pytest.raises(genkit.TimeoutError) as info:
        collect(gen.stream("hi"))
    assert info.value.partial is not None


@pytest.mark.parametrize("hosted", BOTH, ids=str)
def test_breaking_out_of_a_stream_closes_the_connection(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    server.script(Reply.stall(after_chunks=2))  # still answering when the client leaves
    with genkit.load(hosted.model).stream("hi") as stream:
        for _ in stream:
            break
    assert server.wait_until(lambda s: s.connections_open == 0 and s.disconnects == 1, timeout=5)


@pytest.mark.parametrize("hosted", BOTH, ids=str)
async def test_breaking_out_of_an_async_stream_closes_the_connection(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    server.script(Reply.stall(after_chunks=2), Reply.stall(after_chunks=2))
    gen = genkit.load(hosted.model)
    async with gen.astream("hi") as stream:
        async for _ in stream:
            break
    # Two early closes in a row on the same loop: the second must not be disturbed
    # by anything the first left behind.
    async with gen.astream("hi") as stream:
        async for _ in stream:
            break
    closed = await asyncio.to_thread(
        server.wait_until, lambda s: s.connections_open == 0 and s.disconnects == 2, 5
    )
    assert closed
    await gen.aclose()


@pytest.mark.parametrize("hosted", BOTH, ids=str)
async def test_async_generate_and_stream(server: FakeProviderServer, hosted: Hosted) -> None:
    server.script(Reply.text("a b", usage=(1, 2)), Reply.text("c d", usage=(3, 4)))
    gen = genkit.load(hosted.model)
    result = await gen.agenerate("hi")
    assert (result.text, result.usage, result.provider) == ("a b", genkit.Usage(1, 2), str(hosted))
    chunks = [chunk.text async for chunk in gen.astream("hi")]
    assert chunks == ["c", " d"]
    await gen.aclose()


@pytest.mark.parametrize("hosted", BOTH, ids=str)
def test_each_event_loop_gets_its_own_client(server: FakeProviderServer, hosted: Hosted) -> None:
    gen = genkit.load(hosted.model)
    for _ in range(2):
        assert asyncio.run(gen.agenerate("hi")).text.startswith("echo:")
    assert len(server.requests) == 2


@pytest.mark.parametrize("hosted", BOTH, ids=str)
def test_keys_never_appear_in_reprs_or_errors(server: FakeProviderServer, hosted: Hosted) -> None:
    key = ANTHROPIC_KEY if str(hosted) == "anthropic" else GEMINI_KEY
    gen = genkit.load(hosted.model, max_retries=0)
    assert key not in repr(gen)
    assert key not in repr(gen.backend)
    server.script(Reply.error(401, message=f"bad key {key}"))
    with pytest.raises(genkit.AuthenticationError) as info:
        gen.generate("hi")
    error = info.value
    for text in (str(error), repr(error), str(error.__cause__), repr(error.__cause__)):
        assert key not in text


def test_bad_request_details_fail_when_the_stream_is_created(
    fake_provider_env: FakeProviderServer,
) -> None:
    """Not on first iteration: ``gen.stream()`` itself refuses, before anything is sent."""
    with pytest.raises(genkit.InvalidParameterError, match="stop"):
        genkit.load("anthropic:claude-sonnet-4-6").stream("hi", stop="\n")
    with pytest.raises(genkit.InvalidParameterError, match="provider_options"):
        genkit.load("gemini:gemini-2.5-flash").stream("hi", provider_options={"no_such_field": 1})
    assert fake_provider_env.requests == []
