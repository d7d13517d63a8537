"""Turn what a user passes as a prompt into genkit's message list, or refuse it clearly."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias

from genkit import _lazy
from genkit.errors import InvalidParameterError
from genkit.types import ROLES, Message

if TYPE_CHECKING:
    from genkit._partcheck import text_only as text_only
    from genkit._partcheck import unsupported_part as unsupported_part

__all__ = ["Prompt", "check_text", "text_only", "to_messages", "unsupported_part"]

Prompt: TypeAlias = str | Sequence[Message | Mapping[str, Any]]

#: Exported here, defined with the part classes they need (see :mod:`genkit._lazy`).
_ELSEWHERE = dict.fromkeys(("text_only", "unsupported_part"), "genkit._partcheck")


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
        if not prompt.isascii():  # check_text's own first test, spared its call
            check_text("prompt", prompt, provider)
        if system is None:  # the common call: one user turn
            return (Message("user", prompt),)
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
        if not system.isascii():
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
    check_part = _part_checker()
    for i, part in enumerate(parts):
        check_part(part, f"{where}.content[{i}]", role, provider)
    return Message(role, parts)  # type: ignore[arg-type]  # role and every part checked above


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


@cache
def _part_checker() -> Callable[[object, str, str, str], None]:
    """``genkit._partcheck.check_part``, imported by the first prompt that holds parts.

    The part classes stay out of ``import genkit``; cached, so later prompts pay a
    cached call here, not an import.
    """
    from genkit._partcheck import check_part

    return check_part


def __getattr__(name: str) -> object:
    """PEP 562: ``text_only`` and ``unsupported_part`` live in ``genkit._partcheck``."""
    return _lazy.load(globals(), _ELSEWHERE, name)
