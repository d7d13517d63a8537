"""Turn what a user passes as a prompt into genkit's message list, or refuse it clearly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from genkit.errors import InvalidParameterError, UnsupportedParameterError
from genkit.parts import Document, Image, Part, ProviderPart, Text, ToolCall, ToolResult
from genkit.types import ROLES, Message

__all__ = ["Prompt", "check_text", "to_messages", "unsupported_part"]

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

Prompt: TypeAlias = str | Sequence[Message | Mapping[str, Any]]


def to_messages(prompt: object, system: object, provider: str) -> tuple[Message, ...]:
    """A string becomes one user turn; a list is checked turn by turn; ``system`` goes first.

    A list content comes back as a tuple of checked parts.  Whether a backend can send
    a part is the backend's call (``unsupported_part``), made before sending.
    """
    if isinstance(prompt, str):
        if not prompt:
            raise InvalidParameterError(
                "prompt",
                "empty prompt",
                provider=provider,
                allowed="a non-empty string or messages",
            )
        check_text("prompt", prompt, provider)
        messages: list[Message] = [Message("user", prompt)]
    elif isinstance(prompt, Sequence) and not isinstance(prompt, bytes | bytearray):
        messages = [_message(item, i, provider) for i, item in enumerate(prompt)]
        if not any(m.role != "system" for m in messages):
            raise InvalidParameterError(
                "prompt",
                "no user or assistant message",
                provider=provider,
                allowed="a list with at least one user message",
            )
    else:
        raise InvalidParameterError(
            "prompt",
            f"expected a string or a list of messages, got {type(prompt).__name__}",
            provider=provider,
        )
    if system is not None:
        if not isinstance(system, str) or not system:
            raise InvalidParameterError(
                "system", f"expected a non-empty string, got {system!r:.40}", provider=provider
            )
        check_text("system", system, provider)
        messages.insert(0, Message("system", system))
    return tuple(messages)


def _message(item: object, index: int, provider: str) -> Message:
    where = f"prompt[{index}]"
    role: object
    content: object  # a Message is checked like a dict: its fields are not trusted either
    if isinstance(item, Message):
        role, content = item.role, item.content
    elif isinstance(item, Mapping):
        if "role" not in item or "content" not in item:
            raise InvalidParameterError(
                where,
                "a message needs 'role' and 'content'",
                provider=provider,
                allowed="{'role': 'user', 'content': '...'}",
            )
        role, content = item["role"], item["content"]
    else:
        raise InvalidParameterError(
            where,
            f"expected a message dict or genkit.Message, got {type(item).__name__}",
            provider=provider,
        )
    if role not in ROLES:
        raise InvalidParameterError(
            f"{where}.role", f"unknown role {role!r}", provider=provider, allowed=", ".join(ROLES)
        )
    if isinstance(content, str):
        if not content:
            raise InvalidParameterError(
                f"{where}.content", "expected non-empty text, got ''", provider=provider
            )
        if role == "tool":
            raise InvalidParameterError(
                f"{where}.content",
                "a tool turn holds tool results, not text",
                provider=provider,
                allowed="[genkit.ToolResult(call_id, content)]",
            )
        check_text(f"{where}.content", content, provider)
        return item if isinstance(item, Message) else Message(role, content)  # type: ignore[arg-type]
    if not isinstance(content, Sequence) or isinstance(content, bytes | bytearray):
        raise InvalidParameterError(
            f"{where}.content",
            f"expected non-empty text or a list of parts, got {type(content).__name__}",
            provider=provider,
        )
    if not content:
        raise InvalidParameterError(
            f"{where}.content",
            "an empty list of parts",
            provider=provider,
            allowed="text or a non-empty list of parts",
        )
    parts = tuple(content)  # a copy: the caller's list may change while a call runs
    for i, part in enumerate(parts):
        _check_part(part, f"{where}.content[{i}]", role, provider)
    return Message(role, parts)  # type: ignore[arg-type]  # role and every part checked above


def _check_part(part: object, where: str, role: str, provider: str) -> None:
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


def check_text(parameter: str, text: str, provider: str) -> None:
    """Refuse text with a lone surrogate, which no provider and no tokenizer can take.

    A Python string can hold UTF-16 surrogates that are not characters (``"\\ud800"``,
    from ``errors="surrogateescape"`` decoding or a broken ``\\u`` escape in JSON).
    They cannot be encoded as UTF-8, so the SDK fails while serialising the request -
    an error that looked like a bad response and was retried - or, worse, drops them.
    """
    if text.isascii():  # nearly every prompt, at C speed
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidParameterError(
            parameter,
            f"contains a lone surrogate {text[error.start]!r} at position {error.start}, "
            "which is not a character and cannot be sent",
            provider=provider,
            allowed="valid Unicode text (every character encodable as UTF-8)",
        ) from None
