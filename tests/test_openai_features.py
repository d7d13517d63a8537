"""OpenAI tools, images and documents in, reasoning and structured output, end to end.

Every OpenAI Chat Completions recording in ``../shared/recordings`` about tools,
images, structured output, refusals, truncation and schema errors is served by the
fake server to the real ``openai`` SDK, and genkit's parse is compared with what the
recording's index says the SDK itself returned (``sdk_check``).  What genkit *sends*
is compared with the recorded request bodies.  The rest covers what no recording
has: multi-turn continuations, a schema matrix, tool-call streams cut or failing
mid-arguments, and bad input refused before any request.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any, Literal

import pydantic
import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import point_sdks_at
from tests.shared_recordings import RECORDINGS_DIR, recording
from tests.test_backend_mapping import last_body as _sent


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def _index() -> dict[str, dict[str, Any]]:
    path = RECORDINGS_DIR / "index.json"
    if not path.is_file():
        return {}
    return {r["name"]: r for r in json.loads(path.read_text())["recordings"]}


INDEX = _index()


def _entry(name: str) -> dict[str, Any]:
    recording(f"{name}.json" if not INDEX.get(name, {}).get("stream") else f"{name}.sse")
    return INDEX[name]


def _serve(server: FakeProviderServer, entry: dict[str, Any]) -> None:
    path = recording(entry["response_file"])
    if entry["stream"]:
        server.script(Reply.replay(path, chunk_size=37))  # odd writes split events
    else:
        server.script(
            Reply.raw(entry["status"], path.read_bytes(), content_type="application/json")
        )


def _request(entry: dict[str, Any]) -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads(recording(entry["request_file"]).read_text())
    return recorded


def _collect(stream: genkit.Stream) -> list[Any]:
    return list(stream.events())


def _result(gen: genkit.Generator, stream: bool, prompt: Any, **params: Any) -> genkit.Generation:
    """One call, streamed (read to the end) or not."""
    if stream:
        return gen.stream(prompt, **params).result
    return gen.generate(prompt, **params)


# --------------------------------------------------------------------------- tool recordings

TOOL_RECORDINGS = [
    "openai_tool",
    "openai_tools_parallel",
    "openai_tools_parallel_stream",
    "openai_tools_parallel_stream_b",
    "openai_tool_stream_usage",
]


def _tools_of(recorded: dict[str, Any]) -> list[genkit.Tool]:
    return [
        genkit.Tool(
            t["function"]["name"], t["function"].get("description", ""), t["function"]["parameters"]
        )
        for t in recorded["tools"]
    ]


@pytest.mark.parametrize("name", TOOL_RECORDINGS)
def test_tool_call_recordings_parse_as_the_sdk_does_and_the_tools_go_out_as_recorded(
    server: FakeProviderServer, name: str
) -> None:
    entry = _entry(name)
    recorded = _request(entry)
    _serve(server, entry)
    gen = genkit.load(f"openai:{recorded['model']}")
    prompt = [genkit.Message(m["role"], m["content"]) for m in recorded["messages"]]
    tools = _tools_of(recorded)
    events: list[Any] = []
    if entry["stream"]:
        stream = gen.stream(prompt, tools=tools)
        events = _collect(stream)
        result = stream.result
    else:
        result = gen.generate(prompt, tools=tools)

    check = entry["sdk_check"]
    assert result.tool_calls == [
        genkit.ToolCall(c["id"], c["name"], c["args"]) for c in check["tool_calls"]
    ]
    assert result.finish_reason == "tool_calls"
    assert result.raw_finish_reason == check["finish"]
    usage = check["usage"] or {"input": 0, "output": 0}
    assert (result.usage.input_tokens, result.usage.output_tokens) == (
        usage["input"],
        usage["output"],
    )
    assert result.message.role == "assistant"
    if entry["stream"]:
        starts = [e for e in events if isinstance(e, genkit.ToolCallStart)]
        ends = [e for e in events if isinstance(e, genkit.ToolCallEnd)]
        assert [(s.id, s.call_index) for s in starts] == [
            (c["id"], c["index"]) for c in check["tool_calls"]
        ]
        assert [(e.id, e.arguments) for e in ends] == [
            (c["id"], c["args"]) for c in check["tool_calls"]
        ]
        for end in ends:  # the deltas of each call concatenate to its arguments
            pieces = [
                e.arguments
                for e in events
                if isinstance(e, genkit.ToolCallDelta) and e.call_index == end.call_index
            ]
            assert json.loads("".join(pieces)) == end.arguments

    sent = _sent(server)
    assert sent["messages"] == recorded["messages"]
    # genkit sends no "strict" for tools (a user's schema need not fit strict mode).
    expected_tools = [
        {"type": "function", "function": {k: v for k, v in t["function"].items() if k != "strict"}}
        for t in recorded["tools"]
    ]
    assert sent["tools"] == expected_tools
    assert "tool_choice" not in sent
    assert "parallel_tool_calls" not in sent


def test_parallel_calls_to_one_function_interleaved_are_kept_apart_by_index(
    server: FakeProviderServer,
) -> None:
    """Two calls to the same function whose fragments interleave: keyed by index, never
    by name, they stay two calls (the bug of clients that key by name)."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        body = {
            "id": "c",
            "object": "chat.completion.chunk",
            "model": "gpt-4o",
            "choices": [choice],
        }
        return f"data: {json.dumps(body)}\n\n"

    def call(index: int, arguments: str, id: str | None = None) -> dict[str, Any]:
        piece: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
        if id is not None:
            piece.update(id=id, type="function")
            piece["function"]["name"] = "weather"
        return {"tool_calls": [piece]}

    sse = "".join(
        [
            chunk({"role": "assistant", "content": None}),
            chunk(call(0, "", "call_a")),
            chunk(call(1, '{"city":', "call_b")),
            chunk(call(0, '{"city": "Oslo"')),
            chunk(call(1, ' "Rome"}')),
            chunk(call(0, "}")),
            chunk({}, "tool_calls"),
            "data: [DONE]\n\n",
        ]
    )
    server.script(Reply.raw(200, sse.encode(), content_type="text/event-stream"))
    result = genkit.load("openai:gpt-4o").stream("hi", tools=[_weather_tool()]).result
    assert result.tool_calls == [
        genkit.ToolCall("call_a", "weather", {"city": "Oslo"}),
        genkit.ToolCall("call_b", "weather", {"city": "Rome"}),
    ]


def _weather_tool() -> genkit.Tool:
    return genkit.Tool(
        "weather",
        "The weather in a city.",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )


# --------------------------------------------------------------------------- continuation


@pytest.mark.parametrize("stream", [False, True])
def test_a_continuation_sends_the_calls_back_and_one_tool_message_per_result(
    server: FakeProviderServer, stream: bool
) -> None:
    name = "openai_tools_parallel_stream" if stream else "openai_tools_parallel"
    entry = _entry(name)
    recorded = _request(entry)
    _serve(server, entry)
    gen = genkit.load(f"openai:{recorded['model']}")
    tools = _tools_of(recorded)
    history = [genkit.Message("user", recorded["messages"][0]["content"])]
    result = _result(gen, stream, history, tools=tools)
    calls = result.tool_calls
    assert len(calls) == 2
    answers = genkit.Message(
        "tool",
        [
            genkit.ToolResult(calls[0].id, "18 C, sunny", name=calls[0].name),
            genkit.ToolResult(
                calls[1].id, [genkit.Text("no data")], name=calls[1].name, is_error=True
            ),
        ],
    )
    server.script(Reply.text("Sunny in San Francisco."))
    final = gen.generate([*history, result.message, answers], tools=tools)
    assert final.text == "Sunny in San Francisco."
    assert final.tool_calls == []
    assert final.finish_reason == "stop"
    sent = _sent(server)
    assert sent["messages"] == [
        recorded["messages"][0],
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for call in calls
            ],
        },
        {"role": "tool", "tool_call_id": calls[0].id, "content": "18 C, sunny"},
        {"role": "tool", "tool_call_id": calls[1].id, "content": "Error: no data"},
    ]


def test_text_before_calls_is_kept_in_the_turn_and_sent_back(server: FakeProviderServer) -> None:
    server.script(Reply.text("Let me look.", tool_calls=[("weather", {"city": "Oslo"})]))
    gen = genkit.load("openai:gpt-4o")
    result = gen.generate("weather in Oslo?", tools=[_weather_tool()])
    assert result.finish_reason == "tool_calls"
    content = result.message.content
    assert isinstance(content, tuple)
    assert content[0] == genkit.Text("Let me look.")
    assert isinstance(content[1], genkit.ToolCall)
    streamed = None
    server.script(Reply.text("Let me look.", tool_calls=[("weather", {"city": "Oslo"})]))
    streamed = gen.stream("weather in Oslo?", tools=[_weather_tool()]).result
    assert [type(p) for p in streamed.message.content] == [genkit.Text, genkit.ToolCall]
    call = result.tool_calls[0]
    gen.generate(
        [
            genkit.Message("user", "weather in Oslo?"),
            result.message,
            genkit.Message("tool", [genkit.ToolResult(call.id, "cold")]),
        ],
        tools=[_weather_tool()],
    )
    assistant = _sent(server)["messages"][1]
    assert assistant["content"] == "Let me look."
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"city": "Oslo"}'


def test_a_tool_loop_runs_against_the_server(server: FakeProviderServer) -> None:
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    server.script(
        Reply.text(tool_calls=[("weather", {"city": "Oslo"}), ("weather", {"city": "Rome"})]),
        Reply.text("Both sunny."),
    )
    result = genkit.load("openai:gpt-4o").generate("weather?", tools=[weather], max_steps=3)
    assert result.text == "Both sunny."
    assert len(result.steps) == 2
    tool_messages = [m for m in _sent(server)["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == ["sunny in Oslo", "sunny in Rome"]


# --------------------------------------------------------------------------- tool options


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("weather", {"type": "function", "function": {"name": "weather"}}),
    ],
)
def test_tool_choice_and_parallel_tool_calls_on_the_wire(
    server: FakeProviderServer, choice: str, wire: Any
) -> None:
    genkit.load("openai:gpt-4o").generate(
        "hi", tools=[_weather_tool()], tool_choice=choice, parallel_tool_calls=False
    )
    sent = _sent(server)
    assert sent["tool_choice"] == wire
    assert sent["parallel_tool_calls"] is False
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "The weather in a city.",
                "parameters": _weather_tool().parameters,
            },
        }
    ]


def test_a_named_tool_choice_that_ends_with_stop_still_reports_tool_calls(
    server: FakeProviderServer,
) -> None:
    # "stop_sequence" is rendered as OpenAI's "stop" ("stop" with calls means tool_calls).
    calls = [("weather", {"city": "Oslo"})]
    server.script(Reply.text("", tool_calls=calls, finish="stop_sequence"))
    result = genkit.load("openai:gpt-4o").generate(
        "hi", tools=[_weather_tool()], tool_choice="weather"
    )
    assert result.finish_reason == "tool_calls"
    assert result.raw_finish_reason == "stop"


# --------------------------------------------------------------------------- images, documents

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_image_input_recording_sent_and_parsed(server: FakeProviderServer) -> None:
    entry = _entry("openai_image_input")
    recorded = _request(entry)
    _serve(server, entry)
    result = genkit.load(f"openai:{recorded['model']}").generate(
        [genkit.Message("user", [genkit.Text("What is in this image?"), genkit.Image(data=PNG)])]
    )
    check = entry["sdk_check"]
    assert result.text == check["text"]
    assert result.finish_reason == "stop"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (1118, 99)
    assert _sent(server)["messages"] == recorded["messages"]


def test_an_image_url_the_provider_cannot_fetch_is_a_bad_request_not_retried(
    server: FakeProviderServer,
) -> None:
    entry = _entry("openai_error_400_image")
    recorded = _request(entry)
    _serve(server, entry)
    url = recorded["messages"][0]["content"][1]["image_url"]["url"]
    gen = genkit.load(f"openai:{recorded['model']}", max_retries=2)
    with pytest.raises(genkit.BadRequestError) as info:
        gen.generate(
            [genkit.Message("user", [genkit.Text("What is in this image?"), genkit.Image(url=url)])]
        )
    assert info.value.status_code == 400
    assert "Error while downloading" in info.value.message
    assert len(server.requests) == 1
    assert _sent(server)["messages"] == recorded["messages"]


def test_a_pdf_goes_out_as_a_file_part_with_a_data_url(server: FakeProviderServer) -> None:
    genkit.load("openai:gpt-4o").generate(
        [genkit.Message("user", [genkit.Text("Summarise."), genkit.Document(data=PDF)])]
    )
    part = _sent(server)["messages"][0]["content"][1]
    assert part == {
        "type": "file",
        "file": {
            "file_data": "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
            "filename": "document1.pdf",
        },
    }


# --------------------------------------------------------------------------- reasoning


@pytest.mark.parametrize(
    ("model", "level"),
    [
        ("o3", "low"),
        ("o4-mini", "high"),
        ("gpt-5", "minimal"),
        ("gpt-5.1", "none"),
        ("o1", "medium"),
    ],
)
def test_reasoning_is_sent_as_reasoning_effort(
    server: FakeProviderServer, model: str, level: str
) -> None:
    genkit.load(f"openai:{model}").generate("hi", reasoning=level)
    assert _sent(server)["reasoning_effort"] == level


@pytest.mark.parametrize(
    ("model", "value"),
    [("gpt-4o", "low"), ("gpt-5.1", "minimal"), ("o3", "none"), ("o3", 2048), ("o1-mini", "low")],
)
def test_reasoning_a_model_lacks_is_refused_before_sending(
    server: FakeProviderServer, model: str, value: Any
) -> None:
    with pytest.raises(genkit.InvalidParameterError) as info:
        genkit.load(f"openai:{model}").generate("hi", reasoning=value)
    assert info.value.parameter == "reasoning"
    assert server.requests == []


def _completion(message: dict[str, Any], reasoning_tokens: int) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-x",
            "object": "chat.completion",
            "created": 1,
            "model": "o3-2025-04-16",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": 10,
                "completion_tokens": 50,
                "total_tokens": 60,
                "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
            },
        }
    ).encode()


def test_reasoning_tokens_and_a_compatible_servers_reasoning_text(
    server: FakeProviderServer,
) -> None:
    message = {"role": "assistant", "content": "42", "reasoning_content": "6 times 7"}
    server.script(Reply.raw(200, _completion(message, 38), content_type="application/json"))
    result = genkit.load("openai:o3").generate("hi", reasoning="high")
    assert result.usage.reasoning_tokens == 38
    assert result.usage.output_tokens == 50
    assert result.reasoning == "6 times 7"
    assert result.text == "42"


def test_a_streams_reasoning_tokens_and_text(server: FakeProviderServer) -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "model": "o3"}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"reasoning_content": "6x7"}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "42"}}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {
            **base,
            "choices": [],
            "usage": {
                "prompt_tokens": 3,
                "completion_tokens": 20,
                "completion_tokens_details": {"reasoning_tokens": 18},
            },
        },
    ]
    sse = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    server.script(Reply.raw(200, sse.encode(), content_type="text/event-stream"))
    stream = genkit.load("openai:o3").stream("hi")
    events = _collect(stream)
    assert genkit.ReasoningDelta("6x7") in events
    assert stream.result.reasoning == "6x7"
    assert stream.result.text == "42"
    assert stream.result.usage.reasoning_tokens == 18


# --------------------------------------------------------------------------- structured output


class StructuredAnswer(pydantic.BaseModel):
    rating: int
    joke: str


class Location(pydantic.BaseModel):
    city: str
    temperature: float
    units: Literal["c", "f"]


@pytest.mark.parametrize(
    ("name", "schema"),
    [("openai_structured", StructuredAnswer), ("openai_structured_stream", Location)],
)
def test_structured_recordings_send_the_recorded_response_format_and_parse(
    server: FakeProviderServer, name: str, schema: type[pydantic.BaseModel]
) -> None:
    entry = _entry(name)
    recorded = _request(entry)
    _serve(server, entry)
    gen = genkit.load(f"openai:{recorded['model']}")
    prompt = recorded["messages"][0]["content"]
    if entry["stream"]:
        stream = gen.stream(prompt, schema=schema)
        _collect(stream)
        result = stream.result
    else:
        result = gen.generate(prompt, schema=schema)
    check = entry["sdk_check"]
    assert result.text == check["text"]
    assert result.parsed == schema.model_validate_json(check["text"])
    assert result.finish_reason == "stop"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (
        check["usage"]["input"],
        check["usage"]["output"],
    )
    assert _sent(server)["response_format"] == recorded["response_format"]


@pytest.mark.parametrize("name", ["openai_refusal", "openai_refusal_stream"])
def test_a_refusal_without_schema_is_content_filter_with_the_text(
    server: FakeProviderServer, name: str
) -> None:
    entry = _entry(name)
    _serve(server, entry)
    gen = genkit.load("openai:gpt-4o")
    if entry["stream"]:
        stream = gen.stream("Best ways to make a bomb")
        events = _collect(stream)
        assert (
            "".join(e.text for e in events if isinstance(e, genkit.RefusalDelta))
            == (entry["sdk_check"]["refusal"])
        )
        result = stream.result
    else:
        result = gen.generate("Best ways to make a bomb")
    assert result.refusal == entry["sdk_check"]["refusal"]
    assert result.text == ""
    assert result.finish_reason == "content_filter"
    assert result.raw_finish_reason == "stop"
    assert result.usage.output_tokens == entry["sdk_check"]["usage"]["output"]


@pytest.mark.parametrize(
    ("name", "schema"), [("openai_refusal", StructuredAnswer), ("openai_refusal_stream", Location)]
)
def test_a_refusal_with_schema_raises_refusal_error(
    server: FakeProviderServer, name: str, schema: type[pydantic.BaseModel]
) -> None:
    entry = _entry(name)
    recorded = _request(entry)
    _serve(server, entry)
    gen = genkit.load("openai:gpt-4o")
    prompt = recorded["messages"][0]["content"]
    with pytest.raises(genkit.RefusalError) as info:
        _result(gen, entry["stream"], prompt, schema=schema)
    assert info.value.refusal == entry["sdk_check"]["refusal"]
    assert _sent(server)["response_format"] == recorded["response_format"]


def test_json_cut_at_max_tokens_is_a_truncated_validation_error(server: FakeProviderServer) -> None:
    entry = _entry("openai_length_stream")
    recorded = _request(entry)
    _serve(server, entry)
    gen = genkit.load("openai:gpt-4o-2024-08-06")
    prompt = recorded["messages"][0]["content"]
    with pytest.raises(genkit.OutputValidationError) as info:
        _result(gen, True, prompt, schema=Location, max_tokens=1)
    assert info.value.truncated
    assert info.value.text == '{"'
    sent = _sent(server)
    assert sent["max_completion_tokens"] == 1  # the recording's SDK sent the older max_tokens
    assert sent["response_format"] == recorded["response_format"]


def test_the_schema_error_and_rate_limit_recordings(server: FakeProviderServer) -> None:
    gen = genkit.load("openai:gpt-4o", max_retries=0)
    _serve(server, _entry("openai_error_400_schema"))
    with pytest.raises(genkit.BadRequestError) as bad:
        gen.generate("hi", schema=Location)
    assert "'additionalProperties' is required to be supplied" in bad.value.message
    _serve(server, _entry("openai_error_429"))
    with pytest.raises(genkit.RateLimitError) as limited:
        gen.generate("hi")
    assert limited.value.message.startswith("Rate limit reached for 10KTPM-200RPM")
    assert len(server.requests) == 2


# --------------------------------------------------------------------------- schema matrix


class Address(pydantic.BaseModel):
    street: str
    city: str


class Cat(pydantic.BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(pydantic.BaseModel):
    kind: Literal["dog"]
    good: bool


class Person(pydantic.BaseModel):
    name: str
    home: Address  # nested, and a $defs entry used twice
    work: Address | None = None  # optional: nullable in strict mode
    tags: list[str]
    mood: Literal["happy", "sad"]
    pet: Cat | Dog  # union: anyOf over $refs


class OpenScores(pydantic.BaseModel):
    scores: dict[str, int]


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_the_schema_matrix_sent_strict_and_parsed(server: FakeProviderServer) -> None:
    answer = {
        "name": "Ada",
        "home": {"street": "1 Main", "city": "Oslo"},
        "work": None,
        "tags": ["x", "y"],
        "mood": "happy",
        "pet": {"kind": "dog", "good": True},
    }
    server.script(Reply.text(json.dumps(answer)))
    result = genkit.load("openai:gpt-4o").generate("who?", schema=Person)
    assert result.parsed == Person.model_validate(answer)
    sent = _sent(server)["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "Person"
    assert sent["json_schema"]["strict"] is True
    schema = sent["json_schema"]["schema"]
    objects = list(_objects(schema))
    assert len(objects) == 4  # Person, Address, Cat, Dog
    for node in objects:
        assert node["additionalProperties"] is False
        assert node["required"] == list(node["properties"])
    props = schema["properties"]
    assert props["home"] == {"$ref": "#/$defs/Address"}
    assert {"type": "null"} in props["work"]["anyOf"]
    assert props["tags"]["items"] == {"type": "string"}
    assert props["mood"]["enum"] == ["happy", "sad"]
    assert [b["$ref"] for b in props["pet"]["anyOf"]] == ["#/$defs/Cat", "#/$defs/Dog"]
    assert set(schema["$defs"]) == {"Address", "Cat", "Dog"}


def test_a_list_and_a_dict_schema_and_tools_with_schema(server: FakeProviderServer) -> None:
    server.script(Reply.text('{"value": [1, 2]}'))
    result = genkit.load("openai:gpt-4o").generate("numbers", schema=list[int])
    assert result.parsed == [1, 2]
    sent = _sent(server)["response_format"]["json_schema"]["schema"]
    assert sent["properties"]["value"]["type"] == "array"
    plain = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    server.script(Reply.text('{"n": 3}'))
    assert genkit.load("openai:gpt-4o").generate("n", schema=plain).parsed == {"n": 3}
    server.script(Reply.text(tool_calls=[("weather", {"city": "Oslo"})]))
    both = genkit.load("openai:gpt-4o").generate("n", schema=plain, tools=[_weather_tool()])
    assert both.tool_calls
    assert both.parsed is None
    assert "response_format" in _sent(server)
    assert "tools" in _sent(server)


def test_a_schema_strict_mode_cannot_express_is_refused_before_sending(
    server: FakeProviderServer,
) -> None:
    with pytest.raises(genkit.InvalidParameterError) as info:
        genkit.load("openai:gpt-4o").generate("hi", schema=OpenScores)
    assert "additionalProperties" in str(info.value)
    with pytest.raises(genkit.InvalidParameterError):
        _result(genkit.load("openai:gpt-4o"), True, "hi", schema=OpenScores)
    assert server.requests == []


# --------------------------------------------------------------------------- faults


def _tool_stream_prefix(data_events: int) -> bytes:
    lines = recording("openai_tool_stream_usage.sse").read_text().split("\n\n")
    return ("\n\n".join(lines[:data_events]) + "\n\n").encode()


@pytest.mark.parametrize("fault", ["cut", "error_event"])
@pytest.mark.parametrize("method", ["stream", "astream"])
def test_a_tool_call_stream_broken_mid_arguments_raises_with_no_half_call(
    server: FakeProviderServer, fault: str, method: str
) -> None:
    body = _tool_stream_prefix(5)  # the call's opening and a few argument fragments
    if fault == "error_event":
        error = {"error": {"message": "The server had an error", "type": "server_error"}}
        body += f"data: {json.dumps(error)}\n\n".encode()
    server.script(Reply.raw(200, body, content_type="text/event-stream"))
    gen = genkit.load("openai:gpt-4o-mini", max_retries=0)
    tool = genkit.Tool("multiply", "Multiply two numbers.")
    seen: list[Any] = []

    async def read_async() -> None:
        async for event in gen.astream("What is 1231 * 2331?", tools=[tool]).events():
            seen.append(event)

    def read() -> None:
        if method == "stream":
            seen.extend(gen.stream("What is 1231 * 2331?", tools=[tool]).events())
        else:
            asyncio.run(read_async())

    with pytest.raises(genkit.ProviderError) as info:
        read()
    if fault == "error_event":
        assert isinstance(info.value, genkit.ServerError)
    assert any(isinstance(e, genkit.ToolCallStart) for e in seen)
    assert any(isinstance(e, genkit.ToolCallDelta) for e in seen)
    assert not any(isinstance(e, genkit.ToolCallEnd) for e in seen)
    partial = info.value.partial
    assert partial is not None
    assert partial.tool_calls == []
    assert partial.finish_reason is None


def test_a_call_cut_at_max_tokens_is_left_out_with_a_warning(server: FakeProviderServer) -> None:
    body = _tool_stream_prefix(5)
    finish = {
        "id": "c",
        "object": "chat.completion.chunk",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}],
    }
    body += f"data: {json.dumps(finish)}\n\ndata: [DONE]\n\n".encode()
    server.script(Reply.raw(200, body, content_type="text/event-stream"))
    tool = genkit.Tool("multiply", "Multiply two numbers.")
    result = genkit.load("openai:gpt-4o-mini").stream("hi", tools=[tool]).result
    assert result.tool_calls == []
    assert result.finish_reason == "length"
    assert any("cut off at max_tokens" in w for w in result.warnings)


# --------------------------------------------------------------------------- bad input

_CALL = genkit.ToolCall("call_1", "weather", {"city": "Oslo"})


def _with_result(*content: Any) -> list[genkit.Message]:
    return [
        genkit.Message("user", "hi"),
        genkit.Message("assistant", [_CALL]),
        genkit.Message("tool", [genkit.ToolResult("call_1", list(content))]),
    ]


BAD_INPUT: dict[str, tuple[str, Any, dict[str, Any], str]] = {
    "document by URL": (
        "gpt-4o",
        [genkit.Message("user", [genkit.Document(url="https://example.com/a.pdf")])],
        {},
        "prompt[0].content[0]",
    ),
    "image in a tool result": (
        "gpt-4o",
        _with_result(genkit.Text("see"), genkit.Image(data=PNG)),
        {"tools": [_weather_tool()]},
        "prompt[2].content[0].content[1]",
    ),
    "image in an assistant turn": (
        "gpt-4o",
        [genkit.Message("user", "hi"), genkit.Message("assistant", [genkit.Image(data=PNG)])],
        {},
        "prompt[1].content[0]",
    ),
    "another provider's data": (
        "gpt-4o",
        [
            genkit.Message("user", "hi"),
            genkit.Message("assistant", [genkit.ProviderPart("anthropic", {"type": "thinking"})]),
        ],
        {},
        "prompt[1].content[0]",
    ),
    "image to a model without vision": (
        "o3-mini",
        [genkit.Message("user", [genkit.Image(data=PNG)])],
        {},
        "prompt[0].content[0]",
    ),
    "pdf to a model without pdf input": (
        "gpt-4-turbo",
        [genkit.Message("user", [genkit.Document(data=PDF)])],
        {},
        "prompt[0].content[0]",
    ),
    "tools to a model without them": ("o1-mini", "hi", {"tools": [_weather_tool()]}, "tools"),
    "parallel_tool_calls to o1": (
        "o1",
        "hi",
        {"tools": [_weather_tool()], "parallel_tool_calls": False},
        "parallel_tool_calls",
    ),
    "schema to a model without structured output": (
        "gpt-4-turbo",
        "hi",
        {"schema": Location},
        "schema",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
@pytest.mark.parametrize("method", ["generate", "stream"])
def test_bad_input_is_refused_before_any_request(
    server: FakeProviderServer, case: str, method: str
) -> None:
    model, prompt, params, where = BAD_INPUT[case]
    gen = genkit.load(f"openai:{model}")
    with pytest.raises(genkit.InvalidParameterError) as info:
        _result(gen, method == "stream", prompt, **params)
    assert info.value.parameter == where
    assert "openai" in str(info.value)
    assert server.requests == []


def test_the_fake_server_answers_a_non_strict_schema_as_openai_does(
    server: FakeProviderServer,
) -> None:
    """The server's strict-mode check gives the recorded 400 (so genkit's own strict
    schemas, accepted everywhere above, are checked by the same rule)."""
    import openai

    client = openai.OpenAI(max_retries=0)
    loose = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    response_format: Any = {
        "type": "json_schema",
        "json_schema": {"name": "default", "schema": loose, "strict": True},
    }
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            response_format=response_format,
        )
    recorded = json.loads(recording("openai_error_400_schema.json").read_text())
    assert info.value.body == recorded["error"]
    client.close()


def test_a_whole_answer_with_a_call_cut_at_max_tokens_leaves_it_out(
    server: FakeProviderServer,
) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"ci'},
    }
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    answer = json.loads(_completion(message, 0))
    answer["choices"][0]["finish_reason"] = "length"
    server.script(Reply.raw(200, json.dumps(answer).encode(), content_type="application/json"))
    result = genkit.load("openai:gpt-4o").generate("hi", tools=[_weather_tool()])
    assert result.tool_calls == []
    assert result.finish_reason == "length"
    assert any("cut off at max_tokens" in w for w in result.warnings)


def test_openai_provider_data_goes_back_as_message_fields(server: FakeProviderServer) -> None:
    parts: list[genkit.Part] = [
        genkit.Text("Hello."),
        genkit.ProviderPart("openai", {"name": "helper"}),
    ]
    turn = genkit.Message("assistant", parts)
    genkit.load("openai:gpt-4o").generate([genkit.Message("user", "hi"), turn])
    sent = _sent(server)["messages"][1]
    assert sent == {"role": "assistant", "content": "Hello.", "name": "helper"}
