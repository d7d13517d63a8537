"""Gemini tools, thinking, images and structured output through the public API.

The real google-genai SDK talks to the fake server.  Every Gemini recording about tools,
thinking, images, structured output and schema errors in ``../shared/recordings`` is
replayed and its parse checked against the index's ``expected`` figures; what genkit
sends is compared with the recorded request bodies (the reference for the wire), and
a multi-turn continuation must echo the recorded thought signatures on the parts they
came with (otherwise Gemini 3 answers 400 MISSING_THOUGHT_SIGNATURE).
"""

from __future__ import annotations

import base64
import enum
import json
import re
from collections.abc import Iterator
from typing import Any, Literal

import pydantic
import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import point_sdks_at
from tests.shared_recordings import recording

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)
PDF = b"%PDF-1.7\n" + b"\x00" * 16
GIF = b"GIF89a" + b"\x00" * 16
GENERATED_ID = re.compile(r"call_[0-9a-f]{24}")


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


@pytest.fixture
def gens() -> Iterator[dict[str, genkit.Generator]]:
    """Generators by model, closed at the end of the test."""
    made: dict[str, genkit.Generator] = {}
    yield made
    for gen in made.values():
        gen.close()


def load(gens: dict[str, genkit.Generator], model: str, **options: Any) -> genkit.Generator:
    key = f"{model}{sorted(options.items())}"
    if key not in gens:
        gens[key] = genkit.load(f"gemini:{model}", max_retries=0, **options)
    return gens[key]


def replay_json(server: FakeProviderServer, name: str) -> None:
    server.script(Reply.raw(200, recording(name).read_bytes(), content_type="application/json"))


def replay_sse(server: FakeProviderServer, name: str) -> None:
    server.script(Reply.replay(recording(name), chunk_size=61))


def recorded_request(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(recording(name).read_text())
    return body


def recorded_response(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(recording(name).read_text())
    return body


# Keys whose values are user data (schemas, arguments, tool output): never renamed.
_OPAQUE = frozenset({"parametersJsonSchema", "responseJsonSchema", "args", "response"})


def camel(value: Any) -> Any:
    """A request body with every field name in camelCase, as Gemini's parser reads it.

    google-genai writes some nested fields in snake_case (``parameters_json_schema``,
    ``thinking_budget``); the API takes both spellings.
    """
    if isinstance(value, list):
        return [camel(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)
        out[name] = item if name in _OPAQUE else camel(item)
    return out


def sent(server: FakeProviderServer, at: int = -1) -> dict[str, Any]:
    request = server.requests[at]
    assert request.validation_error is None, request.validation_error
    assert request.body is not None
    body: dict[str, Any] = camel(request.body)
    return body


def signature(value: str) -> bytes:
    """Decoded base64 of either alphabet (the API writes standard, the SDK URL-safe)."""
    text = value.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def provider_parts(message: genkit.Message) -> list[genkit.ProviderPart]:
    assert not isinstance(message.content, str)
    return [p for p in message.content if isinstance(p, genkit.ProviderPart)]


def kinds(message: genkit.Message) -> list[str]:
    assert not isinstance(message.content, str)
    return [type(p).__name__ for p in message.content]


def recorded_signatures(name: str) -> list[bytes]:
    """The thought signatures of a recorded answer's parts, in order (JSON or SSE)."""
    text = recording(name).read_text()
    bodies = (
        [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
        if name.endswith(".sse")
        else [json.loads(text)]
    )
    return [
        signature(part["thoughtSignature"])
        for body in bodies
        for candidate in body.get("candidates", ())
        for part in candidate.get("content", {}).get("parts", ())
        if "thoughtSignature" in part
    ]


def no_args_tool(name: str) -> genkit.Tool:
    return genkit.Tool(
        name, "", {"additionalProperties": False, "properties": {}, "type": "object"}
    )


# --------------------------------------------------------------------------- tool recordings


def test_single_call_recording_and_declaration_as_json_schema(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    replay_json(server, "gemini_tool.json")
    recorded = recorded_request("gemini_tool.request.json")["tools"]["function_declarations"][0]
    tool = genkit.Tool(recorded["name"], recorded["description"], recorded["parameters"])
    result = load(gens, "gemini-2.0-flash-exp").generate(
        "What is the capital of France?", tools=[tool]
    )
    [call] = result.tool_calls
    assert (call.name, call.arguments) == ("get_capital", {"country": "France"})
    assert GENERATED_ID.fullmatch(call.id)  # Gemini sent no id
    assert result.finish_reason == "tool_calls"
    assert result.raw_finish_reason == "STOP"
    assert result.usage == genkit.Usage(23, 5, 0)
    [declaration] = sent(server)["tools"][0]["functionDeclarations"]
    assert declaration == {
        "name": "get_capital",
        "description": "Get the capital of a country.",
        "parametersJsonSchema": recorded["parameters"],
    }
    assert "toolConfig" not in sent(server)  # no tool_choice: Gemini's default


def test_parallel_calls_keep_the_signature_before_the_first_and_continue(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    replay_json(server, "gemini_tools_parallel.json")
    recorded = recorded_request("gemini_tools_parallel.request.json")
    tools = [
        genkit.Tool(d["name"], d["description"], d["parameters_json_schema"])
        for d in recorded["tools"][0]["functionDeclarations"]
    ]
    gen = load(gens, "gemini-3-flash-preview")
    history = [genkit.Message("user", "Tell three jokes.")]
    result = gen.generate(history, tools=tools, tool_choice="required")
    assert [c.name for c in result.tool_calls] == ["generate_topic"] * 3
    assert [c.arguments for c in result.tool_calls] == [{}, {}, {}]
    assert len({c.id for c in result.tool_calls}) == 3
    assert kinds(result.message) == ["ProviderPart", "ToolCall", "ToolCall", "ToolCall"]
    [signed] = provider_parts(result.message)
    assert signed.provider == "gemini"
    assert signed.data == {
        "thought_signature": recorded_signatures("gemini_tools_parallel.json")[0]
    }
    assert result.finish_reason == "tool_calls"
    assert result.raw_finish_reason == "STOP"
    assert result.usage == genkit.Usage(83, 30 + 190, 190)
    body = sent(server)
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    ours = body["tools"][0]["functionDeclarations"]
    theirs = recorded["tools"][0]["functionDeclarations"]
    assert [(d["name"], d["parametersJsonSchema"]) for d in ours] == [
        (d["name"], d["parameters_json_schema"]) for d in theirs
    ]

    # The next turn: the model turn echoed with its signature, results in one user turn
    # (name given on the first, looked up from the call for the others).
    server.script(Reply.text("Done."))
    results = [
        genkit.ToolResult(c.id, f"topic {i}", name=c.name if i == 0 else None)
        for i, c in enumerate(result.tool_calls)
    ]
    gen.generate([*history, result.message, genkit.Message("tool", results)], tools=tools)
    model_turn, tool_turn = sent(server)["contents"][1:]
    assert model_turn["role"] == "model"
    assert [p["functionCall"] for p in model_turn["parts"]] == [
        {"name": "generate_topic", "args": {}}
    ] * 3  # genkit's own ids are never sent: Gemini never saw them
    assert signature(model_turn["parts"][0]["thoughtSignature"]) == signed.data["thought_signature"]
    assert ["thoughtSignature" in p for p in model_turn["parts"]] == [True, False, False]
    assert tool_turn == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "generate_topic", "response": {"output": f"topic {i}"}}}
            for i in range(3)
        ],
    }


def test_parallel_calls_with_different_names_and_arguments(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    replay_json(server, "gemini_tools_parallel_args.json")
    tools = [genkit.Tool(n, "", {"type": "object"}) for n in ("sum", "multiply", "subtract")]
    result = load(gens, "gemini-2.5-flash").generate("compute", tools=tools)
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("sum", {"x": 2, "y": 1}),
        ("multiply", {"x": 4, "y": 3}),
        ("subtract", {"x": 6, "y": 5}),
    ]
    assert result.finish_reason == "tool_calls"
    assert result.usage == genkit.Usage()


def test_streamed_call_with_signature_and_its_continuation(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    replay_sse(server, "gemini_tools_stream.sse")
    gen = load(gens, "gemini-3-pro-preview")
    history = [genkit.Message("user", "What is the capital of the user country? Call the tool")]
    tools = [no_args_tool("get_country")]
    stream = gen.stream(history, tools=tools)
    events = [e for e in stream.events() if not isinstance(e, genkit.UsageUpdate)]
    types_seen = [type(e).__name__ for e in events]
    assert types_seen[:4] == ["ProviderData", "ToolCallStart", "ToolCallDelta", "ToolCallEnd"]
    result = stream.result
    [call] = result.tool_calls
    assert (call.name, call.arguments) == ("get_country", {})
    assert kinds(result.message) == ["ProviderPart", "ToolCall"]
    assert result.finish_reason == "tool_calls"
    assert result.raw_finish_reason == "STOP"
    assert result.usage == genkit.Usage(29, 10 + 202, 202)
    recorded = recorded_request("gemini_tools_stream.request.json")
    assert sent(server)["tools"][0]["functionDeclarations"][0] == {
        "name": "get_country",
        "parametersJsonSchema": recorded["tools"][0]["functionDeclarations"][0][
            "parameters_json_schema"
        ],
    }

    server.script(Reply.text("Mexico City"))
    follow = gen.generate(
        [
            *history,
            result.message,
            genkit.Message("tool", [genkit.ToolResult(call.id, "Mexico", name=call.name)]),
        ],
        tools=tools,
    )
    assert follow.text == "Mexico City"
    model_turn = sent(server)["contents"][1]
    [part] = model_turn["parts"]
    assert part["functionCall"] == {"name": "get_country", "args": {}}
    expected = recorded_signatures("gemini_tools_stream.sse")[0]
    assert signature(part["thoughtSignature"]) == expected


def test_provider_call_ids_go_back_on_the_call_and_its_result(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    """An id Gemini gave is echoed on the call and the result (as the recording has it)."""
    recorded = recorded_request("gemini_structured_stream.request.json")
    model_part = recorded["contents"][1]["parts"][0]
    call = genkit.ToolCall(model_part["functionCall"]["id"], "get_user_country", {})
    sig = signature(model_part["thoughtSignature"])
    server.script(Reply.text('{"city": "Mexico City", "country": "Mexico"}'))
    load(gens, "gemini-3-flash-preview").generate(
        [
            genkit.Message("user", "What is the largest city in the user country?"),
            genkit.Message(
                "assistant", [genkit.ProviderPart("gemini", {"thought_signature": sig}), call]
            ),
            genkit.Message("tool", [genkit.ToolResult(call.id, "Mexico")]),
        ],
        tools=[no_args_tool("get_user_country")],
    )
    contents = sent(server)["contents"]
    ours = contents[1]["parts"][0]
    assert ours["functionCall"] == model_part["functionCall"]
    assert signature(ours["thoughtSignature"]) == sig
    response = contents[2]["parts"][0]["functionResponse"]
    theirs = recorded["contents"][2]["parts"][0]["functionResponse"]
    assert (response["id"], response["name"]) == (theirs["id"], theirs["name"])
    assert response["response"] == {"output": "Mexico"}


def test_thinking_then_tool_call_stream(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    replay_sse(server, "gemini_thinking_tool_stream.sse")
    stream = load(gens, "gemini-2.5-flash").stream("How many days?", tools=[no_args_tool("now")])
    reasoning = [e.text for e in stream.events() if isinstance(e, genkit.ReasoningDelta)]
    result = stream.result
    assert len(reasoning) == 2
    assert reasoning[0].startswith("**Calculating the Days**")
    assert reasoning[1].startswith("**Determining the Approach**")
    assert result.reasoning == "".join(reasoning)
    [call] = result.tool_calls
    assert (call.name, call.arguments) == ("now", {})
    assert kinds(result.message) == ["ProviderPart", "ToolCall"]
    assert result.text == ""
    assert result.finish_reason == "tool_calls"
    assert result.usage == genkit.Usage(38, 6 + 168, 168)


# --------------------------------------------------------------------------- thinking


def test_thinking_recording_and_thinking_level(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    replay_json(server, "gemini_thinking.json")
    result = load(gens, "gemini-3-pro-preview").generate(
        "How do I cross the street?",
        system="You are a helpful assistant.",
        tools=[no_args_tool("dummy")],
        reasoning="high",
    )
    assert result.reasoning is not None
    assert result.reasoning.startswith("**A Safe Street-Crossing Guide: My Thought Process**")
    assert len(result.reasoning) == 2238
    assert result.text.startswith("Crossing the street safely is a fundamental skill")
    assert len(result.text) == 3017
    assert kinds(result.message) == ["ProviderPart", "Text"]  # the answer carries the signature
    assert result.finish_reason == "stop"
    assert result.usage == genkit.Usage(29, 736 + 1001, 1001)
    recorded = camel(recorded_request("gemini_thinking.request.json"))
    thinking = sent(server)["generationConfig"]["thinkingConfig"]
    assert thinking == {**recorded["generationConfig"]["thinkingConfig"], "thinkingLevel": "HIGH"}


def test_thinking_stream_recording_and_thinking_budget(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    replay_sse(server, "gemini_thinking_stream.sse")
    stream = load(gens, "gemini-2.5-pro").stream("How do I cross the street?", reasoning=2048)
    events = list(stream.events())
    result = stream.result
    assert result.reasoning is not None
    assert result.reasoning.startswith("**Clarifying User Goals**")
    assert "**Crafting Safe Instructions**" in result.reasoning
    assert result.text.startswith("This is a great question! Safely crossing the street")
    assert len(result.text) == 1938
    first_text = next(i for i, e in enumerate(events) if isinstance(e, genkit.Chunk))
    assert isinstance(events[first_text - 1], genkit.ProviderData)  # the signature, just before
    assert kinds(result.message) == ["ProviderPart", "Text"]
    assert result.usage == genkit.Usage(34, 469 + 787, 787)
    recorded = camel(recorded_request("gemini_thinking_stream.request.json"))
    thinking = sent(server)["generationConfig"]["thinkingConfig"]
    assert thinking == {**recorded["generationConfig"]["thinkingConfig"], "thinkingBudget": 2048}


@pytest.mark.parametrize(
    ("model", "reasoning", "config"),
    [
        ("gemini-2.5-flash", "none", {"thinkingBudget": 0}),
        ("gemini-2.5-flash", "low", {"thinkingBudget": 1024, "includeThoughts": True}),
        ("gemini-2.5-flash", "high", {"thinkingBudget": 24576, "includeThoughts": True}),
        ("gemini-2.5-flash-lite", "none", {"thinkingBudget": 0}),
        ("gemini-2.5-flash-lite", 600, {"thinkingBudget": 600, "includeThoughts": True}),
        ("gemini-2.5-pro", "medium", {"thinkingBudget": 8192, "includeThoughts": True}),
        ("gemini-2.5-pro", "high", {"thinkingBudget": 32768, "includeThoughts": True}),
        ("gemini-3-pro-preview", "low", {"thinkingLevel": "LOW", "includeThoughts": True}),
        ("gemini-3.1-pro-preview", "medium", {"thinkingLevel": "MEDIUM", "includeThoughts": True}),
        (
            "gemini-3-flash-preview",
            "minimal",
            {"thinkingLevel": "MINIMAL", "includeThoughts": True},
        ),
    ],
)
def test_reasoning_maps_per_family(
    server: FakeProviderServer,
    gens: dict[str, genkit.Generator],
    model: str,
    reasoning: str | int,
    config: dict[str, Any],
) -> None:
    load(gens, model).generate("hi", reasoning=reasoning)
    assert sent(server)["generationConfig"]["thinkingConfig"] == config


@pytest.mark.parametrize(
    ("model", "reasoning"),
    [
        ("gemini-2.5-pro", "none"),  # 2.5 Pro cannot stop thinking
        ("gemini-2.5-pro", 64),  # below its budget range
        ("gemini-2.5-flash", 30000),
        ("gemini-2.5-flash-lite", 100),
        ("gemini-3-pro-preview", "medium"),  # 3 Pro has low and high only
        ("gemini-3-pro-preview", 2048),  # Gemini 3 takes levels, not budgets
        ("gemini-3-flash-preview", "none"),
        ("gemini-2.0-flash", "low"),  # does not think
    ],
)
def test_reasoning_the_family_cannot_take_is_refused_before_sending(
    server: FakeProviderServer,
    gens: dict[str, genkit.Generator],
    model: str,
    reasoning: str | int,
) -> None:
    with pytest.raises(genkit.InvalidParameterError) as info:
        load(gens, model).generate("hi", reasoning=reasoning)
    assert info.value.parameter == "reasoning"
    assert server.requests == []


# --------------------------------------------------------------------------- tools out


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ("lookup", {"mode": "ANY", "allowedFunctionNames": ["lookup"]}),
    ],
)
def test_tool_choice_is_the_function_calling_mode(
    server: FakeProviderServer, gens: dict[str, genkit.Generator], choice: str, config: Any
) -> None:
    tools = [no_args_tool("lookup"), no_args_tool("other")]
    load(gens, "gemini-2.5-flash").generate("hi", tools=tools, tool_choice=choice)
    assert sent(server)["toolConfig"] == {"functionCallingConfig": config}


class Place(pydantic.BaseModel):
    city: str
    extra: dict[str, int] = {}


def test_python_tools_are_declared_and_never_run_by_the_sdk(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    ran: list[str] = []

    def weather(place: Place, unit: Literal["c", "f"] = "c") -> str:
        """The weather in a place.

        Args:
            place: Where.
            unit: Degrees.
        """
        ran.append(place.city)
        return "sunny"

    server.script(Reply.text(tool_calls=[("weather", {"place": {"city": "Paris"}})]))
    result = load(gens, "gemini-2.5-flash").generate("weather?", tools=[weather])
    assert ran == []  # max_steps=1: calls are returned, not run (and AFC is off)
    assert result.tool_calls[0].arguments == {"place": {"city": "Paris"}}
    [declaration] = sent(server)["tools"][0]["functionDeclarations"]
    schema = declaration["parametersJsonSchema"]
    assert "parameters" not in declaration
    assert "$defs" in schema
    assert "Place" in schema["$defs"]
    assert schema["$defs"]["Place"]["properties"]["extra"]["additionalProperties"] == {
        "type": "integer"
    }


def test_tool_loop_runs_functions_and_sends_results(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    def fail() -> str:
        """Always fails."""
        raise RuntimeError("broken")

    server.script(
        Reply.text(tool_calls=[("add", {"a": 2, "b": 3}), ("fail", {})]),
        Reply.text("5"),
    )
    result = load(gens, "gemini-2.5-flash").generate("2+3?", tools=[add, fail], max_steps=3)
    assert result.text == "5"
    assert len(result.steps) == 2
    responses = [p["functionResponse"] for p in sent(server)["contents"][2]["parts"]]
    assert responses[0] == {"name": "add", "response": {"output": "5"}}
    assert responses[1]["name"] == "fail"
    assert "error" in responses[1]["response"]


def test_parallel_tool_calls_is_refused_or_dropped(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    """Gemini has no switch for parallel calls: never pretend to honour one."""
    tools = [no_args_tool("lookup")]
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        load(gens, "gemini-2.5-flash").generate("hi", tools=tools, parallel_tool_calls=False)
    assert info.value.parameter == "parallel_tool_calls"
    assert server.requests == []
    dropping = load(gens, "gemini-2.5-flash", drop_unsupported=True)
    result = dropping.generate("hi", tools=tools, parallel_tool_calls=False)
    assert any("parallel_tool_calls" in w for w in result.warnings)
    assert "parallelToolCalls" not in json.dumps(sent(server))


# --------------------------------------------------------------------------- images, PDFs


def test_image_input_recording(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    replay_json(server, "gemini_image_input.json")
    result = load(gens, "gemini-2.0-flash").generate(
        [
            genkit.Message(
                "user", [genkit.Text("What fruit is in the image?"), genkit.Image(data=PNG)]
            )
        ],
        system="You are a helpful chatbot.",
    )
    assert result.text == "The fruit in the image is a kiwi."
    assert result.usage == genkit.Usage(3367, 9)
    recorded = recorded_request("gemini_image_input.request.json")["contents"][0]["parts"]
    ours = sent(server)["contents"][0]["parts"]
    assert ours[0] == recorded[0]
    assert ours[1]["inlineData"]["mimeType"] == recorded[1]["inlineData"]["mimeType"]
    assert signature(ours[1]["inlineData"]["data"]) == signature(recorded[1]["inlineData"]["data"])


def test_urls_and_pdfs_go_as_file_data_and_inline_data(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    load(gens, "gemini-2.5-flash").generate(
        [
            genkit.Message(
                "user",
                [
                    genkit.Image(url="https://example.com/cat.png", media_type="image/png"),
                    genkit.Document(url="https://example.com/paper.pdf"),
                    genkit.Document(data=PDF),
                    genkit.Text("Compare."),
                ],
            )
        ]
    )
    parts = sent(server)["contents"][0]["parts"]
    assert parts[0] == {
        "fileData": {"fileUri": "https://example.com/cat.png", "mimeType": "image/png"}
    }
    assert parts[1] == {"fileData": {"fileUri": "https://example.com/paper.pdf"}}
    assert parts[2]["inlineData"]["mimeType"] == "application/pdf"
    assert signature(parts[2]["inlineData"]["data"]) == PDF


def test_images_in_tool_results_on_gemini_3_only(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    call = genkit.ToolCall("call_ab12", "snapshot", {})
    history = [
        genkit.Message("user", "Look."),
        genkit.Message("assistant", [call]),
        genkit.Message(
            "tool", [genkit.ToolResult(call.id, [genkit.Text("here"), genkit.Image(data=PNG)])]
        ),
    ]
    tools = [no_args_tool("snapshot")]
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        load(gens, "gemini-2.5-flash").generate(history, tools=tools)
    assert info.value.parameter == "prompt[2].content[0].content[1]"
    assert server.requests == []
    load(gens, "gemini-3-flash-preview").generate(history, tools=tools)
    response = sent(server)["contents"][2]["parts"][0]["functionResponse"]
    assert response["id"] == "call_ab12"  # not genkit's: sent back
    assert response["response"] == {"output": "here"}
    [media] = response["parts"]
    assert media["inlineData"]["mimeType"] == "image/png"
    assert signature(media["inlineData"]["data"]) == PNG


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ([genkit.Text("x"), genkit.Image(data=GIF)], "prompt[0].content[1].media_type"),
        (
            [genkit.Text("x"), genkit.ProviderPart("anthropic", {"type": "thinking"})],
            "prompt[1].content[1]",
        ),
    ],
)
def test_parts_gemini_cannot_take_are_refused_before_sending(
    server: FakeProviderServer,
    gens: dict[str, genkit.Generator],
    content: list[genkit.Part],
    where: str,
) -> None:
    if where.startswith("prompt[0]"):
        prompt = [genkit.Message("user", content)]
    else:
        prompt = [
            genkit.Message("user", "hi"),
            genkit.Message("assistant", content),
            genkit.Message("user", "and?"),
        ]
    for call in (
        lambda: load(gens, "gemini-2.5-flash").generate(prompt),
        lambda: list(load(gens, "gemini-2.5-flash").stream(prompt)),
    ):
        with pytest.raises(genkit.UnsupportedParameterError) as info:
            call()
        assert info.value.parameter == where
        assert "gemini" in str(info.value)
    assert server.requests == []


# --------------------------------------------------------------------------- structured output


class CityLocation(pydantic.BaseModel):
    """A city and its country."""

    city: str
    country: str


def test_structured_recording(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    replay_json(server, "gemini_structured.json")
    result = load(gens, "gemini-2.0-flash").generate(
        "What is the largest city in Mexico?", schema=CityLocation
    )
    assert result.parsed == CityLocation(city="Mexico City", country="Mexico")
    assert result.usage == genkit.Usage(8, 20)
    config = sent(server)["generationConfig"]
    recorded = camel(recorded_request("gemini_structured.request.json"))["generationConfig"]
    assert config["responseMimeType"] == recorded["responseMimeType"] == "application/json"
    schema = config["responseJsonSchema"]
    assert "responseSchema" not in config
    for key in ("type", "required", "description", "title"):
        assert schema[key] == recorded["responseJsonSchema"][key]
    assert {k: v["type"] for k, v in schema["properties"].items()} == {
        k: v["type"] for k, v in recorded["responseJsonSchema"]["properties"].items()
    }


def test_structured_stream_with_tools_on_gemini_3(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    replay_sse(server, "gemini_structured_stream.sse")
    stream = load(gens, "gemini-3-flash-preview").stream(
        "What is the largest city in the user country?",
        schema=CityLocation,
        tools=[no_args_tool("get_user_country")],
    )
    partials = [stream.partial_object for _ in stream]
    result = stream.result
    assert result.parsed == CityLocation(city="Mexico City", country="Mexico")
    assert partials[-1] == {"city": "Mexico City", "country": "Mexico"}
    assert kinds(result.message) == ["Text", "ProviderPart"]  # signature on a final empty part
    assert result.usage == genkit.Usage(128, 21 + 30, 30)
    body = sent(server)
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "get_user_country"

    # Echoed: the signature alone goes back as the empty text part it came on.
    server.script(Reply.text("ok"))
    load(gens, "gemini-3-flash-preview").generate(
        [genkit.Message("user", "q"), result.message, genkit.Message("user", "again")]
    )
    parts = sent(server)["contents"][1]["parts"]
    assert parts[0] == {"text": result.text}
    assert parts[1]["text"] == ""
    assert (
        signature(parts[1]["thoughtSignature"])
        == recorded_signatures("gemini_structured_stream.sse")[0]
    )


def test_schema_with_tools_is_refused_on_gemini_2_5(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        load(gens, "gemini-2.5-flash").generate(
            "q", schema=CityLocation, tools=[no_args_tool("get_user_country")]
        )
    assert info.value.parameter == "schema"
    assert server.requests == []


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(pydantic.BaseModel):
    street: str
    zip: str | None = None


class Person(pydantic.BaseModel):
    name: str
    tags: list[str]
    kind: Literal["a", "b"]
    color: Color
    home: Address
    work: Address | None = None
    scores: dict[str, int]
    either: int | str


PERSON = {
    "name": "Ada",
    "tags": ["x"],
    "kind": "b",
    "color": "green",
    "home": {"street": "Main", "zip": None},
    "work": None,
    "scores": {"math": 9},
    "either": "two",
}


def test_schema_matrix_sent_and_parsed(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    server.script(Reply.text(json.dumps(PERSON)))
    result = load(gens, "gemini-2.5-flash").generate("who?", schema=Person)
    assert result.parsed == Person.model_validate(PERSON)
    schema = sent(server)["generationConfig"]["responseJsonSchema"]
    properties = schema["properties"]
    assert set(schema["$defs"]) == {"Address", "Color"}
    assert properties["home"] == {"$ref": "#/$defs/Address"}
    assert properties["tags"]["items"] == {"type": "string"}
    assert properties["kind"]["enum"] == ["a", "b"]
    assert schema["$defs"]["Color"]["enum"] == ["red", "green"]
    assert {"type": "null"} in properties["work"]["anyOf"]
    assert properties["scores"]["additionalProperties"] == {"type": "integer"}
    assert [s["type"] for s in properties["either"]["anyOf"]] == ["integer", "string"]
    assert "const" not in json.dumps(schema)
    assert "oneOf" not in json.dumps(schema)


def test_list_root_is_wrapped_and_unwrapped(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    server.script(Reply.text(json.dumps({"value": [{"street": "A"}, {"street": "B"}]})))
    result = load(gens, "gemini-2.5-flash").generate("where?", schema=list[Address])
    assert result.parsed == [Address(street="A"), Address(street="B")]
    schema = sent(server)["generationConfig"]["responseJsonSchema"]
    assert schema["type"] == "object"
    assert schema["properties"]["value"]["type"] == "array"


def test_schema_keywords_gemini_cannot_express(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    gen = load(gens, "gemini-2.5-flash")
    with pytest.raises(genkit.InvalidParameterError) as info:
        gen.generate("q", schema={"type": "object", "not": {"required": ["a"]}})
    assert info.value.parameter == "schema"
    assert "not" in str(info.value)
    assert server.requests == []
    # A constraint Gemini does not take moves into the description, with a warning.
    weak = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}}
    server.script(Reply.text('{"code": "ABC"}'), Reply.text('{"code": "XYZ"}'))
    result = gen.generate("q", schema=weak)
    assert result.parsed == {"code": "ABC"}
    assert any("pattern" in w for w in result.warnings)
    code = sent(server)["generationConfig"]["responseJsonSchema"]["properties"]["code"]
    assert "pattern" not in code
    assert "^[A-Z]{3}$" in code["description"]
    stream = gen.stream("q", schema=weak)
    assert any(isinstance(e, genkit.StreamWarning) for e in stream.events())
    assert any("pattern" in w for w in stream.result.warnings)


# --------------------------------------------------------------------------- errors and faults


def test_schema_error_recording_is_a_bad_request_never_retried(
    server: FakeProviderServer,
) -> None:
    body = recording("gemini_error_400_schema.json").read_bytes()
    server.script(Reply.raw(400, body, content_type="application/json; charset=UTF-8"))
    gen = genkit.load("gemini:gemini-2.5-flash", max_retries=2)
    try:
        with pytest.raises(genkit.BadRequestError) as info:
            gen.generate("q", tools=[no_args_tool("f")])
    finally:
        gen.close()
    assert 'Unknown name "additionalProperties"' in str(info.value)
    assert info.value.status_code == 400
    assert len(server.requests) == 1


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\r\n\r\n" for e in events)


_TEXT_EVENT = {"candidates": [{"content": {"parts": [{"text": "Let me look."}], "role": "model"}}]}


@pytest.mark.parametrize(
    "tail",
    [
        # The connection ends inside the event that carries the call.
        b'data: {"candidates": [{"content": {"parts": [{"functionCall": {"name": "lookup", '
        b'"args": {"q": "par',
        # The API's error event where the call would be.
        _sse({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}),
    ],
    ids=["cut-mid-call", "error-event-mid-call"],
)
def test_stream_broken_at_the_call_raises_with_partial_and_no_half_call(
    server: FakeProviderServer, gens: dict[str, genkit.Generator], tail: bytes
) -> None:
    server.script(Reply.raw(200, _sse(_TEXT_EVENT) + tail, content_type="text/event-stream"))
    stream = load(gens, "gemini-2.5-flash").stream("q", tools=[no_args_tool("lookup")])
    seen: list[Any] = []
    with pytest.raises(genkit.ProviderError) as info:
        seen.extend(stream.events())  # keeps what came before the error
    partial = info.value.partial
    assert partial is not None
    assert partial.text == "Let me look."
    assert partial.tool_calls == []
    assert partial.finish_reason is None
    assert not any(isinstance(e, genkit.ToolCallEnd | genkit.ToolCallStart) for e in seen)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"tools": [{"functionDeclarations": [{"name": "f", "parameters": {
                "type": "object", "additionalProperties": False}}]}]},
            'Unknown name "additionalProperties"',
        ),
        (
            {"tools": [{"functionDeclarations": [{"name": "f"}]}],
             "toolConfig": {"functionCallingConfig": {"mode": "AUTO",
                                                      "allowedFunctionNames": ["f"]}}},
            "only when mode is ANY",
        ),
        ({"generationConfig": {"responseJsonSchema": {"type": "object"}}}, "response_mime_type"),
        (
            {"generationConfig": {"thinkingConfig": {"thinkingBudget": 1, "thinkingLevel": "LOW"}}},
            "cannot both be set",
        ),
    ],
)  # fmt: skip
def test_the_fake_refuses_what_gemini_refuses(body: dict[str, Any], message: str) -> None:
    """The fake's validator answers the 400s these tests rely on genkit never causing."""
    from fakeprovider.gemini.validate import validate_gemini

    full = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], **body}
    error = validate_gemini(full)
    assert error is not None
    assert message in (error.message or "")
    assert validate_gemini({"contents": full["contents"]}) is None


@pytest.mark.parametrize(
    "reason",
    ["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS",
     "MISSING_THOUGHT_SIGNATURE"],
)  # fmt: skip
def test_failed_call_finish_reasons_are_other_with_the_raw_reason_kept(
    server: FakeProviderServer, gens: dict[str, genkit.Generator], reason: str
) -> None:
    gen = load(gens, "gemini-2.5-flash")
    server.script(Reply.text("", finish=reason), Reply.text("", finish=reason))
    result = gen.generate("q", tools=[no_args_tool("lookup")])
    stream = gen.stream("q", tools=[no_args_tool("lookup")])
    list(stream)
    for got in (result, stream.result):
        assert got.finish_reason == "other"
        assert got.raw_finish_reason == reason
        assert got.tool_calls == []


def test_async_calls_and_streams_map_the_same(
    server: FakeProviderServer, gens: dict[str, genkit.Generator]
) -> None:
    import asyncio

    gen = load(gens, "gemini-3-pro-preview")
    tools = [no_args_tool("get_country")]

    async def both() -> tuple[genkit.Generation, genkit.Generation]:
        replay_json(server, "gemini_tools_parallel.json")
        whole = await gen.agenerate("q", tools=[no_args_tool("generate_topic")])
        replay_sse(server, "gemini_tools_stream.sse")
        stream = gen.astream("q", tools=tools)
        async for _ in stream:
            pass
        await gen.aclose()
        return whole, stream.result

    whole, streamed = asyncio.run(both())
    assert kinds(whole.message) == ["ProviderPart", "ToolCall", "ToolCall", "ToolCall"]
    assert kinds(streamed.message) == ["ProviderPart", "ToolCall"]
    assert streamed.tool_calls[0].name == "get_country"
    assert streamed.usage.reasoning_tokens == 202


# --------------------------------------------------------------------------- examples


def _example(name: str, model: str) -> str:
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "examples" / name
    proc = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "GENKIT_MODEL": model},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def test_tools_example_runs_on_gemini(server: FakeProviderServer) -> None:
    server.script(
        Reply.text(
            tool_calls=[
                ("get_weather", {"city": "Paris"}),
                ("convert_currency", {"amount": 20, "source": "EUR", "target": "USD"}),
            ]
        ),
        Reply.text("Cloudy, 18 C; 20 EUR is 21.6 USD."),
    )
    out = _example("tools.py", "gemini:gemini-2.5-flash")
    assert "-> get_weather({'city': 'Paris'})" in out
    assert "Cloudy, 18 C; 20 EUR is 21.6 USD." in out
    assert "steps=2 finish=stop" in out
    results = [p["functionResponse"] for p in sent(server)["contents"][2]["parts"]]
    assert [r["name"] for r in results] == ["get_weather", "convert_currency"]
    assert results[1]["response"] == {"output": "21.6"}


def test_structured_example_runs_on_gemini(server: FakeProviderServer) -> None:
    city = {"name": "Paris", "country": "France", "population": 2100000, "landmarks": ["Louvre"]}
    rome = {"name": "Rome", "country": "Italy", "population": 2800000, "landmarks": ["Colosseum"]}
    server.script(Reply.text(json.dumps(city)), Reply.text(json.dumps(rome)))
    out = _example("structured.py", "gemini:gemini-2.5-flash")
    assert "Paris" in out
    assert "Rome" in out
    assert sent(server)["generationConfig"]["responseMimeType"] == "application/json"
