"""The tool loop (``max_steps > 1``): run the model's calls, send the results, repeat.

One step is one request to the model.  After a step whose first candidate called
tools that are Python functions, genkit runs them, appends the assistant turn and a
``"tool"`` turn with one :class:`~genkit.ToolResult` per call to the conversation,
and asks again - until an answer without calls, a call of a tool genkit cannot run
(a :class:`~genkit.Tool` without ``function``: the caller runs it), or ``max_steps``.

What a tool does wrong goes back to the model, not up to the caller: a tool that
raises, arguments that do not fit its signature, a tool name the model made up - each
becomes an ``is_error`` result the model can read and recover from.  What genkit or
the provider does wrong (a bad request, a network failure) raises as for one call.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import reduce
from typing import TYPE_CHECKING, Any

from genkit._tooling import BadFunctionError, bind_arguments
from genkit.parts import ToolCall, ToolResult
from genkit.tools import Tool
from genkit.types import Generation, Message, Usage

if TYPE_CHECKING:
    from genkit.params import Request

__all__ = ["StreamLoop", "ToolLoop", "arun_loop", "combine", "run_loop"]

Step = Callable[["Request"], Generation]


def _runnable(request: Request, result: Generation) -> list[ToolCall]:
    """The calls to run for the next step; empty when the loop ends here."""
    calls = result.tool_calls
    if not calls:
        return []
    tools = {tool.name: tool for tool in request.tools}
    for call in calls:
        tool = tools.get(call.name)
        if tool is not None and tool.function is None:
            return []  # declared only: the caller runs it, so the calls go back to them
    return calls


def _next_request(request: Request, result: Generation, results: list[ToolResult]) -> Request:
    """The conversation so far plus this step's turn and its tool results.

    A forced choice (``"required"`` or a tool's name) applies to the first step only:
    kept, it would make the model call a tool again at every step, never answering.
    """
    choice = request.tool_choice
    if choice is not None and choice not in ("auto", "none"):
        choice = "auto"
    return replace(
        request,
        messages=(*request.messages, result.message, Message("tool", tuple(results))),
        tool_choice=choice,
    )


class ToolLoop:
    """A loop's state: the conversation so far and the steps done.

    ``calls`` says what to run after a step (nothing: the loop ends with it), ``next``
    records the step and makes the next request, ``combined`` is the result to return.
    """

    def __init__(self, request: Request, max_steps: int, check: Callable[..., None]) -> None:
        self.request = request
        self.max_steps = max_steps
        self.check = check
        self.steps: list[Generation] = []

    def calls(self, result: Generation) -> list[ToolCall]:
        if len(self.steps) + 1 >= self.max_steps or result.finish_reason is None:
            return []
        return _runnable(self.request, result)

    def next(self, result: Generation, results: list[ToolResult]) -> Request:
        self.steps.append(result)
        self.request = _next_request(self.request, result, results)
        self.check(self.request)
        return self.request

    def combined(self, last: Generation) -> Generation:
        return combine([*self.steps, last]) if self.steps else last


def run_loop(
    request: Request, result: Generation, max_steps: int, step: Step, check: Callable[..., None]
) -> Generation:
    """Steps 2..max_steps after ``result``, run synchronously; the combined result."""
    loop = ToolLoop(request, max_steps, check)
    while calls := loop.calls(result):
        result = step(loop.next(result, [_run(request.tools, call) for call in calls]))
    return loop.combined(result)


async def arun_loop(
    request: Request,
    result: Generation,
    max_steps: int,
    step: Callable[[Request], Awaitable[Generation]],
    check: Callable[..., None],
) -> Generation:
    """``run_loop`` for asyncio: the calls of one step run concurrently."""
    loop = ToolLoop(request, max_steps, check)
    while calls := loop.calls(result):
        results = await asyncio.gather(*(_arun(request.tools, call) for call in calls))
        result = await step(loop.next(result, list(results)))
    return loop.combined(result)


def combine(steps: list[Generation]) -> Generation:
    """The last step, with every step in ``steps``, usage summed and warnings merged.

    A new object: each step's own Generation keeps its own usage.
    """
    last = steps[-1]
    if len(steps) == 1:
        return last
    usage: Usage = reduce(lambda a, b: a + b, (s.usage for s in steps))
    warnings: list[str] = []
    for s in steps:
        warnings.extend(w for w in s.warnings if w not in warnings)
    return replace(last, usage=usage, warnings=warnings, _steps=list(steps))


class StreamLoop(ToolLoop):
    """A streamed tool loop, for a :class:`~genkit.Stream` that reads every step.

    ``advance`` is called with each step's result when its stream ends; it runs the
    calls and returns the next step's request and event source, or ``None`` when the
    loop is done.  ``open_step`` makes the backend stream for a request.
    """

    def __init__(
        self,
        request: Request,
        max_steps: int,
        open_step: Callable[[Request], Callable[[], Any]],
        check: Callable[..., None],
        warnings: list[str],
    ) -> None:
        super().__init__(request, max_steps, check)
        self.open_step = open_step
        self.warnings = list(warnings)

    def advance(self, result: Generation) -> tuple[Request, Callable[[], Any]] | None:
        calls = self.calls(result)
        if not calls:
            return None
        request = self.next(result, [_run(self.request.tools, call) for call in calls])
        return request, self.open_step(request)

    async def aadvance(self, result: Generation) -> tuple[Request, Callable[[], Any]] | None:
        calls = self.calls(result)
        if not calls:
            return None
        results = await asyncio.gather(*(_arun(self.request.tools, call) for call in calls))
        request = self.next(result, list(results))
        return request, self.open_step(request)


# --------------------------------------------------------------------------- running a call


def _prepare(tools: Sequence[Tool], call: ToolCall) -> tuple[Callable[..., Any], Any, Any]:
    """The function and its validated arguments, or a ToolResult to send back instead."""
    tool = next((t for t in tools if t.name == call.name), None)
    if tool is None or tool.function is None:
        names = ", ".join(t.name for t in tools)
        raise _RefusedError(f"there is no tool named {call.name!r}; the tools are: {names}")
    function = tool.function
    try:
        args, kwargs = bind_arguments(function, call.arguments)
    except BadFunctionError:
        args, kwargs = [], dict(call.arguments)  # a Tool's function without hints: as given
    except ValueError as error:  # pydantic.ValidationError
        raise _RefusedError(f"invalid arguments for {call.name!r}: {error}") from None
    return function, args, kwargs


class _RefusedError(Exception):
    """A call genkit does not run; ``args[0]`` is what the model is told."""


def _run(tools: Sequence[Tool], call: ToolCall) -> ToolResult:
    try:
        function, args, kwargs = _prepare(tools, call)
    except _RefusedError as refused:
        return _error(call, str(refused))
    try:
        output = function(*args, **kwargs)
        if inspect.isawaitable(output):
            # An async tool in the sync loop: run it to completion on a loop of its own.
            output = asyncio.run(_awaited(output))
    except Exception as error:  # the model reads it and may retry; nothing is swallowed
        return _error(call, f"{type(error).__name__}: {error}")
    return ToolResult(call.id, to_text(output), name=call.name)


async def _arun(tools: Sequence[Tool], call: ToolCall) -> ToolResult:
    try:
        function, args, kwargs = _prepare(tools, call)
    except _RefusedError as refused:
        return _error(call, str(refused))
    try:
        if inspect.iscoroutinefunction(function):
            output = await function(*args, **kwargs)
        else:
            # A sync tool may block (I/O, CPU): in a thread, never on the event loop.
            output = await asyncio.to_thread(function, *args, **kwargs)
            if inspect.isawaitable(output):
                output = await output
    except Exception as error:
        return _error(call, f"{type(error).__name__}: {error}")
    return ToolResult(call.id, to_text(output), name=call.name)


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _error(call: ToolCall, text: str) -> ToolResult:
    return ToolResult(call.id, text or "error", name=call.name, is_error=True)


def to_text(output: Any) -> str:
    """A tool's return value as the text the model reads: a str as is, else JSON."""
    if isinstance(output, str):
        return output or "(no output)"
    try:
        from pydantic_core import to_json
    except ImportError:  # pragma: no cover - pydantic ships with the tools extra
        return json.dumps(output, default=str, ensure_ascii=False)
    return to_json(output, fallback=str).decode()
