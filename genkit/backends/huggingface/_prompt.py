"""Turn genkit messages into the token ids a local model is prompted with.

A tokenizer with a chat template renders the conversation the way the model was trained
to read it.  Base models such as GPT-2 have none; for them a single user message is the
prompt text verbatim (so ``generate("Once upon a time")`` is exactly what
``pipeline("text-generation")`` sees), and anything else becomes a plain transcript::

    <system text>

    User: <text>
    Assistant: <text>
    User: <text>
    Assistant:

System messages are written as they are, each followed by a blank line; the closing
``Assistant:`` cues the reply.  When the last message is the assistant's, its text is left
open (no newline, no cue) so the model continues it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genkit.backends.huggingface._deps import PROVIDER
from genkit.backends.huggingface._tools import chat_messages
from genkit.errors import InvalidParameterError, UnsupportedParameterError
from genkit.messages import text_only, unsupported_part
from genkit.parts import Text, ToolCall, ToolResult
from genkit.types import Message

__all__ = ["check_parts", "prompt_ids", "render_plain"]

_SPEAKERS = {"user": "User", "assistant": "Assistant"}


def check_parts(messages: Sequence[Message], model: str, tokenizer: Any) -> None:
    """Refuse, before anything runs, a part the local backend cannot prompt with.

    Models here read text: images and documents are refused (for text-only models the
    capability row already lacks the features).  Tool calls and tool results go through
    the chat template, so a model without one refuses them.  Once this passes, every
    message is text, tool calls or text tool results.
    """
    for i, message in enumerate(messages):
        content = message.content
        if isinstance(content, str):
            continue
        tool_parts = [
            j for j, part in enumerate(content) if isinstance(part, ToolCall | ToolResult)
        ]
        if not tool_parts:
            text_only(content, i, PROVIDER, model)
            continue
        if not getattr(tokenizer, "chat_template", None):
            kind = "tool call" if isinstance(content[tool_parts[0]], ToolCall) else "tool result"
            raise UnsupportedParameterError(
                f"prompt[{i}].content[{tool_parts[0]}]",
                PROVIDER,
                model,
                ["text"],
                message=f"{kind} input is not supported by model {model!r}: it has no chat "
                "template (tokenizer.chat_template) to render tool calls and results",
            )
        for j, part in enumerate(content):
            if isinstance(part, ToolResult) and not isinstance(part.content, str):
                for inner in part.content:
                    if not isinstance(inner, Text):
                        raise unsupported_part(i, j, inner, PROVIDER, model)
            elif not isinstance(part, Text | ToolCall | ToolResult):
                raise unsupported_part(i, j, part, PROVIDER, model)


def render_plain(messages: Sequence[Message]) -> str:
    """The transcript a model without a chat template is prompted with (see module doc)."""
    if len(messages) == 1 and messages[0].role == "user":
        return messages[0].text
    parts: list[str] = []
    for message in messages:
        if message.role == "system":
            parts.append(f"{message.text}\n\n")
        else:
            parts.append(f"{_SPEAKERS[message.role]}: {message.text}\n")
    if messages[-1].role == "assistant":
        parts[-1] = parts[-1].removesuffix("\n")
    else:
        parts.append("Assistant:")
    return "".join(parts)


def prompt_ids(
    tokenizer: Any, messages: Sequence[Message], tools: list[dict[str, Any]] | None = None
) -> list[int]:
    """Token ids for ``messages``: the chat template when the tokenizer has one.

    ``tools`` (chat-template form) are rendered by the template; tool calls and results in
    the history are passed in the Hugging Face message convention (see ``_tools``).
    """
    if getattr(tokenizer, "chat_template", None):
        continuing = messages[-1].role == "assistant"
        try:
            ids = tokenizer.apply_chat_template(
                chat_messages(messages),
                tools=tools or None,
                add_generation_prompt=not continuing,
                continue_final_message=continuing,
                tokenize=True,
                return_dict=False,
            )
        except Exception as exc:  # jinja errors: templates that refuse a role or an order
            raise InvalidParameterError(
                "prompt",
                f"the model's chat template rejected these messages: {exc}",
                provider=PROVIDER,
            ) from exc
        return [int(i) for i in ids]
    return [int(i) for i in tokenizer(render_plain(messages))["input_ids"]]
