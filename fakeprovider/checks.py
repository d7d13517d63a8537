"""Tiny JSON type predicates shared by the validators.

JSON ``true`` parses to ``bool``, a subclass of ``int`` in Python; every API
here rejects booleans where a number is required, so these exclude them.
"""

from __future__ import annotations

from typing import Any


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_integral(value: Any) -> bool:
    """Proto3 JSON accepts ``40.0`` for an integer field (google-genai sends it)."""
    return is_int(value) or (isinstance(value, float) and value.is_integer())


def json_type_name(value: Any) -> str:
    """How OpenAI names a JSON value's type in its error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def fmt_number(value: Any) -> str:
    """``3.0`` → ``3``, as the providers print numbers back."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
