"""Structured output: ``schema=`` per call against the raw SDK's own parse helper.

    python -m bench.structured [--calls 5] [--rounds 300] [--backends openai anthropic]

The method, A/A rows and wire check of ``bench.call_overhead``, for the backends whose raw
SDK has a parse helper compared here.  genkit calls ``gen.generate(prompt, schema=Person)``
and reads ``result.parsed``; the raw SDK calls its helper with the same pydantic model
(``client.chat.completions.parse(response_format=Person)``,
``client.messages.parse(output_format=Person)``) and reads its parsed object.  Both send the
model's JSON Schema in their provider's strict dialect and parse and validate the answer
(nested model, list, float) that ``fakeprovider/lean.py`` sends to every structured request;
the first call each way checks that both parsed the same object.

Target: genkit ≤ 1.05 x the raw helper per call (and ≤ +100 µs).
"""

from __future__ import annotations

import json
import sys
from functools import partial

from pydantic import BaseModel

from bench._backends import raw_supports, wire_check
from bench._common import begin
from bench.call_overhead import Variant, overhead_parser, per_call, report, wire_table
from fakeprovider.lean import STRUCTURED


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


SCHEMA = Variant(lambda raw: raw.parse_ask(Person), lambda r: r.parsed, {"schema": Person})


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
    backends = raw_supports(run.backends, SCHEMA.ask, "raw parse helper")
    if not args.no_wire_check:
        cases = partial(SCHEMA.cases, "schema=Person")
        wire_table(run, wire_check(backends, cases, answer=json.dumps(STRUCTURED)))
    report(run, per_call(run, backends, variant=SCHEMA, request="schema=Person"))
    return run.status


if __name__ == "__main__":
    sys.exit(main())
