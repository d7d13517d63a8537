"""genkit's request -> ``generateContent`` arguments (the way out), and why:

- ``system`` messages become ``system_instruction`` (several joined with a blank line);
  ``assistant`` turns are sent with Gemini's role name, ``model``.
- Every shared parameter is native (:data:`PARAMETER_NAMES`); ``n`` is
  ``candidate_count`` (at most 8) and ``stop`` at most 5 sequences.
- ``provider_options`` are extra fields of ``GenerateContentConfig`` given by name, e.g.
  ``{"safety_settings": [...], "thinking_config": {"thinking_budget": 0},
  "response_mime_type": "application/json"}``; they win over genkit's own fields and an
  unknown name is refused before any request.
- Streams: the SDK maps the request, builds its URL, headers and timeout, sends it and
  raises its typed error for a failed status (its own ``_api_client`` steps, the ones
  ``generate_content_stream`` takes: google-genai has no public raw-stream mode);
  genkit decodes the ``alt=sse`` body itself and reads the JSON events as dicts, where
  the SDK built pydantic models per event (8x the CPU per chunk).  ``CONTINUATION``
  is followed with its token, as the SDK does by default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import pydantic
from google.genai import _common, types
from google.genai import models as genai_models
from google.genai._api_client import BaseApiClient, HttpRequest

from genkit.errors import InvalidParameterError
from genkit.messages import text_only
from genkit.params import Request
from genkit.types import Message

__all__ = [
    "PARAMETER_NAMES",
    "PROVIDER",
    "candidates",
    "config",
    "contents",
    "continues",
    "milliseconds",
    "stream_request",
]

PROVIDER = "gemini"

_SAME_NAME = ("temperature", "top_p", "top_k", "seed", "presence_penalty", "frequency_penalty")
#: genkit's shared parameter -> ``GenerateContentConfig`` field (the same name unless
#: renamed here).
PARAMETER_NAMES: Mapping[str, str] = {
    "max_tokens": "max_output_tokens",
    "stop": "stop_sequences",
    "n": "candidate_count",
    **{name: name for name in _SAME_NAME},
}

#: genkit role -> Gemini role.
_ROLES: Mapping[str, str] = {"user": "user", "assistant": "model"}


def contents(request: Request) -> str | list[types.ContentDict]:
    turns = [(i, m) for i, m in enumerate(request.messages) if m.role != "system"]
    if len(turns) == 1 and turns[0][1].role == "user":
        # The SDK builds the same user turn from a string, and faster than from a dict.
        index, turn = turns[0]
        content = turn.content
        return (
            content
            if isinstance(content, str)
            else text_only(content, index, PROVIDER, request.model)
        )
    return [_turn(m, i, request.model) for i, m in turns]


def _turn(message: Message, index: int, model: str) -> types.ContentDict:
    content = message.content
    # Parts first: a part not mapped yet is refused before its role is looked up.
    text = content if isinstance(content, str) else text_only(content, index, PROVIDER, model)
    return {"role": _ROLES[message.role], "parts": [{"text": text}]}


def milliseconds(seconds: float) -> int:
    return math.ceil(seconds * 1000)  # google-genai's HttpOptions.timeout is in ms


def config(request: Request, timeout: float | None) -> types.GenerateContentConfig | None:
    """The request's ``GenerateContentConfig``, or ``None`` when it would be empty.

    A bad ``provider_options`` name fails here.
    """
    fields: dict[str, Any] = {
        PARAMETER_NAMES[name]: list(value) if name == "stop" else value
        for name, value in request.params.items()
    }
    system = [m.text for m in request.messages if m.role == "system"]
    if system:
        fields["system_instruction"] = "\n\n".join(system)
    if timeout is not None or request.headers:
        # The SDK merges these headers into its own (the API key's included).
        fields["http_options"] = types.HttpOptions(
            timeout=milliseconds(timeout) if timeout is not None else None,
            headers=dict(request.headers) or None,
        )
    if request.provider_options:
        fields.update(request.provider_options)
        # Tools given through provider_options are declared, never called by the SDK.
        fields.setdefault(
            "automatic_function_calling", types.AutomaticFunctionCallingConfig(disable=True)
        )
    if not fields:
        return None
    try:
        return types.GenerateContentConfig(**fields)
    except (pydantic.ValidationError, TypeError) as error:
        raise InvalidParameterError(
            "provider_options",
            f"not valid GenerateContentConfig fields: {error}",
            provider=PROVIDER,
            allowed="fields of google.genai.types.GenerateContentConfig",
        ) from error


def candidates(request: Request) -> int:
    n: int = request.params.get("n", 1)
    return n


#: ``streamGenerateContent`` with ``alt=sse``: the body is server-sent events, one
#: ``GenerateContentResponse`` as JSON per event.
_STREAM_PATH = "{model}:streamGenerateContent?alt=sse"


def continues(config: types.GenerateContentConfig | None) -> bool:
    """Whether a ``CONTINUATION`` is followed, as google-genai does by default."""
    return config is None or config.automatic_continuation is not False


def stream_request(
    api: BaseApiClient,
    request: Request,
    config: types.GenerateContentConfig | None,
    continuation: str | None,
) -> tuple[HttpRequest, types.HttpOptions | None]:
    """The SDK's own HTTP request for a streamed call, and its per-call HTTP options.

    The same steps ``Models.generate_content_stream`` takes before it sends: the SDK
    maps the parameters (``provider_options`` included) to the wire and builds the
    URL (base URL, API version), headers (API key, ``headers=``) and timeout.  genkit
    leaves out only what it never uses: automatic function calling (off for genkit)
    and the SDK's per-event pydantic responses.
    """
    # The SDK's public calls take ContentDicts and pydantic validates them into Content;
    # this private model's annotation names only the validated types.
    turns: Any = contents(request)
    parameters = types._GenerateContentParameters(
        model=request.model, contents=turns, config=config
    )
    body = genai_models._GenerateContentParameters_to_mldev(api, parameters, None, parameters)
    url = body.get("_url")
    path = _STREAM_PATH.format_map(url) if url else _STREAM_PATH
    query = body.get("_query")
    if query:
        path = f"{path}?{urlencode(query)}"
    body.pop("config", None)
    if continuation is not None:  # as the API returned it (base64), where the SDK puts it
        body["continuationToken"] = continuation
    body = _common.encode_unserializable_types(_common.convert_to_dict(body))
    options = config.http_options if config is not None else None
    return api._build_request("post", path, body, options), options
