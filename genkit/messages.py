"""Turn what a user passes as a prompt into genkit's message list, or refuse it clearly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from genkit.errors import InvalidParameterError
from genkit.types import ROLES, Message

__all__ = ["Prompt", "check_text", "to_messages"]

Prompt: TypeAlias = str | Sequence[Message | Mapping[str, Any]]


def to_messages(prompt: object, system: object, provider: str) -> tuple[Message, ...]:
    """A string becomes one user turn; a list is checked turn by turn; ``system`` goes first."""
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
    if not isinstance(content, str) or not content:
        raise InvalidParameterError(
            f"{where}.content",
            f"expected non-empty text, got {type(content).__name__}",
            provider=provider,
        )
    check_text(f"{where}.content", content, provider)
    return item if isinstance(item, Message) else Message(role, content)


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
