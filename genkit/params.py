"""Shared generation parameters: one meaning everywhere, checked before any request.

Every value a user passes is checked here for type and range, then against the
chosen model's capabilities, so a bad value fails in microseconds with an error
naming the parameter, the provider and what is allowed - never as a provider 400
after a network round trip.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from genkit.capabilities import ModelCapabilities
from genkit.errors import InvalidParameterError, UnsupportedParameterError
from genkit.messages import check_text
from genkit.types import Message

__all__ = [
    "CALL_OPTIONS",
    "SHARED_PARAMETERS",
    "Request",
    "check_call_options",
    "check_parameters",
]

logger = logging.getLogger("genkit")

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
)
#: Options that shape how genkit calls the provider rather than what the model does.
CALL_OPTIONS: tuple[str, ...] = ("timeout", "max_retries", "provider_options", "drop_unsupported")

_INT64 = 2**63


@dataclass(frozen=True, slots=True)
class Request:
    """Everything a backend needs for one call, already validated.

    ``params`` holds only shared parameters the model supports; ``provider_options``
    is the escape hatch, merged into the provider's request as given.
    """

    model: str
    messages: tuple[Message, ...]
    params: Mapping[str, Any]
    provider_options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None


# --------------------------------------------------------------------------- type checks


def _type_name(value: object) -> str:
    return type(value).__name__


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
        number = _integer(name, value, provider)
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


def _non_negative(name: str, value: object, provider: str) -> float:
    number = _number(name, value, provider)
    if number < 0:
        raise InvalidParameterError(name, f"got {number}", provider=provider, allowed=">= 0")
    return number


def _top_p(name: str, value: object, provider: str) -> float:
    number = _number(name, value, provider)
    if not 0 < number <= 1:
        raise InvalidParameterError(
            name, f"got {number}", provider=provider, allowed="a number in (0, 1]"
        )
    return number


def _penalty(name: str, value: object, provider: str) -> float:
    return _number(name, value, provider)


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


def _positive_number(name: str, value: object, provider: str) -> float:
    number = _number(name, value, provider)
    if number <= 0:
        raise InvalidParameterError(name, f"got {number}", provider=provider, allowed="> 0")
    return number


def _mapping(name: str, value: object, provider: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidParameterError(
            name, f"expected a dict with string keys, got {_type_name(value)}", provider=provider
        )
    return value


def _boolean(name: str, value: object, provider: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameterError(
            name, f"expected True or False, got {_type_name(value)}", provider=provider
        )
    return value


_CHECKS: dict[str, Callable[[str, Any, str], Any]] = {
    "max_tokens": _at_least(1),
    "temperature": _non_negative,
    "top_p": _top_p,
    "top_k": _at_least(1),
    "stop": _stop,
    "seed": _seed,
    "n": _at_least(1),
    "presence_penalty": _penalty,
    "frequency_penalty": _penalty,
    "timeout": _positive_number,
    "max_retries": _at_least(0),
    "provider_options": _mapping,
    "drop_unsupported": _boolean,
}


def check_call_options(options: Mapping[str, Any], provider: str) -> dict[str, Any]:
    """Type-check genkit's own call options (``timeout``, ``max_retries``, ...)."""
    return {name: _CHECKS[name](name, value, provider) for name, value in options.items()}


def check_parameters(
    params: Mapping[str, Any],
    *,
    provider: str,
    model: str,
    capabilities: ModelCapabilities,
    drop_unsupported: bool,
    warnings: list[str],
) -> dict[str, Any]:
    """Validate shared parameters for one model; return the ones to send.

    ``None`` means "not set" and is skipped, so ``gen.generate(p, stop=None)`` clears a
    default.  Unsupported parameters raise unless ``drop_unsupported``, in which case
    they are dropped and the reason is logged and appended to ``warnings``.
    """
    checked: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        check = _CHECKS.get(name)
        if check is None or name not in SHARED_PARAMETERS:
            raise InvalidParameterError(
                name,
                "unknown parameter",
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
            message = f"dropped {name!r}: not supported by {provider} model {model!r}"
            logger.warning(message)
            warnings.append(message)
            continue
        _check_model_limits(name, value, provider, model, capabilities)
        checked[name] = value
    return checked


def _check_model_limits(
    name: str, value: Any, provider: str, model: str, caps: ModelCapabilities
) -> None:
    bounds = caps.ranges.get(name)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise InvalidParameterError(
            name,
            f"got {value} for model {model!r}",
            provider=provider,
            allowed=f"a value in [{_fmt(bounds[0])}, {_fmt(bounds[1])}]",
        )
    if name == "stop" and caps.max_stop is not None and len(value) > caps.max_stop:
        raise InvalidParameterError(
            name,
            f"{len(value)} stop sequences for model {model!r}",
            provider=provider,
            allowed=f"at most {caps.max_stop}",
        )
    if name == "n" and caps.max_n is not None and value > caps.max_n:
        raise InvalidParameterError(
            name,
            f"got {value} for model {model!r}",
            provider=provider,
            allowed=f"at most {caps.max_n}",
        )


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
