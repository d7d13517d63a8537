"""Tools: a long streamed tool call through ``stream.events()``, and calls declaring 20 tools.

- **stream**: one tool call whose arguments arrive in ``--fragments`` SSE events.  genkit
  counts the ``ToolCallDelta`` events of ``stream.events()`` and takes the call from
  ``stream.result``; the raw side uses the SDK's accumulating helper
  (``client.chat.completions.stream``, ``client.messages.stream``) the same way.  Fragments
  per second, wall and CPU, paired, ABBA.  Target: genkit ≥ the raw helper.
- **calls**: a call declaring 20 tools, answered with one tool call: genkit gets 20 Python
  functions (converted once, cached), the raw SDK the same 20 definitions as its users write
  them.  The method of ``bench.call_overhead``.  Target: ≤ 1.05 x raw (and ≤ +100 µs).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any, Literal

import genkit
from bench import _common as h
from bench._backends import (
    Ask,
    RawClient,
    WireCase,
    calls_of,
    genkit_stream,
    raw_supports,
    wire_check,
)
from bench.call_overhead import (
    Variant,
    genkit_vs_raw,
    overhead_parser,
    per_call,
    report,
    wire_table,
)
from bench.streaming import PAIRED_NOTE, compare_streams, figures, rate_row
from fakeprovider.lean import STREAM_TOOL

PARTS = ("stream", "calls")
TOOL_COUNT = 20


def _forecast(city: str, days: int = 1, units: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """The weather forecast for a city.

    Args:
        city: The city's name, e.g. "Paris".
        days: How many days ahead, 1 to 14.
        units: The temperature scale of the answer.
    """
    return f"{city}: sunny for {days} days ({units})"


def _search(query: str, limit: int = 10, tags: list[str] | None = None) -> list[str]:
    """Search the knowledge base.

    Args:
        query: What to look for.
        limit: The most results to return.
        tags: Only documents with all of these tags.
    """
    return [query][:limit]


def _book(room: str, start: str, minutes: int, attendees: list[str]) -> bool:
    """Book a meeting room.

    Args:
        room: The room's id.
        start: The start time, ISO 8601.
        minutes: The meeting's length in minutes.
        attendees: Email addresses of the people invited.
    """
    return bool(room and start and minutes and attendees)


def _convert(amount: float, source: str, target: str) -> float:
    """Convert an amount between currencies.

    Args:
        amount: The amount in the source currency.
        source: ISO 4217 code of the source currency.
        target: ISO 4217 code of the target currency.
    """
    return amount


def _variant(template: Callable[..., Any], index: int) -> Callable[..., Any]:
    """A distinct function (its own name and docstring) with ``template``'s signature:
    20 tools an application might declare, each converted and cached by genkit on its own."""
    name = f"tool_{index:02d}"
    function = types.FunctionType(
        template.__code__, template.__globals__, name, template.__defaults__
    )
    function.__qualname__ = name
    function.__doc__ = (template.__doc__ or "").replace(".", f" (service {index}).", 1)
    function.__annotations__ = dict(template.__annotations__)
    return function


TEMPLATES = (_forecast, _search, _book, _convert)
#: tool_00 .. tool_19; the bench server answers every request with tools by calling tool_00.
TOOLS = [_variant(TEMPLATES[i % len(TEMPLATES)], i) for i in range(TOOL_COUNT)]
#: The tool the streamed call names: one long string argument.
NOTE = genkit.Tool(
    STREAM_TOOL,
    "Write a note.",
    {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
)


def with_tools(raw: RawClient) -> Ask:
    """The 20 tools as the raw SDK's user declares them (schemas as genkit converted them)."""
    from genkit._tooling import function_tool

    return Ask({"tools": [raw.tool(function_tool(f)) for f in TOOLS]}, None, raw.tool_calls)


TWENTY_TOOLS = Variant(with_tools, calls_of, {"tools": TOOLS})


def wire_cases(gen: genkit.Generator, raw: RawClient) -> list[WireCase]:
    stream = ("tool stream", raw.tool_stream([raw.tool(NOTE)]), genkit_stream(gen, tools=[NOTE]))
    return [*TWENTY_TOOLS.cases("20 tools", gen, raw), stream]


def main(argv: list[str] | None = None) -> int:
    parser_ = overhead_parser(__doc__)
    parser_.add_argument("--parts", nargs="*", choices=PARTS, default=list(PARTS))
    help_ = "argument fragments of the streamed call"
    parser_.add_argument("--fragments", type=int, default=2000, help=help_)
    parser_.add_argument("--stream-rounds", type=int, default=10, help="ABBA rounds of streams")
    args = parser_.parse_args(argv)
    run = h.begin(
        "Tools: a long streamed tool call, and calls declaring 20 tools",
        args,
        f"stream: {args.fragments} argument fragments, {args.stream_rounds} streams per side "
        "and mode, ABBA after one warm-up stream each",
        f"calls: {TOOL_COUNT} tools, {args.rounds} rounds x {args.calls} calls per side and "
        "mode, ABBA after 50 warm-up calls each",
        "raw SDK: max_retries=0, same base URL/key/body; genkit: its defaults",
    )
    run.backends = raw_supports(run.backends, lambda raw: raw.tool(NOTE), "raw tool helpers")
    if not args.no_wire_check:
        wire_table(run, wire_check(run.backends, wire_cases))
    if "stream" in args.parts:

        def sides(raw: RawClient, gen: genkit.Generator, mode: str) -> dict[str, Any]:
            return {
                "raw": raw.tool_stream([raw.tool(NOTE)], mode),
                "genkit": genkit_stream(gen, mode, [NOTE]),
            }

        rows, cpu_rows = [], []
        compared = compare_streams(run, sides, args.stream_rounds, figures(), args.fragments)
        for backend, mode, runs in compared:
            rows.append(rate_row(run, [backend, mode], runs, 1, 1.0))
            cpu_rows.append(rate_row(run, [backend, mode], runs, 2, 1.0))
        head = "backend | mode | raw helper {u} | genkit events() {u} | genkit/raw "
        head += "| Δ µs per fragment | target ≥ 100%"
        title = f"Tool-call stream, {args.fragments} argument fragments, wall clock (medians)"
        run.table(title, head.format(u="fragments/s"), rows, notes=[PAIRED_NOTE])
        title = "Tool-call stream, client CPU time (robust to other load)"
        run.table(title, head.format(u="fragments/CPU s"), cpu_rows, footer=True)
    if "calls" in args.parts:
        sides_ = genkit_vs_raw(TWENTY_TOOLS)
        report(run, per_call(run, run.backends, request=f"{TOOL_COUNT} tools", sides=sides_))
    return run.status


if __name__ == "__main__":
    sys.exit(main())
