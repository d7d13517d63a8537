"""Structured output: ``schema=`` per call against the raw SDK's own parse helper.

    python -m bench.structured [--calls 5] [--rounds 300] [--backends openai anthropic]

On the harness (``bench/_common.py``, ``bench/_backends.py``) with the method, A/A rows
and wire check of ``bench.call_overhead``; the backends measured are those whose raw SDK
has a parse helper compared here.  genkit calls ``gen.generate(prompt, schema=Person)``
and reads ``result.parsed``; the raw SDK calls its own helper with the same pydantic
model - ``client.chat.completions.parse(response_format=Person)`` (OpenAI),
``client.messages.parse(output_format=Person)`` (Anthropic) - and reads its parsed
object.  Both send the model's JSON Schema in their provider's strict dialect and both
parse and validate the answer, a JSON object of that model (nested model, list, float)
that ``fakeprovider/lean.py`` sends to every request asking for structured output; the
first call each way checks that both parsed the same object.

Target: genkit ≤ 1.05 x the raw helper per call (and ≤ +100 µs).
"""

from __future__ import annotations

import json
import sys

import genkit
from bench._backends import (
    Ask,
    RawClient,
    WireCase,
    genkit_aparse,
    genkit_parse,
    raw_supports,
    wire_check,
)
from bench._common import begin
from bench.call_overhead import Variant, overhead_parser, per_call, report, wire_table
from fakeprovider.lean import STRUCTURED

try:
    from pydantic import BaseModel
except ImportError:  # pragma: no cover - pydantic comes with every SDK measured here
    raise SystemExit("bench.structured needs pydantic") from None


class Address(BaseModel):
    street: str
    city: str
    country: str


class Person(BaseModel):
    """A person as the bench server describes one (``fakeprovider.lean.STRUCTURED``)."""

    name: str
    age: int
    email: str
    tags: list[str]
    address: Address
    score: float


def parse_ask(raw: RawClient) -> Ask:
    return raw.parse_ask(Person)


SCHEMA = Variant(
    parse_ask, lambda gen: genkit_parse(gen, Person), lambda gen: genkit_aparse(gen, Person)
)


def wire_cases(backend: str, gen: genkit.Generator, raw: RawClient) -> list[WireCase]:
    del backend
    return [("schema=Person", raw.caller("plain", parse_ask(raw)), genkit_parse(gen, Person))]


def main(argv: list[str] | None = None) -> int:
    args = overhead_parser(__doc__).parse_args(argv)
    run = begin(
        "Structured output per call: schema= vs the raw SDK's parse helper",
        args,
        f"{args.rounds} rounds x {args.calls} calls per side and mode, ABBA-interleaved, "
        "after 50 warm-up calls each; every call timed on its own (wall and CPU time)",
        "raw SDK: max_retries=0, same base URL/key, its own parse helper; genkit: its defaults",
    )
    Person.model_validate(STRUCTURED)  # the server's answer fits the model
    backends = raw_supports(run.backends, lambda raw: raw.parse_ask(Person))
    if skipped := [b for b in run.backends if b not in backends]:
        print(f"\n(no raw parse helper compared here for: {', '.join(skipped)})")
    if not args.no_wire_check:
        wire_table(run, wire_check(backends, wire_cases, answer=json.dumps(STRUCTURED)))
    report(run, per_call(run, backends, variant=SCHEMA, request="schema=Person"))
    return run.status


if __name__ == "__main__":
    sys.exit(main())
