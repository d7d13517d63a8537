"""Structured output: ``schema=`` per call against the raw SDK's own parse helper.

The method of ``bench.call_overhead``: ``gen.generate(prompt, schema=Person).parsed`` against
``client.chat.completions.parse(response_format=Person)`` / ``client.messages.parse(
output_format=Person)``, both sending the model's strict JSON Schema and validating the answer
(nested model, list, float) that ``fakeprovider/lean.py`` sends to every structured request.

Target: genkit ≤ 1.05 x the raw helper per call (and ≤ +100 µs).
"""

from __future__ import annotations

import json
import sys
from functools import partial

from pydantic import BaseModel

from bench import _common as h
from bench._backends import raw_supports, wire_check
from bench.call_overhead import (
    Variant,
    genkit_vs_raw,
    overhead_parser,
    per_call,
    report,
    wire_table,
)
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
    run = h.begin(
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
    report(run, per_call(run, backends, request="schema=Person", sides=genkit_vs_raw(SCHEMA)))
    return run.status


if __name__ == "__main__":
    sys.exit(main())
