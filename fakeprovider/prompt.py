"""Read the prompt text out of a request body, for default usage and echo.

Only needs to be roughly right: default ``input_tokens`` is a word count of
what the client sent, and the echo reply quotes the last user message.
"""

from __future__ import annotations

from typing import Any

from .recorded import Protocol


def _content_texts(content: Any) -> list[str]:
    """Text of an OpenAI/Anthropic ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    out.append(text)
                elif isinstance(part.get("content"), str | list):  # tool_result
                    out.extend(_content_texts(part["content"]))
    return out


def _gemini_parts_texts(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return []
    parts = content.get("parts")
    if not isinstance(parts, list):
        return []
    return [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]


def prompt_messages(protocol: Protocol, body: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(role, text) pairs in order, system prompt first when there is one."""
    if not body:
        return []
    out: list[tuple[str, str]] = []
    if protocol == "gemini":
        system = body.get("systemInstruction", body.get("system_instruction"))
        out.extend(("system", t) for t in _gemini_parts_texts(system))
        contents = body.get("contents")
        for item in contents if isinstance(contents, list) else []:
            role = item.get("role", "user") if isinstance(item, dict) else "user"
            out.extend((str(role), t) for t in _gemini_parts_texts(item))
        return out
    if protocol == "anthropic":
        out.extend(("system", t) for t in _content_texts(body.get("system")))
    messages = body.get("messages")
    for msg in messages if isinstance(messages, list) else []:
        if isinstance(msg, dict):
            role = str(msg.get("role", "user"))
            out.extend((role, t) for t in _content_texts(msg.get("content")))
    return out


def count_prompt_tokens(protocol: Protocol, body: dict[str, Any] | None) -> int:
    """Words across all prompt texts; at least 1 (no real prompt costs 0)."""
    words = sum(len(text.split()) for _, text in prompt_messages(protocol, body))
    return max(1, words)


def last_user_text(protocol: Protocol, body: dict[str, Any] | None) -> str | None:
    """Text of the most recent user turn, or None."""
    texts = [text for role, text in prompt_messages(protocol, body) if role == "user"]
    return texts[-1] if texts else None
