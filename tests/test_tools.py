"""Tools through the public API, offline: ``tools=``, the checks, the loop, stream assembly.

Everything runs on the ``test`` provider (``test:scripted`` replies script the model's
calls, ``test:echo`` makes forced calls) and on a registered backend whose capability
row lacks features.  What a backend sends on the wire is each provider's own tests'
business; this file is about what every backend shares.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

import pydantic
import pytest

import genkit
import genkit.testing
from fakeprovider import FakeProviderServer
from genkit.provider import (
    Backend,
    CapabilityTable,
    Generation,
    ModelCapabilities,
    Request,
    StreamEvent,
)
from genkit.testing import Reply
from tests.hosted import point_sdks_at
from tests.test_backend_mapping import last_body

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.7\n" + b"\x00" * 16


# --------------------------------------------------------------------------- tools


class City(pydantic.BaseModel):
    name: str
    country: str = "FR"


def get_weather(
    city: City, unit: Literal["c", "f"] = "c", days: int | None = None
) -> dict[str, Any]:
    """Get the weather for a city.

    Uses the nearest station.

    Args:
        city: Where to look.
        unit: Celsius or Fahrenheit.
    """
    return {"city": city.name, "temp": 21 if unit == "c" else 70, "days": days}


def add(a: int, b: int) -> int:
    """Add two integers.

    :param a: The first addend.
    :param b: The second addend.
    """
    return a + b


def multiply(x: float, y: float = 2.0) -> float:
    """Multiply two numbers.

    Parameters
    ----------
    x : float
        The multiplicand.
    y : float
        The multiplier.
    """
    return x * y


def no_doc(flag: bool, tags: list[str]) -> str:
    return f"{flag} {tags}"


def broken(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"boom: {reason}")


def _schema(tool: Any) -> dict[str, Any]:
    """The Tool genkit sent for ``tool``, as the backend saw it."""
    with genkit.testing.scripted(["ok"]) as script:
        genkit.load("test:scripted").generate("hi", tools=[tool])
    (sent,) = script.requests[0].tools
    return {"name": sent.name, "description": sent.description, **sent.parameters}


def _call(name: str, id: str = "", **arguments: Any) -> genkit.ToolCall:
    return genkit.ToolCall(id, name, arguments)


# --------------------------------------------------------------------------- schemas


def test_a_function_becomes_a_tool_from_its_signature_and_google_docstring() -> None:
    schema = _schema(get_weather)
    assert schema["name"] == "get_weather"
    assert schema["description"] == "Get the weather for a city.\n\nUses the nearest station."
    assert schema["type"] == "object"
    assert schema["required"] == ["city"]
    properties = schema["properties"]
    assert properties["city"] == {"$ref": "#/$defs/City", "description": "Where to look."}
    assert schema["$defs"]["City"]["required"] == ["name"]
    assert properties["unit"] == {
        "enum": ["c", "f"],
        "type": "string",
        "default": "c",
        "description": "Celsius or Fahrenheit.",
    }
    assert properties["days"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    assert "title" not in schema
    assert "title" not in properties["unit"]


def test_sphinx_and_numpy_docstrings_give_argument_docs() -> None:
    sphinx = _schema(add)
    assert sphinx["description"] == "Add two integers."
    assert sphinx["properties"]["a"] == {"type": "integer", "description": "The first addend."}
    assert sphinx["required"] == ["a", "b"]
    numpy = _schema(multiply)
    assert numpy["properties"]["x"] == {"type": "number", "description": "The multiplicand."}
    assert numpy["properties"]["y"]["default"] == 2.0
    assert numpy["required"] == ["x"]


def test_a_function_without_docstring_and_a_tool_as_given() -> None:
    schema = _schema(no_doc)
    assert schema["description"] == ""
    assert schema["properties"] == {
        "flag": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
    }
    declared = genkit.Tool(
        "lookup", "Find a word.", {"type": "object", "properties": {"q": {"type": "string"}}}
    )
    assert _schema(declared) == {
        "name": "lookup",
        "description": "Find a word.",
        **declared.parameters,
    }


def test_async_functions_and_methods_are_tools() -> None:
    class Shop:
        def price(self, item: str) -> float:
            """The price of an item."""
            return 1.0

    async def stock(item: str) -> int:
        """Items in stock."""
        return 3

    assert _schema(Shop().price)["properties"] == {"item": {"type": "string"}}
    assert _schema(stock)["description"] == "Items in stock."


def test_the_recorded_request_exposes_the_tools_and_options() -> None:
    with genkit.testing.scripted(["ok"]) as script:
        genkit.load("test:scripted").generate(
            "hi", tools=[add, multiply], tool_choice="add", parallel_tool_calls=False
        )
    (request,) = script.requests
    assert request.tool_names == ["add", "multiply"]
    assert request.tools[0].function is add
    assert request.tool_choice == "add"
    assert request.parallel_tool_calls is False


def test_load_defaults_for_tools_and_a_call_clearing_them() -> None:
    with genkit.testing.scripted(["a", "b"]) as script:
        gen = genkit.load("test:scripted", tools=[add], tool_choice="auto")
        gen.generate("hi")
        gen.generate("hi", tools=None, tool_choice=None)
    first, second = script.requests
    assert first.tool_names == ["add"]
    assert first.tool_choice == "auto"
    assert second.tools == ()
    assert second.tool_choice is None
    with pytest.raises(genkit.InvalidParameterError, match="tools"):
        genkit.load("test:echo", tools=[42])


# --------------------------------------------------------------------------- bad input


def _refused(**call: Any) -> genkit.InvalidParameterError:
    prompt = call.pop("prompt", "hi")
    with genkit.testing.scripted([]) as script:
        gen = genkit.load("test:scripted")
        for method in (gen.generate, gen.stream):
            with pytest.raises(genkit.InvalidParameterError) as info:
                method(prompt, **call)
        assert script.requests == []  # refused before anything was sent
    error = info.value
    assert error.provider == "test"
    return error


def _tool(name: str, parameters: Any = None) -> genkit.Tool:
    return genkit.Tool(name, "", parameters or {"type": "object", "properties": {}})


@pytest.mark.parametrize(
    ("call", "parameter", "says"),
    [
        ({"tools": [_tool("has space")]}, "tools[0].name", "'has space'"),
        ({"tools": [_tool("x" * 65)]}, "tools[0].name", "1 to 64"),
        ({"tools": [_tool("")]}, "tools[0].name", "not accepted"),
        ({"tools": [lambda x: x]}, "tools[0].name", "'<lambda>'"),
        ({"tools": [add, _tool("add")]}, "tools[1].name", "two tools are named 'add'"),
        (
            {"tools": [_tool("t", {"type": "string"})]},
            "tools[0].parameters",
            "not an object schema",
        ),
        (
            {"tools": [_tool("t", {"type": "object", "properties": []})]},
            "tools[0].parameters",
            "'t'",
        ),
        ({"tools": [add, 42]}, "tools[1]", "int is neither a function nor a genkit.Tool"),
        ({"tools": [City]}, "tools[0]", "neither a function"),
        ({"tools": ["add"]}, "tools[0]", "str is neither"),
        ({"tools": add}, "tools", "expected a list"),
        ({"tools": [lambda *args: 0]}, "tools[0]", "takes *args"),
        ({"tools": [add], "tool_choice": "sometimes"}, "tool_choice", "'sometimes'"),
        (
            {"tools": [add], "tool_choice": "mul"},
            "tool_choice",
            "'auto', 'none', 'required', 'add'",
        ),
        ({"tools": [add], "tool_choice": 1}, "tool_choice", "neither a mode"),
        ({"tool_choice": "auto"}, "tool_choice", "no tools="),
        ({"tools": [add], "parallel_tool_calls": "yes"}, "parallel_tool_calls", "True or False"),
        ({"parallel_tool_calls": True}, "parallel_tool_calls", "without tools="),
        ({"tools": [add], "max_steps": 0}, "max_steps", "an integer >= 1"),
        ({"tools": [add], "max_steps": True}, "max_steps", "an integer >= 1"),
        ({"tools": [add], "max_steps": "3"}, "max_steps", "an integer >= 1"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_bad_tools_are_refused_before_sending(
    call: dict[str, Any], parameter: str, says: str
) -> None:
    error = _refused(**call)
    assert error.parameter == parameter
    assert says in str(error)


def test_a_tool_result_must_answer_an_earlier_call() -> None:
    result = genkit.ToolResult("call_9", "sunny", name="get_weather")
    asked = genkit.Message("user", "weather?")
    called = genkit.Message("assistant", [_call("get_weather", "call_1", city={"name": "Paris"})])
    # No call at all, a call with another id, and the result before its call.
    for prompt, position in (
        ([asked, genkit.Message("tool", [result])], 1),
        ([asked, called, genkit.Message("tool", [result])], 2),
    ):
        error = _refused(prompt=prompt, tools=[get_weather])
        assert error.parameter == f"prompt[{position}].content[0].call_id"
        assert "'call_9' answers no tool call" in str(error)
    early = [asked, genkit.Message("tool", [genkit.ToolResult("call_1", "x")]), called]
    assert _refused(prompt=early).parameter == "prompt[1].content[0].call_id"


def test_a_matching_history_is_sent() -> None:
    prompt = [
        genkit.Message("user", "weather?"),
        genkit.Message("assistant", [_call("get_weather", "call_1", city={"name": "Paris"})]),
        genkit.Message("tool", [genkit.ToolResult("call_1", "sunny", name="get_weather")]),
    ]
    with genkit.testing.scripted(["Sunny."]) as script:
        assert genkit.load("test:scripted").generate(prompt, tools=[get_weather]).text == "Sunny."
    sent = script.requests[0].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool"]
    assert sent[2].content == tuple(prompt[2].content)


# --------------------------------------------------------------------------- capabilities


#: What reached the backend below: its tests expect nothing, or one drop-mode request.
SENT: list[Request] = []


class _Limited(Backend):
    """A backend with a capability row of few features; refused input must never reach it."""

    provider = "limited"
    capabilities = CapabilityTable(
        [
            ("toolsonly", ModelCapabilities(frozenset(), features=frozenset({"tools"}))),
            (
                "vision",
                ModelCapabilities(
                    frozenset(),
                    features=frozenset({"tools", "image_input", "pdf_input"}),
                    max_image_bytes=20,
                    max_document_bytes=20,
                ),
            ),
        ],
        default=ModelCapabilities(frozenset()),
    )

    def generate(self, request: Request) -> Generation:
        SENT.append(request)
        return Generation(["ok"], ["stop"], genkit.Usage(), self.model, self.provider)

    async def agenerate(self, request: Request) -> Generation:
        raise AssertionError("sent")

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        raise AssertionError("sent")

    def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        raise AssertionError("sent")


genkit.register("limited", _Limited)


def _unsupported(model: str, prompt: Any = "hi", **call: Any) -> genkit.UnsupportedParameterError:
    gen = genkit.load(f"limited:{model}")
    SENT.clear()
    for method in (gen.generate, gen.stream, gen.astream):
        with pytest.raises(genkit.UnsupportedParameterError) as info:
            method(prompt, **call)
    assert SENT == []
    assert info.value.provider == "limited"
    assert info.value.model == model
    return info.value


def test_features_the_model_lacks_are_refused_before_sending() -> None:
    assert _unsupported("plain", tools=[add]).parameter == "tools"
    assert "tool calling is not supported" in str(_unsupported("plain", tools=[add]))
    error = _unsupported("toolsonly", tools=[add], parallel_tool_calls=False)
    assert error.parameter == "parallel_tool_calls"
    image = [genkit.Message("user", [genkit.Text("What is it?"), genkit.Image(data=PNG)])]
    error = _unsupported("toolsonly", image)
    assert error.parameter == "prompt[0].content[1]"
    assert "image input is not supported by the limited backend" in str(error)
    assert "'image_input'" in str(error)
    document = [genkit.Message("user", [genkit.Document(data=PDF)])]
    assert "'pdf_input'" in str(_unsupported("toolsonly", document))
    history = [
        genkit.Message("user", "hi"),
        genkit.Message("assistant", [_call("f", "c1")]),
        genkit.Message("tool", [genkit.ToolResult("c1", "x")]),
    ]
    assert _unsupported("plain", history).parameter == "prompt[1].content[0]"


def test_drop_mode_drops_parallel_tool_calls_but_never_tools() -> None:
    SENT.clear()
    gen = genkit.load("limited:toolsonly", drop_unsupported=True)
    result = gen.generate("hi", tools=[add], parallel_tool_calls=False)
    (request,) = SENT
    assert request.parallel_tool_calls is None
    assert request.tools[0].name == "add"
    assert result.warnings == [
        "dropped 'parallel_tool_calls': not supported by limited model 'toolsonly'"
    ]
    with pytest.raises(genkit.UnsupportedParameterError):
        genkit.load("limited:plain", drop_unsupported=True).generate("hi", tools=[add])


def test_images_inside_tool_results_and_limits() -> None:
    inner = genkit.ToolResult("c1", [genkit.Text("the chart"), genkit.Image(data=PNG)])
    history = [
        genkit.Message("user", "hi"),
        genkit.Message("assistant", [_call("chart", "c1")]),
        genkit.Message("tool", [inner]),
    ]
    assert _unsupported("toolsonly", history).parameter == "prompt[2].content[0].content[1]"
    big = genkit.Image(data=PNG + b"\x00" * 20)
    error = _unsupported("vision", [genkit.Message("user", [big])])
    assert "the image is 44 bytes" in str(error)
    assert "at most 20 bytes" in str(error)
    bmp = genkit.Image(data=PNG, media_type="image/bmp")
    assert _unsupported("vision", [genkit.Message("user", [bmp])]).parameter == (
        "prompt[0].content[0].media_type"
    )
    long_pdf = genkit.Document(data=PDF + b"\x00" * 20)
    assert "the document is" in str(_unsupported("vision", [genkit.Message("user", [long_pdf])]))


def test_the_test_models_take_every_part() -> None:
    prompt = [
        genkit.Message("user", [genkit.Text("look "), genkit.Image(data=PNG)]),
        genkit.Message("assistant", [_call("f", "c1"), genkit.ProviderPart("test", {"s": 1})]),
        genkit.Message("tool", [genkit.ToolResult("c1", [genkit.Image(data=PNG)])]),
        genkit.Message("user", [genkit.Document(data=PDF), genkit.Text("and this")]),
    ]
    assert genkit.load("test:echo").generate(prompt).text == "and this"


# --------------------------------------------------------------------------- results


def test_finish_reason_tool_calls_is_decided_from_the_content() -> None:
    calls = [_call("add", "c1", a=1, b=2), _call("multiply", x=3)]
    reply = Reply(text="Let me add.", tool_calls=calls, finish_reason="stop")
    with genkit.testing.scripted([reply, reply]):
        gen = genkit.load("test:scripted")
        result = gen.generate("sum?", tools=[add, multiply], n=2)
        streamed = gen.stream("sum?", tools=[add, multiply], n=2).result
    for got in (result, streamed):
        assert got.finish_reasons == ["tool_calls", "tool_calls"]
        assert got.raw_finish_reason == "stop"  # what the "provider" said
        assert [c.name for c in got.tool_calls] == ["add", "multiply"]
        assert got.tool_calls[0] == genkit.ToolCall("c1", "add", {"a": 1, "b": 2})
        assert got.tool_calls[1].id.startswith("call_")  # generated where none was given
        assert got.message.content == (genkit.Text("Let me add."), *got.tool_calls)
        assert got.text == "Let me add."
        assert got.steps == [got]


def test_a_plain_answer_has_no_calls_and_its_text_as_message() -> None:
    result = genkit.load("test:echo").generate("just text", tools=[add])
    assert result.tool_calls == []
    assert result.finish_reason == "stop"
    assert result.message == genkit.Message("assistant", "just text")


def test_echo_calls_the_forced_tool_with_the_least_arguments() -> None:
    gen = genkit.load("test:echo")
    required = gen.generate("hi", tools=[get_weather, add], tool_choice="required")
    assert required.finish_reason == "tool_calls"
    (call,) = required.tool_calls
    assert (call.name, call.arguments) == ("get_weather", {"city": {"name": ""}})
    (named,) = gen.generate("hi", tools=[get_weather, add], tool_choice="add").tool_calls
    assert (named.name, named.arguments) == ("add", {"a": 0, "b": 0})
    assert gen.generate("hi", tools=[add], tool_choice="auto").text == "hi"
    assert gen.generate("hi", tools=[add], tool_choice="none").tool_calls == []
    streamed = gen.stream("hi", tools=[add], tool_choice="required")
    types = [event.type for event in streamed.events()]
    assert types[:3] == ["tool_call_start", "tool_call_delta", "tool_call_delta"]
    assert "tool_call_end" in types
    assert streamed.result.tool_calls[0].arguments == {"a": 0, "b": 0}


# --------------------------------------------------------------------------- stream assembly


def _assembly_events() -> list[StreamEvent]:
    thinking = genkit.ProviderPart("test", {"signature": "abc"})
    return [
        genkit.ReasoningDelta("Think"),
        genkit.ReasoningDelta("ing."),
        genkit.ProviderData(thinking),
        genkit.Chunk("Let me "),
        genkit.Chunk("check. "),
        genkit.ToolCallStart("c1", "add", 0, 0),
        genkit.ToolCallDelta('{"a": 1,', 0, 0),
        genkit.ToolCallDelta(' "b": 2}', 0, 0),
        genkit.ToolCallEnd("c1", "add", {"a": 1, "b": 2}, 0, 0),
        genkit.Chunk("And "),
        genkit.Chunk("more."),
        genkit.Finish("stop", "end_turn"),
        genkit.UsageUpdate(genkit.Usage(5, 7, 2)),
    ]


def test_a_stream_puts_the_turn_together_in_event_order() -> None:
    events = _assembly_events()
    with genkit.testing.scripted([Reply(events=events), Reply(events=events)]):
        gen = genkit.load("test:scripted")
        stream = gen.stream("hi", tools=[add])
        assert "".join(chunk.text for chunk in stream) == "Let me check. And more."
        streamed = stream.result
        generated = gen.generate("hi", tools=[add])
    for result in (streamed, generated):
        assert result.message.content == (
            genkit.ProviderPart("test", {"signature": "abc"}),
            genkit.Text("Let me check. "),
            genkit.ToolCall("c1", "add", {"a": 1, "b": 2}),
            genkit.Text("And more."),
        )
        assert result.reasoning == "Thinking."
        assert result.refusal is None
        assert result.finish_reason == "tool_calls"
        assert result.raw_finish_reason == "end_turn"
        assert result.usage.reasoning_tokens == 2


def test_a_refusal_is_assembled() -> None:
    events: list[StreamEvent] = [
        genkit.RefusalDelta("I can't "),
        genkit.RefusalDelta("help with that."),
        genkit.Finish("content_filter", "refusal"),
    ]
    with genkit.testing.scripted([Reply(events=events)]):
        result = genkit.load("test:scripted").stream("hi").result
    assert result.refusal == "I can't help with that."
    assert result.finish_reason == "content_filter"
    assert result.messages == []
    assert result.message == genkit.Message("assistant", "")


@pytest.mark.parametrize("method", ["stream", "astream"])
def test_a_stream_cut_mid_arguments_never_reports_the_half_call(method: str) -> None:
    events: list[StreamEvent] = [
        genkit.Chunk("Calling."),
        genkit.ToolCallStart("c1", "add", 0, 0),
        genkit.ToolCallDelta('{"a": 1, "b": 2}', 0, 0),
        genkit.ToolCallEnd("c1", "add", {"a": 1, "b": 2}, 0, 0),
        genkit.ToolCallStart("c2", "add", 0, 1),
        genkit.ToolCallDelta('{"a": ', 0, 1),
    ]
    cut = Reply(events=events, error=genkit.ServerError("connection reset", provider="test"))
    with genkit.testing.scripted([cut]):
        gen = genkit.load("test:scripted", max_retries=0)
        seen: list[str] = []

        async def read_async() -> Any:
            stream = gen.astream("hi", tools=[add], max_steps=3)

            async def read() -> None:
                async for event in stream.events():
                    seen.append(event.type)

            with pytest.raises(genkit.ServerError) as info:
                await read()
            return info.value, await stream.get_result()

        if method == "stream":
            stream = gen.stream("hi", tools=[add], max_steps=3)

            def read() -> None:
                for event in stream.events():
                    seen.append(event.type)

            with pytest.raises(genkit.ServerError) as info:
                read()
            error, result = info.value, stream.result
        else:
            error, result = asyncio.run(read_async())
    assert seen.count("tool_call_start") == 2
    assert seen.count("tool_call_end") == 1
    for partial in (error.partial, result):
        assert partial is not None
        assert partial.finish_reason is None
        assert partial.tool_calls == [genkit.ToolCall("c1", "add", {"a": 1, "b": 2})]
        assert partial.text == "Calling."


# --------------------------------------------------------------------------- the loop


def _scripted_loop() -> list[Reply | str]:
    return [
        Reply(
            text="Working.", tool_calls=[_call("add", "c1", a=2, b=3), _call("multiply", "c2", x=4)]
        ),
        Reply(tool_calls=[_call("add", "c3", a=5, b=8)]),
        "The answer is 13.",
    ]


def test_the_loop_runs_function_tools_until_an_answer() -> None:
    with genkit.testing.scripted(_scripted_loop()) as script:
        result = genkit.load("test:scripted").generate(
            "compute", tools=[add, multiply], tool_choice="required", max_steps=5
        )
    assert result.text == "The answer is 13."
    assert result.finish_reason == "stop"
    assert len(result.steps) == 3
    assert [len(step.tool_calls) for step in result.steps] == [2, 1, 0]
    assert result.steps[-1].text == result.text
    assert result.steps[-1] is not result
    assert result.usage == sum((s.usage for s in result.steps[1:]), result.steps[0].usage)
    assert result.usage.output_tokens == 1 + 4  # "Working." + "The answer is 13."
    second, third = script.requests[1:]
    assert second.tool_choice == "auto"  # forced for the first step only
    assistant, tool = second.messages[-2:]
    assert assistant == result.steps[0].message
    assert tool == genkit.Message(
        "tool",
        (
            genkit.ToolResult("c1", "5", name="add"),
            genkit.ToolResult("c2", "8.0", name="multiply"),
        ),
    )
    assert third.messages[-1].content == (genkit.ToolResult("c3", "13", name="add"),)
    assert len(third.messages) == 5


def test_max_steps_1_returns_the_calls_without_running_them() -> None:
    ran: list[int] = []

    def record(n: int) -> int:
        """Record n."""
        ran.append(n)
        return n

    with genkit.testing.scripted([Reply(tool_calls=[_call("record", "c1", n=1)])]) as script:
        result = genkit.load("test:scripted").generate("go", tools=[record])
    assert ran == []
    assert result.tool_calls[0].arguments == {"n": 1}
    assert script.remaining == 0


def test_the_loop_stops_at_max_steps() -> None:
    again = Reply(tool_calls=[_call("add", a=1, b=1)])
    with genkit.testing.scripted([again] * 3) as script:
        result = genkit.load("test:scripted").generate("loop", tools=[add], max_steps=3)
    assert len(script.requests) == 3
    assert len(result.steps) == 3
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls[0].name == "add"


def test_tool_failures_go_back_to_the_model_as_error_results() -> None:
    calls = [
        _call("broken", "c1", reason="disk full"),
        _call("add", "c2", a="two", b=2),
        _call("subtract", "c3", a=1),
        _call("add", "c4", a="7", b=1),  # coerced by pydantic like any validated input
    ]
    with genkit.testing.scripted([Reply(tool_calls=calls), "Sorry."]) as script:
        result = genkit.load("test:scripted").generate("go", tools=[broken, add], max_steps=2)
    assert result.text == "Sorry."
    failed, invalid, unknown, coerced = tuple(script.requests[1].messages[-1].content)
    assert isinstance(failed, genkit.ToolResult)
    assert failed.is_error
    assert failed.content == "ValueError: boom: disk full"
    assert isinstance(invalid, genkit.ToolResult)
    assert invalid.is_error
    assert "invalid arguments for 'add'" in str(invalid.content)
    assert "a" in str(invalid.content)
    assert isinstance(unknown, genkit.ToolResult)
    assert unknown.is_error
    assert "no tool named 'subtract'" in str(unknown.content)
    assert "broken, add" in str(unknown.content)
    assert coerced == genkit.ToolResult("c4", "8", name="add")


def test_tool_outputs_become_text() -> None:
    def weather(city: City) -> City:
        """Echo the city."""
        return city

    def nothing() -> None:
        """Return nothing."""

    def empty() -> str:
        """Return an empty string."""
        return ""

    calls = [
        _call("get_weather", "c1", city={"name": "Oslo"}, unit="f"),
        _call("weather", "c2", city={"name": "Köln"}),
        _call("nothing", "c3"),
        _call("empty", "c4"),
    ]
    with genkit.testing.scripted([Reply(tool_calls=calls), "Done."]) as script:
        genkit.load("test:scripted").generate(
            "go", tools=[get_weather, weather, nothing, empty], max_steps=2
        )
    contents = [r.content for r in script.requests[1].messages[-1].content]  # type: ignore[union-attr]
    assert contents == [
        '{"city":"Oslo","temp":70,"days":null}',
        '{"name":"Köln","country":"FR"}',
        "null",
        "(no output)",
    ]


def test_a_declared_tool_without_function_ends_the_loop() -> None:
    declared = _tool("search")
    with genkit.testing.scripted([Reply(tool_calls=[_call("search", "c1")])]) as script:
        result = genkit.load("test:scripted").generate("go", tools=[declared, add], max_steps=4)
    assert len(script.requests) == 1
    assert result.tool_calls[0].name == "search"


def test_a_tool_with_a_function_runs() -> None:
    def lookup(**kwargs: Any) -> str:
        return f"found {kwargs['q']}"

    tool = genkit.Tool("lookup", "", {"type": "object", "properties": {}}, function=lookup)
    with genkit.testing.scripted([Reply(tool_calls=[_call("lookup", "c1", q="x")]), "ok"]) as s:
        genkit.load("test:scripted").generate("go", tools=[tool], max_steps=2)
    assert s.requests[1].messages[-1].content == (
        genkit.ToolResult("c1", "found x", name="lookup"),
    )


def test_the_sync_loop_runs_an_async_tool() -> None:
    async def slow_add(a: int, b: int) -> int:
        """Add, eventually."""
        await asyncio.sleep(0)
        return a + b

    with genkit.testing.scripted([Reply(tool_calls=[_call("slow_add", "c1", a=1, b=2)]), "3"]) as s:
        genkit.load("test:scripted").generate("go", tools=[slow_add], max_steps=2)
    assert s.requests[1].messages[-1].content == (genkit.ToolResult("c1", "3", name="slow_add"),)


def test_the_async_loop_awaits_async_tools_and_threads_sync_ones() -> None:
    threads: dict[str, int] = {}

    def sync_tool(n: int) -> int:
        """Sync."""
        threads["sync"] = threading.get_ident()
        return n * 2

    async def async_tool(n: int) -> int:
        """Async."""
        threads["async"] = threading.get_ident()
        return n * 3

    calls = [_call("sync_tool", "c1", n=1), _call("async_tool", "c2", n=1)]

    async def run() -> genkit.Generation:
        threads["loop"] = threading.get_ident()
        with genkit.testing.scripted([Reply(tool_calls=calls), "Done."]) as script:
            result = await genkit.load("test:scripted").agenerate(
                "go", tools=[sync_tool, async_tool], max_steps=3
            )
        assert script.requests[1].messages[-1].content == (
            genkit.ToolResult("c1", "2", name="sync_tool"),
            genkit.ToolResult("c2", "3", name="async_tool"),
        )
        return result

    result = asyncio.run(run())
    assert result.text == "Done."
    assert len(result.steps) == 2
    assert threads["async"] == threads["loop"] != threads["sync"]


def test_a_streamed_loop_yields_every_step() -> None:
    with genkit.testing.scripted(_scripted_loop()) as script:
        stream = genkit.load("test:scripted").stream("compute", tools=[add, multiply], max_steps=5)
        types = [event.type for event in stream.events()]
        result = stream.result
    assert len(script.requests) == 3
    assert types.count("finish") == 3
    assert types.count("tool_call_end") == 3
    assert types.index("tool_call_end") < len(types) - types[::-1].index("text") - 1
    assert result.text == "The answer is 13."
    assert len(result.steps) == 3
    assert result.steps[0].text == "Working."
    assert len(result.steps[0].tool_calls) == 2
    assert result.usage == sum((s.usage for s in result.steps[1:]), result.steps[0].usage)
    assert script.requests[2].messages[-1].content == (genkit.ToolResult("c3", "13", name="add"),)


def test_plain_iteration_of_a_streamed_loop_gives_each_steps_text() -> None:
    with genkit.testing.scripted(_scripted_loop()):
        stream = genkit.load("test:scripted").stream("compute", tools=[add, multiply], max_steps=5)
        assert "".join(chunk.text for chunk in stream) == "Working.The answer is 13."
        assert stream.result.text == "The answer is 13."


def test_an_async_streamed_loop() -> None:
    async def run() -> tuple[list[str], genkit.Generation]:
        with genkit.testing.scripted(_scripted_loop()):
            stream = genkit.load("test:scripted").astream(
                "compute", tools=[add, multiply], max_steps=5
            )
            texts = [chunk.text async for chunk in stream]
            return texts, stream.result

    texts, result = asyncio.run(run())
    assert "".join(texts) == "Working.The answer is 13."
    assert len(result.steps) == 3
    assert result.text == "The answer is 13."


def test_echo_runs_a_loop_offline() -> None:
    ran: list[dict[str, Any]] = []

    def lookup(term: str, limit: int = 3) -> str:
        """Look a term up."""
        ran.append({"term": term, "limit": limit})
        return "nothing found"

    result = genkit.load("test:echo").generate(
        "find cats", tools=[lookup], tool_choice="required", max_steps=4
    )
    assert ran == [{"term": "", "limit": 3}]
    assert len(result.steps) == 2
    assert result.text == "find cats"
    assert result.steps[0].finish_reason == "tool_calls"


def test_a_list_of_function_tools_is_checked_once_and_tools_are_checked_every_call() -> None:
    """The same functions give the same checked tools without converting them again (a
    call declaring 20 tools paid 36 µs for it); a list holding a genkit.Tool, whose schema
    dict may change between calls, is checked on every call."""
    from genkit._tooling import _tools

    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    first = _tools([lookup], "openai")
    assert _tools([lookup], "openai") is first
    assert first[0].name == "lookup"
    declared = genkit.Tool("note", "Write.", {"type": "object", "properties": {}})
    assert _tools([lookup, declared], "openai") == (first[0], declared)
    broken = genkit.Tool("note", "Write.", {"type": "object", "properties": {}})
    broken.parameters["properties"] = []  # type: ignore[index]
    with pytest.raises(genkit.InvalidParameterError, match="properties"):
        _tools([lookup, broken], "openai")


# --------------------------------------------------------------------------- on the wire


def _parameters(tool: Any) -> dict[str, Any]:
    """The JSON Schema of ``tool``'s arguments as genkit converted it."""
    return {k: v for k, v in _schema(tool).items() if k not in ("name", "description")}


#: Where each hosted API puts the JSON Schema of every declared tool.
_SCHEMAS_SENT: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
    "openai:gpt-4o": lambda body: [t["function"]["parameters"] for t in body["tools"]],
    "anthropic:claude-sonnet-4-6": lambda body: [t["input_schema"] for t in body["tools"]],
    "gemini:gemini-2.5-flash": lambda body: [
        # google-genai writes this nested field in snake_case
        d.get("parametersJsonSchema", d.get("parameters_json_schema"))
        for d in body["tools"][0]["functionDeclarations"]
    ],
}


@pytest.mark.parametrize("model", list(_SCHEMAS_SENT))
def test_repeated_calls_send_the_same_tools_and_a_changed_tool_its_new_schema(
    fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    """Tool definitions are built once per ``tools=`` list and reused: a later call must
    still send them whole, and a ``Tool`` whose schema changed must go out changed."""
    point_sdks_at(fake_server, monkeypatch)
    schemas_sent = _SCHEMAS_SENT[model]
    gen = genkit.load(model)
    expected = [_parameters(get_weather), _parameters(add)]
    for _ in range(3):
        gen.generate("hi", tools=[get_weather, add])
        assert schemas_sent(last_body(fake_server)) == expected
    parameters: dict[str, Any] = {"type": "object", "properties": {"q": {"type": "string"}}}
    tool = genkit.Tool("search", "Search.", parameters)
    gen.generate("hi", tools=[tool])
    parameters["properties"]["limit"] = {"type": "integer"}
    gen.generate("hi", tools=[tool])
    assert schemas_sent(last_body(fake_server)) == [parameters]
    assert "limit" in schemas_sent(last_body(fake_server))[0]["properties"]
