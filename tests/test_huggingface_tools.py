"""Tool calling on the local backend, end to end through ``genkit.load("huggingface:<dir>")``.

The checkpoint is the tiny random GPT-2 of :mod:`tests.tiny_gpt2`, saved again with a chat
template that renders tools and a ``response_template`` (transformers' declarative format)
that reads ``<tool_call>{json}</tool_call>``, and loaded through the same ``from_pretrained``
path a user's checkpoint takes.

A random model never writes a call on its own, so the tests make it write a known text with
``prefix_allowed_tokens_fn`` - an ordinary ``generate()`` argument, passed through
``provider_options``, that allows one token per step.  The model still runs every step and
genkit's engine, decoding, response parsing and stream reading are all real; what this
proves is how genkit renders the prompt (the hook sees the exact prompt ids) and reads what a
model writes, not that a model chooses to call.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import genkit  # noqa: E402 - after the optional-dependency skips
from genkit.types import (  # noqa: E402
    Chunk,
    Finish,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
)

#: Renders tools as JSON lines, tool calls as <tool_call> markup, results with their call id
#: (transformers renders with trim_blocks: a newline right after a block tag is dropped).
CHAT_TEMPLATE = (
    "{% if tools %}<tools>{% for t in tools %}{{ t | tojson }}\n{% endfor %}</tools>\n{% endif %}"
    "{% for m in messages %}<{{ m.role }}>"
    "{% if m.role == 'tool' %}[{{ m.tool_call_id }}] {% endif %}{{ m.content }}"
    "{% for c in m.tool_calls or [] %}<tool_call>{{ c.function | tojson }}</tool_call>{% endfor %}"
    "{{ '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)
#: Text up to a call is content; each <tool_call>{json}</tool_call> is one call; <think>
#: holds reasoning.
RESPONSE_TEMPLATE: dict[str, Any] = {
    "start_anchor": "<assistant>",
    "fields": {
        "reasoning_content": {"open": "<think>", "close": "</think>", "content": "text"},
        "tool_calls": {
            "open": "<tool_call>",
            "close": "</tool_call>",
            "repeats": True,
            "content": "json",
            "transform": {"type": "function", "function": "{content}"},
        },
        "content": {"content": "text"},
    },
}
CALL = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "days": "3"}}</tool_call>'
PARIS = {"city": "Paris", "days": 3}  # "3" cast to an int by the tool's schema


def get_weather(city: str, days: int) -> str:
    """The forecast for a city.

    Args:
        city: Where.
        days: How many days ahead.
    """
    return f"sunny in {city} for {days} days"


def _checkpoint(base: Path, target: Path, **settings: Any) -> Path:
    directory = shutil.copytree(base, target)
    tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
    for name, value in settings.items():
        setattr(tokenizer, name, value)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def roomy_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny GPT-2 with room for a prompt that spells out a tool schema."""
    from tests.tiny_gpt2 import build_tiny_gpt2

    return build_tiny_gpt2(tmp_path_factory.mktemp("roomy-gpt2"), n_positions=1024)


@pytest.fixture(scope="module")
def tool_model(roomy_gpt2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _checkpoint(
        roomy_gpt2,
        tmp_path_factory.mktemp("tools") / "ckpt",
        chat_template=CHAT_TEMPLATE,
        response_template=RESPONSE_TEMPLATE,
    )


@pytest.fixture(scope="module")
def gen(tool_model: Path) -> genkit.Generator:
    return genkit.load(f"huggingface:{tool_model}", temperature=0, max_tokens=200)


@pytest.fixture(scope="module")
def tokenizer(tool_model: Path) -> Any:
    return transformers.AutoTokenizer.from_pretrained(tool_model)


class Forced:
    """``prefix_allowed_tokens_fn`` that makes the model write ``answer(prompt)``, then EOS.

    Every prompt it is called on is kept (decoded, special tokens included), so a test sees
    exactly what genkit rendered.  A tool loop calls it for several prompts in a row.
    """

    def __init__(self, tokenizer: Any, answer: str | Callable[[str], str]) -> None:
        self._tokenizer = tokenizer
        self._answer = answer if callable(answer) else (lambda _: answer)
        self._state: dict[int, tuple[list[int], list[int]]] = {}
        self.prompts: list[str] = []

    def __call__(self, batch_id: int, input_ids: Any) -> list[int]:
        ids = input_ids.tolist()
        state = self._state.get(batch_id)
        if state is not None:
            prompt, script = state
            step = len(ids) - len(prompt)
            if 0 <= step < len(script) and ids[len(prompt) :] == script[:step]:
                return [script[step]]
        text = self._tokenizer.decode(ids, skip_special_tokens=False)  # a new generation
        self.prompts.append(text)
        script = self._tokenizer(self._answer(text))["input_ids"] + [self._tokenizer.eos_token_id]
        self._state[batch_id] = (ids, script)
        return [script[0]]

    def options(self) -> dict[str, Any]:
        return {"provider_options": {"prefix_allowed_tokens_fn": self}}


def _tool_json(name: str, description: str, parameters: dict[str, Any]) -> str:
    import json

    return json.dumps(
        {
            "type": "function",
            "function": {"name": name, "description": description, "parameters": parameters},
        }
    )


WEATHER_SCHEMA = {
    "properties": {
        "city": {"description": "Where.", "type": "string"},
        "days": {"description": "How many days ahead.", "type": "integer"},
    },
    "required": ["city", "days"],
    "type": "object",
}


# --------------------------------------------------------------------------- refused


def test_a_model_without_chat_template_refuses_tools_before_generating(
    tiny_gpt2_path: Path,
) -> None:
    with genkit.load(f"huggingface:{tiny_gpt2_path}") as plain:
        engine = plain.backend.engine  # type: ignore[attr-defined]
        before = engine.batches
        for call in (plain.generate, plain.stream):
            with pytest.raises(genkit.UnsupportedParameterError) as info:
                call("What is the weather in Paris?", tools=[get_weather])
            error = info.value
            assert error.parameter == "tools"
            assert error.provider == "huggingface"
            assert "has no chat template" in str(error)
        assert engine.batches == before  # nothing ran


def test_a_model_without_chat_template_refuses_tool_history(tiny_gpt2_path: Path) -> None:
    history = [
        genkit.Message("user", "Weather in Paris?"),
        genkit.Message("assistant", [genkit.ToolCall("call_1", "get_weather", PARIS)]),
        genkit.Message("tool", [genkit.ToolResult("call_1", "sunny", name="get_weather")]),
    ]
    with (
        genkit.load(f"huggingface:{tiny_gpt2_path}") as plain,
        pytest.raises(genkit.UnsupportedParameterError, match="tool call input") as info,
    ):
        plain.generate(history)
    assert info.value.parameter == "prompt[1].content[0]"
    assert "no chat template" in str(info.value)


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (
            {"chat_template": "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}"},
            "does not render tools=",
        ),
        ({"chat_template": CHAT_TEMPLATE}, "ships no response_template"),
        (
            {"chat_template": CHAT_TEMPLATE, "response_template": {"fields": {"x": {}}}},
            "response_template of model",
        ),
    ],
    ids=["template-ignores-tools", "no-response-template", "bad-response-template"],
)
def test_a_checkpoint_that_cannot_do_tools_says_why(
    roomy_gpt2: Path, tmp_path: Path, settings: dict[str, Any], says: str
) -> None:
    model = _checkpoint(roomy_gpt2, tmp_path / "ckpt", **settings)
    with (
        genkit.load(f"huggingface:{model}") as local,
        pytest.raises(genkit.UnsupportedParameterError, match=says) as info,
    ):
        local.generate("Weather in Paris?", tools=[get_weather])
    assert info.value.parameter == "tools"


@pytest.mark.parametrize("choice", ["required", "get_weather"])
def test_a_tool_choice_that_forces_a_call_is_refused(gen: genkit.Generator, choice: str) -> None:
    with pytest.raises(genkit.UnsupportedParameterError, match="nothing forces") as info:
        gen.generate("Weather in Paris?", tools=[get_weather], tool_choice=choice)
    assert info.value.parameter == "tool_choice"


def test_parallel_tool_calls_and_images_are_refused(gen: genkit.Generator) -> None:
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        gen.generate("Weather?", tools=[get_weather], parallel_tool_calls=False)
    assert info.value.parameter == "parallel_tool_calls"
    image = genkit.Image(data=b"\x89PNG\r\n\x1a\n" + b"\0" * 16, media_type="image/png")
    with pytest.raises(genkit.UnsupportedParameterError, match="image input") as info:
        gen.generate([genkit.Message("user", [genkit.Text("What is it?"), image])])
    assert info.value.parameter == "prompt[0].content[1]"


# --------------------------------------------------------------------------- calls


def test_generate_renders_the_tools_and_parses_the_call(
    gen: genkit.Generator, tokenizer: Any
) -> None:
    forced = Forced(tokenizer, "Let me look." + CALL)
    result = gen.generate("Weather in Paris?", tools=[get_weather], **forced.options())
    (prompt,) = forced.prompts
    tool = _tool_json("get_weather", "The forecast for a city.", WEATHER_SCHEMA)
    assert prompt == f"<tools>{tool}\n</tools>\n<user>Weather in Paris?\n<assistant>"
    (call,) = result.tool_calls
    assert call.name == "get_weather"
    assert call.arguments == PARIS
    assert call.id.startswith("call_")
    assert result.text == "Let me look."
    assert result.message == genkit.Message("assistant", (genkit.Text("Let me look."), call))
    assert result.finish_reason == "tool_calls"
    assert result.raw_finish_reasons == ["tool_calls"]


def test_a_turn_without_a_call_is_plain_text(gen: genkit.Generator, tokenizer: Any) -> None:
    forced = Forced(tokenizer, "No tool needed.")
    result = gen.generate("Hello", tools=[get_weather], **forced.options())
    assert result.text == "No tool needed."
    assert result.tool_calls == []
    assert result.messages == []
    assert result.finish_reason == "stop"


def test_stream_yields_text_then_whole_calls_and_never_the_markup(
    gen: genkit.Generator, tokenizer: Any
) -> None:
    second = CALL.replace("Paris", "Rome")
    forced = Forced(tokenizer, "Let me look." + CALL + second)
    with gen.stream("Weather?", tools=[get_weather], **forced.options()) as stream:
        events = list(stream.events())
    chunks = [e.text for e in events if isinstance(e, Chunk)]
    assert "".join(chunks) == "Let me look."
    assert not any("<" in text for text in chunks)  # no call markup leaks as text
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    ends = [e for e in events if isinstance(e, ToolCallEnd)]
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert [(e.name, e.call_index) for e in starts] == [("get_weather", 0), ("get_weather", 1)]
    assert [e.arguments for e in ends] == [PARIS, {**PARIS, "city": "Rome"}]
    assert [e.id for e in ends] == [e.id for e in starts]
    assert len({e.id for e in ends}) == 2
    assert len(deltas) == 2  # one delta per call: arguments are not streamed piecewise
    finish = [e for e in events if isinstance(e, Finish)]
    assert [f.reason for f in finish] == ["tool_calls"]
    assert events.index(finish[0]) > events.index(ends[-1])
    assert [c.arguments for c in stream.result.tool_calls] == [e.arguments for e in ends]
    assert stream.result.text == "Let me look."
    assert stream.result.finish_reason == "tool_calls"


async def test_async_calls_parse_the_same(gen: genkit.Generator, tokenizer: Any) -> None:
    forced = Forced(tokenizer, CALL)
    result = await gen.agenerate("Weather?", tools=[get_weather], **forced.options())
    assert [c.arguments for c in result.tool_calls] == [PARIS]
    stream = gen.astream("Weather?", tools=[get_weather], **forced.options())
    assert [chunk.text async for chunk in stream] == []
    assert [c.arguments for c in stream.result.tool_calls] == [PARIS]
    assert stream.result.finish_reason == "tool_calls"


def test_every_candidate_is_read_for_calls(gen: genkit.Generator, tokenizer: Any) -> None:
    forced = Forced(tokenizer, CALL)
    result = gen.generate("Weather?", tools=[get_weather], n=2, **forced.options())
    assert result.finish_reasons == ["tool_calls", "tool_calls"]
    assert [len(m.content) for m in result.messages] == [1, 1]


def test_a_call_that_does_not_parse_is_an_invalid_response(
    gen: genkit.Generator, tokenizer: Any
) -> None:
    forced = Forced(tokenizer, '<tool_call>{"name": get_weather}</tool_call>')
    with pytest.raises(genkit.InvalidResponseError, match="cannot read"):
        gen.generate("Weather?", tools=[get_weather], max_retries=0, **forced.options())


def test_a_call_cut_at_max_tokens_is_never_returned_as_a_call(
    gen: genkit.Generator, tokenizer: Any
) -> None:
    script = tokenizer("Let me look." + CALL)["input_ids"]
    budget = next(k for k in range(len(script)) if '{"name' in tokenizer.decode(script[:k]))
    options = Forced(tokenizer, "Let me look." + CALL).options()
    with pytest.raises(genkit.InvalidResponseError, match="cut at max_tokens") as info:
        gen.generate("Weather?", tools=[get_weather], max_tokens=budget, **options)
    assert info.value.retryable is False  # the same budget cuts it again
    stream = gen.stream("Weather?", tools=[get_weather], max_tokens=budget, **options)
    with pytest.raises(genkit.InvalidResponseError) as info:
        list(stream.events())
    partial = info.value.partial
    assert partial is not None
    assert partial.text == "Let me look."
    assert partial.tool_calls == []


def test_tool_choice_none_prompts_without_tools_and_parses_nothing(
    gen: genkit.Generator, tokenizer: Any
) -> None:
    forced = Forced(tokenizer, CALL)
    result = gen.generate("Weather?", tools=[get_weather], tool_choice="none", **forced.options())
    assert forced.prompts == ["<user>Weather?\n<assistant>"]
    assert result.tool_calls == []
    assert result.text == CALL


# --------------------------------------------------------------------------- history


def test_history_with_calls_and_results_renders_through_the_template(
    gen: genkit.Generator, tokenizer: Any
) -> None:
    history = [
        genkit.Message("user", "Weather in Paris?"),
        genkit.Message(
            "assistant",
            [genkit.Text("Checking."), genkit.ToolCall("call_7", "get_weather", PARIS)],
        ),
        genkit.Message("tool", [genkit.ToolResult("call_7", "sunny", name="get_weather")]),
    ]
    forced = Forced(tokenizer, "It is sunny.")
    result = gen.generate(history, tools=[get_weather], **forced.options())
    tool = _tool_json("get_weather", "The forecast for a city.", WEATHER_SCHEMA)
    assert forced.prompts == [
        f"<tools>{tool}\n</tools>\n"
        "<user>Weather in Paris?\n"
        '<assistant>Checking.<tool_call>{"name": "get_weather", "arguments": '
        '{"city": "Paris", "days": 3}}</tool_call>\n'
        "<tool>[call_7] sunny\n"
        "<assistant>"
    ]
    assert result.text == "It is sunny."
    assert result.finish_reason == "stop"


def test_the_tool_loop_runs_on_a_local_model(gen: genkit.Generator, tokenizer: Any) -> None:
    def answer(prompt: str) -> str:
        return "It is sunny." if "<tool>" in prompt else CALL

    forced = Forced(tokenizer, answer)
    result = gen.generate("Weather?", tools=[get_weather], max_steps=3, **forced.options())
    assert result.text == "It is sunny."
    assert [step.finish_reason for step in result.steps] == ["tool_calls", "stop"]
    call = result.steps[0].tool_calls[0]
    assert forced.prompts[1].endswith(f"<tool>[{call.id}] sunny in Paris for 3 days\n<assistant>")


def test_an_assistant_prefill_is_continued_not_repeated(
    gen: genkit.Generator, tokenizer: Any
) -> None:
    prefill = [genkit.Message("user", "Weather?"), genkit.Message("assistant", "Let me look.")]
    forced = Forced(tokenizer, CALL)
    result = gen.generate(prefill, tools=[get_weather], **forced.options())
    assert forced.prompts[0].endswith("<assistant>Let me look.")
    assert result.text == ""  # as without tools: the answer is what the model wrote
    assert [c.arguments for c in result.tool_calls] == [PARIS]


def test_reasoning_and_whitespace_around_calls_are_read_as_the_template_says(
    gen: genkit.Generator, tokenizer: Any
) -> None:
    answer = "<think>\n I should look. \n</think>\n\n Let me look.\n" + CALL
    result = gen.generate("Weather?", tools=[get_weather], **Forced(tokenizer, answer).options())
    assert result.reasoning == "I should look."  # the text parser strips each region's value
    assert result.text == "Let me look."
    assert [c.arguments for c in result.tool_calls] == [PARIS]
    forced = Forced(tokenizer, answer)
    with gen.stream("Weather?", tools=[get_weather], **forced.options()) as stream:
        events = list(stream.events())
    assert "".join(e.text for e in events if isinstance(e, Chunk)) == "Let me look."
    assert stream.result.reasoning == "I should look."
    assert stream.result.message == genkit.Message(
        "assistant", (genkit.Text("Let me look."), *stream.result.tool_calls)
    )
