"""Strict validation of Chat Completions bodies, answering OpenAI's real 400s.

Catches what a buggy client would send: missing/empty ``messages``, bad roles,
out-of-range sampling values, parameters from other providers (``top_k``), and
parameters reasoning models (o1/o3/o4/gpt-5) refuse.
"""

from __future__ import annotations

from typing import Any

from ..checks import fmt_number, is_int, is_number, json_type_name
from ..errors import ErrorSpec

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
PART_TYPES = frozenset({"text", "image_url", "input_audio", "file", "refusal"})
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
FOREIGN_PARAMS = (
    "top_k",
    "min_p",
    "repetition_penalty",
    "stop_sequences",
    "max_output_tokens",
    "candidate_count",
    "topK",
    "topP",
    "maxOutputTokens",
    "stopSequences",
    "system",
)
_PARSE_ERROR = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
    "contact us through our help center at help.openai.com.)"
)


def _bad(message: str, param: str | None = None, code: str | None = None) -> ErrorSpec:
    return ErrorSpec(400, message, "invalid_request_error", param=param, code=code)


def _type_error(param: str, expected: str, value: Any) -> ErrorSpec:
    return _bad(
        f"Invalid type for '{param}': expected {expected}, but got {json_type_name(value)} "
        "instead.",
        param,
        "invalid_type",
    )


def _range(
    param: str, value: Any, lo: float, hi: float | None, *, integer: bool
) -> ErrorSpec | None:
    kind = "integer" if integer else "decimal"
    if integer and not is_int(value):
        return _type_error(param, "an integer", value)
    if not integer and not is_number(value):
        return _type_error(param, "a decimal", value)
    if value < lo:
        return _bad(
            f"Invalid '{param}': {kind} below minimum value. Expected a value >= "
            f"{fmt_number(lo)}, but got {fmt_number(value)} instead.",
            param,
            f"{kind}_below_min_value",
        )
    if hi is not None and value > hi:
        return _bad(
            f"Invalid '{param}': {kind} above maximum value. Expected a value <= "
            f"{fmt_number(hi)}, but got {fmt_number(value)} instead.",
            param,
            f"{kind}_above_max_value",
        )
    return None


def is_reasoning_model(model: str) -> bool:
    return model.startswith(REASONING_PREFIXES)


def _check_message(i: int, msg: Any) -> ErrorSpec | None:
    where = f"messages[{i}]"
    if not isinstance(msg, dict):
        return _type_error(where, "an object", msg)
    if "role" not in msg:
        return _bad(
            f"Missing required parameter: '{where}.role'.",
            f"{where}.role",
            "missing_required_parameter",
        )
    role = msg["role"]
    if role not in ROLES:
        supported = ", ".join(f"'{r}'" for r in ROLES[:-1]) + f", and '{ROLES[-1]}'"
        return _bad(
            f"Invalid value: '{role}'. Supported values are: {supported}.",
            f"{where}.role",
            "invalid_value",
        )
    has_tool_calls = bool(msg.get("tool_calls") or msg.get("function_call"))
    if "content" not in msg and not (role == "assistant" and has_tool_calls):
        return _bad(
            f"Missing required parameter: '{where}.content'.",
            f"{where}.content",
            "missing_required_parameter",
        )
    content = msg.get("content")
    if content is None:
        if role == "assistant" and has_tool_calls:
            pass
        else:
            return _type_error(f"{where}.content", "one of a string or array of objects", content)
    elif isinstance(content, list):
        for j, part in enumerate(content):
            pwhere = f"{where}.content[{j}]"
            if not isinstance(part, dict):
                return _type_error(pwhere, "an object", part)
            ptype = part.get("type")
            if ptype not in PART_TYPES:
                return _bad(
                    f"Invalid value: '{ptype}'. Supported values are: 'text', "
                    "'image_url', 'input_audio', 'refusal', and 'file'.",
                    f"{pwhere}.type",
                    "invalid_value",
                )
            if ptype == "text" and not isinstance(part.get("text"), str):
                return _bad(
                    f"Missing required parameter: '{pwhere}.text'.",
                    f"{pwhere}.text",
                    "missing_required_parameter",
                )
    elif not isinstance(content, str):
        return _type_error(f"{where}.content", "one of a string or array of objects", content)
    if role == "tool" and not isinstance(msg.get("tool_call_id"), str):
        return _bad(
            "Missing parameter 'tool_call_id': messages with role 'tool' must have a "
            "'tool_call_id'.",
            f"{where}.tool_call_id",
            "missing_required_parameter",
        )
    return None


def _check_reasoning(body: dict[str, Any]) -> ErrorSpec | None:
    if body.get("max_tokens") is not None:
        return _bad(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    for param in ("temperature", "top_p"):
        value = body.get(param)
        if value is not None and value != 1:
            return _bad(
                f"Unsupported value: '{param}' does not support {fmt_number(value)} with "
                "this model. Only the default (1) value is supported.",
                param,
                "unsupported_value",
            )
    for param in ("presence_penalty", "frequency_penalty"):
        if body.get(param) is not None:
            return _bad(
                f"Unsupported parameter: '{param}' is not supported with this model.",
                param,
                "unsupported_parameter",
            )
    return None


def _strict_schema(name: str, node: Any, path: tuple[str, ...]) -> ErrorSpec | None:
    """OpenAI strict mode: every object closed and every property required."""
    if isinstance(node, list):
        for item in node:
            err = _strict_schema(name, item, path)
            if err:
                return err
        return None
    if not isinstance(node, dict):
        return None
    context = "(" + ", ".join(repr(p) for p in path) + (",)" if len(path) == 1 else ")")
    if node.get("type") == "object" or "properties" in node:
        if node.get("additionalProperties") is not False:
            return _bad(
                f"Invalid schema for response_format '{name}': In context={context}, "
                "'additionalProperties' is required to be supplied and to be false.",
                "response_format",
            )
        properties = node.get("properties") or {}
        missing = [key for key in properties if key not in (node.get("required") or ())]
        if missing:
            return _bad(
                f"Invalid schema for response_format '{name}': In context={context}, "
                "'required' is required to be supplied and to be an array including every "
                f"key in properties. Missing '{missing[0]}'.",
                "response_format",
            )
    for key, value in node.items():
        sub = path if key in ("anyOf", "$defs", "items") else (*path, key)
        if isinstance(value, dict | list) and key not in ("enum", "const", "required"):
            err = _strict_schema(name, value, sub if key != "properties" else path)
            if err:
                return err
    return None


def _check_tools(body: dict[str, Any], model: str) -> ErrorSpec | None:
    """Tool options need tools; a tool message answers a call of an earlier assistant turn;
    ``reasoning_effort`` is for reasoning models; a strict response_format must be strict."""
    if not body.get("tools"):
        for param in ("tool_choice", "parallel_tool_calls"):
            if body.get(param) is not None:
                return _bad(
                    f"Invalid value for '{param}': '{param}' is only allowed when 'tools' "
                    "are specified.",
                    param,
                )
    calls: set[str] = set()
    for i, msg in enumerate(body["messages"]):
        for call in msg.get("tool_calls") or ():
            if isinstance(call, dict) and isinstance(call.get("id"), str):
                calls.add(call["id"])
        if msg.get("role") == "tool" and msg.get("tool_call_id") not in calls:
            return _bad(
                "Invalid parameter: messages with role 'tool' must be a response to a "
                "preceeding message with 'tool_calls'.",
                f"messages.[{i}].role",
            )
    if body.get("reasoning_effort") is not None and not is_reasoning_model(model):
        return _bad(
            "Unrecognized request argument supplied: reasoning_effort",
            "reasoning_effort",
        )
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        if spec.get("strict") is True:
            return _strict_schema(spec.get("name", "default"), spec.get("schema"), ())
    return None


def validate_openai(body: dict[str, Any] | None) -> ErrorSpec | None:
    """None if the body would be accepted, else OpenAI's 400."""
    if body is None:
        return _bad(_PARSE_ERROR)
    for name in FOREIGN_PARAMS:
        if name in body:
            return _bad(f"Unrecognized request argument supplied: {name}")
    model = body.get("model")
    if model is None:
        return _bad("you must provide a model parameter")
    if not isinstance(model, str):
        return _type_error("model", "a string", model)
    if "messages" not in body:
        return _bad(
            "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
        )
    messages = body["messages"]
    if not isinstance(messages, list):
        return _type_error("messages", "an array", messages)
    if not messages:
        return _bad(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            "messages",
            "empty_array",
        )
    for i, msg in enumerate(messages):
        err = _check_message(i, msg)
        if err:
            return err
    ranges: list[tuple[str, float, float | None, bool]] = [
        ("temperature", 0, 2, False),
        ("top_p", 0, 1, False),
        ("presence_penalty", -2, 2, False),
        ("frequency_penalty", -2, 2, False),
        ("n", 1, 128, True),
        ("max_tokens", 1, None, True),
        ("max_completion_tokens", 1, None, True),
    ]
    for param, lo, hi, integer in ranges:
        value = body.get(param)
        if value is not None:
            err = _range(param, value, lo, hi, integer=integer)
            if err:
                return err
    seed = body.get("seed")
    if seed is not None and not is_int(seed):
        return _type_error("seed", "an integer", seed)
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str):
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            return _type_error("stop", "one of a string or array of strings", stop)
        if len(stop) > 4:
            return _bad(
                f"Invalid 'stop': array too long. Expected an array with maximum length "
                f"4, but got an array with length {len(stop)} instead.",
                "stop",
                "array_above_max_length",
            )
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        return _type_error("stream", "a boolean", stream)
    if body.get("stream_options") is not None and stream is not True:
        return _bad(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    err = _check_tools(body, model)
    if err:
        return err
    if is_reasoning_model(model):
        return _check_reasoning(body)
    return None
