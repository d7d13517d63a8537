"""Provider tool definitions, built once per ``tools=`` list instead of on every call.

A call declaring 20 tools would otherwise build 20 provider dicts per request, about
as much work as the rest of genkit's share of the call.  The Generator hands every
call that repeats a list of plain functions the *same* checked tuple of
:class:`~genkit.tools.Tool` (see ``genkit._tooling._tools``), so that tuple's identity
is the key here.  Each call still gets a list of its own; the definitions in it are
shared between calls, as an SDK user reuses the dicts they wrote once (the SDKs copy
or transform what they are given and never change it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from genkit.tools import Tool

__all__ = ["definitions"]

Definition = TypeVar("Definition")

#: (id of the tuple, converter) -> (the tuple itself, its definitions).  Keeping the
#: tuple alive keeps its id from being reused by another one.
_cache: dict[tuple[int, Callable[..., Any]], tuple[tuple[Tool, ...], list[Any]]] = {}
#: Distinct lists kept; past it the cache starts again (lists of ``Tool`` values are
#: checked, so new, on every call).
_SIZE = 128


def definitions(tools: tuple[Tool, ...], convert: Callable[[Tool], Definition]) -> list[Definition]:
    """``[convert(tool) for tool in tools]``, converted once per tuple and ``convert``."""
    key = (id(tools), convert)
    found = _cache.get(key)
    if found is not None and found[0] is tools:
        return list(found[1])
    converted = [convert(tool) for tool in tools]
    if len(_cache) >= _SIZE:
        _cache.clear()
    _cache[key] = (tools, converted)
    return list(converted)
