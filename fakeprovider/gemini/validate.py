"""Strict validation of ``generateContent`` bodies, answering Gemini's real 400s.

Google's proto3-JSON parser accepts lowerCamelCase and snake_case field names
(google-genai mixes both), rejects unknown fields, and range-checks the
generation config; this mirrors that for the fields clients commonly send.
"""

from __future__ import annotations

import re
from typing import Any

from ..checks import is_integral, is_number
from ..errors import ErrorSpec

_CAMEL = re.compile(r"_([a-z])")

GENERATION_CONFIG_FIELDS = frozenset(
    {
        "temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences",
        "seed", "presencePenalty", "frequencyPenalty", "responseMimeType", "responseSchema",
        "responseJsonSchema", "_responseJsonSchema", "responseLogprobs", "logprobs",
        "responseModalities", "thinkingConfig", "speechConfig", "mediaResolution",
        "enableEnhancedCivicAnswers", "imageConfig", "audioTimestamp", "routingConfig",
        "modelSelectionConfig", "enableAffectiveDialog", "audioTranscriptionConfig",
    }
)  # fmt: skip
PART_DATA_FIELDS = frozenset(
    {
        "text", "inlineData", "fileData", "functionCall", "functionResponse",
        "executableCode", "codeExecutionResult", "thought", "thoughtSignature", "videoMetadata",
    }
)  # fmt: skip
_PARSE_ERROR = "Invalid JSON payload received. Unexpected token."


def camel(name: str) -> str:
    """``max_output_tokens`` → ``maxOutputTokens`` (camelCase passes through)."""
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


def _normalized(obj: dict[str, Any]) -> dict[str, Any]:
    return {camel(k): v for k, v in obj.items()}


def _bad(message: str) -> ErrorSpec:
    return ErrorSpec(400, message, "INVALID_ARGUMENT")


def _field(path: str, problem: str) -> ErrorSpec:
    return _bad(f"* GenerateContentRequest.{path}: {problem}\n")


def _check_content(where: str, content: Any, *, need_role: bool) -> ErrorSpec | None:
    if not isinstance(content, dict):
        return _bad(
            f"Invalid value at '{where}' (type.googleapis.com/google.ai.generativelanguage"
            ".v1beta.Content), expected an object"
        )
    if need_role and "role" in content and content["role"] not in ("user", "model"):
        return _bad("Please use a valid role: user, model.")
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        return _field(f"{where}.parts", "contents.parts must not be empty.")
    for j, part in enumerate(parts):
        pwhere = f"{where}.parts[{j}]"
        if not isinstance(part, dict):
            return _bad(f"Invalid value at '{pwhere}', expected an object")
        fields = _normalized(part)
        if "text" in fields and not isinstance(fields["text"], str):
            return _bad(f"Invalid value at '{pwhere}.text' (TYPE_STRING), {fields['text']!r}")
        if not PART_DATA_FIELDS.intersection(fields):
            return _field(
                f"{pwhere}.data", "required oneof field 'data' must have one initialized field"
            )
        err = _check_part_data(pwhere, fields)
        if err:
            return err
    return None


def _check_part_data(where: str, fields: dict[str, Any]) -> ErrorSpec | None:
    """Function calls and responses name their function; media says what it is."""
    call = fields.get("functionCall")
    if call is not None and (not isinstance(call, dict) or not call.get("name")):
        return _field(f"{where}.function_call.name", "Name cannot be empty.")
    response = fields.get("functionResponse")
    if response is not None:
        response = _normalized(response) if isinstance(response, dict) else None
        if response is None or not response.get("name"):
            return _field(f"{where}.function_response.name", "Name cannot be empty.")
        if not isinstance(response.get("response"), dict):
            return _bad(
                f"Invalid value at '{where}.function_response.response' "
                "(type.googleapis.com/google.protobuf.Struct), expected an object"
            )
    blob = fields.get("inlineData")
    if blob is not None:
        blob = _normalized(blob) if isinstance(blob, dict) else {}
        if not blob.get("mimeType") or not isinstance(blob.get("data"), str):
            return _field(f"{where}.inline_data", "inline_data needs mime_type and data.")
    file = fields.get("fileData")
    if file is not None:
        file = _normalized(file) if isinstance(file, dict) else {}
        if not file.get("fileUri"):
            return _field(f"{where}.file_data.file_uri", "file_uri must be set.")
    return None


#: What the OpenAPI-subset ``parameters`` field does not know (``parametersJsonSchema``
#: takes them): Gemini's parser rejects these names.
_NOT_IN_SCHEMA = ("additionalProperties", "$ref", "$defs", "const", "oneOf", "allOf")
_FUNCTION_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}")
_MODES = frozenset({"MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"})


def _unknown_in_schema(schema: Any, path: str) -> str | None:
    if isinstance(schema, list):
        for i, item in enumerate(schema):
            found = _unknown_in_schema(item, f"{path}[{i}]")
            if found:
                return found
    elif isinstance(schema, dict):
        for key, value in schema.items():
            if key in _NOT_IN_SCHEMA:
                return f"Unknown name \"{key}\" at '{path}': Cannot find field."
            found = _unknown_in_schema(value, f"{path}.{key}")
            if found:
                return found
    return None


def _check_tools(tools: Any, tool_config: Any) -> ErrorSpec | None:
    listed = tools if isinstance(tools, list) else [tools] if tools is not None else []
    names: set[str] = set()
    for i, tool in enumerate(listed):
        if not isinstance(tool, dict):
            return _bad(f"Invalid value at 'tools[{i}]', expected an object")
        declarations = _normalized(tool).get("functionDeclarations") or []
        for j, declaration in enumerate(declarations):
            where = f"tools[{i}].function_declarations[{j}]"
            fields = _normalized(declaration) if isinstance(declaration, dict) else {}
            name = fields.get("name")
            if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name):
                return _field(f"{where}.name", f"Invalid function name {name!r}.")
            names.add(name)
            if "parameters" in fields and "parametersJsonSchema" in fields:
                return _field(where, "parameters and parameters_json_schema cannot both be set.")
            unknown = _unknown_in_schema(fields.get("parameters"), f"{where}.parameters")
            if unknown:
                return _bad(f"Invalid JSON payload received. {unknown}")
    if tool_config is None:
        return None
    calling = (
        _normalized(tool_config).get("functionCallingConfig")
        if isinstance(tool_config, dict)
        else None
    )
    if calling is None:
        return None
    calling = _normalized(calling)
    mode = calling.get("mode", "MODE_UNSPECIFIED")
    if mode not in _MODES:
        return _bad(
            f"Invalid value at 'tool_config.function_calling_config.mode' "
            f"(type.googleapis.com/google.ai.generativelanguage.v1beta."
            f"FunctionCallingConfig.Mode), {mode!r}"
        )
    allowed = calling.get("allowedFunctionNames")
    if allowed:
        if mode not in ("ANY", "VALIDATED"):
            return _field(
                "tool_config.function_calling_config.allowed_function_names",
                "allowed_function_names may be set only when mode is ANY.",
            )
        unknown_names = [n for n in allowed if n not in names]
        if unknown_names:
            return _field(
                "tool_config.function_calling_config.allowed_function_names",
                f"function {unknown_names[0]!r} is not declared.",
            )
    return None


def _check_generation_config(config: Any) -> ErrorSpec | None:
    if not isinstance(config, dict):
        return _bad("Invalid value at 'generation_config', expected an object")
    for key in config:
        if camel(key) not in GENERATION_CONFIG_FIELDS:
            return _bad(
                f'Invalid JSON payload received. Unknown name "{key}" at '
                "'generation_config': Cannot find field."
            )
    cfg = _normalized(config)
    checks: list[tuple[str, str, float, float | None, bool]] = [
        ("temperature", "temperature", 0.0, 2.0, False),
        ("topP", "top_p", 0.0, 1.0, False),
        ("topK", "top_k", 1, None, False),
        ("candidateCount", "candidate_count", 1, 8, True),
        ("maxOutputTokens", "max_output_tokens", 1, None, True),
        ("presencePenalty", "presence_penalty", -2.0, 2.0, False),
        ("frequencyPenalty", "frequency_penalty", -2.0, 2.0, False),
    ]
    for key, snake, lo, hi, integer in checks:
        value = cfg.get(key)
        if value is None:
            continue
        if not is_number(value) or (integer and not is_integral(value)):
            kind = "TYPE_INT32" if integer else "TYPE_FLOAT"
            return _bad(f"Invalid value at 'generation_config.{snake}' ({kind}), {value!r}")
        if value < lo or (hi is not None and value > hi):
            upper = "inf" if hi is None else f"{hi}"
            return _field(
                f"generation_config.{snake}", f"{snake} must be in the range [{lo}, {upper}]."
            )
    if "responseJsonSchema" in cfg and "responseSchema" in cfg:
        return _field(
            "generation_config", "response_schema and response_json_schema cannot both be set."
        )
    schema_given = "responseJsonSchema" in cfg or "responseSchema" in cfg
    if schema_given and cfg.get("responseMimeType") not in ("application/json", "text/x.enum"):
        return _field(
            "generation_config.response_mime_type",
            "a response schema needs response_mime_type application/json.",
        )
    thinking = cfg.get("thinkingConfig")
    if isinstance(thinking, dict):
        thinking = _normalized(thinking)
        if "thinkingBudget" in thinking and "thinkingLevel" in thinking:
            return _field(
                "generation_config.thinking_config",
                "thinking_budget and thinking_level cannot both be set.",
            )
    seed = cfg.get("seed")
    if seed is not None and not is_integral(seed):
        return _bad(f"Invalid value at 'generation_config.seed' (TYPE_INT32), {seed!r}")
    stops = cfg.get("stopSequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            return _bad("Invalid value at 'generation_config.stop_sequences' (TYPE_STRING)")
        if len(stops) > 5:
            return _field(
                "generation_config.stop_sequences", "stop_sequences must have at most 5 entries."
            )
    return None


def validate_gemini(body: dict[str, Any] | None) -> ErrorSpec | None:
    """None if the body would be accepted, else Gemini's 400 INVALID_ARGUMENT."""
    if body is None:
        return _bad(_PARSE_ERROR)
    top = _normalized(body)
    contents = top.get("contents")
    if contents is None or contents == []:
        return _field("contents", "contents is not specified")
    if not isinstance(contents, list):
        return _bad("Invalid value at 'contents', expected a list")
    for i, content in enumerate(contents):
        err = _check_content(f"contents[{i}]", content, need_role=True)
        if err:
            return err
    system = top.get("systemInstruction")
    if system is not None:
        err = _check_content("system_instruction", system, need_role=False)
        if err:
            return err
    err = _check_tools(top.get("tools"), top.get("toolConfig"))
    if err:
        return err
    config = top.get("generationConfig")
    if config is not None:
        return _check_generation_config(config)
    return None
