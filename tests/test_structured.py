"""``schema=``: a schema in, a validated object out, through the public API.

The ``test`` models answer ``schema=`` with a valid instance (``test:echo``/``lorem``)
or with scripted text (``test:scripted``), so every rule the Generator owns - building
the canonical schema, refusing what the model cannot do, validating, truncation,
refusals, ``output_retries``, partial objects while streaming - runs here for real.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

import genkit
import genkit.testing
from genkit.backends.testmodel import OfflineBackend
from genkit.provider import BackendSettings, CapabilityTable, ModelCapabilities
from genkit.testing import Reply, Script


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    city: str


class Person(BaseModel):
    """Someone the model describes."""

    name: str = Field(min_length=1)
    age: int = Field(ge=0)
    color: Color
    kind: Literal["friend", "colleague"]
    home: Address
    work: Address | None = None
    tags: list[str] = []
    scores: dict[str, float] = {}


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


#: pydantic refuses typing.TypedDict before Python 3.12 (typing_extensions' is fine).
class OldStyle(typing.TypedDict):
    a: int


class City(BaseModel):
    name: str
    population: int


CITY_JSON = '{"name": "Paris", "population": 2100000}'

MODES = ["generate", "agenerate", "stream", "astream"]


async def call(gen: genkit.Generator, mode: str, prompt: str, **params: Any) -> genkit.Generation:
    """One call in ``mode``; a stream read to its end."""
    if mode == "generate":
        return gen.generate(prompt, **params)
    if mode == "agenerate":
        return await gen.agenerate(prompt, **params)
    if mode == "stream":
        with gen.stream(prompt, **params) as stream:
            for _ in stream:
                pass
        return stream.result
    astream = gen.astream(prompt, **params)
    async for _ in astream:
        pass
    return await astream.get_result()


# --------------------------------------------------------------------------- test models


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", ["test:echo", "test:lorem"])
async def test_test_models_answer_a_valid_instance(model: str, mode: str) -> None:
    result = await call(genkit.load(model), mode, "Describe a friend", schema=Person)
    assert isinstance(result.parsed, Person)
    assert result.parsed == Person.model_validate_json(result.text)
    assert result.finish_reason == "stop"


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        (Point, Point),
        (Movie, dict),
        (list[City], list),
        ({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}, dict),
        (Color, Color),
    ],
    ids=["dataclass", "typeddict", "list", "dict", "enum"],
)
def test_every_kind_of_schema_parses_to_its_type(schema: Any, kind: type) -> None:
    result = genkit.load("test:lorem").generate("x", schema=schema)
    assert isinstance(result.parsed, kind)
    assert result.parsed  # a valid instance is never empty here


def test_lorem_cut_by_max_tokens_is_a_truncated_validation_error() -> None:
    gen = genkit.load("test:lorem")
    with pytest.raises(genkit.OutputValidationError) as caught:
        gen.generate("x", schema=Person, max_tokens=5)
    error = caught.value
    assert error.truncated is True
    assert "max_tokens" in str(error)
    assert len(error.text.split()) == 5
    assert error.errors[0]["type"] == "json_invalid"
    assert isinstance(error, genkit.GenkitError)
    assert error.generation is not None
    assert error.generation.finish_reason == "length"


def test_lorem_stream_cut_by_max_tokens_raises_at_the_end_of_iteration() -> None:
    stream = genkit.load("test:lorem").stream("x", schema=Person, max_tokens=6)
    chunks: list[str] = []

    def read() -> None:
        chunks.extend(chunk.text for chunk in stream)

    with pytest.raises(genkit.OutputValidationError) as caught:
        read()
    assert caught.value.truncated
    assert len(chunks) == 6
    assert stream.error is caught.value
    assert stream.result.parsed is None
    assert stream.result.finish_reason == "length"


# --------------------------------------------------------------------------- scripted


def test_scripted_text_is_parsed_and_the_schema_is_sent_once_built() -> None:
    with genkit.testing.scripted([CITY_JSON, CITY_JSON]) as script:
        gen = genkit.load("test:scripted")
        first = gen.generate("Paris?", schema=City)
        second = gen.generate("Paris?", schema=City)
    assert first.parsed == City(name="Paris", population=2100000)
    assert second.parsed == first.parsed
    sent = [request.output for request in script.requests]
    assert sent[0] is not None
    assert sent[0] is sent[1]
    assert sent[0].name == "City"
    assert sent[0].json_schema["required"] == ["name", "population"]


def test_a_non_object_root_is_sent_wrapped_and_parsed_unwrapped() -> None:
    reply = json.dumps({"value": [{"name": "Paris", "population": 1}]})
    with genkit.testing.scripted([reply]) as script:
        result = genkit.load("test:scripted").generate("cities", schema=list[City])
    assert result.parsed == [City(name="Paris", population=1)]
    output = script.requests[0].output
    assert output is not None
    assert output.name == "list_City"
    assert output.json_schema["type"] == "object"
    assert output.json_schema["required"] == ["value"]
    assert output.json_schema["properties"]["value"]["type"] == "array"
    assert "City" in output.json_schema["$defs"]


def test_a_dict_schema_is_validated_with_jsonschema() -> None:
    schema = {
        "title": "Reading",
        "type": "object",
        "properties": {"celsius": {"type": "number", "maximum": 100}},
        "required": ["celsius"],
    }
    script = Script(['{"celsius": 21.5}', '{"celsius": 120}'])
    gen = script.load()
    assert gen.generate("t", schema=schema).parsed == {"celsius": 21.5}
    with pytest.raises(genkit.OutputValidationError) as caught:
        gen.generate("t", schema=schema)
    assert caught.value.truncated is False
    assert caught.value.errors[0]["loc"] == ("celsius",)
    assert "maximum" in caught.value.errors[0]["type"]
    assert script.requests[0].output is not None
    assert script.requests[0].output.name == "Reading"


def test_an_invalid_answer_names_the_field_and_is_not_truncated() -> None:
    with (
        genkit.testing.scripted(['{"name": "Paris", "population": "many"}']),
        pytest.raises(genkit.OutputValidationError) as caught,
    ):
        genkit.load("test:scripted").generate("x", schema=City)
    error = caught.value
    assert not error.truncated
    assert error.text == '{"name": "Paris", "population": "many"}'
    assert [e["loc"] for e in error.errors] == [("population",)]
    assert "population" in str(error)
    assert "max_tokens" not in str(error)


def test_a_scripted_answer_cut_at_length_is_truncated() -> None:
    with (
        genkit.testing.scripted([Reply('{"name": "Par', finish_reason="length")]),
        pytest.raises(genkit.OutputValidationError) as caught,
    ):
        genkit.load("test:scripted").generate("x", schema=City)
    assert caught.value.truncated


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("mode", MODES)
async def test_a_refusal_with_a_schema_raises_refusal_error(mode: str) -> None:
    with (
        genkit.testing.scripted([Reply(refusal="I can't help with that.")]),
        pytest.raises(genkit.RefusalError) as caught,
    ):
        await call(genkit.load("test:scripted"), mode, "x", schema=City)
    assert caught.value.category == "content_filter"
    assert isinstance(caught.value, genkit.GenkitError)
    if mode in ("generate", "agenerate"):  # streams: once the accumulator keeps refusals
        assert caught.value.refusal == "I can't help with that."
        assert "I can't help with that." in str(caught.value)


def test_a_refusal_without_a_schema_is_a_finish_reason() -> None:
    with genkit.testing.scripted([Reply(refusal="No.")]):
        result = genkit.load("test:scripted").generate("x")
    assert result.finish_reason == "content_filter"
    assert result.refusal == "No."
    assert result.parsed is None


# --------------------------------------------------------------------------- output_retries


def test_output_retries_asks_again_with_the_errors_and_sums_usage() -> None:
    bad = '{"name": "Paris"}'
    script = Script([bad, "not json", CITY_JSON])
    result = script.load().generate("Paris?", schema=City, output_retries=2)
    assert result.parsed == City(name="Paris", population=2100000)
    requests = script.requests
    assert len(requests) == 3
    assert [m.role for m in requests[1].messages] == ["user", "assistant", "user"]
    assert requests[1].messages[1].text == bad
    assert "population" in requests[1].messages[2].text
    assert "Invalid JSON" in requests[2].messages[-1].text
    assert len(requests[2].messages) == 5
    # Words: the prompt grows by each bad answer and each feedback turn.
    assert result.usage.output_tokens == len(bad.split()) + 2 + len(CITY_JSON.split())
    assert result.usage.input_tokens == sum(
        sum(len(m.text.split()) for m in r.messages) for r in requests
    )
    assert any("output_retries" in w and "2 retries" in w for w in result.warnings)


async def test_output_retries_exhausted_raise_after_exactly_n_plus_one_requests() -> None:
    script = Script(["{}", "{}", "{}"])
    with pytest.raises(genkit.OutputValidationError) as caught:
        await script.load().agenerate("x", schema=City, output_retries=1)
    assert len(script.requests) == 2
    assert script.remaining == 1
    assert caught.value.generation is not None
    assert caught.value.generation.usage.input_tokens == sum(
        sum(len(m.text.split()) for m in r.messages) for r in script.requests
    )


def test_no_output_retries_by_default_and_refusals_are_never_retried() -> None:
    script = Script(["{}", "{}"])
    with pytest.raises(genkit.OutputValidationError):
        script.load().generate("x", schema=City)
    assert len(script.requests) == 1
    script = Script([Reply(refusal="no"), CITY_JSON])
    with pytest.raises(genkit.RefusalError):
        script.load().generate("x", schema=City, output_retries=3)
    assert len(script.requests) == 1


def test_a_retry_after_truncation_says_the_answer_was_cut() -> None:
    script = Script([Reply('{"name": "Pa', finish_reason="length"), CITY_JSON])
    result = script.load().generate("x", schema=City, output_retries=1)
    assert result.parsed is not None
    assert "cut off" in script.requests[1].messages[-1].text


# --------------------------------------------------------------------------- streaming


def test_partial_object_grows_while_the_json_arrives() -> None:
    chunks = ['{"name": "Pa', 'ris", "popu', 'lation": 21', "00000}"]
    seen: list[Any] = []
    with genkit.testing.scripted([Reply(chunks=chunks)]):
        stream = genkit.load("test:scripted").stream("x", schema=City)
        assert stream.partial_object is None
        for _ in stream:
            seen.append(stream.partial_object)
    assert seen == [
        {"name": "Pa"},
        {"name": "Paris"},
        {"name": "Paris", "population": 21},
        {"name": "Paris", "population": 2100000},
    ]
    assert stream.result.parsed == City(name="Paris", population=2100000)


async def test_async_partial_object_of_a_wrapped_list_is_the_list() -> None:
    chunks = ['{"value": [{"name": "A", "population": 1}, ', '{"name": "B']
    with genkit.testing.scripted([Reply(chunks=[*chunks, '", "population": 2}]}'])]):
        stream = genkit.load("test:scripted").astream("x", schema=list[City])
        seen = [stream.partial_object async for _ in stream]
    assert seen[0] == [{"name": "A", "population": 1}]
    assert seen[1] == [{"name": "A", "population": 1}, {"name": "B"}]
    assert stream.result.parsed == [City(name="A", population=1), City(name="B", population=2)]


def test_partial_object_is_none_without_a_schema_and_keeps_the_last_value_on_bad_json() -> None:
    stream = genkit.load("test:echo").stream("plain text")
    for _ in stream:
        assert stream.partial_object is None
    with genkit.testing.scripted([Reply(chunks=['{"name": "A"', "}}} oops"])]):
        stream = genkit.load("test:scripted").stream("x", schema=City)
        next(stream)
        assert stream.partial_object == {"name": "A"}
        with pytest.raises(genkit.OutputValidationError):
            list(stream)
        assert stream.partial_object == {"name": "A"}


# --------------------------------------------------------------------------- bad input


class _NoStructuredOutput(OfflineBackend):
    capabilities = CapabilityTable(
        [], default=ModelCapabilities(supported=frozenset(genkit.SHARED_PARAMETERS))
    )


def test_a_model_without_structured_output_refuses_schema_before_sending() -> None:
    script = Script([CITY_JSON])
    gen = genkit.Generator(
        _NoStructuredOutput("scripted", BackendSettings(options={"script": script}))
    )
    with pytest.raises(genkit.UnsupportedParameterError) as caught:
        gen.generate("x", schema=City)
    assert caught.value.parameter == "schema"
    assert "structured output" in str(caught.value)
    with pytest.raises(genkit.UnsupportedParameterError):
        gen.stream("x", schema=City)
    assert script.requests == []


@pytest.mark.parametrize(
    "schema",
    [42, "City", City(name="a", population=1), OldStyle, {"type": 5}],
    ids=["int", "str", "instance", "typing-typeddict", "bad-dict"],
)
def test_what_is_no_schema_is_refused_naming_the_parameter(schema: Any) -> None:
    with pytest.raises(genkit.InvalidParameterError) as caught:
        genkit.load("test:echo").generate("x", schema=schema)
    assert caught.value.parameter == "schema"


@pytest.mark.parametrize(
    ("params", "stream"),
    [
        ({"output_retries": 1}, False),
        ({"output_retries": -1, "schema": City}, False),
        ({"output_retries": True, "schema": City}, False),
        ({"output_retries": 1, "schema": City}, True),
    ],
    ids=["without-schema", "negative", "bool", "stream"],
)
def test_bad_output_retries_are_refused(params: dict[str, Any], stream: bool) -> None:
    gen = genkit.load("test:echo")
    method = gen.stream if stream else gen.generate
    with pytest.raises(genkit.InvalidParameterError) as caught:
        method("x", **params)
    assert caught.value.parameter == "output_retries"


def test_schema_none_is_free_text() -> None:
    result = genkit.load("test:echo").generate("hello there", schema=None, output_retries=0)
    assert result.text == "hello there"
    assert result.parsed is None


async def test_a_fallback_chain_parses_and_streams_partial_objects() -> None:
    down = genkit.ServerError("down", provider="test", retryable=False)
    gen = genkit.load("test:scripted", fallbacks=["test:lorem"])
    with genkit.testing.scripted([down, down, down]) as script:
        parsed = gen.generate("x", schema=City).parsed
        with gen.stream("x", schema=City) as stream:
            seen = [stream.partial_object for _ in stream]
        astream = gen.astream("x", schema=City)
        aseen = [astream.partial_object async for _ in astream]
    assert len(script.requests) == 3
    assert isinstance(parsed, City)
    assert stream.result.parsed == parsed
    assert (await astream.get_result()).parsed == parsed
    assert seen[-1] == parsed.model_dump()
    assert aseen == seen


def test_a_providers_dialect_of_a_schema_is_built_once_and_errors_are_not_kept() -> None:
    """Every call with the same ``schema=`` gets the same OutputSchema; its provider
    dialect is computed on the first call only (it cost 120-130 µs per call, twice), and a
    schema the dialect cannot express raises on every call, not only the first."""
    from genkit._jsonschema import anthropic_compatible, openai_strict
    from genkit.structured import OutputSchema, output_schema

    class Closed(BaseModel):
        name: str
        tags: list[str]
        address: Address

    output = output_schema(Closed, "openai")
    assert output_schema(Closed, "openai") is output
    strict = output.dialect(openai_strict)
    assert output.dialect(openai_strict) is strict
    assert strict == openai_strict(output.json_schema)
    assert output.dialect(anthropic_compatible) == anthropic_compatible(output.json_schema)

    class Open(BaseModel):
        scores: dict[str, int]

    open_ = OutputSchema(Open.model_json_schema())  # output_schema() would refuse it first
    for _ in range(2):
        with pytest.raises(genkit.InvalidParameterError, match="additionalProperties"):
            open_.dialect(openai_strict)
