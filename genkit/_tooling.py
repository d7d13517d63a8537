"""``tools=`` on its way to a backend: functions become :class:`~genkit.Tool`, all checked.

Everything here runs before a request leaves, once per call, for every backend alike:
a function's signature and docstring become a JSON Schema (pydantic writes it, so the
schema a provider sees and the validation of the model's arguments agree), and what a
provider would reject with a 400 - a bad tool name, two tools of one name, a
``tool_choice`` naming no tool, a tool result answering no call, an image for a model
without image input - is refused here with the part named.  pydantic and
docstring_parser are imported only when a function is converted: ``import genkit``
stays fast, and ``genkit.Tool`` with a JSON Schema needs neither.
"""

from __future__ import annotations

import inspect
import logging
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from genkit.capabilities import ModelCapabilities
from genkit.errors import InvalidParameterError, MissingDependencyError, UnsupportedParameterError
from genkit.params import TOOL_ARGUMENTS
from genkit.parts import IMAGE_MEDIA_TYPES, Document, Image, ToolCall, ToolResult
from genkit.tools import Tool
from genkit.types import FinishReason, Generation, Message

__all__ = [
    "TOOL_ARGUMENTS",
    "ToolSettings",
    "check_history",
    "check_tool_arguments",
    "function_tool",
    "settle_finish_reasons",
]

logger = logging.getLogger("genkit")

#: The keyword arguments of a call (and of ``load()``) that this module owns.
#: The names every provider accepts (OpenAI's rule, the strictest of them).
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_CHOICES: tuple[str, ...] = ("auto", "none", "required")


class ToolSettings(NamedTuple):
    """``tools=`` and friends after checking: what goes into the Request, and ``max_steps``
    (a named tuple: built on every call that declares tools, cheaper than a dataclass)."""

    tools: tuple[Tool, ...] = ()
    tool_choice: str | None = None
    parallel_tool_calls: bool | None = None
    max_steps: int = 1


NO_TOOLS = ToolSettings()


# --------------------------------------------------------------------------- functions


class BadFunctionError(Exception):
    """A function genkit cannot describe to a model: ``(message, allowed)``.

    Not a GenkitError: the caller turns it into one that names the tool's position.
    """


@dataclass(frozen=True, slots=True)
class _Converted:
    tool: Tool
    #: The pydantic model of the function's parameters: validates a call's arguments.
    model: Any
    positional: tuple[str, ...]


def function_tool(function: Callable[..., Any]) -> Tool:
    """The :class:`Tool` a function stands for: name, docstring and type hints.

    Converted once per function (cached): a call with 20 tools costs 20 dict lookups,
    not 20 schema generations.
    """
    return _converted(function).tool


def _converted(function: Callable[..., Any]) -> _Converted:
    try:
        return _convert(function)
    except TypeError:  # a method of an unhashable object: not cacheable, converted each time
        return _convert.__wrapped__(function)


def bind_arguments(function: Callable[..., Any], arguments: Mapping[str, Any]) -> Any:
    """``(args, kwargs)`` for ``function``, validated (and coerced) by pydantic.

    Raises ``pydantic.ValidationError`` for arguments that do not fit the signature.
    """
    converted = _converted(function)
    validated = converted.model.model_validate(dict(arguments))
    values = {name: getattr(validated, name) for name in type(validated).model_fields}
    args = [values.pop(name) for name in converted.positional]
    return args, values


@lru_cache(maxsize=1024)
def _convert(function: Callable[..., Any]) -> _Converted:
    try:
        import pydantic
        from pydantic.json_schema import GenerateJsonSchema
    except ImportError:  # pragma: no cover - pydantic ships with the extras
        raise MissingDependencyError("tools", "pydantic", "tools") from None
    name = getattr(function, "__name__", "")
    summary, argument_docs = _docstring(inspect.getdoc(function) or "")
    try:
        signature = inspect.signature(function)
        hints = _hints(function)
    except (TypeError, ValueError, NameError) as error:
        raise BadFunctionError(
            f"cannot read the signature of tool {name!r}: {error}",
            "a function with type hints, or genkit.Tool(name, description, parameters)",
        ) from None
    fields: dict[str, Any] = {}
    positional: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise BadFunctionError(
                f"tool {name!r} takes *{parameter.name}: a model can only pass named arguments",
                "named parameters with type hints",
            )
        if parameter.kind is parameter.POSITIONAL_ONLY:
            positional.append(parameter.name)
        annotation = hints.get(parameter.name, Any)
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (
            annotation,
            pydantic.Field(default, description=argument_docs.get(parameter.name)),
        )

    class _NoFieldTitles(GenerateJsonSchema):
        """pydantic titles each property with its own name: tokens that say nothing."""

        def field_title_should_be_set(self, schema: Any) -> bool:
            return False

    try:
        with warnings.catch_warnings():
            # A parameter named like a BaseModel attribute ("json", "copy") works; the
            # warning pydantic gives about it would only confuse the caller.
            warnings.simplefilter("ignore", UserWarning)
            model = pydantic.create_model(f"{name}_arguments", **fields)
        schema = model.model_json_schema(schema_generator=_NoFieldTitles)
    except (pydantic.PydanticUserError, pydantic.PydanticSchemaGenerationError, NameError) as error:
        raise BadFunctionError(
            f"cannot build a JSON Schema for the parameters of tool {name!r}: {error}",
            "parameters with JSON-serialisable type hints (str, int, list[...], "
            "pydantic models, Literal, ...)",
        ) from None
    schema.pop("title", None)
    schema.setdefault("properties", {})
    tool = Tool(name=name, description=summary, parameters=schema, function=function)
    return _Converted(tool, model, tuple(positional))


def _hints(function: Callable[..., Any]) -> dict[str, Any]:
    import typing

    target = function.__func__ if inspect.ismethod(function) else function
    return typing.get_type_hints(target, include_extras=True)


def _docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The description and the per-argument docs (Google, NumPy or Sphinx ``:param:``)."""
    if not doc:
        return "", {}
    try:
        import docstring_parser
    except ImportError:
        # Without the parser the whole docstring is the description: nothing is lost.
        return doc.strip(), {}
    parsed = docstring_parser.parse(doc)
    description = "\n\n".join(
        part for part in (parsed.short_description, parsed.long_description) if part
    )
    arguments = {p.arg_name: p.description for p in parsed.params if p.description}
    return description.strip(), arguments


# --------------------------------------------------------------------------- checks


def check_tool_arguments(
    values: Mapping[str, Any],
    *,
    provider: str,
    model: str,
    capabilities: ModelCapabilities,
    drop_unsupported: bool = False,
    warnings: list[str] | None = None,
) -> ToolSettings:
    """``tools``/``tool_choice``/``parallel_tool_calls``/``max_steps`` checked together.

    ``None`` means "not set" (it clears a load() default), as for every parameter.
    Drop mode drops ``parallel_tool_calls`` on a model that cannot take it (a hint, the
    way an unsupported sampling parameter is dropped) but never ``tools``: without them
    the model would be asked something else.
    """
    raw_tools = values.get("tools")
    tools: tuple[Tool, ...] = ()
    if raw_tools is not None:
        tools = _tools(raw_tools, provider)
    if tools and "tools" not in capabilities.features:
        raise UnsupportedParameterError(
            "tools",
            provider,
            model,
            sorted(capabilities.features),
            message=f"tool calling is not supported by {provider} model {model!r}",
        )
    choice = values.get("tool_choice")
    if choice is not None:
        names = [tool.name for tool in tools]
        if not tools:
            raise InvalidParameterError(
                "tool_choice",
                f"got {choice!r:.60} but no tools=",
                provider=provider,
                allowed="tool_choice together with tools=[...]",
            )
        if not isinstance(choice, str) or (choice not in _CHOICES and choice not in names):
            raise InvalidParameterError(
                "tool_choice",
                f"got {choice!r:.60}, which is neither a mode nor the name of a tool",
                provider=provider,
                allowed=", ".join(repr(c) for c in (*_CHOICES, *names)),
            )
    parallel = values.get("parallel_tool_calls")
    if parallel is not None:
        if not isinstance(parallel, bool):
            raise InvalidParameterError(
                "parallel_tool_calls",
                f"expected True or False, got {type(parallel).__name__}",
                provider=provider,
            )
        if not tools:
            raise InvalidParameterError(
                "parallel_tool_calls",
                "set without tools=",
                provider=provider,
                allowed="parallel_tool_calls together with tools=[...]",
            )
        if "parallel_tool_calls" not in capabilities.features and drop_unsupported:
            message = f"dropped 'parallel_tool_calls': not supported by {provider} model {model!r}"
            logger.warning(message)
            if warnings is not None:
                warnings.append(message)
            parallel = None
        elif "parallel_tool_calls" not in capabilities.features:
            raise UnsupportedParameterError(
                "parallel_tool_calls",
                provider,
                model,
                sorted(capabilities.features),
                message=f"parallel_tool_calls cannot be set on {provider} model {model!r}",
            )
    max_steps = values.get("max_steps")
    if max_steps is None:
        max_steps = 1
    elif isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise InvalidParameterError(
            "max_steps",
            f"got {max_steps!r:.40}",
            provider=provider,
            allowed="an integer >= 1 (1: return the tool calls; more: run them and go on)",
        )
    return ToolSettings(tools, choice, parallel, max_steps)


#: Checked ``tools=`` lists of plain functions, by the functions (see :func:`_tools`).
_checked: dict[tuple[Any, ...], tuple[Tool, ...]] = {}
#: Distinct lists kept; past it the cache starts again (lists built per call).
_CHECKED_SIZE = 256


def _tools(raw: object, provider: str) -> tuple[Tool, ...]:
    """``tools=`` as checked Tools.  A list of plain functions is checked once: the same
    functions give the same Tools (each is converted once), so a call declaring 20 tools
    costs one lookup instead of 20 conversions, name checks and type tests (36 µs).  A
    list holding a :class:`Tool` is checked on every call (its schema is a dict, which
    could have changed since)."""
    key: tuple[Any, ...] | None = tuple(raw) if type(raw) in (list, tuple) else None  # type: ignore[arg-type]
    if key is not None:
        try:
            found = _checked.get(key)
        except TypeError:  # a Tool (its parameters dict is unhashable), or another value
            key = None
        else:
            if found is not None:
                return found
    tools = _check_tools(raw, provider)
    if key is not None and not any(isinstance(item, Tool) for item in key):
        if len(_checked) >= _CHECKED_SIZE:
            _checked.clear()
        _checked[key] = tools
    return tools


def _check_tools(raw: object, provider: str) -> tuple[Tool, ...]:
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence):
        raise InvalidParameterError(
            "tools",
            f"expected a list of functions or genkit.Tool, got {type(raw).__name__}",
            provider=provider,
        )
    tools: list[Tool] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"tools[{i}]"
        if isinstance(item, Tool):
            tool = item
            _check_declared(tool, where, provider)
        elif inspect.isfunction(item) or inspect.ismethod(item):
            try:
                tool = function_tool(item)
            except BadFunctionError as error:
                raise InvalidParameterError(
                    where, error.args[0], provider=provider, allowed=error.args[1]
                ) from None
        else:
            raise InvalidParameterError(
                where,
                f"{type(item).__name__} is neither a function nor a genkit.Tool",
                provider=provider,
                allowed="a def or async def function, or genkit.Tool(name, description, "
                "parameters)",
            )
        if not isinstance(tool.name, str) or not _NAME.fullmatch(tool.name):
            raise InvalidParameterError(
                f"{where}.name",
                f"tool name {tool.name!r:.80} is not accepted by providers",
                provider=provider,
                allowed="1 to 64 letters, digits, '_' or '-'",
            )
        if tool.name in seen:
            raise InvalidParameterError(
                f"{where}.name",
                f"two tools are named {tool.name!r}",
                provider=provider,
                allowed="a unique name per tool",
            )
        seen.add(tool.name)
        tools.append(tool)
    return tuple(tools)


def _check_declared(tool: Tool, where: str, provider: str) -> None:
    if not isinstance(tool.description, str):
        raise InvalidParameterError(
            f"{where}.description",
            f"tool {tool.name!r:.80}: expected a string, got {type(tool.description).__name__}",
            provider=provider,
        )
    parameters = tool.parameters
    if not isinstance(parameters, Mapping) or parameters.get("type") != "object":
        raise InvalidParameterError(
            f"{where}.parameters",
            f"the parameters of tool {tool.name!r:.80} are not an object schema",
            provider=provider,
            allowed='a JSON Schema {"type": "object", "properties": {...}}',
        )
    properties = parameters.get("properties", {})
    if not isinstance(properties, Mapping):
        raise InvalidParameterError(
            f"{where}.parameters",
            f"tool {tool.name!r:.80}: 'properties' is a {type(properties).__name__}, not an object",
            provider=provider,
        )
    if tool.function is not None and not callable(tool.function):
        raise InvalidParameterError(
            f"{where}.function",
            f"tool {tool.name!r:.80}: function is not callable",
            provider=provider,
        )


#: The feature each kind of part needs, and its name in errors.
_PART_FEATURES: dict[type, tuple[str, str]] = {
    Image: ("image_input", "image"),
    Document: ("pdf_input", "document"),
    ToolCall: ("tools", "tool call"),
    ToolResult: ("tools", "tool result"),
}


def check_history(
    messages: Sequence[Message], capabilities: ModelCapabilities, provider: str, model: str
) -> None:
    """Parts the model cannot take, and tool results that answer no call, before sending.

    Plain-text conversations (every turn a ``str``, nearly every call) return at once.
    """
    if all(type(message.content) is str for message in messages):
        return
    calls: set[str] = set()
    for i, message in enumerate(messages):
        content = message.content
        if isinstance(content, str):
            continue
        for j, part in enumerate(content):
            where = f"prompt[{i}].content[{j}]"
            _check_part(part, where, capabilities, provider, model)
            if isinstance(part, ToolCall):
                calls.add(part.id)
            elif isinstance(part, ToolResult):
                if not isinstance(part.content, str):
                    for k, inner in enumerate(part.content):
                        _check_part(inner, f"{where}.content[{k}]", capabilities, provider, model)
                if part.call_id not in calls:
                    raise InvalidParameterError(
                        f"{where}.call_id",
                        f"tool result {part.call_id!r:.80} answers no tool call earlier in "
                        "the conversation",
                        provider=provider,
                        allowed="the id of a genkit.ToolCall in an earlier assistant turn "
                        + (f"({', '.join(sorted(calls))})" if calls else "(there is none)"),
                    )


def _check_part(
    part: object, where: str, capabilities: ModelCapabilities, provider: str, model: str
) -> None:
    needs = _PART_FEATURES.get(type(part))
    if needs is None:
        return
    feature, kind = needs
    if feature not in capabilities.features:
        # Worded like a backend's own refusal of a part it cannot map.
        raise UnsupportedParameterError(
            where,
            provider,
            model,
            sorted(capabilities.features),
            message=f"{kind} input is not supported by the {provider} backend for model "
            f"{model!r} (it lacks the {feature!r} feature)",
        )
    if isinstance(part, Image):
        if part.media_type is not None and part.media_type not in IMAGE_MEDIA_TYPES:
            raise UnsupportedParameterError(
                f"{where}.media_type",
                provider,
                model,
                list(IMAGE_MEDIA_TYPES),
                message=f"image type {part.media_type!r:.60} is not accepted by {provider}",
            )
        _check_size(part.data, capabilities.max_image_bytes, "image", where, provider, model)
    elif isinstance(part, Document):
        if part.media_type is not None and part.media_type != "application/pdf":
            raise UnsupportedParameterError(
                f"{where}.media_type",
                provider,
                model,
                ["application/pdf"],
                message=f"document type {part.media_type!r:.60} is not accepted by {provider}",
            )
        _check_size(part.data, capabilities.max_document_bytes, "document", where, provider, model)


def _check_size(
    data: bytes | None, limit: int | None, kind: str, where: str, provider: str, model: str
) -> None:
    if data is not None and limit is not None and len(data) > limit:
        raise UnsupportedParameterError(
            where,
            provider,
            model,
            [f"{kind}s up to {limit} bytes"],
            message=f"the {kind} is {len(data)} bytes; {provider} model {model!r} takes at "
            f"most {limit} bytes inline",
        )


# --------------------------------------------------------------------------- results


def settle_finish_reasons(result: Generation) -> None:
    """``"tool_calls"`` for every candidate whose turn calls a tool, whatever the provider said.

    Providers disagree (Gemini says ``STOP`` for a turn that called a function;
    OpenAI says ``stop`` when tool_choice forced the call), so genkit decides from the
    content.  A partial result's ``None`` stays: a cut stream is never complete.
    """
    reasons: list[FinishReason | None] = result.finish_reasons
    for index, message in enumerate(result.messages):
        if index >= len(reasons) or reasons[index] is None or isinstance(message.content, str):
            continue
        for part in message.content:  # (a loop, not any(): this runs on every tool call)
            if type(part) is ToolCall:
                reasons[index] = "tool_calls"
                break
