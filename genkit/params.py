"""Shared generation parameters: one meaning everywhere, checked before any request.

Every value a user passes is checked here for type and range, then against the
chosen model's capabilities, so a bad value fails in microseconds with an error
naming the parameter, the provider and what is allowed - never as a provider 400
after a network round trip.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genkit.errors import InvalidParameterError, UnsupportedParameterError
from genkit.messages import check_text
from genkit.types import Message

if TYPE_CHECKING:
    from genkit.capabilities import ModelCapabilities
    from genkit.structured import OutputSchema
    from genkit.tools import Tool, ToolChoice

__all__ = [
    "CALL_OPTIONS",
    "REASONING_LEVELS",
    "SHARED_PARAMETERS",
    "TOOL_ARGUMENTS",
    "Request",
    "check_call_options",
    "check_parameters",
]

#: Parameters with the same meaning on every backend, in documentation order.
SHARED_PARAMETERS: tuple[str, ...] = (
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop",
    "seed",
    "n",
    "presence_penalty",
    "frequency_penalty",
    "reasoning",
)
#: The arguments of ``tools=`` calls (checked by ``genkit._tooling``, loaded when one is given).
TOOL_ARGUMENTS: tuple[str, ...] = ("tools", "tool_choice", "parallel_tool_calls", "max_steps")
#: The reasoning efforts ``reasoning=`` takes by name, least first; an int is a token budget.
REASONING_LEVELS: tuple[str, ...] = ("none", "minimal", "low", "medium", "high")
#: Options that shape how genkit calls the provider rather than what the model does.
CALL_OPTIONS: tuple[str, ...] = (
    "timeout",
    "max_retries",
    "provider_options",
    "drop_unsupported",
    "headers",
)

_INT64 = 2**63


@dataclass(slots=True)
class Request:
    """Everything a backend needs for one call, already validated.

    ``params`` holds only shared parameters the model supports; ``provider_options``
    is the escape hatch, merged into the provider's request as given.

    Backends read a request and never change it (a retry sends the same one again);
    genkit makes changed copies with ``dataclasses.replace``.  It is not frozen only
    because a frozen dataclass sets each field through ``object.__setattr__``: for
    these twelve fields that cost about 1.5 µs on every call.
    """

    model: str
    messages: tuple[Message, ...]
    params: Mapping[str, Any]
    provider_options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    #: Extra HTTP headers for hosted providers (load-time ones merged with the call's).
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Tools the model may call, checked and converted from ``tools=`` (empty: none).
    tools: tuple[Tool, ...] = ()
    #: ``"auto"``, ``"none"``, ``"required"`` or one tool's name; ``None``: provider default.
    tool_choice: ToolChoice | None = None
    #: ``False`` asks for at most one call per turn; ``None``: provider default.
    parallel_tool_calls: bool | None = None
    #: The JSON Schema the answer must follow (``schema=``); ``None``: free text.
    output: OutputSchema | None = None


# --------------------------------------------------------------------------- type checks


def _type_name(value: object) -> str:
    return type(value).__name__


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _number(name: str, value: object, provider: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(
            name, f"expected a number, got {_type_name(value)}", provider=provider
        )
    if not math.isfinite(value):
        raise InvalidParameterError(name, f"must be finite, got {value!r}", provider=provider)
    return float(value)


def _integer(name: str, value: object, provider: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError(
            name, f"expected an integer, got {_type_name(value)} {value!r}", provider=provider
        )
    return value


def _at_least(minimum: int) -> Callable[[str, object, str], int]:
    def check(name: str, value: object, provider: str) -> int:
        # A plain int (nearly every call) skips the type check's own call.
        number = value if type(value) is int else _integer(name, value, provider)
        if number < minimum:
            raise InvalidParameterError(
                name, f"got {number}", provider=provider, allowed=f"an integer >= {minimum}"
            )
        return number

    return check


def _seed(name: str, value: object, provider: str) -> int:
    number = _integer(name, value, provider)
    if not -_INT64 <= number < _INT64:
        raise InvalidParameterError(
            name, f"got {number}", provider=provider, allowed="a 64-bit integer"
        )
    return number


def _number_in(
    low: float | None = None, high: float | None = None, *, low_open: bool = False
) -> Callable[[str, object, str], float]:
    """A check for a finite number in [low, high] (``low_open``: (low, high])."""
    if low is None:
        allowed = ""  # no bound: nothing to refuse beyond the type
    elif high is None:
        allowed = f"{'>' if low_open else '>='} {_fmt(low)}"
    else:
        allowed = f"a number in {'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}]"

    def check(name: str, value: object, provider: str) -> float:
        # A finite float (nearly every call) skips the type check's own call.
        if type(value) is float and math.isfinite(value):
            number = value
        else:
            number = _number(name, value, provider)
        below = low is not None and (number <= low if low_open else number < low)
        if below or (high is not None and number > high):
            raise InvalidParameterError(name, f"got {number}", provider=provider, allowed=allowed)
        return number

    return check


def _stop(name: str, value: object, provider: str) -> tuple[str, ...]:
    items: tuple[object, ...]
    if isinstance(value, str):
        items = (value,)
    elif isinstance(value, list | tuple):
        items = tuple(value)
    else:
        raise InvalidParameterError(
            name,
            f"expected a string or a list of strings, got {_type_name(value)}",
            provider=provider,
        )
    for item in items:
        if not isinstance(item, str) or not item:
            raise InvalidParameterError(
                name,
                f"every stop sequence must be a non-empty string, got {item!r}",
                provider=provider,
            )
        check_text(name, item, provider)
    return items  # type: ignore[return-value]


def _mapping(name: str, value: object, provider: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidParameterError(
            name, f"expected a dict with string keys, got {_type_name(value)}", provider=provider
        )
    if "extra_headers" in value:
        # Every vendor SDK calls it extra_headers, but provider_options is merged into the
        # request body, where a provider would see it as an unknown field.
        raise InvalidParameterError(
            name,
            "'extra_headers' would be sent as a body field, not as HTTP headers",
            provider=provider,
            allowed="headers={...} at genkit.load() or per call for extra HTTP headers",
        )
    return value


#: An HTTP header name (RFC 9110 token).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: A header value genkit sends: visible ASCII, spaces and tabs.  A CR or LF would end
#: the header early (header injection); other bytes are not portable across servers.
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


def _headers(name: str, value: object, provider: str) -> dict[str, str]:
    """Extra HTTP headers: str -> str, checked before sending.

    Messages name the header, never its value: a header often carries a token.
    """
    if not isinstance(value, Mapping):
        raise InvalidParameterError(
            name, f"expected a dict of str -> str, got {_type_name(value)}", provider=provider
        )
    checked: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _HEADER_NAME.fullmatch(key):
            shown = repr(key) if isinstance(key, str) else _type_name(key)
            raise InvalidParameterError(
                name,
                f"{shown:.60} is not a valid header name",
                provider=provider,
                allowed="names made of letters, digits and !#$%&'*+-.^_`|~",
            )
        if not isinstance(item, str):
            raise InvalidParameterError(
                name,
                f"the value of header {key!r} is a {_type_name(item)}, not a string",
                provider=provider,
            )
        if not _HEADER_VALUE.fullmatch(item):
            what = (
                "a line break"
                if ("\r" in item or "\n" in item)
                else "a control or non-ASCII character"
            )
            raise InvalidParameterError(
                name,
                f"the value of header {key!r} contains {what} (value not shown)",
                provider=provider,
                allowed="visible ASCII characters, spaces and tabs",
            )
        checked[key] = item
    return checked


def _reasoning(name: str, value: object, provider: str) -> str | int:
    if isinstance(value, str) and value in REASONING_LEVELS:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise InvalidParameterError(
        name,
        f"got {value!r:.40}",
        provider=provider,
        allowed=", ".join(map(repr, REASONING_LEVELS)) + " or a token budget (an integer >= 0)",
    )


def _boolean(name: str, value: object, provider: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameterError(
            name, f"expected True or False, got {_type_name(value)}", provider=provider
        )
    return value


_CHECKS: dict[str, Callable[[str, Any, str], Any]] = {
    "max_tokens": _at_least(1),
    "temperature": _number_in(0),
    "top_p": _number_in(0, 1, low_open=True),
    "top_k": _at_least(1),
    "stop": _stop,
    "seed": _seed,
    "n": _at_least(1),
    "presence_penalty": _number_in(),
    "frequency_penalty": _number_in(),
    "reasoning": _reasoning,
    "timeout": _number_in(0, low_open=True),
    "max_retries": _at_least(0),
    "provider_options": _mapping,
    "drop_unsupported": _boolean,
    "headers": _headers,
}


def check_call_options(options: Mapping[str, Any], provider: str) -> dict[str, Any]:
    """Type-check genkit's own call options (``timeout``, ``max_retries``, ...)."""
    return {name: _CHECKS[name](name, value, provider) for name, value in options.items()}


def check_parameters(
    params: Mapping[str, Any],
    provider: str,
    model: str,
    capabilities: ModelCapabilities,
    drop_unsupported: bool,
    warnings: list[str],
    known: Iterable[str] = (),
) -> dict[str, Any]:
    """Validate shared parameters for one model; return the ones to send.

    ``None`` means "not set" and is skipped, so ``gen.generate(p, stop=None)`` clears a
    default.  Unsupported parameters raise unless ``drop_unsupported``, in which case
    they are dropped, and values beyond the model's limits are clamped to them; either
    way the reason is logged and appended to ``warnings``.  An unknown
    name is refused with the closest real one (from the shared parameters, the call
    options and ``known``) as a "did you mean".
    """
    checked: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        check = _CHECKS.get(name)
        if check is None or name not in _SHARED:
            from genkit.suggest import closest  # difflib costs ms: only on this error path

            match = closest(name, (*SHARED_PARAMETERS, *CALL_OPTIONS, "system", *known))
            raise InvalidParameterError(
                name,
                "unknown parameter" + (f" (did you mean {match!r}?)" if match else ""),
                provider=provider,
                allowed="shared parameters "
                + ", ".join(SHARED_PARAMETERS)
                + "; use provider_options={...} for provider-specific ones",
            )
        value = check(name, value, provider)
        if name not in capabilities.supported:
            if not drop_unsupported:
                raise UnsupportedParameterError(
                    name,
                    provider,
                    model,
                    [p for p in SHARED_PARAMETERS if p in capabilities.supported],
                )
            _warn(warnings, f"dropped {name!r}: not supported by {provider} model {model!r}")
            continue
        if name in _MODEL_LIMITED or name in capabilities.ranges:
            value = _check_model_limits(
                name, value, provider, model, capabilities, drop_unsupported, warnings
            )
            if value is None:  # drop mode removed all of it
                continue
        checked[name] = value
    return checked


_SHARED = frozenset(SHARED_PARAMETERS)
#: Parameters a model limits other than by a range (see :func:`_check_model_limits`).
_MODEL_LIMITED = frozenset({"reasoning", "stop", "n"})
#: How the refusal of a value outside the model's limits says the way out.
_CLAMP_HINT = " (drop_unsupported=True or GENKIT_DROP_UNSUPPORTED=1 {} it to the limit)"


def _check_model_limits(
    name: str,
    value: Any,
    provider: str,
    model: str,
    caps: ModelCapabilities,
    adapt: bool,
    warnings: list[str],
) -> Any:
    """``value`` if the model takes it; else an error, or under drop mode the nearest value.

    Drop mode exists so that one set of parameters runs on any ``GENKIT_MODEL``: a
    value valid for genkit but beyond this model's limits is clamped into its range
    (a list of stop sequences cut to the model's maximum) with a warning, the way an
    unsupported parameter is dropped.  What is invalid on every model (a wrong type,
    ``top_p=0``) still raises: that is a bug in the caller, not a difference between
    models.
    """
    if name == "reasoning":
        return _check_reasoning(value, provider, model, caps, adapt, warnings)
    bounds = caps.ranges.get(name)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        low, high = bounds
        if not adapt:
            raise InvalidParameterError(
                name,
                f"got {value} for model {model!r}" + _CLAMP_HINT.format("clamps"),
                provider=provider,
                allowed=f"a value in [{_fmt(low)}, {_fmt(high)}]",
            )
        clamped = low if value < low else high
        _warn(
            warnings,
            f"{name} {value} clamped to {clamped} "
            f"({provider} model {model!r} allows {_fmt(low)} to {_fmt(high)})",
        )
        return clamped
    if name not in _MODEL_LIMITED:  # a range was its only limit
        return value
    if name == "stop" and adapt and not caps.blank_stop:
        kept = tuple(sequence for sequence in value if sequence.strip())
        if len(kept) < len(value):
            _warn(
                warnings,
                f"stop: dropped the whitespace-only stop sequences "
                f"{[s for s in value if not s.strip()]!r} "
                f"({provider} model {model!r} refuses them)",
            )
            if not kept:
                return None
            value = kept
    if name == "stop" and caps.max_stop is not None and len(value) > caps.max_stop:
        if not adapt:
            raise InvalidParameterError(
                name,
                f"{len(value)} stop sequences for model {model!r}" + _CLAMP_HINT.format("cuts"),
                provider=provider,
                allowed=f"at most {caps.max_stop}",
            )
        _warn(
            warnings,
            f"stop: kept the first {caps.max_stop} of {len(value)} stop sequences "
            f"({provider} model {model!r} allows at most {caps.max_stop})",
        )
        return value[: caps.max_stop]
    if name == "n" and caps.max_n is not None and value > caps.max_n:
        if not adapt:
            raise InvalidParameterError(
                name,
                f"got {value} for model {model!r}" + _CLAMP_HINT.format("clamps"),
                provider=provider,
                allowed=f"at most {caps.max_n}",
            )
        _warn(
            warnings,
            f"n {value} clamped to {caps.max_n} "
            f"({provider} model {model!r} allows at most {caps.max_n})",
        )
        return caps.max_n
    return value


def _check_reasoning(
    value: str | int,
    provider: str,
    model: str,
    caps: ModelCapabilities,
    adapt: bool,
    warnings: list[str],
) -> str | int | None:
    """A reasoning level the model names, or a budget within its range.

    Models take levels, budgets or both (the capability row says which).  Drop mode
    moves a level the model lacks to the nearest one it has (the higher on a tie) and
    drops a budget given to a model that takes levels only.
    """
    levels = caps.reasoning_levels
    budget = caps.ranges.get("reasoning")
    allowed = ", ".join(repr(level) for level in REASONING_LEVELS if level in levels)
    if budget is not None:
        allowed += (" or " if allowed else "") + (
            f"a token budget in [{_fmt(budget[0])}, {_fmt(budget[1])}]"
        )
    if isinstance(value, str):
        if value in levels:
            return value
        if adapt and levels:
            rank = REASONING_LEVELS.index(value)
            nearest = min(
                levels,
                key=lambda level: (
                    abs(REASONING_LEVELS.index(level) - rank),
                    -REASONING_LEVELS.index(level),
                ),
            )
            _warn(
                warnings,
                f"reasoning {value!r} changed to {nearest!r} "
                f"({provider} model {model!r} takes {allowed})",
            )
            return nearest
    elif budget is not None:
        if budget[0] <= value <= budget[1]:
            return value
        if adapt:
            clamped = int(budget[0] if value < budget[0] else budget[1])
            _warn(
                warnings,
                f"reasoning {value} clamped to {clamped} "
                f"({provider} model {model!r} allows {_fmt(budget[0])} to {_fmt(budget[1])})",
            )
            return clamped
    if adapt:
        _warn(warnings, f"dropped reasoning {value!r}: {provider} model {model!r} takes {allowed}")
        return None
    raise InvalidParameterError(
        "reasoning",
        f"got {value!r} for model {model!r}" + _CLAMP_HINT.format("adapts"),
        provider=provider,
        allowed=allowed or "nothing",
    )


def _warn(warnings: list[str], message: str) -> None:
    import logging  # here: ``import genkit`` does not load logging for a rare warning

    logging.getLogger("genkit").warning(message)
    warnings.append(message)
