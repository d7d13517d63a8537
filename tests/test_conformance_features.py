"""Each feature of issues 11 and 12, once, on every backend.

The same test body runs on OpenAI, Anthropic and Gemini (the real SDKs against the
fake server), on the ``test`` provider (``test:scripted``) and on the local tiny
GPT-2.  A test is skipped only where the model's capability row says the feature is
not there - never because of which provider it is - and the refusal of a feature a
model lacks is itself tested on every backend, before anything is sent.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pydantic
import pytest

import genkit
import genkit.testing
from fakeprovider import FakeProviderServer, Reply
from genkit.capabilities import FEATURES, ModelCapabilities
from tests.hosted import HOSTED, point_sdks_at

FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)
#: A 1x1 PNG and a minimal PDF: what the fake server's request checks accept.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
IMAGE_URL = "https://example.com/cat.png"

EVERY_BACKEND = [*(h.provider for h in HOSTED), "test", "huggingface"]
#: The model each backend is tested with: the conformance suite's hosted models, except
#: that OpenAI's chat model has no ``reasoning``, so that feature gets a reasoning model.
MODELS = {h.provider: h.model for h in HOSTED} | {"test": "scripted"}
REASONING_MODELS = MODELS | {"openai": "o4-mini"}
#: Models whose rows lack features, per backend (the local row lacks every feature).
LACKING = {
    "openai": ("chatgpt-4o-latest", "gpt-3.5-turbo", "o1"),
    "anthropic": ("claude-3-5-haiku-latest",),
    "gemini": ("gemini-2.5-flash",),
    "test": ("scripted",),
    "huggingface": (),
}


class Weather(pydantic.BaseModel):
    city: str
    temp: int


def get_weather(city: str, days: int = 1) -> str:
    """Get the weather forecast for a city.

    Args:
        city: The city.
        days: How many days ahead.
    """
    return f"sunny in {city} for {days} days"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(x: float, y: float) -> float:
    """Multiply two numbers."""
    return x * y


@dataclass
class Backend:
    """One backend under test and how to script its model's answers.

    Hosted backends are answered by the fake server, the ``test`` provider by a
    :class:`genkit.testing.Script`; the local model writes what it writes, so no test
    that needs a scripted answer can run there unless its row has the feature.
    """

    gen: genkit.Generator
    server: FakeProviderServer
    script: genkit.testing.Script | None
    #: Whether the model's answers can be scripted (the local model writes what it writes).
    scripted: bool = True

    @property
    def caps(self) -> ModelCapabilities:
        return self.gen.backend.capabilities.lookup(self.gen.model)

    def needs(self, feature: str) -> None:
        """Skip, reading only the capability row, where the model lacks ``feature``."""
        if feature not in self.caps.features:
            pytest.skip(f"{self.gen.provider}:{self.gen.model}'s row lacks {feature!r}")

    def _scriptable(self) -> None:
        if not self.scripted:
            # Local tool calls are tested with a checkpoint whose template renders tools
            # and a forced token sequence: tests/test_huggingface_tools.py.
            pytest.skip(f"{self.gen.provider}'s answers cannot be scripted")

    def answer(self, text: str = "", *, chunks: list[str] | None = None) -> None:
        self._scriptable()
        if self.script is not None:
            self.script.add(genkit.testing.Reply(text=text, chunks=chunks))
        else:
            self.server.script(Reply.text(text, chunks=chunks))

    def call(self, name: str, arguments: dict[str, Any], text: str = "") -> None:
        """The model's next turn: ``text`` then one call of ``name``."""
        self._scriptable()
        if self.script is not None:
            call = genkit.ToolCall("", name, arguments)
            self.script.add(genkit.testing.Reply(text=text, tool_calls=[call]))
        else:
            self.server.script(Reply.text(text, tool_calls=[(name, arguments)]))

    @property
    def sent(self) -> int:
        """Requests that reached the model."""
        if self.script is not None:
            return len(self.script.requests)
        return len(self.server.requests)

    def carried(self, index: int = -1) -> str:
        """What request ``index`` carried, as text to look for values in."""
        if self.script is not None:
            request = self.script.requests[index]
            return repr((request.messages, request.output, request.tools, request.params))
        body = self.server.requests[index].body
        return json.dumps(body)

    def carried_part(self, part: genkit.Image | genkit.Document) -> bool:
        """Whether the last request carried ``part`` (its bytes or its URL)."""
        if self.script is not None:
            return part in self.script.requests[-1].messages[-1].content
        body = json.dumps(self.server.requests[-1].body)
        if part.url is not None:
            return part.url in body
        assert part.data is not None
        return base64.b64encode(part.data).decode() in body


def _load(
    request: pytest.FixtureRequest,
    server: FakeProviderServer,
    provider: str,
    model: str | None,
) -> Iterator[Backend]:
    script = None
    if provider == "huggingface":
        path = request.getfixturevalue("tiny_gpt2_path")
        gen = genkit.load(f"huggingface:{path}", max_tokens=8)
    elif provider == "test":
        script = genkit.testing.Script()
        gen = script.load(retry=FAST)
    else:
        gen = genkit.load(f"{provider}:{model}", retry=FAST)
    yield Backend(gen, server, script, scripted=provider != "huggingface")
    gen.close()


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


@pytest.fixture(params=EVERY_BACKEND)
def backend(request: pytest.FixtureRequest, server: FakeProviderServer) -> Iterator[Backend]:
    provider: str = request.param
    yield from _load(request, server, provider, MODELS.get(provider))


@pytest.fixture(params=EVERY_BACKEND)
def thinker(request: pytest.FixtureRequest, server: FakeProviderServer) -> Iterator[Backend]:
    provider: str = request.param
    yield from _load(request, server, provider, REASONING_MODELS.get(provider))


def _tool_turn(result: genkit.Generation, output: str) -> list[genkit.Message]:
    """The history after ``result``: its turn, then a result for each of its calls."""
    results = [genkit.ToolResult(c.id, output, name=c.name) for c in result.tool_calls]
    return [result.message, genkit.Message("tool", results)]


# --------------------------------------------------------------------------- tools


def test_a_forced_call_and_its_continuation(backend: Backend) -> None:
    backend.needs("tools")
    backend.call("get_weather", {"city": "Lyon", "days": 2})
    history = [genkit.Message("user", "Weather in France?")]
    result = backend.gen.generate(history, tools=[get_weather], tool_choice="get_weather")
    assert result.finish_reason == "tool_calls"
    [call] = result.tool_calls
    assert call.id
    assert call.name == "get_weather"
    assert call.arguments == {"city": "Lyon", "days": 2}
    assert isinstance(call.arguments, dict)
    assert "get_weather" in backend.carried()

    backend.answer("Sunny for two days.")
    follow = backend.gen.generate(
        [*history, *_tool_turn(result, "sunny, 21C")], tools=[get_weather]
    )
    assert follow.text == "Sunny for two days."
    assert follow.finish_reason == "stop"
    assert follow.tool_calls == []
    assert backend.sent == 2
    sent = backend.carried()
    assert "sunny, 21C" in sent
    assert "Lyon" in sent, "the assistant turn with its call went back"


def test_a_streamed_call_starts_grows_and_ends(backend: Backend) -> None:
    backend.needs("tools")
    arguments = {"city": "Paris", "days": 2}
    backend.call("get_weather", arguments, text="Checking.")
    with backend.gen.stream("Weather?", tools=[get_weather]) as stream:
        events = list(stream.events())
    starts = [e for e in events if isinstance(e, genkit.ToolCallStart)]
    deltas = [e for e in events if isinstance(e, genkit.ToolCallDelta)]
    ends = [e for e in events if isinstance(e, genkit.ToolCallEnd)]
    assert [(s.id, s.name) for s in starts] == [(e.id, e.name) for e in ends]
    assert len(ends) == 1
    assert ends[0].id
    assert json.loads("".join(d.arguments for d in deltas)) == arguments
    assert ends[0].arguments == arguments
    assert events.index(starts[0]) < events.index(deltas[0]) < events.index(ends[0])
    result = stream.result
    assert result.text == "Checking."
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == [genkit.ToolCall(ends[0].id, "get_weather", arguments)]


def _script_loop(backend: Backend) -> None:
    backend.call("add", {"a": 2, "b": 3})
    backend.call("multiply", {"x": 5, "y": 4})
    backend.answer("The answer is 20.")


def _check_loop(backend: Backend, result: genkit.Generation) -> None:
    assert result.text == "The answer is 20."
    assert result.finish_reason == "stop"
    assert [len(step.tool_calls) for step in result.steps] == [1, 1, 0]
    assert backend.sent == 3
    assert "5" in backend.carried(1)
    assert "20.0" in backend.carried(2), "multiply's result went back to the model"


def test_the_loop_runs_two_functions_to_an_answer(backend: Backend) -> None:
    backend.needs("tools")
    _script_loop(backend)
    result = backend.gen.generate("compute", tools=[add, multiply], max_steps=5)
    _check_loop(backend, result)


async def test_tools_async(backend: Backend) -> None:
    backend.needs("tools")
    backend.call("get_weather", {"city": "Oslo"})
    result = await backend.gen.agenerate("Weather?", tools=[get_weather], tool_choice="required")
    assert result.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("get_weather", {"city": "Oslo"})]
    assert result.tool_calls[0].id

    backend.call("get_weather", {"city": "Rome"}, text="Looking.")
    stream = backend.gen.astream("Weather?", tools=[get_weather])
    types = [event.type async for event in stream.events()]
    assert types.index("tool_call_start") < types.index("tool_call_end")
    assert stream.result.finish_reason == "tool_calls"
    [call] = stream.result.tool_calls
    assert (call.name, call.arguments) == ("get_weather", {"city": "Rome"})

    _script_loop(backend)
    before = backend.sent
    looped = await backend.gen.agenerate("compute", tools=[add, multiply], max_steps=5)
    assert looped.text == "The answer is 20."
    assert [len(step.tool_calls) for step in looped.steps] == [1, 1, 0]
    assert backend.sent - before == 3
    await backend.gen.aclose()


# --------------------------------------------------------------------------- images and PDFs


@pytest.mark.parametrize(
    "part",
    [genkit.Image(data=PNG, media_type="image/png"), genkit.Image(url=IMAGE_URL)],
    ids=["data", "url"],
)
def test_an_image_in_a_user_turn(backend: Backend, part: genkit.Image) -> None:
    backend.needs("image_input")
    backend.answer("A cat.")
    message = genkit.Message("user", [genkit.Text("What is this?"), part])
    result = backend.gen.generate([message])
    assert result.text == "A cat."
    assert backend.carried_part(part)


def test_a_pdf_in_a_user_turn(backend: Backend) -> None:
    backend.needs("pdf_input")
    backend.answer("A summary.")
    part = genkit.Document(data=PDF, media_type="application/pdf")
    result = backend.gen.generate([genkit.Message("user", [genkit.Text("Summarise."), part])])
    assert result.text == "A summary."
    assert backend.carried_part(part)


# --------------------------------------------------------------------------- structured output


def test_schema_parses_the_answer(backend: Backend) -> None:
    backend.needs("structured_output")
    backend.answer('{"city": "Paris", "temp": 21}')
    result = backend.gen.generate("Weather in Paris as JSON", schema=Weather)
    assert result.parsed == Weather(city="Paris", temp=21)
    assert '"temp"' in backend.carried() or "temp" in backend.carried(), "the schema was sent"


def test_a_streamed_schema_grows_a_partial_object(backend: Backend) -> None:
    backend.needs("structured_output")
    backend.answer(chunks=['{"city": "Pa', 'ris", "te', 'mp": 21}'])
    seen: list[Any] = []
    with backend.gen.stream("Weather in Paris as JSON", schema=Weather) as stream:
        for _ in stream:
            seen.append(stream.partial_object)
    assert seen[0] == {"city": "Pa"}
    assert seen[-1] == {"city": "Paris", "temp": 21}
    assert stream.result.parsed == Weather(city="Paris", temp=21)


# --------------------------------------------------------------------------- reasoning


def _reasoning_on_wire(provider: str, body: dict[str, Any]) -> str:
    """The reasoning level a request body asks for, read the way each API writes it."""
    if provider == "openai":
        effort: str = body["reasoning_effort"]
        return effort
    spec = next(h for h in HOSTED if h.provider == provider)
    level: str = spec.wire["reasoning"](body)
    return level


def test_each_allowed_reasoning_level_is_accepted_and_sent(thinker: Backend) -> None:
    caps = thinker.caps
    if "reasoning" not in caps.supported or not caps.reasoning_levels:
        pytest.skip(f"{thinker.gen.provider}:{thinker.gen.model}'s row has no reasoning levels")
    thinker.answer("plain")
    thinker.gen.generate("hi")
    baseline = thinker.carried()
    for level in sorted(caps.reasoning_levels):
        thinker.answer("thought")
        result = thinker.gen.generate("hi", reasoning=level)
        assert result.text == "thought"
        if thinker.script is not None:
            assert thinker.script.requests[-1].params["reasoning"] == level
            continue
        body = thinker.server.requests[-1].body
        assert body is not None
        try:
            sent = _reasoning_on_wire(thinker.gen.provider, body)
        except KeyError:  # "none" as the API's own switch-off, not a level field
            assert level == "none"
            assert thinker.carried() != baseline, "reasoning='none' reached the wire"
            continue
        assert sent == level
    refused = {"none", "minimal", "low", "medium", "high"} - caps.reasoning_levels
    before = thinker.sent
    for level in sorted(refused):
        with pytest.raises(genkit.InvalidParameterError):
            thinker.gen.generate("hi", reasoning=level)
    assert thinker.sent == before, "a level the row lacks is refused before sending"


# --------------------------------------------------------------------------- refusals


def _ask_for(feature: str, gen: genkit.Generator) -> None:
    """One call that needs ``feature``."""
    image = genkit.Message("user", [genkit.Text("What is this?"), genkit.Image(data=PNG)])
    pdf = genkit.Message("user", [genkit.Document(data=PDF, media_type="application/pdf")])
    calls: dict[str, Any] = {
        "tools": lambda: gen.generate("hi", tools=[get_weather]),
        "parallel_tool_calls": lambda: gen.generate(
            "hi", tools=[get_weather], parallel_tool_calls=True
        ),
        "image_input": lambda: gen.generate([image]),
        "pdf_input": lambda: gen.generate([pdf]),
        "structured_output": lambda: gen.generate("hi", schema=Weather),
        "structured_output_with_tools": lambda: gen.generate(
            "hi", schema=Weather, tools=[get_weather]
        ),
    }
    assert set(calls) == FEATURES
    calls[feature]()


@pytest.mark.parametrize("provider", EVERY_BACKEND)
def test_a_feature_the_model_lacks_is_refused_before_sending(
    request: pytest.FixtureRequest, server: FakeProviderServer, provider: str
) -> None:
    models: list[str | None] = list(LACKING[provider]) or [None]
    refused = 0
    for model in models:
        for backend in _load(request, server, provider, model):
            lacking = sorted(FEATURES - backend.caps.features)
            for feature in lacking:
                with pytest.raises(genkit.UnsupportedParameterError) as info:
                    _ask_for(feature, backend.gen)
                assert provider in str(info.value)
                refused += 1
            assert backend.sent == 0
            assert server.requests == []
    if refused == 0:
        pytest.skip(f"every {provider} model tested has every feature")


@pytest.mark.parametrize(
    ("model", "combines"),
    [
        ("openai:gpt-4o", True),
        ("openai:gpt-4-turbo", False),
        ("anthropic:claude-sonnet-4-6", True),
        ("anthropic:claude-3-5-haiku-latest", False),
        ("gemini:gemini-3-pro-preview", True),
        ("gemini:gemini-2.5-flash", False),
    ],
)
def test_schema_with_tools_follows_the_row(
    server: FakeProviderServer, model: str, combines: bool
) -> None:
    gen = genkit.load(model, retry=FAST)
    features = gen.backend.capabilities.lookup(gen.model).features
    assert ("structured_output_with_tools" in features) is combines
    if not combines:
        with pytest.raises(genkit.UnsupportedParameterError) as info:
            gen.generate("Weather?", schema=Weather, tools=[get_weather])
        assert info.value.parameter in ("schema", "tools")
        assert server.requests == []
        if "structured_output" in features:
            server.script(Reply.text('{"city": "Oslo", "temp": 3}'))
            assert gen.generate("Weather?", schema=Weather).parsed == Weather(city="Oslo", temp=3)
            assert len(server.requests) == 1, "schema= alone is still sent"
    else:
        server.script(Reply.text('{"city": "Oslo", "temp": 3}'))
        result = gen.generate("Weather?", schema=Weather, tools=[get_weather])
        assert result.parsed == Weather(city="Oslo", temp=3)
        body = json.dumps(server.requests[0].body)
        assert "get_weather" in body
        assert "temp" in body
    gen.close()


def test_reasoning_on_a_model_without_levels_is_unsupported(backend: Backend) -> None:
    """A row with no reasoning level and no budget must not list ``reasoning`` as supported.

    Otherwise ``reasoning=`` is refused as an *invalid* value ("allowed: nothing") where it
    is an unsupported parameter, and drop mode cannot drop it (the local row did this).
    """
    caps = backend.caps
    if caps.reasoning_levels or "reasoning" in caps.ranges:
        pytest.skip(f"{backend.gen.provider}:{backend.gen.model} takes reasoning")
    assert "reasoning" not in caps.supported
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        backend.gen.generate("hi", reasoning="low")
    assert info.value.parameter == "reasoning"
    assert backend.sent == 0
