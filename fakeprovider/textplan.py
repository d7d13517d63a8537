"""Turn a text ``Reply`` plus the request into concrete choices, chunks and usage.

Renderers for the three protocols all consume the same ``TextPlan``, so a
scripted reply means the same thing whichever SDK asks.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from typing import Any

from .prompt import count_prompt_tokens, last_user_text
from .recorded import Protocol
from .reply import DEFAULT_ECHO_FALLBACK, Reply
from .sse import split_arguments

_WORDS = re.compile(r"\s*\S+")
_ids = itertools.count(1)


def split_words(text: str) -> tuple[str, ...]:
    """Words with their leading whitespace; joins back to exactly ``text``."""
    pieces = _WORDS.findall(text)
    if not pieces:
        return (text,) if text else ()
    tail = text[sum(map(len, pieces)) :]
    if tail:
        pieces[-1] += tail
    return tuple(pieces)


@dataclass(frozen=True)
class TextPlan:
    """Everything a renderer needs to emit one text completion."""

    model: str
    choices: tuple[tuple[str, ...], ...]
    finish: str
    input_tokens: int
    output_tokens: int
    serial: int
    created: int
    stop_sequence: str | None
    tool_calls: tuple[tuple[str, str], ...] = ()
    """(name, JSON-encoded arguments) rendered after the text of each choice."""
    argument_pieces: tuple[tuple[str, ...], ...] = ()
    """Per call, the pieces its arguments stream in (they join to its arguments); a call
    without an entry streams its arguments in one piece."""

    def arguments_streamed(self, call: int) -> tuple[str, ...]:
        """The argument pieces of call ``call`` as a stream sends them."""
        if call < len(self.argument_pieces):
            return self.argument_pieces[call]
        return split_arguments(self.tool_calls[call][1])

    def text(self, index: int) -> str:
        return "".join(self.choices[index])

    @property
    def max_chunks(self) -> int:
        return max((len(c) for c in self.choices), default=0)


def _requested_n(protocol: Protocol, body: dict[str, Any] | None) -> int:
    """How many choices the request asked for (OpenAI ``n``, Gemini candidateCount)."""
    if not body:
        return 1
    value: Any = None
    if protocol == "openai":
        value = body.get("n")
    elif protocol == "gemini":
        config = body.get("generationConfig", body.get("generation_config"))
        if isinstance(config, dict):
            value = config.get("candidateCount", config.get("candidate_count"))
    if isinstance(value, int) and not isinstance(value, bool) and value > 1:
        return value
    return 1


def _stop_sequence(body: dict[str, Any] | None) -> str:
    stops = (body or {}).get("stop_sequences")
    if isinstance(stops, list) and stops and isinstance(stops[0], str):
        return stops[0]
    return "STOP"


def build_plan(
    reply: Reply, protocol: Protocol, body: dict[str, Any] | None, model: str
) -> TextPlan:
    """Resolve defaults (echo text, chunking, n, usage) for one request."""
    if reply.kind == "echo":
        said = last_user_text(protocol, body)
        text = (reply.content or "") + said if said is not None else DEFAULT_ECHO_FALLBACK
    else:
        text = reply.content or ""
    if reply.candidates is not None:
        choices = tuple(split_words(c) for c in reply.candidates)
    elif reply.chunks is not None:
        choices = (reply.chunks,)
    else:
        choices = (split_words(text),)
    n = _requested_n(protocol, body)
    if reply.candidates is None and n > 1:
        choices = choices * n
    if protocol == "anthropic":
        choices = choices[:1]
    if reply.usage is not None:
        input_tokens, output_tokens = reply.usage
    else:
        input_tokens = count_prompt_tokens(protocol, body)
        output_tokens = sum(len(c) for c in choices)
    return TextPlan(
        model=reply.model or model or "fake-model",
        choices=choices,
        finish=reply.finish,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        serial=next(_ids),
        created=int(time.time()),
        stop_sequence=_stop_sequence(body) if reply.finish == "stop_sequence" else None,
        tool_calls=_tool_calls(reply),
    )


DEFAULT_TOOL_CALL = ("fake_tool", "{}")


def _tool_calls(reply: Reply) -> tuple[tuple[str, str], ...]:
    """Explicit calls, or one placeholder call when only the finish says "tool_calls"."""
    if reply.tool_calls is not None:
        return reply.tool_calls
    if reply.finish == "tool_calls" and reply.kind in ("text", "echo"):
        return (DEFAULT_TOOL_CALL,)
    return ()
