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
- Tools are ``function_declarations`` with ``parameters_json_schema`` (JSON Schema as
  genkit has it; ``parameters`` is an OpenAPI subset that 400s on
  ``additionalProperties``/``$ref``); google-genai's automatic function calling is off.
  ``tool_choice`` is ``function_calling_config.mode`` (AUTO/NONE/ANY, a tool's name is
  ANY with ``allowed_function_names``).  Calls go back as ``function_call`` parts of the
  model turn, results as ``function_response`` parts of a user turn
  (``{"output": ...}`` or ``{"error": ...}``; images in ``parts`` on Gemini 3).
- Thought signatures go back on the part they came with (a Gemini 3 turn without them
  is a 400 MISSING_THOUGHT_SIGNATURE): see :data:`SIGNATURE`.
- ``schema=`` is ``response_json_schema`` (never ``response_schema``, which refuses
  ``additionalProperties``) with ``response_mime_type="application/json"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, assert_never
from urllib.parse import urlencode

import pydantic
from google.genai import _common, types
from google.genai import models as genai_models
from google.genai._api_client import BaseApiClient, HttpRequest

from genkit._jsonschema import gemini_json_schema
from genkit.backends._tooldefs import definitions
from genkit.errors import InvalidParameterError, UnsupportedParameterError
from genkit.params import Request
from genkit.structured import OutputSchema
from genkit.tools import Tool
from genkit.types import Document, Image, Message, ProviderPart, Text, ToolCall, ToolResult

__all__ = [
    "PARAMETER_NAMES",
    "PROVIDER",
    "SIGNATURE",
    "THOUGHT",
    "candidates",
    "config",
    "contents",
    "continues",
    "milliseconds",
    "response_schema",
    "schema_warnings",
    "stream_request",
    "thinking",
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

#: genkit role -> Gemini role.  Tool results go back in a user turn, as google-genai's
#: own function-calling loop sends them.
_ROLES: Mapping[str, str] = {"user": "user", "assistant": "model", "tool": "user"}

#: Image types Gemini reads (its list is PNG, JPEG, WEBP, HEIC, HEIF: no GIF).
_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})

#: A :class:`~genkit.ProviderPart` of Gemini's holds ``{"thought_signature": bytes}``,
#: the signature of the part right after it in the turn (a text or a function call),
#: or ``{"thought_signature": bytes, "thought": text}``, a signed thought summary that
#: goes back as a part of its own.  A signature with no part after it came on an empty
#: text part and goes back as one.
SIGNATURE = "thought_signature"
THOUGHT = "thought"

#: The ids genkit makes up for calls Gemini sent without one (genkit/backends/_toolcalls):
#: never sent back, since Gemini never saw them; results are matched by name and order.
_GENERATED_ID = re.compile(r"call_[0-9a-f]{24}")


def contents(request: Request) -> str | list[types.ContentDict]:
    turns = [(i, m) for i, m in enumerate(request.messages) if m.role != "system"]
    if len(turns) == 1 and turns[0][1].role == "user" and isinstance(turns[0][1].content, str):
        # The SDK builds the same user turn from a string, and faster than from a dict.
        return turns[0][1].content
    names = _call_names(request.messages)
    return [_turn(m, i, request.model, names) for i, m in turns]


def _call_names(messages: Sequence[Message]) -> dict[str, str]:
    """Each tool call's id -> its tool's name (a ToolResult may leave ``name`` out)."""
    names: dict[str, str] = {}
    for message in messages:
        if message.role == "assistant" and not isinstance(message.content, str):
            for part in message.content:
                if isinstance(part, ToolCall):
                    names[part.id] = part.name
    return names


def _turn(message: Message, index: int, model: str, names: Mapping[str, str]) -> types.ContentDict:
    content = message.content
    role = _ROLES[message.role]
    if isinstance(content, str):
        return {"role": role, "parts": [{"text": content}]}
    parts: list[types.PartDict] = []
    signature: bytes | None = None  # a signature waiting for the part it belongs to
    for j, part in enumerate(content):
        mapped: types.PartDict
        match part:
            case Text():
                last = parts[-1] if parts else None
                if signature is None and last is not None and last.keys() == {"text"}:
                    # Text parts side by side are one text, as the string form sends it.
                    last["text"] = (last.get("text") or "") + part.text
                    continue
                mapped = {"text": part.text}
            case Image() | Document():
                mapped = _media(part, index, j, model)
            case ToolCall():
                call: types.FunctionCallDict = {"name": part.name, "args": dict(part.arguments)}
                if not _GENERATED_ID.fullmatch(part.id):
                    call["id"] = part.id
                mapped = {"function_call": call}
            case ToolResult():
                mapped = {"function_response": _response(part, index, j, model, names)}
            case ProviderPart():
                data = _provider_data(part, index, j, model)
                if signature is not None:  # the one before had no part of its own
                    parts.append({"text": "", "thought_signature": signature})
                    signature = None
                if THOUGHT in data:
                    parts.append(
                        {
                            "text": data[THOUGHT],
                            "thought": True,
                            "thought_signature": data[SIGNATURE],
                        }
                    )
                else:
                    signature = data[SIGNATURE]
                continue
            case _:
                assert_never(part)
        if signature is not None:
            mapped["thought_signature"] = signature
            signature = None
        parts.append(mapped)
    if signature is not None:
        parts.append({"text": "", "thought_signature": signature})
    return {"role": role, "parts": parts}


def _media(part: Image | Document, index: int, j: int, model: str) -> types.PartDict:
    """An image or PDF: its bytes inline (the SDK base64-encodes them) or its URL."""
    media_type = part.media_type
    if isinstance(part, Image) and media_type is not None and media_type not in _IMAGE_TYPES:
        raise UnsupportedParameterError(
            f"prompt[{index}].content[{j}].media_type",
            PROVIDER,
            model,
            sorted(_IMAGE_TYPES),
            message=f"image type {media_type!r} is not read by Gemini",
        )
    if part.data is not None:
        return {"inline_data": {"data": part.data, "mime_type": media_type}}
    file: types.FileDataDict = {"file_uri": part.url}
    if media_type is not None:
        file["mime_type"] = media_type
    return {"file_data": file}


def _response(
    part: ToolResult, index: int, j: int, model: str, names: Mapping[str, str]
) -> types.FunctionResponseDict:
    """A tool result: ``{"output": ...}`` or ``{"error": ...}``, images as its parts."""
    content = part.content
    media: list[types.FunctionResponsePartDict] = []
    if isinstance(content, str):
        text = content
    else:
        texts: list[str] = []
        for k, inner in enumerate(content):
            match inner:
                case Text():
                    texts.append(inner.text)
                case Image():
                    from genkit.backends.gemini._capabilities import media_in_tool_results

                    if not media_in_tool_results(model):
                        raise UnsupportedParameterError(
                            f"prompt[{index}].content[{j}].content[{k}]",
                            PROVIDER,
                            model,
                            ["text"],
                            message=f"images in tool results are not supported by gemini model "
                            f"{model!r} (multimodal function responses: Gemini 3 and later)",
                        )
                    mapped = _media(inner, index, j, model)
                    media.append(mapped)
                case _:
                    assert_never(inner)
        text = "".join(texts)
    name = part.name or names.get(part.call_id, "")
    response: types.FunctionResponseDict = {
        "name": name,
        "response": {"error" if part.is_error else "output": text},
    }
    if not _GENERATED_ID.fullmatch(part.call_id):
        response["id"] = part.call_id
    if media:
        response["parts"] = media
    return response


def _provider_data(part: ProviderPart, index: int, j: int, model: str) -> Mapping[str, Any]:
    """A Gemini ProviderPart's data, checked; another provider's part is refused."""
    where = f"prompt[{index}].content[{j}]"
    if part.provider != PROVIDER:
        raise UnsupportedParameterError(
            where,
            PROVIDER,
            model,
            ["gemini provider data"],
            message=f"provider data from {part.provider!r} cannot be sent to gemini "
            "(only a Gemini turn's own thought signatures go back to Gemini)",
        )
    data = part.data
    if (
        not isinstance(data, Mapping)
        or not isinstance(data.get(SIGNATURE), bytes)
        or not isinstance(data.get(THOUGHT, ""), str)
    ):
        raise InvalidParameterError(
            where,
            "not a Gemini thought signature as genkit returned it",
            provider=PROVIDER,
            allowed='ProviderPart("gemini", {"thought_signature": bytes}) from a result.message',
        )
    return data


def milliseconds(seconds: float) -> int:
    return math.ceil(seconds * 1000)  # google-genai's HttpOptions.timeout is in ms


def config(request: Request, timeout: float | None) -> types.GenerateContentConfig | None:
    """The request's ``GenerateContentConfig``, or ``None`` when it would be empty.

    A bad ``provider_options`` name fails here, and so does a schema Gemini cannot
    express.
    """
    params = request.params
    fields: dict[str, Any] = {
        PARAMETER_NAMES[name]: list(value) if name == "stop" else value
        for name, value in params.items()
        if name != "reasoning"
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
    reasoning = params.get("reasoning")
    if reasoning is not None:
        fields["thinking_config"] = thinking(reasoning, request.model)
    if request.tools:
        fields["tools"] = [{"function_declarations": definitions(request.tools, _declaration)}]
        # Declarations only: google-genai never runs a function itself (AFC stays off).
        fields["automatic_function_calling"] = _NO_AFC
        if request.tool_choice is not None:
            fields["tool_config"] = {"function_calling_config": _choice(request)}
    if request.output is not None:
        fields["response_mime_type"] = "application/json"
        fields["response_json_schema"] = response_schema(request.output)[0]
    if request.provider_options:
        fields.update(request.provider_options)
        # Tools given through provider_options are declared, never called by the SDK.
        fields.setdefault("automatic_function_calling", _NO_AFC)
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


_NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)

#: genkit's ``tool_choice`` modes -> ``FunctionCallingConfig.mode`` (a tool's name is
#: ``ANY`` limited to that function).
_MODES: Mapping[str, str] = {"auto": "AUTO", "none": "NONE", "required": "ANY"}


def _declaration(tool: Tool) -> types.FunctionDeclarationDict:
    """A tool as a function declaration; its schema as JSON Schema, never as ``parameters``.

    ``parameters`` is an OpenAPI subset that rejects ``additionalProperties``, ``$ref``
    and friends with a 400; ``parameters_json_schema`` takes the JSON Schema genkit has.
    """
    declaration: types.FunctionDeclarationDict = {
        "name": tool.name,
        "parameters_json_schema": dict(tool.parameters),
    }
    if tool.description:
        declaration["description"] = tool.description
    return declaration


def _choice(request: Request) -> types.FunctionCallingConfigDict:
    choice = request.tool_choice
    assert choice is not None  # checked by the caller
    mode = _MODES.get(choice)
    if mode is not None:
        return {"mode": types.FunctionCallingConfigMode(mode)}
    return {"mode": types.FunctionCallingConfigMode.ANY, "allowed_function_names": [choice]}


#: A Gemini 2.5 budget for each level, within the family's range (``ranges["reasoning"]``):
#: ``"none"`` switches thinking off, ``"high"`` is the family's most.
_LEVEL_BUDGETS: Mapping[str, int] = {"none": 0, "low": 1024, "medium": 8192}


def thinking(reasoning: str | int, model: str) -> types.ThinkingConfigDict:
    """``reasoning`` as Gemini's ``thinking_config`` for ``model``'s family.

    A family whose row has a budget range (Gemini 2.5) gets ``thinking_budget``; the
    others (Gemini 3) get ``thinking_level``.  Thought summaries are asked for whenever
    the model thinks, so ``result.reasoning`` has them.
    """
    from genkit.backends.gemini._capabilities import CAPABILITIES

    budget_range = CAPABILITIES.lookup(model).ranges.get("reasoning")
    if budget_range is None:
        assert isinstance(reasoning, str)  # a budget for a levels-only model is refused
        return {"thinking_level": types.ThinkingLevel(reasoning.upper()), "include_thoughts": True}
    low, high = int(budget_range[0]), int(budget_range[1])
    if isinstance(reasoning, str):
        budget = 0 if reasoning == "none" else _LEVEL_BUDGETS.get(reasoning, high)
        if reasoning != "none":
            budget = min(max(budget, low), high)
    else:
        budget = reasoning
    if budget == 0:
        return {"thinking_budget": 0}
    return {"thinking_budget": budget, "include_thoughts": True}


#: gemini_json_schema's answer per canonical schema object (schemas are cached by core,
#: so one object stands for one schema): the transform is a deep copy and a walk.
_SCHEMAS: dict[int, tuple[Mapping[str, Any], tuple[dict[str, Any], list[str]]]] = {}


def response_schema(output: OutputSchema) -> tuple[dict[str, Any], list[str]]:
    """The canonical schema in Gemini's ``response_json_schema`` dialect, and its warnings.

    Refuses (``InvalidParameterError``, before sending) what the dialect cannot say.
    """
    canonical = output.json_schema
    cached = _SCHEMAS.get(id(canonical))
    if cached is not None and cached[0] is canonical:
        return cached[1]
    transformed = gemini_json_schema(canonical)
    if len(_SCHEMAS) >= 256:
        _SCHEMAS.clear()
    _SCHEMAS[id(canonical)] = (canonical, transformed)
    return transformed


def schema_warnings(request: Request) -> list[str]:
    """What the schema lost on its way to Gemini (for ``result.warnings``)."""
    if request.output is None:
        return []
    return list(response_schema(request.output)[1])


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
