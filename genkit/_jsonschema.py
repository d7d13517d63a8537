"""JSON Schema in each provider's dialect: pure functions over genkit's canonical schema.

The canonical schema (:attr:`genkit.structured.OutputSchema.json_schema`) is what
pydantic writes: JSON Schema 2020-12 with an object root and local ``$defs``/``$ref``.
Each provider accepts a different subset of it, so each backend passes the canonical
schema through one function here instead of growing its own rules:

- :func:`openai_strict` - OpenAI strict mode: every object closed, every property
  required (optional ones nullable); what strict mode cannot express is refused.
- :func:`anthropic_compatible` - Anthropic ``output_config.format``: objects closed,
  ``oneOf`` as ``anyOf``, constraints it does not enforce moved into descriptions.
- :func:`gemini_json_schema` - Gemini ``response_json_schema``: its keyword list kept,
  ``const`` as ``enum``, constraints moved into descriptions, the rest refused.
- :func:`local_grammar_schema` - the local backend's grammar: objects closed so a
  small model cannot invent keys forever.

A keyword that changes which answers are valid but that the provider cannot express
is either refused (:class:`~genkit.errors.InvalidParameterError` naming it, before
anything is sent) or moved into the ``description`` with a warning for
``result.warnings``: genkit validates the answer against the full schema locally
either way, so a moved constraint is still enforced - by genkit, after the answer.
Every function returns a new schema; the input is never changed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from genkit.errors import InvalidParameterError

__all__ = [
    "ANTHROPIC_FORMATS",
    "anthropic_compatible",
    "example_instance",
    "gemini_json_schema",
    "local_grammar_schema",
    "openai_strict",
]

Schema = dict[str, Any]

#: Keywords whose value is one subschema.
_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
#: Keywords whose value is a list of subschemas.
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
#: Keywords whose value maps names to subschemas.
_NAMED = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas")

#: Keywords that say something about the value but never restrict it: moved into the
#: description without a warning where a provider does not take them.
_ANNOTATIONS = frozenset(
    {"default", "examples", "deprecated", "readOnly", "writeOnly", "$comment", "title"}
)

#: String formats Anthropic's structured output enforces.
ANTHROPIC_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)

#: What OpenAI strict mode refuses outright (a lone ``allOf`` is flattened first).
_OPENAI_UNSUPPORTED = (
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
)

#: Keywords Anthropic takes as they are (objects are closed, formats and minItems filtered).
_ANTHROPIC_KEEP = frozenset(
    {
        "type",
        "description",
        "properties",
        "required",
        "additionalProperties",
        "anyOf",
        "allOf",
        "enum",
        "const",
        "items",
        "minItems",
        "format",
        "$ref",
        "$defs",
    }
)

#: Keywords Gemini's ``response_json_schema`` documents (``oneOf``/``const`` rewritten).
_GEMINI_KEEP = frozenset(
    {
        "$id",
        "$defs",
        "$ref",
        "$anchor",
        "type",
        "format",
        "title",
        "description",
        "enum",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "anyOf",
        "properties",
        "additionalProperties",
        "required",
        "propertyOrdering",
    }
)
#: Keywords that change which answers are valid in a way a description cannot carry.
_GEMINI_REFUSED = ("allOf", "not", "if", "then", "else", "dependentSchemas", "patternProperties")


# --------------------------------------------------------------------------- walking


def _children(node: Schema, path: str) -> Iterator[tuple[Schema, str]]:
    """Each direct subschema of ``node`` with its path (``$.properties.name``)."""
    for key in _ONE:
        value = node.get(key)
        if isinstance(value, dict):
            yield value, f"{path}.{key}"
    for key in _MANY:
        value = node.get(key)
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    yield item, f"{path}.{key}[{i}]"
    for key in _NAMED:
        value = node.get(key)
        if isinstance(value, dict):
            for name, item in value.items():
                if isinstance(item, dict):
                    yield item, f"{path}.{key}.{name}"


def _walk(node: Schema, visit: Callable[[Schema, str], None], path: str = "$") -> None:
    """Apply ``visit`` to ``node`` (changing it in place) then to every subschema below."""
    visit(node, path)
    for child, child_path in list(_children(node, path)):
        _walk(child, visit, child_path)


def _resolve(root: Schema, ref: str, provider: str) -> Schema:
    """The local definition ``ref`` (``#/$defs/Name``) points at."""
    if not ref.startswith("#/"):
        raise InvalidParameterError(
            "schema",
            f"$ref {ref!r} is not local to the schema",
            provider=provider,
            allowed="local references such as '#/$defs/Name'",
        )
    target: Any = root
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or token not in target:
            raise InvalidParameterError(
                "schema", f"$ref {ref!r} points at nothing", provider=provider
            )
        target = target[token]
    if not isinstance(target, dict):
        raise InvalidParameterError("schema", f"$ref {ref!r} is not a schema", provider=provider)
    return target


def _inline(root: Schema, provider: str) -> Callable[[Schema, str], None]:
    """A visitor that merges a ``$ref`` with sibling keywords, and a lone ``allOf``,
    into the node itself: neither OpenAI nor Gemini take keywords beside a ``$ref``."""

    def visit(node: Schema, path: str) -> None:
        for _ in range(32):  # a chain of references, bounded against cycles
            all_of = node.get("allOf")
            if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
                del node["allOf"]
                merged = {**copy.deepcopy(all_of[0]), **node}
                node.clear()
                node.update(merged)
                continue
            ref = node.get("$ref")
            if isinstance(ref, str) and len(node) > 1:
                target = copy.deepcopy(_resolve(root, ref, provider))
                del node["$ref"]
                merged = {**target, **node}  # the node's own keywords (description) win
                node.clear()
                node.update(merged)
                continue
            return

    return visit


def _is_object(node: Schema) -> bool:
    kind = node.get("type")
    return (
        kind == "object"
        or (isinstance(kind, list) and "object" in kind)
        or ("properties" in node and "type" not in node)
    )


def _describe(node: Schema, moved: Mapping[str, Any]) -> None:
    """Append ``moved`` keywords to the node's description, as ``{key: value, ...}``."""
    if not moved:
        return
    note = "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in moved.items()) + "}"
    description = node.get("description")
    node["description"] = f"{description}\n\n{note}" if description else note


def _collect(warnings: dict[str, list[str]], provider: str) -> list[str]:
    """One warning per moved keyword, listing where it was."""
    return [
        f"schema: {provider} does not enforce {keyword!r} (at {', '.join(paths)}): moved "
        "into the description; genkit still validates the answer against it"
        for keyword, paths in warnings.items()
    ]


# --------------------------------------------------------------------------- OpenAI


def openai_strict(schema: Mapping[str, Any]) -> Schema:
    """The canonical schema for OpenAI strict mode (``"strict": true``).

    Every object gets ``additionalProperties: false`` and lists every property in
    ``required`` (strict mode has no optional properties).  An optional property whose
    default is ``null`` is made nullable, so the model can still leave it empty and
    pydantic reads back the default; one with another default must be filled by the
    model (its default is lost, as with OpenAI's own ``parse()``), which keeps every
    strict answer valid for the canonical schema too.  A
    ``$ref`` with sibling keywords and a single-entry ``allOf`` are inlined; ``default:
    null`` is dropped.  ``allOf``, ``not``, ``if``/``then``/``else``,
    ``dependentRequired``/``dependentSchemas``, ``patternProperties`` and open objects
    (``dict[str, T]``: an ``additionalProperties`` schema) cannot be expressed in
    strict mode and raise :class:`~genkit.errors.InvalidParameterError` naming them.
    """
    root: Schema = copy.deepcopy(dict(schema))
    if not _is_object(root):
        raise InvalidParameterError(
            "schema",
            "strict mode needs an object at the root",
            provider="openai",
            allowed="a model, dataclass or TypedDict (genkit wraps other types itself)",
        )
    inline = _inline(root, "openai")

    def visit(node: Schema, path: str) -> None:
        inline(node, path)
        for keyword in _OPENAI_UNSUPPORTED:
            if keyword in node:
                raise InvalidParameterError(
                    "schema",
                    f"{keyword!r} at {path} cannot be expressed in OpenAI strict mode",
                    provider="openai",
                    allowed="type, properties, items, enum, const, anyOf, $ref/$defs and "
                    "value constraints (pattern, minimum, minItems, ...)",
                )
        if node.get("default", 0) is None:
            del node["default"]
        if not _is_object(node):
            return
        extra = node.get("additionalProperties")
        if (isinstance(extra, dict) and extra != {}) or extra is True:
            raise InvalidParameterError(
                "schema",
                f"'additionalProperties' at {path}: OpenAI strict mode needs every object "
                "closed, so open mappings (dict[str, T]) cannot be expressed",
                provider="openai",
                allowed="objects with fixed properties (use a list of key/value objects)",
            )
        node["additionalProperties"] = False
        properties: dict[str, Any] = node.setdefault("properties", {})
        required = set(node.get("required", ()))
        for name, sub in properties.items():
            if name not in required and isinstance(sub, dict) and sub.get("default", 0) is None:
                properties[name] = _nullable(sub)
        node["required"] = list(properties)

    _walk(root, visit)
    return root


def _nullable(node: Schema) -> Schema:
    """``node`` that also accepts ``null`` (unchanged if it already did)."""
    kind = node.get("type")
    if "enum" in node:
        values = list(node["enum"])
        if None not in values:
            node = {**node, "enum": [*values, None]}
        if isinstance(kind, str) and kind != "null":
            node["type"] = [kind, "null"]
        return node
    if isinstance(kind, str) and "const" not in node:
        return node if kind == "null" else {**node, "type": [kind, "null"]}
    if isinstance(kind, list) and "const" not in node:
        return node if "null" in kind else {**node, "type": [*kind, "null"]}
    any_of = node.get("anyOf")
    if isinstance(any_of, list) and "type" not in node:
        if any(isinstance(b, dict) and b.get("type") == "null" for b in any_of):
            return node
        return {**node, "anyOf": [*any_of, {"type": "null"}]}
    # A $ref, a const or anything else: one more branch beside it.
    description = node.get("description")
    inner = {k: v for k, v in node.items() if k not in ("description", "default")}
    wrapped: Schema = {"anyOf": [inner, {"type": "null"}]}
    if description is not None:
        wrapped["description"] = description
    return wrapped


# --------------------------------------------------------------------------- Anthropic


def anthropic_compatible(schema: Mapping[str, Any]) -> tuple[Schema, list[str]]:
    """The canonical schema for Anthropic's ``output_config.format``, and its warnings.

    Objects are closed (``additionalProperties: false``; an open mapping, ``dict[str,
    T]``, is refused), ``oneOf`` becomes ``anyOf``, ``required`` stays as given.  String
    formats outside :data:`ANTHROPIC_FORMATS`, ``minItems`` above 1 and every other
    keyword Anthropic does not take (``minimum``, ``maxLength``, ``pattern``, ...) are
    moved into the description as ``{key: value}`` - each listed in the warnings -
    so the model still reads them and genkit still checks them.  Annotations
    (``default``, ``examples``) move without a warning: they never restrict the answer;
    ``title`` is dropped.
    """
    root: Schema = copy.deepcopy(dict(schema))
    moved: dict[str, list[str]] = {}

    def visit(node: Schema, path: str) -> None:
        if "oneOf" in node:
            node["anyOf"] = [*node.get("anyOf", ()), *node.pop("oneOf")]
        node.pop("title", None)
        if _is_object(node):
            extra = node.get("additionalProperties")
            if (isinstance(extra, dict) and extra != {}) or extra is True:
                raise InvalidParameterError(
                    "schema",
                    f"'additionalProperties' at {path}: Anthropic structured output needs "
                    "every object closed, so open mappings (dict[str, T]) cannot be expressed",
                    provider="anthropic",
                    allowed="objects with fixed properties (use a list of key/value objects)",
                )
            node["additionalProperties"] = False
        out: dict[str, Any] = {}
        for key in list(node):
            keep = key in _ANTHROPIC_KEEP
            if key == "format" and node[key] not in ANTHROPIC_FORMATS:
                keep = False
            if key == "minItems" and node[key] not in (0, 1):
                keep = False
            if key in ("enum", "const") and not _primitive(node[key]):
                keep = False
            if not keep:
                out[key] = node.pop(key)
                if key not in _ANNOTATIONS:
                    moved.setdefault(key, []).append(path)
        _describe(node, out)

    _walk(root, visit)
    return root, _collect(moved, "anthropic")


def _primitive(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return all(v is None or isinstance(v, str | int | float | bool) for v in values)


# --------------------------------------------------------------------------- Gemini


def gemini_json_schema(schema: Mapping[str, Any]) -> tuple[Schema, list[str]]:
    """The canonical schema for Gemini's ``response_json_schema``, and its warnings.

    The keywords Gemini documents stay (``additionalProperties`` included: this field,
    unlike ``response_schema``, takes it).  ``const`` becomes a one-value ``enum``,
    ``oneOf`` becomes ``anyOf``, a ``$ref`` with siblings and a lone ``allOf`` are
    inlined (a ``$ref`` node may hold nothing else).  Value constraints Gemini does not
    take (``minLength``, ``pattern``, ``exclusiveMinimum``, ``uniqueItems``, ...) move
    into the description with a warning; ``allOf``, ``not``, ``if``/``then``/``else``,
    ``dependentSchemas`` and ``patternProperties`` are refused.
    """
    root: Schema = copy.deepcopy(dict(schema))
    inline = _inline(root, "gemini")
    moved: dict[str, list[str]] = {}

    def visit(node: Schema, path: str) -> None:
        inline(node, path)
        for keyword in _GEMINI_REFUSED:
            if keyword in node:
                raise InvalidParameterError(
                    "schema",
                    f"{keyword!r} at {path} cannot be expressed in Gemini's response_json_schema",
                    provider="gemini",
                    allowed=", ".join(sorted(_GEMINI_KEEP)) + ", const, oneOf",
                )
        if "oneOf" in node:
            node["anyOf"] = [*node.get("anyOf", ()), *node.pop("oneOf")]
        if "const" in node:
            node["enum"] = [node.pop("const")]
        out: dict[str, Any] = {}
        for key in list(node):
            if key not in _GEMINI_KEEP:
                out[key] = node.pop(key)
                if key not in _ANNOTATIONS:
                    moved.setdefault(key, []).append(path)
        _describe(node, out)

    _walk(root, visit)
    return root, _collect(moved, "gemini")


# --------------------------------------------------------------------------- local


def local_grammar_schema(schema: Mapping[str, Any]) -> Schema:
    """The canonical schema for the local backend's grammar (llguidance).

    A grammar follows JSON Schema literally: an object without
    ``additionalProperties: false`` lets a weak model add keys until ``max_tokens``,
    so every object that does not say otherwise is closed.  An explicit
    ``additionalProperties`` schema (``dict[str, T]``) stays: a grammar can express it.
    """
    root: Schema = copy.deepcopy(dict(schema))

    def visit(node: Schema, path: str) -> None:
        extra = node.get("additionalProperties")
        if _is_object(node) and (not isinstance(extra, dict) or extra == {}):
            node["additionalProperties"] = False

    _walk(root, visit)
    return root


# --------------------------------------------------------------------------- examples


def example_instance(schema: Mapping[str, Any], words: Iterator[str] | None = None) -> Any:
    """A deterministic value valid for ``schema``: what the ``test`` models answer.

    Strings take their text from ``words`` (the echo or lorem words; ``"text"`` when
    none), cut to fit ``minLength``/``maxLength``; numbers sit at their lower bound;
    arrays hold ``max(1, minItems)`` items; an object has every property.  A recursive
    ``$ref`` stops at an empty array, ``null`` or the first branch that ends it.
    ``pattern`` is not followed (no test model needs it).
    """
    root = dict(schema)
    return _example(root, root, words, 0)


def _example(node: Mapping[str, Any], root: Mapping[str, Any], words: Any, depth: int) -> Any:
    if "const" in node:
        return node["const"]
    if node.get("enum"):
        return node["enum"][0]
    ref = node.get("$ref")
    if isinstance(ref, str):
        if depth > 8:
            return None
        return _example(_resolve(dict(root), ref, "test"), root, words, depth + 1)
    for key in ("anyOf", "oneOf"):
        branches = node.get(key)
        if isinstance(branches, list) and branches:
            # Deep down, prefer a branch that ends recursion (null); else the first.
            if depth > 4:
                for branch in branches:
                    if isinstance(branch, dict) and branch.get("type") == "null":
                        return None
            first = next(
                (b for b in branches if isinstance(b, dict) and b.get("type") != "null"),
                branches[0],
            )
            return _example(first, root, words, depth + 1)
    all_of = node.get("allOf")
    if isinstance(all_of, list) and all_of:
        merged: dict[str, Any] = {}
        for part in all_of:
            merged.update(part)
        return _example(
            {**merged, **{k: v for k, v in node.items() if k != "allOf"}}, root, words, depth + 1
        )
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in node else "array" if "items" in node else "string"
    if kind == "object":
        value: dict[str, Any] = {}
        for name, sub in node.get("properties", {}).items():
            value[name] = _example(sub, root, words, depth + 1)
        for name in node.get("required", ()):
            value.setdefault(name, "text")
        extra = node.get("additionalProperties")
        if not node.get("properties") and isinstance(extra, dict) and extra:
            value["key"] = _example(extra, root, words, depth + 1)
        return value
    if kind == "array":
        prefix = node.get("prefixItems")
        if isinstance(prefix, list):
            return [_example(p, root, words, depth + 1) for p in prefix]
        items = node.get("items", {})
        count = max(1, int(node.get("minItems", 0)))
        if depth > 4:
            count = int(node.get("minItems", 0))
        count = min(count, int(node.get("maxItems", count)))
        return [_example(items, root, words, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        return _number(node, kind)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(node, words)


def _number(node: Mapping[str, Any], kind: str) -> int | float:
    low = node.get("minimum")
    if low is None and "exclusiveMinimum" in node:
        low = node["exclusiveMinimum"] + (1 if kind == "integer" else 0.5)
    high = node.get("maximum", node.get("exclusiveMaximum"))
    value = low if low is not None else (min(1, high - 1) if high is not None else 1)
    step = node.get("multipleOf")
    if step:
        value = -(-value // step) * step
    return int(value) if kind == "integer" else float(value)


_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "duration": "P1D",
    "email": "user@example.com",
    "uri": "https://example.com",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def _string(node: Mapping[str, Any], words: Any) -> str:
    fixed = _FORMATS.get(str(node.get("format")))
    if fixed is not None:
        return fixed
    text = " ".join(next(words, "text").strip(" .,") for _ in range(3)) if words else "text"
    text = text or "text"
    low = int(node.get("minLength", 0))
    high = node.get("maxLength")
    while len(text) < low:
        text += " " + text
    if high is not None:
        text = text[: int(high)].rstrip() or "x" * min(int(high), max(low, 1))
    return text
