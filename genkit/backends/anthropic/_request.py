"""genkit's request -> Messages API arguments (the way out), and why:

- ``system`` messages become the top-level ``system`` field (several are joined with a
  blank line): the API has no system role inside ``messages``.
- ``max_tokens`` is required by the API, so :data:`DEFAULT_MAX_TOKENS` is sent when the
  caller gave none.  4096 is the largest value every Claude model accepts (Claude 3
  Haiku/Opus cap their output there), so the default never causes a 400.
- anthropic 2.x's ``messages.create()`` has no ``temperature``/``top_p``/``top_k``
  arguments; they travel in ``extra_body`` and only to models that still accept them
  (see :data:`CAPABILITIES`): the newest models answer 400 to any of them.
- ``n > 1`` is not native: it is emulated with ``n`` concurrent requests (threads for
  sync calls, ``asyncio.gather`` for async ones).  Streams open the ``n`` requests
  concurrently and deliver the candidates one after another (each chunk carries its
  ``index``), so closing the stream closes every connection from the caller's thread.
  Usage is the sum over the ``n`` requests: what the provider bills.
- ``provider_options`` are merged into the request body as given (``extra_body``), and
  win over genkit's own fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anthropic

from genkit.errors import InvalidParameterError
from genkit.messages import text_only
from genkit.params import Request
from genkit.types import Message

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "EXTRA_BODY_FIELDS",
    "PARAMETER_NAMES",
    "PROVIDER",
    "arguments",
    "candidates",
    "check_stop",
    "check_turns",
]

PROVIDER = "anthropic"

#: Sent as ``max_tokens`` when the caller set none (the API requires the field).
DEFAULT_MAX_TOKENS = 4096
#: genkit's shared parameter -> Messages API field.  ``n`` has no field: it is emulated.
PARAMETER_NAMES: Mapping[str, str] = {
    "max_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop": "stop_sequences",
}
#: Fields anthropic 2.x's ``messages.create()`` has no argument for: sent via ``extra_body``.
EXTRA_BODY_FIELDS = frozenset({"temperature", "top_p", "top_k"})


def arguments(request: Request) -> dict[str, Any]:
    """Keyword arguments for ``messages.create()``."""
    system = [m.text for m in request.messages if m.role == "system"]
    args: dict[str, Any] = {
        "model": request.model,
        "messages": [
            _turn(m, i, request.model) for i, m in enumerate(request.messages) if m.role != "system"
        ],
        "max_tokens": DEFAULT_MAX_TOKENS,
        # Always explicit: without one the SDK refuses large max_tokens on non-streaming
        # calls with a ValueError, before any request, to force streaming.
        "timeout": request.timeout if request.timeout is not None else anthropic.DEFAULT_TIMEOUT,
    }
    if system:
        args["system"] = "\n\n".join(system)
    extra: dict[str, Any] = {}
    for name, field in PARAMETER_NAMES.items():
        if name in request.params:
            value = request.params[name]
            target = extra if name in EXTRA_BODY_FIELDS else args
            target[field] = list(value) if name == "stop" else value
    extra.update(request.provider_options)
    if extra:
        args["extra_body"] = extra
    if request.headers:
        args["extra_headers"] = dict(request.headers)
    return args


def check_turns(messages: Sequence[Message]) -> None:
    """Refuse, before sending, the turns the Messages API answers with a 400."""
    turns = [m for m in messages if m.role != "system"]
    for turn in turns:
        text = turn.content if isinstance(turn.content, str) else turn.text
        if not text.strip():
            raise InvalidParameterError(
                "prompt",
                f"Anthropic refuses a {turn.role} turn made only of whitespace: {text!r:.40}",
                provider=PROVIDER,
                allowed="turns with at least one non-whitespace character",
            )
    last = turns[-1]
    if last.role == "assistant" and last.text != last.text.rstrip():
        raise InvalidParameterError(
            "prompt",
            "Anthropic refuses a final assistant turn (a prefill) that ends in whitespace: "
            f"{last.text[-40:]!r}",
            provider=PROVIDER,
            allowed="a prefill without trailing whitespace",
        )


def check_stop(stop: Sequence[str]) -> None:
    """The API answers 400 to a stop sequence that is only whitespace (``"\\n"``): say so first."""
    for sequence in stop:
        if not sequence.strip():
            raise InvalidParameterError(
                "stop",
                f"Anthropic refuses a stop sequence made only of whitespace: {sequence!r}",
                provider=PROVIDER,
                allowed="stop sequences with at least one non-whitespace character",
            )


def _turn(message: Message, index: int, model: str) -> dict[str, str]:
    content = message.content
    return {
        "role": message.role,
        "content": content
        if isinstance(content, str)
        else text_only(content, index, PROVIDER, model),
    }


def candidates(request: Request) -> int:
    n: int = request.params.get("n", 1)
    return n
