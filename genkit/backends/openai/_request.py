"""genkit's request -> Chat Completions arguments (the way out)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genkit.messages import text_only
from genkit.params import Request

__all__ = ["PARAMETER_NAMES", "PROVIDER", "body"]

PROVIDER = "openai"

_SAME_NAME = ("temperature", "top_p", "stop", "seed", "n", "presence_penalty", "frequency_penalty")
#: genkit's shared parameter -> Chat Completions field (the same name unless renamed here).
PARAMETER_NAMES: Mapping[str, str] = {
    "max_tokens": "max_completion_tokens",
    **{name: name for name in _SAME_NAME},
}


def body(request: Request) -> dict[str, Any]:
    """Keyword arguments for ``chat.completions.create()``."""
    args: dict[str, Any] = {
        "model": request.model,
        "messages": [
            {
                "role": m.role,
                "content": m.content
                if isinstance(m.content, str)
                else text_only(m.content, i, PROVIDER, request.model),
            }
            for i, m in enumerate(request.messages)
        ],
    }
    for name, value in request.params.items():
        args[PARAMETER_NAMES[name]] = list(value) if name == "stop" else value
    if request.timeout is not None:
        args["timeout"] = request.timeout
    if request.provider_options:
        args["extra_body"] = dict(request.provider_options)
    if request.headers:
        args["extra_headers"] = dict(request.headers)
    return args
