"""Tools: a long streamed tool call through ``stream.events()``, and calls declaring 20 tools.

    python -m bench.tools [--fragments 2000] [--stream-rounds 10] [--rounds 300]
                          [--parts stream calls] [--backends openai anthropic]

On the harness (``bench/_common.py``, ``bench/_backends.py``); the backends measured are
those whose raw SDK has the helpers compared here (OpenAI, Anthropic).  Two parts:

- **stream**: one tool call whose arguments arrive in ``--fragments`` pieces (one SSE event
  each, in the provider's wire format: ``fakeprovider/lean.py`` renders it once with the
  same renderers as the test server).  genkit reads ``stream.events()`` and counts the
  :class:`genkit.ToolCallDelta` events, then takes the complete call from
  ``stream.result.tool_calls``; the raw side uses the SDK's own accumulating helper
  (``client.chat.completions.stream(...)``, ``client.messages.stream(...)``), counts its
  argument-delta events and takes the call from its final answer (OpenAI's arguments parsed
  with ``json.loads``, as genkit parses them; Anthropic's helper parses them itself).
  Figure: argument fragments per second (wall and CPU), paired per round; ABBA order, a
  ``gc.collect()`` before each stream; every sample checks both sides' fragments and call.
  Target: genkit ≥ the raw helper.
- **calls**: per-call overhead of a call declaring 20 tools, answered with one tool call.
  genkit gets 20 plain Python functions (converted to tools once, cached); the raw SDK sends
  the same 20 definitions, written as its users write them (the JSON Schema of each
  function's parameters taken from genkit's conversion once, before timing, so both bodies
  carry the same schemas).  Both read the call's name and parsed arguments.  Same method,
  A/A rows and wire check as ``bench.call_overhead``.  Target: ≤ 1.05 x raw (and ≤ +100 µs).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any, Literal

import genkit
from bench._backends import (
    Ask,
    RawClient,
    ToolStreamResult,
    WireCase,
    genkit_atool_call,
    genkit_atool_stream,
    genkit_tool_call,
    genkit_tool_stream,
    load_generator,
    raw_client,
    raw_supports,
    wire_check,
)
from bench._common import Run, begin, columns, paired, pct, verdict
from bench.call_overhead import Variant, overhead_parser, per_call, report, wire_table
from bench.streaming import run_async, run_sync
from fakeprovider.lean import STREAM_TOOL

PARTS = ("stream", "calls")
TOOL_COUNT = 20
THROUGHPUT_TARGET = 1.0

# --------------------------------------------------------------------------- the tools


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
    code: types.CodeType = template.__code__
    name = f"tool_{index:02d}"
    function = types.FunctionType(code, template.__globals__, name, template.__defaults__)
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


def tool_definitions(raw: RawClient) -> list[dict[str, Any]]:
    """The 20 tools as the raw SDK's user declares them (schemas as genkit converted them)."""
    from genkit._tooling import function_tool

    return [raw.tool(function_tool(f)) for f in TOOLS]


def with_tools(raw: RawClient) -> Ask:
    return raw.tool_caller(tool_definitions(raw))


TWENTY_TOOLS = Variant(
    with_tools,
    lambda gen: genkit_tool_call(gen, TOOLS),
    lambda gen: genkit_atool_call(gen, TOOLS),
)


def wire_cases(backend: str, gen: genkit.Generator, raw: RawClient) -> list[WireCase]:
    del backend
    stream_tools = [raw.tool(NOTE)]
    return [
        ("20 tools", raw.caller("plain", with_tools(raw)), genkit_tool_call(gen, TOOLS)),
        ("tool stream", raw.tool_stream(stream_tools), genkit_tool_stream(gen, [NOTE])),
    ]


# --------------------------------------------------------------------------- the stream

#: One stream: (fragments per wall second, fragments per CPU second)
Sample = tuple[float, float]


def _figures(
    result: ToolStreamResult, wall: float, cpu: float, expected: ToolStreamResult
) -> Sample:
    if result != expected:
        raise RuntimeError(
            f"a stream read {result[0]} fragments and {result[1]!r}, expected {expected[0]} "
            f"and {expected[1]!r}"
        )
    return result[0] / wall, result[0] / cpu


def measure_streams(run: Run, backends: list[str]) -> None:
    args = run.args
    rows: list[list[str]] = []
    cpu_rows: list[list[str]] = []
    with run.server(chunks=args.fragments) as server:
        for backend in backends:
            raw, gen = raw_client(backend, server), load_generator(backend, server)
            tools = [raw.tool(NOTE)]
            for mode in args.modes:
                if mode == "sync":
                    streams = {
                        "raw": raw.tool_stream(tools),
                        "genkit": genkit_tool_stream(gen, [NOTE]),
                    }
                    runs = run_sync(streams, args.stream_rounds, _figures)
                else:
                    astreams = {
                        "raw": raw.atool_stream(tools),
                        "genkit": genkit_atool_stream(gen, [NOTE]),
                    }
                    runs = run_async(astreams, args.stream_rounds, _figures, raw.aclose, gen.aclose)
                raw_rate, raw_cpu = columns(runs["raw"])
                gk_rate, gk_cpu = columns(runs["genkit"])
                ratio = paired(runs["raw"], runs["genkit"], lambda r, g: g[0] / r[0])
                cpu_ratio = paired(runs["raw"], runs["genkit"], lambda r, g: g[1] / r[1])
                run.check(ratio >= THROUGHPUT_TARGET and cpu_ratio >= THROUGHPUT_TARGET)
                for out, r, g, x in (
                    (rows, raw_rate, gk_rate, ratio),
                    (cpu_rows, raw_cpu, gk_cpu, cpu_ratio),
                ):
                    per_fragment = f"{(1 / g - 1 / r) * 1e6:+.2f}"
                    cells = [backend, mode, f"{r:,.0f}", f"{g:,.0f}", pct(x), per_fragment]
                    out.append([*cells, verdict(x >= THROUGHPUT_TARGET)])
            gen.close()
            raw.close()
    head = (
        "backend | mode | raw helper {u} | genkit events() {u} | genkit/raw "
        "| Δ µs per fragment | target ≥ 100%"
    )
    run.table(
        f"Tool-call stream, {args.fragments} argument fragments, wall clock (medians)",
        head.format(u="fragments/s"),
        rows,
        notes=[
            "genkit/raw (paired) = median over rounds of genkit's rate / the adjacent raw "
            "stream's rate; the rate columns are plain medians.",
        ],
    )
    run.table(
        "Tool-call stream, client CPU time (robust to other load)",
        head.format(u="fragments/CPU s"),
        cpu_rows,
        footer=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser_ = overhead_parser(__doc__)
    parser_.add_argument("--parts", nargs="*", choices=PARTS, default=list(PARTS))
    parser_.add_argument(
        "--fragments", type=int, default=2000, help="argument fragments of the streamed call"
    )
    parser_.add_argument("--stream-rounds", type=int, default=10, help="ABBA rounds of streams")
    args = parser_.parse_args(argv)
    run = begin(
        "Tools: a long streamed tool call, and calls declaring 20 tools",
        args,
        f"stream: {args.fragments} argument fragments, {args.stream_rounds} streams per side "
        "and mode, ABBA after one warm-up stream each",
        f"calls: {TOOL_COUNT} tools, {args.rounds} rounds x {args.calls} calls per side and "
        "mode, ABBA after 50 warm-up calls each",
        "raw SDK: max_retries=0, same base URL/key/body; genkit: its defaults",
    )
    backends = raw_supports(run.backends, lambda raw: raw.tool(NOTE))
    if skipped := [b for b in run.backends if b not in backends]:
        print(f"\n(no raw tool helpers compared here for: {', '.join(skipped)})")
    if not args.no_wire_check:
        wire_table(run, wire_check(backends, wire_cases))
    if "stream" in args.parts:
        measure_streams(run, backends)
    if "calls" in args.parts:
        rows = per_call(run, backends, variant=TWENTY_TOOLS, request=f"{TOOL_COUNT} tools")
        report(run, rows)
    return run.status


if __name__ == "__main__":
    sys.exit(main())
