"""genkit's request -> Messages API arguments (the way out), and why:

- ``system`` messages become the top-level ``system`` field (several are joined with a
  blank line): the API has no system role inside ``messages``.
- ``max_tokens`` is required by the API, so :data:`DEFAULT_MAX_TOKENS` is sent when the
  caller gave none.  4096 is the largest value every Claude model accepts (Claude 3
  Haiku/Opus cap their output there), so the default never causes a 400.
- anthropic 2.x's ``messages.create()`` has no ``temperature``/``top_p``/``top_k``
  arguments; they travel in ``extra_body`` and only to models that still accept them
  (see :data:`CAPABILITIES`): the newest models answer 400 to any of them.
- ``n > 1`` is not native: it is emulated with ``n`` concurrent requests (threads for
  sync calls, ``asyncio.gather`` for async ones).  Streams open the ``n`` requests
  concurrently and deliver the candidates one after another (each chunk carries its
  ``index``), so closing the stream closes every connection from the caller's thread.
  Usage is the sum over the ``n`` requests: what the provider bills.
- Parts map onto content blocks: images and PDFs as ``image``/``document`` blocks
  (base64 or URL), tool calls as ``tool_use`` blocks, the results of one or more
  ``"tool"`` turns as ``tool_result`` blocks at the head of ONE user turn (a user turn
  right after them joins it), and Anthropic's own provider parts (thinking and
  redacted_thinking blocks, with their signatures) go back exactly as they came.
  Another provider's part is refused: it has no meaning here.
- ``reasoning`` maps by model family (see _capabilities.py): a thinking budget, or
  adaptive thinking with ``output_config.effort``; ``"none"`` disables thinking.  With
  thinking on, a forced tool choice, ``top_k``, a ``temperature`` other than 1, a
  ``top_p`` below 0.95 and a budget not below ``max_tokens`` all get a 400 from
  Anthropic, so they are refused before sending (drop mode included: the request
  asked for both things and genkit will not guess which one to lose).
- ``schema=`` becomes ``output_config.format`` (json_schema) through
  :func:`genkit._jsonschema.anthropic_compatible`; its warnings reach
  ``result.warnings``.
- ``provider_options`` are merged into the request body as given (``extra_body``), and
  win over genkit's own fields.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, assert_never

import anthropic

from genkit._jsonschema import anthropic_compatible
from genkit.backends._tooldefs import definitions
from genkit.errors import InvalidParameterError, UnsupportedParameterError
from genkit.messages import unsupported_part
from genkit.params import Request
from genkit.parts import Document, Image, ProviderPart, Text, ToolCall, ToolResult
from genkit.tools import Tool
from genkit.types import Message

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "EXTRA_BODY_FIELDS",
    "LEVEL_BUDGETS",
    "PARAMETER_NAMES",
    "PROVIDER",
    "Built",
    "Thinking",
    "arguments",
    "build",
    "candidates",
    "check_request",
    "check_stop",
    "check_turns",
    "map_messages",
]

PROVIDER = "anthropic"

#: Sent as ``max_tokens`` when the caller set none (the API requires the field).
DEFAULT_MAX_TOKENS = 4096
#: genkit's shared parameter -> Messages API field.  ``n`` has no field: it is emulated;
#: ``reasoning`` becomes ``thinking``/``output_config.effort`` (see :func:`_reasoning`).
PARAMETER_NAMES: Mapping[str, str] = {
    "max_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop": "stop_sequences",
}
#: Fields anthropic 2.x's ``messages.create()`` has no argument for: sent via ``extra_body``.
EXTRA_BODY_FIELDS = frozenset({"temperature", "top_p", "top_k"})
#: How ``reasoning`` reaches the wire for a model family (its capability row says which):
#: ``"budget"`` manual extended thinking, ``"adaptive"`` adaptive thinking with
#: ``output_config.effort``, ``None`` no thinking.
Thinking = Literal["budget", "adaptive"] | None
#: A named reasoning level as a thinking budget, for the families that take budgets only.
LEVEL_BUDGETS: Mapping[str, int] = {"low": 1024, "medium": 4096, "high": 16384}
#: With thinking on, Anthropic takes ``top_p`` only in [0.95, 1].
_THINKING_MIN_TOP_P = 0.95


@dataclass(slots=True)
class Built:
    """``messages.create()`` keyword arguments, and the warnings building them gave."""

    args: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def build(request: Request, thinking: Thinking) -> Built:
    """Keyword arguments for ``messages.create()``, with the schema transform's warnings."""
    system = [m.text for m in request.messages if m.role == "system"]
    args: dict[str, Any] = {
        "model": request.model,
        "messages": map_messages(request),
        "max_tokens": DEFAULT_MAX_TOKENS,
        # Always explicit: without one the SDK refuses large max_tokens on non-streaming
        # calls with a ValueError, before any request, to force streaming.
        "timeout": request.timeout if request.timeout is not None else anthropic.DEFAULT_TIMEOUT,
    }
    if system:
        args["system"] = "\n\n".join(system)
    extra: dict[str, Any] = {}
    for name, value in request.params.items():  # usually none or a few
        target_field = PARAMETER_NAMES.get(name)
        if target_field is not None:
            target = extra if name in EXTRA_BODY_FIELDS else args
            target[target_field] = list(value) if name == "stop" else value
    built = Built(args)
    output_config: dict[str, Any] = {}
    reasoning = request.params.get("reasoning")
    if reasoning is not None:
        config, effort, budget = _reasoning(reasoning, thinking)
        args["thinking"] = config
        if effort is not None:
            output_config["effort"] = effort
        if budget is not None and "max_tokens" not in request.params:
            # Thinking counts toward max_tokens: leave the answer the default room.
            args["max_tokens"] = budget + DEFAULT_MAX_TOKENS
    if request.output is not None:
        schema, warnings = request.output.dialect(anthropic_compatible)
        built.warnings = list(warnings)
        output_config["format"] = {"type": "json_schema", "schema": schema}
    if output_config:
        args["output_config"] = output_config
    if request.tools:
        args["tools"] = definitions(request.tools, _tool)
        if request.tool_choice is not None or request.parallel_tool_calls is False:
            args["tool_choice"] = _tool_choice(request.tool_choice, request.parallel_tool_calls)
    if request.provider_options:
        extra.update(request.provider_options)
    if extra:
        args["extra_body"] = extra
    if request.headers:
        args["extra_headers"] = dict(request.headers)
    return built


def arguments(request: Request, thinking: Thinking = None) -> dict[str, Any]:
    """Keyword arguments for ``messages.create()`` (:func:`build` without its warnings)."""
    return build(request, thinking).args


def _tool(tool: Tool) -> dict[str, Any]:
    definition: dict[str, Any] = {"name": tool.name, "input_schema": dict(tool.parameters)}
    if tool.description:
        definition["description"] = tool.description
    return definition


def _tool_choice(choice: str | None, parallel: bool | None) -> dict[str, Any]:
    """``tool_choice`` (sent when a choice or ``parallel_tool_calls=False`` is given):
    auto/none/any/tool, with ``disable_parallel_tool_use`` for ``parallel_tool_calls=False``
    (a ``none`` choice has no such field: no calls at all)."""
    if choice == "none":
        return {"type": "none"}
    out: dict[str, Any]
    if choice is None or choice == "auto":
        out = {"type": "auto"}
    elif choice == "required":
        out = {"type": "any"}
    else:
        out = {"type": "tool", "name": choice}
    if parallel is False:
        out["disable_parallel_tool_use"] = True
    return out


def _reasoning(
    value: str | int, thinking: Thinking
) -> tuple[dict[str, Any], str | None, int | None]:
    """``thinking``, ``output_config.effort`` and the thinking budget for ``reasoning``."""
    if value == "none":
        return {"type": "disabled"}, None, None
    if isinstance(value, int):
        return {"type": "enabled", "budget_tokens": value}, None, value
    if thinking == "adaptive":
        return {"type": "adaptive"}, value, None
    budget = LEVEL_BUDGETS[value]
    return {"type": "enabled", "budget_tokens": budget}, None, budget


def check_request(request: Request, thinking: Thinking) -> None:
    """Refuse, before sending, what Anthropic answers with a 400 and no capability row
    can say: thinking beside a forced tool, changed sampling or too small a max_tokens;
    a schema its structured output cannot express."""
    if request.output is not None:
        request.output.dialect(anthropic_compatible)  # raises for what it cannot express
    reasoning = request.params.get("reasoning")
    if reasoning is None or reasoning == "none":  # thinking off
        return
    model = request.model
    if request.tools and request.tool_choice not in (None, "auto", "none"):
        raise UnsupportedParameterError(
            "tool_choice",
            PROVIDER,
            model,
            ["auto", "none"],
            message=f"tool_choice {request.tool_choice!r} forces a tool call, which Anthropic "
            f"refuses while thinking (reasoning={reasoning!r}); use tool_choice='auto' or "
            "reasoning='none'",
        )
    params = request.params
    clash = None
    if "top_k" in params:
        clash = "top_k"
    elif "temperature" in params and params["temperature"] != 1:
        clash = "temperature"
    elif "top_p" in params and params["top_p"] < _THINKING_MIN_TOP_P:
        clash = "top_p"
    if clash is not None:
        raise InvalidParameterError(
            clash,
            f"{clash}={params[clash]!r} cannot be combined with thinking "
            f"(reasoning={reasoning!r}) on Anthropic",
            provider=PROVIDER,
            allowed="temperature=1, top_p in [0.95, 1] and no top_k while thinking, "
            "or reasoning='none'",
        )
    budget = reasoning if isinstance(reasoning, int) else None
    if budget is None and thinking == "budget":
        budget = LEVEL_BUDGETS[reasoning]
    max_tokens = params.get("max_tokens")
    if budget is not None and max_tokens is not None and budget >= max_tokens:
        raise InvalidParameterError(
            "reasoning",
            f"a thinking budget of {budget} tokens (reasoning={reasoning!r}) must be below "
            f"max_tokens={max_tokens}: thinking counts toward max_tokens",
            provider=PROVIDER,
            allowed=f"max_tokens above {budget}, or a smaller reasoning budget",
        )


def check_turns(messages: Sequence[Message]) -> None:
    """Refuse, before sending, the turns the Messages API answers with a 400."""
    last: Message | None = None
    for turn in messages:
        if turn.role == "system":
            continue
        last = turn
        text = turn.content
        if text.__class__ is not str:
            if not _text_turn(turn):
                continue  # blocks: whitespace-only text parts are left out (see _blocks)
            text = turn.text
        if not text.strip():
            raise InvalidParameterError(
                "prompt",
                f"Anthropic refuses a {turn.role} turn made only of whitespace: {text!r:.40}",
                provider=PROVIDER,
                allowed="turns with at least one non-whitespace character",
            )
    if last is not None and last.role == "assistant" and last.text != last.text.rstrip():
        raise InvalidParameterError(
            "prompt",
            "Anthropic refuses a final assistant turn (a prefill) that ends in whitespace: "
            f"{last.text[-40:]!r}",
            provider=PROVIDER,
            allowed="a prefill without trailing whitespace",
        )


def check_stop(stop: Sequence[str]) -> None:
    """The API answers 400 to a stop sequence that is only whitespace (``"\\n"``): say so first."""
    for sequence in stop:
        if not sequence.strip():
            raise InvalidParameterError(
                "stop",
                f"Anthropic refuses a stop sequence made only of whitespace: {sequence!r}",
                provider=PROVIDER,
                allowed="stop sequences with at least one non-whitespace character",
            )


# ---------------------------------------------------------------------- turns


def _text_turn(message: Message) -> bool:
    content = message.content
    return isinstance(content, str) or all(isinstance(part, Text) for part in content)


def map_messages(request: Request) -> list[dict[str, Any]]:
    """The ``messages`` field: system turns left out, tool results joined into user turns.

    One or more ``"tool"`` turns in a row become ONE user turn of ``tool_result``
    blocks, and a user turn right after them is appended to it (results first), as
    Anthropic wants the results of parallel calls together in the next user turn.
    """
    out: list[dict[str, Any]] = []
    model = request.model
    joinable = False  # the last turn in ``out`` is a user turn that opened with tool results
    for i, message in enumerate(request.messages):
        role = message.role
        if role == "system":
            continue
        if role == "tool":
            blocks = _blocks(message.content, i, "tool", model)
            if joinable:
                out[-1]["content"].extend(blocks)
            else:
                out.append({"role": "user", "content": blocks})
                joinable = True
            continue
        content: str | list[dict[str, Any]] | Sequence[Any] = message.content
        if content.__class__ is not str:
            content = message.text if _text_turn(message) else _blocks(content, i, role, model)
        if role == "user" and joinable:
            if isinstance(content, str):
                content = [{"type": "text", "text": content}]
            out[-1]["content"].extend(content)
        else:
            out.append({"role": role, "content": content})
        joinable = False
    return out


def _blocks(
    parts: str | Sequence[Any], message_index: int, role: str, model: str
) -> list[dict[str, Any]]:
    """Content blocks for one turn's parts; what the turn's role cannot carry is refused."""
    if isinstance(parts, str):
        return [{"type": "text", "text": parts}]
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(parts):
        match part:
            case Text():
                if part.text.strip():  # Anthropic refuses whitespace-only text blocks
                    blocks.append({"type": "text", "text": part.text})
            case Image() | Document():
                if role != "user":
                    raise unsupported_part(message_index, j, part, PROVIDER, model)
                blocks.append(_media(part))
            case ToolCall():
                if role != "assistant":
                    raise unsupported_part(message_index, j, part, PROVIDER, model)
                blocks.append(
                    {"type": "tool_use", "id": part.id, "name": part.name, "input": part.arguments}
                )
            case ToolResult():
                if role != "tool":
                    raise unsupported_part(message_index, j, part, PROVIDER, model)
                blocks.append(_tool_result(part, message_index, j, model))
            case ProviderPart():
                if part.provider != PROVIDER or not isinstance(part.data, Mapping):
                    raise UnsupportedParameterError(
                        f"prompt[{message_index}].content[{j}]",
                        PROVIDER,
                        model,
                        ["anthropic provider parts (thinking blocks)"],
                        message=f"a {part.provider!r} provider part cannot be sent to "
                        "Anthropic: it only has meaning to the provider that produced it",
                    )
                blocks.append(dict(part.data))
            case _:
                assert_never(part)
    return blocks


def _media(part: Image | Document) -> dict[str, Any]:
    """An ``image`` or ``document`` block: base64 data or a URL the API fetches."""
    kind = "image" if isinstance(part, Image) else "document"
    if part.data is not None:
        source: dict[str, Any] = {
            "type": "base64",
            "media_type": part.media_type,
            "data": base64.b64encode(part.data).decode("ascii"),
        }
    else:
        source = {"type": "url", "url": part.url}
    return {"type": kind, "source": source}


def _tool_result(part: ToolResult, message_index: int, j: int, model: str) -> dict[str, Any]:
    """A ``tool_result`` block; its content may hold text and images."""
    content: str | list[dict[str, Any]]
    if isinstance(part.content, str):
        content = part.content
    else:
        content = []
        for inner in part.content:
            match inner:
                case Text():
                    content.append({"type": "text", "text": inner.text})
                case Image():
                    content.append(_media(inner))
                case _:  # the core lets only text and images into a tool result
                    raise unsupported_part(message_index, j, inner, PROVIDER, model)
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": part.call_id, "content": content}
    if part.is_error:
        block["is_error"] = True
    return block


def candidates(request: Request) -> int:
    n: int = request.params.get("n", 1)
    return n
