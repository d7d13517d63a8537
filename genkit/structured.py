"""Structured output: what ``schema=`` becomes on its way to a backend, and back.

``schema=`` takes a pydantic model class, a dataclass, a TypedDict (from
``typing_extensions`` on Python 3.11, as pydantic requires), any other type pydantic
can validate (``list[Model]``, a union, an Enum) or a JSON Schema dict.  The Generator
turns it into one :class:`OutputSchema` - a canonical JSON Schema plus the validator
genkit runs on the answer - before anything is sent (once per distinct schema: the
conversion is cached); each backend transforms the canonical schema into its
provider's dialect with :mod:`genkit._jsonschema`.

Every answer is validated here, whatever the provider promised: pydantic for a type,
``jsonschema`` for a dict.  A schema whose root is not an object (``list[Model]``, an
Enum) is sent wrapped as ``{"value": ...}`` - every provider's structured mode wants
an object at the root - and unwrapped again, so ``result.parsed`` is the list itself.

pydantic and jsonschema are imported on the first ``schema=`` call, never by
``import genkit``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar, get_origin

from genkit.errors import (
    InvalidParameterError,
    MissingDependencyError,
    OutputValidationError,
    RefusalError,
    UnsupportedParameterError,
)
from genkit.types import Generation, Message

if TYPE_CHECKING:
    from genkit.capabilities import ModelCapabilities
    from genkit.params import Request

__all__ = [
    "OutputSchema",
    "arun",
    "ask_again",
    "check_answer",
    "output_retries",
    "output_schema",
    "partial_value",
    "run",
]

T = TypeVar("T")

#: The property a non-object root is wrapped in (see the module docstring).
WRAPPER = "value"


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """The answer's shape: ``json_schema`` for the provider, ``validator`` for genkit.

    ``json_schema`` is canonical JSON Schema (2020-12, local ``$defs``/``$ref``) with an
    object root as pydantic writes it (a non-object type is wrapped in ``{"value": ...}``
    first); ``name`` is a provider-safe identifier (``[a-zA-Z0-9_-]``, at most 64
    characters) for the providers that want one.  ``validator`` checks an answer and
    returns the value for ``result.parsed`` (pydantic for a type, ``jsonschema`` for a
    dict schema, unwrapping a wrapped root); backends never use it.
    """

    json_schema: Mapping[str, Any]
    name: str = "output"
    description: str | None = None
    validator: Any = field(default=None, repr=False, compare=False)
    #: Each provider dialect of ``json_schema`` computed so far (see :meth:`dialect`).
    _dialects: dict[Callable[..., Any], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def dialect(self, transform: Callable[[Mapping[str, Any]], T]) -> T:
        """``transform(json_schema)`` (a :mod:`genkit._jsonschema` function), computed once.

        The same OutputSchema comes back for every call with the same ``schema=`` (see
        :func:`output_schema`) and its canonical schema never changes, so a backend's
        dialect is a pure function of it: without this, every call paid for the walk
        and deep copy of the schema (120-130 µs for a small nested model, twice per
        call: once to check, once to build).  The result is shared between calls and
        must not be changed; a transform that raises is not cached and raises again.
        """
        done = self._dialects.get(transform, _MISSING)
        if done is _MISSING:
            done = self._dialects[transform] = transform(self.json_schema)
        return done  # type: ignore[no-any-return]


_MISSING: Any = object()


# --------------------------------------------------------------------------- building

_cache: dict[object, OutputSchema] = {}
_cache_lock = threading.Lock()
#: Distinct schemas kept; past it the cache starts again (schemas built per call).
_CACHE_SIZE = 256

_ALLOWED = (
    "a pydantic model class, a dataclass, a TypedDict (typing_extensions), list[...] of "
    "them, or a JSON Schema dict"
)


def output_schema(schema: object, provider: str) -> OutputSchema:
    """The :class:`OutputSchema` for a ``schema=`` value, built once per distinct value.

    Raises :class:`~genkit.errors.InvalidParameterError` (naming ``schema``) for
    something that is no schema, and :class:`~genkit.errors.MissingDependencyError`
    when pydantic (or, for a dict, jsonschema) is not installed.
    """
    if isinstance(schema, OutputSchema):
        return schema
    if isinstance(schema, Mapping):
        try:
            key: object = ("dict", json.dumps(schema, sort_keys=True))
        except (TypeError, ValueError) as error:
            raise InvalidParameterError(
                "schema", f"the dict is not JSON: {error}", provider=provider, allowed=_ALLOWED
            ) from None
    elif isinstance(schema, type) or get_origin(schema) is not None:
        try:
            key = ("type", schema, hash(schema))
        except TypeError:
            key = ("id", id(schema))
    else:
        raise InvalidParameterError(
            "schema",
            f"got {type(schema).__name__} {schema!r:.60}",
            provider=provider,
            allowed=_ALLOWED,
        )
    built = _cache.get(key)
    if built is None:
        built = (
            _from_dict(dict(schema), provider)
            if isinstance(schema, Mapping)
            else (_from_type(schema, provider))
        )
        with _cache_lock:
            if len(_cache) >= _CACHE_SIZE:
                _cache.clear()
            _cache[key] = built
    return built


def _from_type(schema: object, provider: str) -> OutputSchema:
    try:
        from pydantic import PydanticUserError, TypeAdapter
        from pydantic.errors import PydanticSchemaGenerationError
    except ImportError:
        raise MissingDependencyError(provider, "pydantic", "schema") from None
    try:
        adapter: Any = TypeAdapter(schema)  # type: ignore[arg-type]  # checked: a type
        canonical = adapter.json_schema()
    except (PydanticUserError, PydanticSchemaGenerationError, TypeError, ValueError) as error:
        reason = str(error).splitlines()[0]
        raise InvalidParameterError(
            "schema",
            f"pydantic cannot make a JSON Schema of {schema!r}: {reason}",
            provider=provider,
            allowed=_ALLOWED,
        ) from None
    root, wrapped = _canonical(canonical)
    return OutputSchema(
        root,
        name=_safe_name(_type_name(schema)),
        description=None if wrapped else root.get("description"),
        validator=_TypeValidator(adapter, wrapped),
    )


def _from_dict(schema: dict[str, Any], provider: str) -> OutputSchema:
    try:
        import jsonschema
    except ImportError:
        raise MissingDependencyError(provider, "jsonschema", "schema") from None
    cls: Any = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as error:
        raise InvalidParameterError(
            "schema",
            f"not a valid JSON Schema: {error.message}",
            provider=provider,
            allowed=_ALLOWED,
        ) from None
    root, wrapped = _canonical(schema)
    title = schema.get("title")
    return OutputSchema(
        root,
        name=_safe_name(title if isinstance(title, str) else "output"),
        description=None if wrapped else root.get("description"),
        validator=_DictValidator(cls(schema), wrapped),
    )


def _canonical(schema: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """An object-rooted schema, and whether the original was wrapped to get one."""
    root = dict(schema)
    ref = root.get("$ref")
    defs = root.get("$defs")
    if isinstance(ref, str) and isinstance(defs, dict) and ref.startswith("#/$defs/"):
        # A recursive model: pydantic writes {"$defs": {...}, "$ref": "#/$defs/Node"}.
        target = defs.get(ref.removeprefix("#/$defs/"))
        if isinstance(target, dict) and target.get("type") == "object" and len(root) == 2:
            return {**target, "$defs": defs}, False
    if root.get("type") == "object":
        return root, False
    inner = {k: v for k, v in root.items() if k != "$defs"}
    wrapper: dict[str, Any] = {
        "type": "object",
        "properties": {WRAPPER: inner},
        "required": [WRAPPER],
        "additionalProperties": False,
    }
    if "$defs" in root:
        wrapper["$defs"] = root["$defs"]
    return wrapper, True


def _type_name(schema: object) -> str:
    origin = get_origin(schema)
    if origin is None:
        return str(getattr(schema, "__name__", "output"))
    args = getattr(schema, "__args__", ())
    return "_".join([_type_name(origin), *(_type_name(a) for a in args)])


def _safe_name(name: str) -> str:
    safe = re.sub(r"[^a-zA-Z0-9_-]+", "_", name).strip("_")[:64]
    return safe or "output"


# --------------------------------------------------------------------------- validating


class _InvalidError(Exception):
    """An answer failed validation: ``errors`` as pydantic's ``errors()`` dicts."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors


def _json_error(error: Exception) -> list[dict[str, Any]]:
    return [{"type": "json_invalid", "loc": (), "msg": f"Invalid JSON: {error}"}]


class _TypeValidator:
    """pydantic's ``validate_json`` for the user's type, unwrapping a wrapped root."""

    __slots__ = ("adapter", "wrapped")

    def __init__(self, adapter: Any, wrapped: bool) -> None:
        self.adapter = adapter
        self.wrapped = wrapped

    def __call__(self, text: str) -> Any:
        from pydantic import ValidationError

        if self.wrapped:
            try:
                data = json.loads(text)
            except ValueError as error:
                raise _InvalidError(_json_error(error)) from None
            if not isinstance(data, dict) or WRAPPER not in data:
                raise _InvalidError(
                    [{"type": "missing", "loc": (WRAPPER,), "msg": "Field required"}]
                )
            text = json.dumps(data[WRAPPER])
        try:
            return self.adapter.validate_json(text)
        except ValidationError as error:
            errors = error.errors(include_url=False, include_context=False)
            if self.wrapped:
                for e in errors:
                    e["loc"] = (WRAPPER, *e["loc"])
            raise _InvalidError([dict(e) for e in errors]) from None


class _DictValidator:
    """``jsonschema`` for a JSON Schema dict (pydantic cannot validate one)."""

    __slots__ = ("checker", "wrapped")

    def __init__(self, checker: Any, wrapped: bool) -> None:
        self.checker = checker
        self.wrapped = wrapped

    def __call__(self, text: str) -> Any:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise _InvalidError(_json_error(error)) from None
        errors = [
            {"type": str(e.validator), "loc": tuple(e.absolute_path), "msg": e.message}
            for e in self.checker.iter_errors(data)
        ]
        if errors:
            raise _InvalidError(errors)
        return data


def check_answer(result: Generation, output: OutputSchema) -> None:
    """Set ``result.parsed`` from the first candidate's text, or raise.

    A refusal (refusal text, or ``finish_reason == "content_filter"``) raises
    :class:`~genkit.errors.RefusalError`; an answer that does not validate raises
    :class:`~genkit.errors.OutputValidationError`, marked ``truncated`` when the
    answer was cut at ``max_tokens``.
    """
    if result.tool_calls:
        # A turn that calls tools holds no answer yet: the loop (or the caller) sends
        # the results back, and the turn that answers is the one validated.
        return
    if result.refusal is not None or result.finish_reason == "content_filter":
        category = result.raw_finish_reasons[0] if result.raw_finish_reasons else None
        raise RefusalError(result.refusal, category, generation=result)
    validator = output.validator
    if validator is None:  # an OutputSchema built by hand
        validator = _from_dict(dict(output.json_schema), result.provider).validator
    try:
        result.parsed = validator(result.text)
    except _InvalidError as invalid:
        raise OutputValidationError(
            result.text,
            invalid.errors,
            truncated=result.finish_reason == "length",
            generation=result,
        ) from None


def partial_value(text: str, output: OutputSchema) -> Any:
    """The JSON value so far of a streamed answer (strings cut mid-way included).

    ``None`` before the first value; raises ``ValueError`` for text that is no JSON.
    """
    from pydantic_core import from_json

    if not text.strip():
        return None
    value = from_json(text, allow_partial="trailing-strings")
    if getattr(output.validator, "wrapped", False) and isinstance(value, dict):
        return value.get(WRAPPER)
    return value


# --------------------------------------------------------------------------- the call


def check_request(
    output: OutputSchema, request: Request, capabilities: ModelCapabilities, provider: str
) -> None:
    """Refuse ``schema=`` before sending where the model cannot honour it."""
    features = capabilities.features
    if "structured_output" not in features:
        raise UnsupportedParameterError(
            "schema",
            provider,
            request.model,
            sorted(features),
            message=f"model {request.model!r} has no structured output",
        )
    if request.tools and "structured_output_with_tools" not in features:
        raise UnsupportedParameterError(
            "schema",
            provider,
            request.model,
            sorted(features),
            message=f"model {request.model!r} cannot combine schema= with tools= in one call",
        )


def output_retries(params: dict[str, Any], provider: str, *, streaming: bool = False) -> int:
    """Pop and check ``output_retries`` from a call's keyword arguments (default 0)."""
    value = params.pop("output_retries", None)
    if value is None or (value == 0 and not isinstance(value, bool)):
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterError(
            "output_retries", f"got {value!r}", provider=provider, allowed="an integer >= 0"
        )
    if params.get("schema") is None:
        raise InvalidParameterError(
            "output_retries",
            "needs schema=",
            provider=provider,
            allowed="output_retries=N together with schema=...",
        )
    if streaming:
        raise InvalidParameterError(
            "output_retries",
            "not available on stream()/astream(): text already delivered cannot be taken "
            "back; use generate() to retry invalid output",
            provider=provider,
            allowed="0 for streams",
        )
    return value


def ask_again(request: Request, error: OutputValidationError) -> Request:
    """The request for the next ``output_retries`` attempt: the bad answer, then why."""
    if error.truncated:
        why = (
            "Your answer was cut off before the JSON was complete. Answer again with "
            "shorter JSON that matches the schema."
        )
    else:
        lines = [
            f"- {'.'.join(str(p) for p in e.get('loc', ())) or '(root)'}: {e.get('msg', '')}"
            for e in error.errors[:20]
        ]
        why = (
            "Your answer does not match the required JSON schema:\n"
            + "\n".join(lines)
            + "\nAnswer again with only JSON that matches the schema."
        )
    turns = [Message("user", why)]
    if error.text.strip():
        turns.insert(0, Message("assistant", error.text))
    return replace(request, messages=(*request.messages, *turns))


def _retried(result: Generation, attempts: int, usage: Any) -> Generation:
    result.usage = usage
    result.warnings = [
        *result.warnings,
        f"output_retries: the answer matched the schema after {attempts - 1} "
        f"retr{'y' if attempts == 2 else 'ies'}; usage is the sum of all {attempts} calls",
    ]
    return result


def run(once: Callable[[Request], Generation], request: Request, retries: int) -> Generation:
    """``generate`` with ``schema=``: validate, asking again up to ``retries`` times."""
    output = request.output
    assert output is not None
    usage = None
    for attempt in range(retries + 1):
        result = once(request)
        usage = result.usage if usage is None else usage + result.usage
        try:
            check_answer(result, output)
        except OutputValidationError as error:
            result.usage = usage
            if attempt == retries:
                raise
            request = ask_again(request, error)
            continue
        return _retried(result, attempt + 1, usage) if attempt else result
    raise AssertionError("unreachable")  # pragma: no cover


async def arun(
    once: Callable[[Request], Awaitable[Generation]], request: Request, retries: int
) -> Generation:
    """``agenerate`` with ``schema=``: the twin of :func:`run`."""
    output = request.output
    assert output is not None
    usage = None
    for attempt in range(retries + 1):
        result = await once(request)
        usage = result.usage if usage is None else usage + result.usage
        try:
            check_answer(result, output)
        except OutputValidationError as error:
            result.usage = usage
            if attempt == retries:
                raise
            request = ask_again(request, error)
            continue
        return _retried(result, attempt + 1, usage) if attempt else result
    raise AssertionError("unreachable")  # pragma: no cover
