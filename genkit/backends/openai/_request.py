"""genkit's request -> Chat Completions arguments (the way out).

Every part is mapped by an exhaustive ``match``: what Chat Completions cannot take (a
document by URL, an image in a tool result or an assistant turn, another provider's
data) is refused with :class:`~genkit.errors.UnsupportedParameterError` naming its
position, before anything is sent.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any, assert_never

from genkit._jsonschema import openai_strict
from genkit.backends._tooldefs import definitions
from genkit.errors import UnsupportedParameterError
from genkit.messages import text_only, unsupported_part
from genkit.params import Request
from genkit.parts import Document, Image, Part, ProviderPart, Text, ToolCall, ToolResult
from genkit.tools import Tool
from genkit.types import Message

__all__ = ["PARAMETER_NAMES", "PROVIDER", "body"]

PROVIDER = "openai"

_SAME_NAME = ("temperature", "top_p", "stop", "seed", "n", "presence_penalty", "frequency_penalty")
#: genkit's shared parameter -> Chat Completions field (the same name unless renamed here).
PARAMETER_NAMES: Mapping[str, str] = {
    "max_tokens": "max_completion_tokens",
    "reasoning": "reasoning_effort",
    **{name: name for name in _SAME_NAME},
}
#: The text a failed tool's result is sent with: Chat Completions has no error flag.
ERROR_PREFIX = "Error: "


def body(request: Request) -> dict[str, Any]:
    """Keyword arguments for ``chat.completions.create()``."""
    messages: list[dict[str, Any]] = []
    for i, m in enumerate(request.messages):
        if isinstance(m.content, str):
            messages.append({"role": m.role, "content": m.content})
        else:
            _parts(m, i, request.model, messages)
    args: dict[str, Any] = {"model": request.model, "messages": messages}
    for name, value in request.params.items():
        args[PARAMETER_NAMES[name]] = list(value) if name == "stop" else value
    if request.tools:
        args["tools"] = definitions(request.tools, _tool)
        choice = request.tool_choice
        if choice is not None:
            args["tool_choice"] = (
                choice
                if choice in ("auto", "none", "required")
                else {"type": "function", "function": {"name": choice}}
            )
        if request.parallel_tool_calls is not None:
            args["parallel_tool_calls"] = request.parallel_tool_calls
    if request.output is not None:
        output = request.output
        schema: dict[str, Any] = {
            "name": output.name,
            "schema": output.dialect(openai_strict),
            "strict": True,
        }
        if output.description:
            schema["description"] = output.description
        args["response_format"] = {"type": "json_schema", "json_schema": schema}
    if request.timeout is not None:
        args["timeout"] = request.timeout
    if request.provider_options:
        args["extra_body"] = dict(request.provider_options)
    if request.headers:
        args["extra_headers"] = dict(request.headers)
    return args


def _tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    function["parameters"] = dict(tool.parameters)
    return {"type": "function", "function": function}


def _parts(message: Message, i: int, model: str, out: list[dict[str, Any]]) -> None:
    """One turn given as parts -> its Chat Completions message(s), appended to ``out``."""
    parts: Sequence[Part] = message.content  # type: ignore[assignment]  # not a str here
    role = message.role
    if role == "system":
        out.append({"role": role, "content": text_only(parts, i, PROVIDER, model)})
    elif role == "user":
        if all(type(part) is Text for part in parts):
            # Text alone goes as the same string the text given as a string would.
            out.append({"role": role, "content": text_only(parts, i, PROVIDER, model)})
            return
        content = [_user_part(part, i, j, model) for j, part in enumerate(parts)]
        out.append({"role": role, "content": content})
    elif role == "assistant":
        out.append(_assistant(parts, i, model))
    else:  # tool: one message per result
        for j, part in enumerate(parts):
            match part:
                case ToolResult():
                    out.append(_tool_result(part, i, j, model))
                case Text() | Image() | Document() | ToolCall() | ProviderPart():
                    raise unsupported_part(i, j, part, PROVIDER, model)
                case _:
                    assert_never(part)


def _data_url(data: bytes, media_type: str | None) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _user_part(part: Part, i: int, j: int, model: str) -> dict[str, Any]:
    match part:
        case Text():
            return {"type": "text", "text": part.text}
        case Image():
            url = part.url if part.data is None else _data_url(part.data, part.media_type)
            return {"type": "image_url", "image_url": {"url": url}}
        case Document():
            if part.data is None:
                raise _refused(
                    f"prompt[{i}].content[{j}]",
                    model,
                    "a document by URL cannot be sent to Chat Completions (it takes PDF "
                    "bytes only: there is no file_url)",
                    ["genkit.Document(data=...)", "genkit.Document.from_file(path)"],
                )
            file = {
                "file_data": _data_url(part.data, part.media_type),
                "filename": f"document{j}.pdf",
            }
            return {"type": "file", "file": file}
        case ToolCall() | ToolResult() | ProviderPart():
            raise unsupported_part(i, j, part, PROVIDER, model)
        case _:
            assert_never(part)


def _assistant(parts: Sequence[Part], i: int, model: str) -> dict[str, Any]:
    """An assistant turn: its text as ``content``, its calls as ``tool_calls``."""
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    for j, part in enumerate(parts):
        match part:
            case Text():
                texts.append(part.text)
            case ToolCall():
                calls.append(
                    {
                        "id": part.id,
                        "type": "function",
                        "function": {
                            "name": part.name,
                            "arguments": json.dumps(part.arguments, ensure_ascii=False),
                        },
                    }
                )
            case ProviderPart():
                if part.provider != PROVIDER or not isinstance(part.data, Mapping):
                    raise _refused(
                        f"prompt[{i}].content[{j}]",
                        model,
                        f"provider data from {part.provider!r} cannot be sent to {PROVIDER} "
                        "(it goes back only to the provider it came from)",
                        ["genkit.Text", "genkit.ToolCall"],
                    )
                extra.update(part.data)  # OpenAI's own message fields, echoed as they came
            case Image() | Document():
                raise _refused(
                    f"prompt[{i}].content[{j}]",
                    model,
                    "an assistant turn holds text and tool calls only in Chat Completions",
                    ["genkit.Text", "genkit.ToolCall"],
                )
            case ToolResult():
                raise unsupported_part(i, j, part, PROVIDER, model)
            case _:
                assert_never(part)
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    message.update(extra)
    return message


def _tool_result(result: ToolResult, i: int, j: int, model: str) -> dict[str, Any]:
    """One ``tool`` message: Chat Completions takes text only in tool results."""
    if isinstance(result.content, str):
        text = result.content
    else:
        texts: list[str] = []
        for k, inner in enumerate(result.content):
            match inner:
                case Text():
                    texts.append(inner.text)
                case Image():
                    raise _refused(
                        f"prompt[{i}].content[{j}].content[{k}]",
                        model,
                        "Chat Completions takes text only in a tool result (no images)",
                        ["genkit.Text"],
                    )
                case _:
                    assert_never(inner)
        text = "".join(texts)
    if result.is_error:
        text = ERROR_PREFIX + text
    return {"role": "tool", "tool_call_id": result.call_id, "content": text}


def _refused(where: str, model: str, message: str, allowed: list[str]) -> UnsupportedParameterError:
    return UnsupportedParameterError(where, PROVIDER, model, allowed, message=message)
