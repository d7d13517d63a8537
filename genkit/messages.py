"""Turn what a user passes as a prompt into genkit's message list, or refuse it clearly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from genkit.errors import InvalidParameterError
from genkit.types import ROLES, Message

__all__ = ["Prompt", "to_messages"]

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
    return item if isinstance(item, Message) else Message(role, content)
