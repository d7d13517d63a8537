"""Tool calling on a local model: the chat template shows tools, the response template finds calls.

A local model calls a tool by writing text in its own markup (Qwen: ``<tool_call>{json}
</tool_call>``).  genkit does not guess markup per model family.  It uses what the
checkpoint ships:

- its **chat template** renders ``tools=`` (``apply_chat_template(..., tools=[...])`` with
  ``{"type": "function", "function": {name, description, parameters}}`` entries) and the
  history in the Hugging Face message convention (assistant ``tool_calls`` with ``arguments``
  as a dict; results as ``role: "tool"`` turns with ``tool_call_id``);
- its **response template** (``tokenizer.response_template``, transformers' declarative
  format) tells ``transformers``' response parser where calls begin and end and how to read
  them; arguments are cast with the tools' schemas (``"3"`` becomes ``3`` for an integer).

A checkpoint without either cannot do tools, and :func:`check_tools` says which piece is
missing before anything runs.  ``tool_choice="required"`` or a tool's name cannot be honoured
(nothing constrains the decoding), so they are refused too; ``"none"`` prompts without the
tools and parses nothing.

The generated text is decoded *with* special tokens (call markers are often special tokens),
minus the end-of-sequence token, and fed to a streaming ``ResponseParser``: text of the
``content`` region becomes text, reasoning regions (``reasoning_content``/``thinking``)
become reasoning, each closed ``tool_calls`` region becomes a :class:`~genkit.ToolCall`
with a generated id.  The parser holds back text that may be the start of a call marker,
so call markup never reaches a stream as text.  A call is reported whole when its region
closes: the local backend does not stream argument deltas (one
:class:`~genkit.types.ToolCallDelta` carries all the arguments).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genkit.backends._toolcalls import OpenCalls
from genkit.backends.huggingface._deps import PROVIDER
from genkit.backends.huggingface._detokenize import TextStream
from genkit.errors import InvalidResponseError, UnsupportedParameterError
from genkit.params import Request
from genkit.parts import Text, ToolCall, ToolResult
from genkit.tools import Tool
from genkit.types import (
    Chunk,
    FinishReason,
    Message,
    Part,
    ReasoningDelta,
    StreamEvent,
    ToolCallEnd,
)

__all__ = [
    "CallReader",
    "ToolParsing",
    "ToolSupport",
    "chat_messages",
    "check_tools",
    "hf_tools",
    "read_candidate",
    "tool_support",
    "uses_tools",
]

#: Response-template fields that hold the model's reasoning (transformers' own list).
_REASONING_FIELDS = frozenset({"reasoning_content", "thinking", "reasoning"})
_PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "genkit_probe_tool",
        "description": "Checks whether the chat template renders tools.",
        "parameters": {"type": "object", "properties": {}},
    },
}
_NEEDS = (
    "a chat model whose chat template renders tools= and whose tokenizer has a response_template"
)


# --------------------------------------------------------------------------- can it?


@dataclass(frozen=True, slots=True)
class ToolSupport:
    """What a checkpoint brings for tool calling; ``problem`` says why tools= cannot work."""

    response_template: Mapping[str, Any] | None
    problem: str | None


def tool_support(tokenizer: Any, model: str) -> ToolSupport:
    """Look at the checkpoint once: chat template, whether it renders tools, response template."""
    if not getattr(tokenizer, "chat_template", None):
        return ToolSupport(
            None,
            f"model {model!r} has no chat template (tokenizer.chat_template), so it cannot be "
            "shown tools; tool calling needs a chat model trained to call them",
        )
    if not _renders_tools(tokenizer):
        return ToolSupport(
            None,
            f"the chat template of model {model!r} does not render tools=, so the model would "
            "never see them",
        )
    template = getattr(tokenizer, "response_template", None)
    if not template:
        return ToolSupport(
            None,
            f"model {model!r} ships no response_template (tokenizer.response_template), so "
            "genkit cannot find tool calls in the text it writes (transformers' parse_response "
            "needs one; save the checkpoint with tokenizer.response_template set)",
        )
    try:
        tokenizer.get_response_parser(template, prefix="")  # validates the template
    except Exception as exc:
        return ToolSupport(
            None, f"the response_template of model {model!r} is invalid: {_first_line(exc)}"
        )
    return ToolSupport(template, None)


def _renders_tools(tokenizer: Any) -> bool:
    """Whether the template's output changes when given a tool: a template may ignore them."""
    chat = [{"role": "user", "content": "genkit"}]
    try:
        plain = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        with_tool = tokenizer.apply_chat_template(
            chat, tools=[_PROBE_TOOL], add_generation_prompt=True, tokenize=False
        )
    except Exception:
        # A template that refuses a lone user turn: judge by its source instead (the
        # request itself still renders through it, and reports a real error there).
        try:
            source = tokenizer.get_chat_template(tools=[_PROBE_TOOL])
        except Exception:
            return False
        return isinstance(source, str) and "tools" in source
    return bool(plain != with_tool)


def uses_tools(request: Request) -> bool:
    """Whether the prompt carries tools and the answer is parsed for calls."""
    return bool(request.tools) and request.tool_choice != "none"


def check_tools(request: Request, support: ToolSupport) -> None:
    """Refuse, before anything runs, tools= on a checkpoint that cannot take them."""
    if not uses_tools(request):
        return
    if support.problem is not None:
        raise UnsupportedParameterError(
            "tools", PROVIDER, request.model, [_NEEDS], message=support.problem
        )
    if request.tool_choice not in (None, "auto"):
        raise UnsupportedParameterError(
            "tool_choice",
            PROVIDER,
            request.model,
            ["'auto'", "'none'"],
            message=f"tool_choice={request.tool_choice!r} cannot be honoured by local "
            "generation: nothing forces the model to write a call",
        )


# --------------------------------------------------------------------------- prompt


def hf_tools(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """Tools as chat templates (and the response parser's argument casting) expect them."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": dict(tool.parameters),
            },
        }
        for tool in tools
    ]


def chat_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """genkit messages in the Hugging Face convention chat templates read.

    Only text, tool calls and tool results get here (``check_parts`` refused the rest).
    A tool turn becomes one ``"tool"`` message per result.  The convention has no error
    flag: an ``is_error`` result goes as its text (genkit's tool loop writes the error there).
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        content = message.content
        if isinstance(content, str):
            out.append({"role": message.role, "content": content})
            continue
        results = [part for part in content if isinstance(part, ToolResult)]
        if results:
            for result in results:
                turn: dict[str, Any] = {
                    "role": "tool",
                    "content": _result_text(result),
                    "tool_call_id": result.call_id,
                }
                if result.name is not None:
                    turn["name"] = result.name
                out.append(turn)
            continue
        turn = {"role": message.role, "content": message.text}
        calls = [part for part in content if isinstance(part, ToolCall)]
        if calls:
            turn["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": dict(call.arguments)},
                }
                for call in calls
            ]
        out.append(turn)
    return out


def _result_text(result: ToolResult) -> str:
    if isinstance(result.content, str):
        return result.content
    return "".join(part.text for part in result.content if isinstance(part, Text))


# --------------------------------------------------------------------------- answer


@dataclass(frozen=True, slots=True)
class ToolParsing:
    """Everything needed to read one request's candidates for tool calls."""

    tokenizer: Any
    response_template: Mapping[str, Any]
    #: The prompt as text: the parser starts from the state the chat template left it in.
    prefix: str
    tools: list[dict[str, Any]]
    eos_ids: frozenset[int]
    stops: tuple[str, ...]
    model: str


class _WithSpecialTokens:
    """A tokenizer whose ``decode`` keeps special tokens: call markers often are one."""

    __slots__ = ("_tokenizer",)

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        text: str = self._tokenizer.decode(ids, skip_special_tokens=False)
        return text


class _Region:
    """One text region's chunks, trimmed as the template's ``text`` parser trims its value.

    The parser strips a region's whole value (``content_args.strip``, on by default) but
    streams its chunks raw: a Qwen 3 answer would start with the ``"\n\n"`` after
    ``</think>``.  Leading whitespace is dropped and trailing whitespace held back until
    more text follows, so streamed and returned text are the stripped value.
    """

    __slots__ = ("_held", "_started", "seen", "strip")

    def __init__(self, strip: bool) -> None:
        self.strip = strip
        self._held = ""
        self._started = False
        #: Whether this region streamed any text (else its value comes only on close).
        self.seen = False

    def open(self) -> None:
        self._held, self._started, self.seen = "", False, False

    def chunk(self, text: str) -> str:
        self.seen = True
        if not self.strip:
            return text
        if not self._started:
            text = text.lstrip()
            if not text:
                return ""
            self._started = True
        text = self._held + text
        body = text.rstrip()
        self._held = text[len(body) :]
        return body


class CallReader:
    """One candidate's tokens, as they come, to text, reasoning and whole tool calls."""

    __slots__ = ("_calls", "_parser", "_parsing", "_regions", "_text", "calls", "index")

    def __init__(self, parsing: ToolParsing, index: int) -> None:
        self._parsing = parsing
        self.index = index
        self._text = TextStream(_WithSpecialTokens(parsing.tokenizer), parsing.stops)
        self._parser = parsing.tokenizer.get_response_parser(
            dict(parsing.response_template), prefix=parsing.prefix, tools=parsing.tools
        )
        self._calls = OpenCalls(PROVIDER)
        fields = parsing.response_template.get("fields", {})
        self._regions = {
            name: _Region(spec.get("content", "text") == "text" and _strips(spec))
            for name, spec in fields.items()
            if (name == "content" or name in _REASONING_FIELDS) and isinstance(spec, Mapping)
        }
        #: How many calls this candidate has made so far.
        self.calls = 0
        # What the prompt itself wrote into the answer (an assistant prefill, an opening
        # <think>) moves the parser along but is not part of the answer, as without tools.
        for event in self._parser.initial_events:
            if event.get("field") in self._regions and event.get("type") != "region_close":
                self._event(event, [])

    def push(self, tokens: Iterable[int]) -> list[StreamEvent]:
        eos = self._parsing.eos_ids
        text = "".join([self._text.push(token) for token in tokens if token not in eos])
        return self._feed(text, end=None)

    def finish(self, reason: FinishReason) -> list[StreamEvent]:
        """The candidate ended (``reason``): flush what was held back and close the parse."""
        return self._feed(self._text.flush(), end=reason)

    def finish_reason(self, reason: FinishReason) -> FinishReason:
        return "tool_calls" if self.calls else reason

    def _feed(self, text: str, end: FinishReason | None) -> list[StreamEvent]:
        try:
            found = self._parser.feed(text) if text else []
            if end is not None:
                found = [*found, *self._parser.finalize()[1]]
        except ValueError as exc:
            raise InvalidResponseError(
                f"model {self._parsing.model!r} wrote a tool call its response_template cannot "
                f"read ({_first_line(exc)})"
                + (": the answer was cut at max_tokens" if end == "length" else ""),
                provider=PROVIDER,
                retryable=end != "length",  # sampling may write it right; a cut stays cut
            ) from None
        events: list[StreamEvent] = []
        for event in found:
            self._event(event, events)
        return events

    def _event(self, event: Mapping[str, Any], events: list[StreamEvent]) -> None:
        kind, field = event.get("type"), event.get("field")
        region = self._regions.get(field) if isinstance(field, str) else None
        if region is not None:
            text = ""
            if kind == "region_open":
                region.open()
            elif kind == "region_chunk" and not event.get("dirty") and event.get("text"):
                text = region.chunk(event["text"])
            elif kind == "region_close" and not region.seen and isinstance(event.get("value"), str):
                text = event["value"]  # a content parser that does not stream
            if text and field == "content":
                events.append(Chunk(text, self.index))
            elif text:
                events.append(ReasoningDelta(text, self.index))
        elif kind == "region_close" and field == "tool_calls":
            value = event.get("value")
            for call in value if isinstance(value, list) else [value]:
                self._call(call, events)

    def _call(self, value: Any, events: list[StreamEvent]) -> None:
        function = value.get("function", value) if isinstance(value, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(name, str) or not name:
            raise InvalidResponseError(
                f"model {self._parsing.model!r} wrote a tool call without a name "
                f"(parsed as {type(value).__name__})",
                provider=PROVIDER,
            )
        arguments = function.get("arguments")
        if arguments is None:
            arguments = {}
        text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        given = value.get("id") if isinstance(value, Mapping) else None
        key = self.calls
        self.calls += 1
        given_id = given if isinstance(given, str) and given else None
        events.append(self._calls.start(key, self.index, given_id, name))
        delta = self._calls.delta(key, text)
        if delta is not None:
            events.append(delta)
        ended = self._calls.end(key)  # parses the arguments: a non-object is an error
        if ended is not None:
            events.append(ended)


@dataclass(slots=True)
class Candidate:
    """One whole candidate read for tool calls."""

    text: str
    message: Message
    reasoning: str
    finish_reason: FinishReason


def read_candidate(
    parsing: ToolParsing, index: int, tokens: Sequence[int], reason: FinishReason
) -> Candidate:
    """A finished candidate as the stream of it would add up (see ``streaming``)."""
    reader = CallReader(parsing, index)
    events = [*reader.push(tokens), *reader.finish(reason)]
    texts: list[str] = []
    reasoning: list[str] = []
    parts: list[Part] = []
    pending: list[str] = []
    for event in events:
        if isinstance(event, Chunk):
            texts.append(event.text)
            pending.append(event.text)
        elif isinstance(event, ReasoningDelta):
            reasoning.append(event.text)
        elif isinstance(event, ToolCallEnd):
            if pending:
                parts.append(Text("".join(pending)))
                pending = []
            parts.append(ToolCall(event.id, event.name, event.arguments))
    text = "".join(texts)
    if not reader.calls:
        message = Message("assistant", text)
    else:
        if pending:
            parts.append(Text("".join(pending)))
        message = Message("assistant", tuple(parts))
    return Candidate(text, message, "".join(reasoning), reader.finish_reason(reason))


def _strips(spec: Mapping[str, Any]) -> bool:
    arguments = spec.get("content_args")
    return not isinstance(arguments, Mapping) or arguments.get("strip", True) is not False


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(exc).__name__
