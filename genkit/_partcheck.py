"""Content parts checked against a message's role, and mapped to text for backends.

Apart from :mod:`genkit.messages` so that the part classes (dataclasses, compiled when
made) load with the first prompt that holds parts or the first backend module that maps
them, not with ``import genkit``; ``genkit.messages`` still exports
``unsupported_part`` and ``text_only``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import assert_never

from genkit.errors import InvalidParameterError, UnsupportedParameterError
from genkit.messages import check_text
from genkit.parts import Document, Image, Part, ProviderPart, Text, ToolCall, ToolResult

__all__ = ["check_part", "text_only", "unsupported_part"]

#: The parts each role may hold.  System turns are text for every provider; tool calls
#: are the assistant's, tool results the tool turn's, and provider data goes back only
#: in the assistant turn it came from.
_ALLOWED: dict[str, tuple[type, ...]] = {
    "system": (Text,),
    "user": (Text, Image, Document),
    "assistant": (Text, Image, Document, ToolCall, ProviderPart),
    "tool": (ToolResult,),
}
_PART_NAMES: dict[type, str] = {
    Text: "text",
    Image: "image",
    Document: "document",
    ToolCall: "tool call",
    ToolResult: "tool result",
    ProviderPart: "provider data",
}


def _check_nonempty_text(text: object, where: str, provider: str) -> None:
    if not isinstance(text, str) or not text:
        raise InvalidParameterError(
            where, f"expected non-empty text, got {text!r:.40}", provider=provider
        )
    check_text(where, text, provider)


def _check_name(value: object, where: str, provider: str) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(
            where, f"expected a non-empty string, got {value!r:.40}", provider=provider
        )
    check_text(where, value, provider)


def check_part(part: object, where: str, role: str, provider: str) -> None:
    allowed = _ALLOWED[role]
    if not isinstance(part, allowed):
        got = _PART_NAMES.get(type(part))
        raise InvalidParameterError(
            where,
            f"a {role} turn cannot hold {got or type(part).__name__}"
            if got
            else f"expected a content part, got {type(part).__name__}",
            provider=provider,
            allowed=", ".join(f"genkit.{t.__name__}" for t in allowed),
        )
    if isinstance(part, Text):
        _check_nonempty_text(part.text, f"{where}.text", provider)
    elif isinstance(part, ToolCall):
        _check_name(part.id, f"{where}.id", provider)
        _check_name(part.name, f"{where}.name", provider)
        if not isinstance(part.arguments, Mapping):
            raise InvalidParameterError(
                f"{where}.arguments",
                f"expected a dict, got {type(part.arguments).__name__}",
                provider=provider,
            )
    elif isinstance(part, ToolResult):
        _check_name(part.call_id, f"{where}.call_id", provider)
        if part.name is not None:
            _check_name(part.name, f"{where}.name", provider)
        content = part.content
        if isinstance(content, str):
            check_text(f"{where}.content", content, provider)
        elif isinstance(content, Sequence) and content:
            for j, inner in enumerate(content):
                if isinstance(inner, Text):
                    _check_nonempty_text(inner.text, f"{where}.content[{j}].text", provider)
                elif not isinstance(inner, Image):
                    raise InvalidParameterError(
                        f"{where}.content[{j}]",
                        f"a tool result cannot hold {type(inner).__name__}",
                        provider=provider,
                        allowed="genkit.Text, genkit.Image",
                    )
        else:
            raise InvalidParameterError(
                f"{where}.content",
                f"expected text or a non-empty list of parts, got {type(content).__name__}",
                provider=provider,
            )


def unsupported_part(
    message_index: int, part_index: int, part: Part, provider: str, model: str
) -> UnsupportedParameterError:
    """The error a backend raises, before sending, for a part it cannot map (yet).

    ``message_index`` is the turn's position in the conversation as sent (a ``system=``
    argument is turn 0).
    """
    kind = _PART_NAMES[type(part)]
    where = f"prompt[{message_index}].content[{part_index}]"
    return UnsupportedParameterError(
        where,
        provider,
        model,
        ["text"],
        message=f"{kind} input is not supported by the {provider} backend yet",
    )


def text_only(parts: Sequence[Part], message_index: int, provider: str, model: str) -> str:
    """A parts list as text, for a backend that maps text parts only: their texts joined.

    The one place every backend maps parts today.  Exhaustive on purpose: a new part
    type fails type-checking here until it is handled, and a part no backend maps yet
    is refused before anything is sent, never dropped.
    """
    texts: list[str] = []
    for j, part in enumerate(parts):
        match part:
            case Text():
                texts.append(part.text)
            case Image() | Document() | ToolCall() | ToolResult() | ProviderPart():
                raise unsupported_part(message_index, j, part, provider, model)
            case _:
                assert_never(part)
    return "".join(texts)
