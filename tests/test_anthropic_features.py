"""Anthropic tools, thinking, images and structured output, through the public API.

The real ``anthropic`` SDK talks to the local fake server.  Every Anthropic recording
about tools, thinking, images, structured output and refusals is replayed and its
parse compared with what index.json says the SDK itself read from it; what genkit
sends is compared with the recorded request bodies, field by field.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import json
from pathlib import Path
from typing import Any, Literal

import anthropic
import pydantic
import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import point_sdks_at
from tests.shared_recordings import RECORDINGS_DIR, recording


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def load(model: str = "claude-sonnet-4-6", **kwargs: Any) -> genkit.Generator:
    return genkit.load(f"anthropic:{model}", max_retries=0, **kwargs)


def body(server: FakeProviderServer, i: int = -1) -> dict[str, Any]:
    request = server.requests[i]
    assert request.validation_error is None, request.validation_error
    assert request.body is not None
    return request.body


def index_entry(name: str) -> dict[str, Any]:
    path = RECORDINGS_DIR / "index.json"
    if not path.is_file():
        pytest.skip(f"no recordings index at {path}")
    entries = json.loads(path.read_text())["recordings"]
    found: dict[str, Any] = next(e for e in entries if e["name"] == name)
    return found


def request_json(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(recording(f"{name}.request.json").read_text())
    return loaded


def serve(server: FakeProviderServer, name: str) -> str:
    """Script the recording ``name`` and return the model it was recorded with."""
    entry = index_entry(name)
    path = recording(entry["response_file"])
    if entry["stream"]:
        server.script(Reply.replay(path))
    else:
        server.script(Reply.raw(200, path.read_bytes(), content_type="application/json"))
    model: str = json.loads(path.read_text())["model"] if not entry["stream"] else "claude-x"
    return model


def same(actual: str, expected: str) -> None:
    """``expected`` as index.json writes it: long strings end in ``…(+N)`` (N more chars)."""
    if "\u2026(+" in expected and expected.endswith(")"):
        prefix, more = expected.rsplit("\u2026(+", 1)
        assert actual.startswith(prefix)
        assert len(actual) == len(prefix) + int(more[:-1])
    else:
        assert actual == expected


def parts(result: genkit.Generation) -> list[Any]:
    content = result.message.content
    return [genkit.Text(content)] if isinstance(content, str) else list(content)


def assert_parse(result: genkit.Generation, check: dict[str, Any]) -> None:
    """The Generation holds what the SDK read (index.json ``sdk_check``), in order."""
    got = [p for p in parts(result) if not (isinstance(p, genkit.Text) and not p.text)]
    blocks = check["blocks"]
    assert len(got) == len(blocks), got
    for part, block in zip(got, blocks, strict=True):
        if "text" in block:
            assert isinstance(part, genkit.Text)
            same(part.text, block["text"])
        elif "tool_use" in block:
            assert part == genkit.ToolCall(block["id"], block["tool_use"], block["input"])
        else:
            assert isinstance(part, genkit.ProviderPart)
            assert part.provider == "anthropic"
            assert part.data["type"] == "thinking"
            same(part.data["thinking"], block["thinking"])
            assert len(part.data["signature"]) == block["signature_len"]
            assert result.reasoning == part.data["thinking"]
    calls = [b for b in blocks if "tool_use" in b]
    assert [c.id for c in result.tool_calls] == [b["id"] for b in calls]
    assert result.raw_finish_reasons == [check["stop_reason"]]
    assert result.finish_reason == ("tool_calls" if calls else result.finish_reason)
    usage = check["usage"]
    assert (result.usage.input_tokens, result.usage.output_tokens) == (
        usage["input"],
        usage["output"],
    )
    if check["stop_reason"] == "refusal":
        assert result.finish_reason == "content_filter"
        assert result.refusal == check["stop_details"]["explanation"]
    else:
        assert result.refusal is None


# --------------------------------------------------------------------------- replays

RECORDINGS = [
    "anthropic_tools_parallel",
    "anthropic_tools_parallel_stream",
    "anthropic_tools_noargs_stream",
    "anthropic_structured",
    "anthropic_structured_stream",
    "anthropic_structured_tool",
    "anthropic_thinking",
    "anthropic_thinking_stream",
    "anthropic_thinking_tool_stream",
    "anthropic_image_input",
    "anthropic_refusal",
    "anthropic_refusal_stream",
]


@pytest.mark.parametrize("name", RECORDINGS)
def test_recording_parses_as_the_sdk_reads_it(server: FakeProviderServer, name: str) -> None:
    serve(server, name)
    entry = index_entry(name)
    gen = load()
    if entry["stream"]:
        with gen.stream("hi") as stream:
            events = list(stream.events())
        result = stream.result
        kinds = {type(e).__name__ for e in events}
        if any("thinking" in b for b in entry["sdk_check"]["blocks"]):
            assert {"ReasoningDelta", "ProviderData"} <= kinds
        if any("tool_use" in b for b in entry["sdk_check"]["blocks"]):
            assert {"ToolCallStart", "ToolCallEnd"} <= kinds
    else:
        result = gen.generate("hi")
    assert_parse(result, entry["sdk_check"])


def test_thinking_tokens_become_reasoning_tokens(server: FakeProviderServer) -> None:
    serve(server, "anthropic_thinking_tool_stream")
    result = load().stream("hi").result
    assert result.usage.reasoning_tokens == 53


def test_redacted_thinking_blocks_come_back_whole(server: FakeProviderServer) -> None:
    server.script(Reply.replay(recording("anthropic_stream_redacted.sse")))
    result = load().stream("hi").result
    redacted = [p for p in parts(result) if isinstance(p, genkit.ProviderPart)]
    assert [p.data["type"] for p in redacted] == ["redacted_thinking", "redacted_thinking"]
    assert all(p.data["data"].startswith("E") for p in redacted)
    assert result.text


def test_a_refusal_with_schema_raises_refusal_error(server: FakeProviderServer) -> None:
    serve(server, "anthropic_refusal")

    class Out(pydantic.BaseModel):
        answer: str

    with pytest.raises(genkit.RefusalError) as info:
        load().generate("hi", schema=Out)
    assert "cyber content" in (info.value.refusal or "")


def test_structured_recording_parses_into_the_model(server: FakeProviderServer) -> None:
    serve(server, "anthropic_structured_stream")

    class Dog(pydantic.BaseModel):
        name: str
        age: int
        bio: str

    result = load().stream("Invent a good dog", schema=Dog).result
    assert result.parsed.name == "Biscuit"
    assert result.parsed.age == 4


# --------------------------------------------------------------------------- what is sent


def _tools(recorded: list[dict[str, Any]]) -> list[genkit.Tool]:
    return [genkit.Tool(t["name"], t.get("description", ""), t["input_schema"]) for t in recorded]


def _without_empty_descriptions(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in t.items() if not (k == "description" and not v)} for t in tools]


def test_tools_are_sent_as_recorded(server: FakeProviderServer) -> None:
    rec = request_json("anthropic_tools_parallel")
    server.script(Reply.text(tool_calls=[("get_weather", {"location": "x"})]))
    load(rec["model"]).generate(
        rec["messages"][0]["content"], tools=_tools(rec["tools"]), max_tokens=rec["max_tokens"]
    )
    sent = body(server)
    assert sent["tools"] == _without_empty_descriptions(rec["tools"])
    assert sent["messages"] == rec["messages"]
    assert "tool_choice" not in sent


def test_an_image_is_sent_as_recorded(server: FakeProviderServer) -> None:
    rec = request_json("anthropic_image_input")
    text, image = rec["messages"][0]["content"]
    server.script(Reply.text("a pixel"))
    prompt = genkit.Message(
        "user",
        [
            genkit.Text(text["text"]),
            genkit.Image(data=base64.b64decode(image["source"]["data"])),
        ],
    )
    load(rec["model"]).generate([prompt], max_tokens=rec["max_tokens"])
    assert body(server)["messages"] == rec["messages"]


def test_documents_and_urls_are_blocks(server: FakeProviderServer) -> None:
    server.script(Reply.text("ok"))
    pdf = genkit.Document(data=b"%PDF-1.7\n" + b"\x00" * 8)
    prompt = genkit.Message(
        "user",
        [genkit.Image(url="https://example.com/cat.png"), pdf, genkit.Text("What are these?")],
    )
    load().generate([prompt])
    assert body(server)["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
        {
            "type": "document",
            "source": {
                "type": "base64",
                "media_type": "application/pdf",
                "data": base64.b64encode(pdf.data or b"").decode(),
            },
        },
        {"type": "text", "text": "What are these?"},
    ]


@pytest.mark.parametrize(
    ("name", "model", "reasoning"),
    [
        ("anthropic_thinking", "claude-3-7-sonnet-20250219", 1024),
        ("anthropic_thinking_stream", "claude-sonnet-4-0", 1024),
    ],
)
def test_a_thinking_budget_is_sent_as_recorded(
    server: FakeProviderServer, name: str, model: str, reasoning: int
) -> None:
    rec = request_json(name)
    server.script(Reply.text("ok"))
    load(model).generate("hi", reasoning=reasoning, max_tokens=rec["max_tokens"])
    sent = body(server)
    assert sent["thinking"] == {k: v for k, v in rec["thinking"].items() if k != "display"}
    assert sent["max_tokens"] == rec["max_tokens"]


def _untitled(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _untitled(v) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [_untitled(v) for v in node]
    return node


def test_a_schema_is_sent_as_recorded(server: FakeProviderServer) -> None:
    rec = request_json("anthropic_structured_stream")

    class Dog(pydantic.BaseModel):
        name: str
        age: int
        bio: str

    server.script(Reply.text('{"name": "a", "age": 1, "bio": "b"}'))
    result = load(rec["model"]).generate("Invent a good dog", schema=Dog)
    assert body(server)["output_config"] == _untitled(rec["output_config"])
    assert result.parsed == Dog(name="a", age=1, bio="b")


def test_a_tool_result_turn_is_sent_as_recorded(server: FakeProviderServer) -> None:
    rec = request_json("anthropic_structured_tool")
    _, assistant, user = rec["messages"]
    use = assistant["content"][0]
    result = user["content"][0]
    history = [
        genkit.Message("user", "What is the largest city in the user country?"),
        genkit.Message("assistant", [genkit.ToolCall(use["id"], use["name"], use["input"])]),
        genkit.Message(
            "tool", [genkit.ToolResult(result["tool_use_id"], result["content"], name=use["name"])]
        ),
    ]
    server.script(Reply.text(tool_calls=[("final_result", {"city": "x", "country": "y"})]))
    load(rec["model"]).generate(history, tools=_tools(rec["tools"]), tool_choice="required")
    sent = body(server)
    assert sent["tool_choice"] == rec["tool_choice"]
    assert sent["tools"] == _without_empty_descriptions(rec["tools"])
    recorded_result = {k: v for k, v in result.items() if k != "is_error"}  # false: the default
    assert sent["messages"][1:] == [assistant, {"role": "user", "content": [recorded_result]}]


def _sse_blocks(path: Path) -> list[dict[str, Any]]:
    """The content blocks a recorded stream builds, as the API would echo them."""
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    for line in path.read_text().splitlines():
        if not line.startswith("data:"):
            continue
        event = json.loads(line[5:])
        if event["type"] == "content_block_start":
            blocks[event["index"]] = dict(event["content_block"])
        elif event["type"] == "content_block_delta":
            delta, block = event["delta"], blocks[event["index"]]
            if delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] += delta["signature"]
            elif delta["type"] == "input_json_delta":
                partial[event["index"]] = partial.get(event["index"], "") + delta["partial_json"]
    for i, text in partial.items():
        blocks[i]["input"] = json.loads(text) if text else {}
    return [blocks[i] for i in sorted(blocks)]


@pytest.mark.parametrize("streamed", [True, False])
def test_the_next_turn_echoes_thinking_with_its_signature(
    server: FakeProviderServer, streamed: bool
) -> None:
    name = "anthropic_thinking_tool_stream" if streamed else "anthropic_thinking"
    serve(server, name)
    gen = load("claude-haiku-4-5-20251001")
    history: list[genkit.Message] = [genkit.Message("user", "Use the tool")]
    tool = genkit.Tool("fixed_version", "Return a fixed test version string")
    result = (
        gen.stream(history, tools=[tool], reasoning=1024).result
        if streamed
        else gen.generate(history, tools=[tool], reasoning=1024)
    )
    if streamed:
        # genkit keeps a tool_use block's id, name and input (the API needs no more).
        echoed = [
            b if b["type"] != "tool_use" else {k: b[k] for k in ("type", "id", "name", "input")}
            for b in _sse_blocks(recording("anthropic_thinking_tool_stream.sse"))
        ]
    else:
        echoed = json.loads(recording("anthropic_thinking.json").read_text())["content"]
        echoed = [b for b in echoed if b["type"] != "text"] + [
            {"type": "text", "text": b["text"]} for b in echoed if b["type"] == "text"
        ]
    server.script(Reply.text("Version 1.2.3 - a joke."))
    follow = [genkit.ToolResult(c.id, "1.2.3", name=c.name) for c in result.tool_calls]
    turns = [*history, result.message]
    if follow:
        turns.append(genkit.Message("tool", follow))
    else:
        turns.append(genkit.Message("user", "And again?"))
    gen.generate(turns, tools=[tool], reasoning=1024)
    sent = body(server)["messages"]
    assert sent[1] == {"role": "assistant", "content": echoed}
    if follow:
        assert sent[2] == {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": follow[0].call_id, "content": "1.2.3"}
            ],
        }


def test_parallel_results_and_a_user_turn_become_one_user_turn(
    server: FakeProviderServer,
) -> None:
    server.script(Reply.text("done"))
    pixel = base64.b64decode(
        request_json("anthropic_image_input")["messages"][0]["content"][1]["source"]["data"]
    )
    history = [
        genkit.Message("user", "go"),
        genkit.Message(
            "assistant",
            [genkit.ToolCall("toolu_1", "a", {}), genkit.ToolCall("toolu_2", "b", {"x": 1})],
        ),
        genkit.Message("tool", [genkit.ToolResult("toolu_1", "one", name="a")]),
        genkit.Message(
            "tool",
            [
                genkit.ToolResult(
                    "toolu_2",
                    [genkit.Text("two"), genkit.Image(data=pixel)],
                    name="b",
                    is_error=True,
                )
            ],
        ),
        genkit.Message("user", "and now?"),
    ]
    tools = [genkit.Tool("a"), genkit.Tool("b")]
    load().generate(history, tools=tools)
    sent = body(server)["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "a", "input": {}},
        {"type": "tool_use", "id": "toolu_2", "name": "b", "input": {"x": 1}},
    ]
    assert sent[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "one"},
        {
            "type": "tool_result",
            "tool_use_id": "toolu_2",
            "content": [
                {"type": "text", "text": "two"},
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": "image/png",
                        "data": base64.b64encode(pixel).decode(),
                    },
                },
            ],
            "is_error": True,
        },
        {"type": "text", "text": "and now?"},
    ]


@pytest.mark.parametrize(
    ("tool_choice", "parallel", "expected"),
    [
        (None, None, None),
        (None, True, None),
        ("auto", None, {"type": "auto"}),
        ("none", None, {"type": "none"}),
        ("required", None, {"type": "any"}),
        ("get_weather", None, {"type": "tool", "name": "get_weather"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        ("none", False, {"type": "none"}),
    ],
)
def test_tool_choice_and_parallel_calls_on_the_wire(
    server: FakeProviderServer,
    tool_choice: str | None,
    parallel: bool | None,
    expected: dict[str, Any] | None,
) -> None:
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return "sunny"

    server.script(Reply.text("ok"))
    load().generate(
        "weather?", tools=[get_weather], tool_choice=tool_choice, parallel_tool_calls=parallel
    )
    sent = body(server)
    assert sent.get("tool_choice") == expected
    assert sent["tools"][0]["name"] == "get_weather"
    assert sent["tools"][0]["description"] == "The weather in a city."
    assert sent["tools"][0]["input_schema"]["properties"]["city"]["type"] == "string"


@pytest.mark.parametrize(
    ("model", "reasoning", "max_tokens", "thinking", "effort", "sent_max"),
    [
        ("claude-sonnet-4-6", "low", None, {"type": "adaptive"}, "low", 4096),
        ("claude-opus-4-7", "high", None, {"type": "adaptive"}, "high", 4096),
        ("claude-sonnet-4-6", "none", None, {"type": "disabled"}, None, 4096),
        ("claude-sonnet-4-6", 2000, None, {"type": "enabled", "budget_tokens": 2000}, None, 6096),
        (
            "claude-sonnet-4-5",
            "medium",
            None,
            {"type": "enabled", "budget_tokens": 4096},
            None,
            8192,
        ),
        (
            "claude-3-7-sonnet-20250219",
            "high",
            20000,
            {"type": "enabled", "budget_tokens": 16384},
            None,
            20000,
        ),
    ],
)
def test_reasoning_per_model_family(
    server: FakeProviderServer,
    model: str,
    reasoning: str | int,
    max_tokens: int | None,
    thinking: dict[str, Any],
    effort: str | None,
    sent_max: int,
) -> None:
    server.script(Reply.text("ok"))
    load(model).generate("think", reasoning=reasoning, max_tokens=max_tokens)
    sent = body(server)
    assert sent["thinking"] == thinking
    assert sent.get("output_config", {}).get("effort") == effort
    assert sent["max_tokens"] == sent_max


# --------------------------------------------------------------------------- schema matrix


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(pydantic.BaseModel):
    street: str
    city: str


class Pet(pydantic.BaseModel):
    name: str = pydantic.Field(max_length=20)
    kind: Literal["cat", "dog"]
    color: Color
    tags: list[str]
    age: int | None = None
    home: Address
    previous: list[Address] = []
    owner: Address | str


PET = Pet(
    name="Rex",
    kind="dog",
    color=Color.RED,
    tags=["good"],
    age=None,
    home=Address(street="1 Main", city="Paris"),
    owner="Ann",
)


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found += _objects(value)
    elif isinstance(node, list):
        for value in node:
            found += _objects(value)
    return found


@pytest.mark.parametrize("streamed", [False, True])
def test_schema_matrix_sent_and_parsed(server: FakeProviderServer, streamed: bool) -> None:
    server.script(Reply.text(PET.model_dump_json()))
    gen = load()
    result = (
        gen.stream("a pet", schema=Pet).result if streamed else gen.generate("a pet", schema=Pet)
    )
    assert result.parsed == PET
    schema = body(server)["output_config"]["format"]["schema"]
    assert body(server)["output_config"]["format"]["type"] == "json_schema"
    assert all(o["additionalProperties"] is False for o in _objects(schema))
    assert "Address" in schema["$defs"]
    assert "Color" in schema["$defs"]
    props = schema["properties"]
    assert props["kind"]["enum"] == ["cat", "dog"]
    assert {"type": "null"} in props["age"]["anyOf"]
    assert {"$ref": "#/$defs/Address"} in props["owner"]["anyOf"]
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert "maxLength" not in props["name"]
    assert "maxLength" in props["name"]["description"]
    assert "title" not in schema
    assert set(schema["required"]) == {"name", "kind", "color", "tags", "home", "owner"}
    assert any("maxLength" in w for w in result.warnings)


def test_a_json_schema_dict_is_parsed_to_a_dict(server: FakeProviderServer) -> None:
    server.script(Reply.text('{"n": 3}'))
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    result = load().generate("n?", schema=schema)
    assert result.parsed == {"n": 3}
    assert body(server)["output_config"]["format"]["schema"]["additionalProperties"] is False


def test_schema_with_tools_together(server: FakeProviderServer) -> None:
    server.script(Reply.text('{"name": "a", "age": 1, "bio": "b"}'))

    class Dog(pydantic.BaseModel):
        name: str
        age: int
        bio: str

    result = load().generate("dog", schema=Dog, tools=[genkit.Tool("lookup")])
    assert result.parsed.name == "a"
    sent = body(server)
    assert sent["tools"][0]["name"] == "lookup"
    assert "format" in sent["output_config"]


# --------------------------------------------------------------------------- faults

_START = (
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":'
    '"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,'
    '"usage":{"input_tokens":5,"output_tokens":1}}}\n\n'
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    '"content_block":{"type":"tool_use","id":"toolu_9","name":"get_weather","input":{}}}\n\n'
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    '"delta":{"type":"input_json_delta","partial_json":""}}\n\n'
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    '"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": \\"Par"}}\n\n'
)
_ERROR = (
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
    '"message":"Overloaded"}}\n\n'
)


@pytest.mark.parametrize("tail", ["", _ERROR], ids=["cut", "error-event"])
def test_a_call_cut_mid_arguments_is_never_complete(server: FakeProviderServer, tail: str) -> None:
    server.script(Reply.raw(200, (_START + tail).encode(), content_type="text/event-stream"))
    stream = load().stream("weather?", tools=[genkit.Tool("get_weather")])
    events: list[Any] = []
    with pytest.raises(genkit.GenkitError) as info:
        events.extend(stream.events())
    assert any(isinstance(e, genkit.ToolCallStart) for e in events)
    assert not any(isinstance(e, genkit.ToolCallEnd) for e in events)
    partial = getattr(info.value, "partial", None)
    assert partial is not None
    assert partial.tool_calls == []
    if tail:
        assert isinstance(info.value, genkit.ProviderError)


# --------------------------------------------------------------------------- bad input


class Open(pydantic.BaseModel):
    counts: dict[str, int]


BAD: list[tuple[str, str, dict[str, Any], type[Exception], str]] = [
    (
        "forced-tool-while-thinking",
        "claude-sonnet-4-6",
        {"tools": [genkit.Tool("a")], "tool_choice": "required", "reasoning": "low"},
        genkit.UnsupportedParameterError,
        "tool_choice",
    ),
    (
        "named-tool-while-thinking",
        "claude-sonnet-4-5",
        {"tools": [genkit.Tool("a")], "tool_choice": "a", "reasoning": 2048},
        genkit.UnsupportedParameterError,
        "tool_choice",
    ),
    (
        "temperature-while-thinking",
        "claude-sonnet-4-6",
        {"temperature": 0.5, "reasoning": "low"},
        genkit.InvalidParameterError,
        "temperature",
    ),
    (
        "top-k-while-thinking",
        "claude-sonnet-4-5",
        {"top_k": 5, "reasoning": "high"},
        genkit.InvalidParameterError,
        "top_k",
    ),
    (
        "low-top-p-while-thinking",
        "claude-sonnet-4-6",
        {"top_p": 0.5, "reasoning": 1024},
        genkit.InvalidParameterError,
        "top_p",
    ),
    (
        "budget-not-below-max-tokens",
        "claude-sonnet-4-6",
        {"reasoning": 8000, "max_tokens": 4000},
        genkit.InvalidParameterError,
        "reasoning",
    ),
    (
        "level-budget-not-below-max-tokens",
        "claude-sonnet-4-5",
        {"reasoning": "high", "max_tokens": 1000},
        genkit.InvalidParameterError,
        "reasoning",
    ),
    (
        "reasoning-on-claude-3",
        "claude-3-5-haiku-latest",
        {"reasoning": "low"},
        genkit.UnsupportedParameterError,
        "reasoning",
    ),
    (
        "budget-on-adaptive-only",
        "claude-opus-4-7",
        {"reasoning": 2048},
        genkit.InvalidParameterError,
        "reasoning",
    ),
    (
        "open-mapping-schema",
        "claude-sonnet-4-6",
        {"schema": Open},
        genkit.InvalidParameterError,
        "schema",
    ),
    (
        "schema-on-claude-4",
        "claude-sonnet-4-20250514",
        {"schema": Address},
        genkit.UnsupportedParameterError,
        "schema",
    ),
]


@pytest.mark.parametrize(
    ("model", "params", "error", "parameter"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_input_is_refused_before_sending(
    server: FakeProviderServer,
    model: str,
    params: dict[str, Any],
    error: type[Exception],
    parameter: str,
) -> None:
    with pytest.raises(error) as info:
        load(model).generate("hi", **params)
    assert isinstance(info.value, genkit.InvalidParameterError)
    assert info.value.parameter == parameter
    assert "anthropic" in str(info.value)
    with pytest.raises(error):
        load(model).stream("hi", **params)
    assert server.requests == []


def test_thinking_with_sampling_is_refused_in_drop_mode_too(server: FakeProviderServer) -> None:
    with pytest.raises(genkit.InvalidParameterError) as info:
        load(drop_unsupported=True).generate("hi", temperature=0.2, reasoning="low")
    assert info.value.parameter == "temperature"
    assert server.requests == []


@pytest.mark.parametrize(
    ("turn", "where"),
    [
        (
            genkit.Message("assistant", [genkit.ProviderPart("gemini", {"x": 1})]),
            "prompt[1].content[0]",
        ),
        (
            genkit.Message(
                "assistant", [genkit.Text("see"), genkit.Image(url="https://example.com/a.png")]
            ),
            "prompt[1].content[1]",
        ),
    ],
    ids=["another-providers-part", "image-in-assistant-turn"],
)
def test_parts_anthropic_cannot_take_are_refused(
    server: FakeProviderServer, turn: genkit.Message, where: str
) -> None:
    history = [genkit.Message("user", "hi"), turn, genkit.Message("user", "and?")]
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        load().generate(history)
    assert info.value.parameter == where
    assert server.requests == []


@pytest.mark.parametrize(
    "extra",
    [
        {"thinking": {"type": "enabled", "budget_tokens": 8000}},
        {"thinking": {"type": "adaptive"}, "tool_choice": {"type": "any"}},
        {"thinking": {"type": "enabled", "budget_tokens": 1024}, "top_k": 5},
    ],
    ids=["budget-over-max-tokens", "forced-tool", "top-k"],
)
def test_the_fake_answers_400_to_what_genkit_refuses(
    server: FakeProviderServer, extra: dict[str, Any]
) -> None:
    """The refusals above mirror real 400s: the strict fake gives them to the raw SDK."""
    client = anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="sk-test", max_retries=0
    )
    tools = [{"name": "a", "input_schema": {"type": "object"}}]
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=4000,
            messages=[{"role": "user", "content": "hi"}],
            tools=tools,  # type: ignore[arg-type]
            extra_body=extra,
        )
    client.close()


def test_async_calls_and_streams_map_thinking_and_tools(server: FakeProviderServer) -> None:
    serve(server, "anthropic_thinking_tool_stream")
    serve(server, "anthropic_tools_parallel")

    async def run() -> tuple[genkit.Generation, genkit.Generation]:
        gen = load()
        stream = gen.astream("hi")
        async for _ in stream:
            pass
        return stream.result, await gen.agenerate("hi")

    streamed, called = asyncio.run(run())
    assert_parse(streamed, index_entry("anthropic_thinking_tool_stream")["sdk_check"])
    assert_parse(called, index_entry("anthropic_tools_parallel")["sdk_check"])


def test_schema_warnings_join_the_calls_own_warnings(server: FakeProviderServer) -> None:
    server.script(Reply.text(PET.model_dump_json()))
    result = load(drop_unsupported=True).generate("a pet", schema=Pet, seed=3)
    assert any("seed" in w for w in result.warnings)
    assert any("maxLength" in w for w in result.warnings)
