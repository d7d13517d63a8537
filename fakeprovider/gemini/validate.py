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
    config = top.get("generationConfig")
    if config is not None:
        return _check_generation_config(config)
    return None
