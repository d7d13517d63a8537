"""Strict validation of Messages bodies, answering Anthropic's real 400s.

Beyond shape checks, it enforces that newer models (Opus 4.7/4.8, the
``*-5`` generation, ``fable``/``mythos``) reject ``temperature``/``top_p``/
``top_k`` entirely, which a provider-agnostic client must learn to omit.
"""

from __future__ import annotations

import re
from typing import Any

from ..checks import is_int, is_number
from ..errors import ErrorSpec

_NO_SAMPLING = re.compile(
    r"^claude-opus-4-[78](?:$|[-@.])"  # claude-opus-4-7, claude-opus-4-8-20270101
    r"|^claude-[a-z]+-5(?:$|[-@.])"  # claude-sonnet-5, claude-opus-5-... (not claude-sonnet-4-5)
    r"|fable|mythos"
)
SAMPLING_PARAMS = ("temperature", "top_p", "top_k")


def _bad(message: str) -> ErrorSpec:
    return ErrorSpec(400, message, "invalid_request_error")


def sampling_removed(model: str) -> bool:
    """True for models that answer 400 to any sampling parameter."""
    return _NO_SAMPLING.search(model) is not None


def _check_blocks(where: str, blocks: list[Any], *, text_only: bool) -> ErrorSpec | None:
    for j, block in enumerate(blocks):
        bwhere = f"{where}.{j}"
        if not isinstance(block, dict):
            return _bad(
                f"{bwhere}: Input should be a valid dictionary or object to extract fields from"
            )
        btype = block.get("type")
        if not isinstance(btype, str):
            return _bad(f"{bwhere}.type: Field required")
        if text_only and btype != "text":
            return _bad(f"{bwhere}.type: Input should be 'text'")
        if btype == "text":
            if not isinstance(block.get("text"), str):
                return _bad(f"{bwhere}.text: Field required")
            if not block["text"]:
                return _bad(f"{where.split('.')[0]}: text content blocks must be non-empty")
    return None


def _check_message(i: int, msg: Any, last: bool) -> ErrorSpec | None:
    where = f"messages.{i}"
    if not isinstance(msg, dict):
        return _bad(f"{where}: Input should be a valid dictionary or object to extract fields from")
    role = msg.get("role")
    if role is None:
        return _bad(f"{where}.role: Field required")
    if role not in ("user", "assistant"):
        return _bad(f"{where}.role: Input should be 'user' or 'assistant'")
    if "content" not in msg:
        return _bad(f"{where}.content: Field required")
    content = msg["content"]
    if isinstance(content, str):
        if not content and not (last and role == "assistant"):
            return _bad(
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
        return None
    if not isinstance(content, list):
        return _bad(f"{where}.content: Input should be a valid list")
    return _check_blocks(f"{where}.content", content, text_only=False)


def _check_thinking(body: dict[str, Any], max_tokens: int) -> ErrorSpec | None:
    """Anthropic's 400s for thinking beside what it cannot be combined with."""
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "adaptive"):
        return None
    if thinking["type"] == "enabled":
        budget: Any = thinking.get("budget_tokens")
        if not is_int(budget) or budget < 1024:
            return _bad(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            )
        if budget >= max_tokens:
            return _bad("`max_tokens` must be greater than `thinking.budget_tokens`.")
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        return _bad("Thinking may not be enabled when tool_choice forces tool use.")
    if "top_k" in body or body.get("temperature", 1) != 1:
        return _bad(
            "`temperature` may only be set to 1 and `top_k` unset when thinking is enabled."
        )
    return None


def validate_anthropic(body: dict[str, Any] | None) -> ErrorSpec | None:
    """None if the body would be accepted, else Anthropic's 400."""
    if body is None:
        return _bad(
            "There was an issue with your request body. The request body is not valid JSON."
        )
    model = body.get("model")
    if model is None:
        return _bad("model: Field required")
    if not isinstance(model, str):
        return _bad("model: Input should be a valid string")
    if "max_tokens" not in body:
        return _bad("max_tokens: Field required")
    max_tokens = body["max_tokens"]
    if not is_int(max_tokens):
        return _bad("max_tokens: Input should be a valid integer")
    if max_tokens < 1:
        return _bad("max_tokens: Input should be greater than or equal to 1")
    if "messages" not in body:
        return _bad("messages: Field required")
    messages = body["messages"]
    if not isinstance(messages, list):
        return _bad("messages: Input should be a valid list")
    if not messages:
        return _bad("messages: List should have at least 1 item after validation, not 0")
    for i, msg in enumerate(messages):
        err = _check_message(i, msg, last=i == len(messages) - 1)
        if err:
            return err
    system = body.get("system")
    if system is not None:
        if isinstance(system, list):
            err = _check_blocks("system", system, text_only=True)
            if err:
                return err
        elif not isinstance(system, str):
            return _bad("system: Input should be a valid list")
    for param, hi in (("temperature", 1.0), ("top_p", 1.0)):
        value = body.get(param)
        if value is None:
            continue
        if not is_number(value):
            return _bad(f"{param}: Input should be a valid number")
        if value < 0:
            return _bad(f"{param}: Input should be greater than or equal to 0")
        if value > hi:
            return _bad(f"{param}: Input should be less than or equal to 1")
    top_k = body.get("top_k")
    if top_k is not None:
        if not is_int(top_k):
            return _bad("top_k: Input should be a valid integer")
        if top_k < 1:
            return _bad("top_k: Input should be greater than or equal to 1")
    stops = body.get("stop_sequences")
    if stops is not None and (
        not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)
    ):
        return _bad("stop_sequences: Input should be a valid list of strings")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        return _bad("stream: Input should be a valid boolean")
    err = _check_thinking(body, max_tokens)
    if err:
        return err
    if sampling_removed(model):
        for param in SAMPLING_PARAMS:
            if param in body:
                return _bad(f"`{param}` is deprecated for this model.")
    return None
