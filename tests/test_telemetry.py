"""Telemetry and cost, through the public API against the real SDKs and the fake server.

OpenTelemetry is checked with the SDK's in-memory span exporter and metric reader:
one ``chat {model}`` CLIENT span per call with one child per attempt, the GenAI
attributes, ``error.type`` on failure, and the two GenAI histograms.  The ``genkit``
logger must write exactly one DEBUG line per attempt.  No key and no prompt may reach
an attribute or a log line.  Cost must match ``genai-prices`` for the model that
answered, be ``None`` where there is no price, and price each request of a sum on its
own.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from genai_prices import Usage as PriceUsage
from genai_prices import calc_price
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import genkit
from fakeprovider import FakeProviderServer, Reply
from genkit import telemetry
from tests.hosted import HOSTED, Hosted, point_sdks_at

FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)
#: Sent as the API key and as the prompt: neither may appear in telemetry.
SECRET_KEY = "sk-telemetry-SENTINEL-KEY-7f3a9c"
PROMPT = "PROMPT-SENTINEL tell me about the lighthouse"
GOOD = "the lamp turns all night"
USAGE = (11, 7)
PROVIDER_NAMES = {"openai": "openai", "anthropic": "anthropic", "gemini": "gcp.gemini"}
PRICE_IDS = {"openai": "openai", "anthropic": "anthropic", "gemini": "google"}

Mode = Literal["call", "stream", "acall", "astream"]
MODES: tuple[Mode, ...] = ("call", "stream", "acall", "astream")
CASES = [pytest.param(h, m, id=f"{h}-{m}") for h in HOSTED for m in MODES]


# --------------------------------------------------------------------------- fixtures


@dataclass
class Otel:
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader

    def finished(self) -> list[ReadableSpan]:
        """genkit's finished spans (a vendor SDK may add its own, nested in the attempts)."""
        spans = [s for s in self.spans.get_finished_spans() if _scope(s) == "genkit"]
        return sorted(spans, key=lambda s: s.start_time or 0)

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        if data is None:
            return []
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


def _scope(span: ReadableSpan) -> str | None:
    scope = span.instrumentation_scope
    return scope.name if scope is not None else None


def _reset_otel_globals() -> None:
    """Forget the global providers, which OpenTelemetry lets a process set only once.

    Tests need a fresh pair each, and the rest of the suite none at all; this is what
    OpenTelemetry's own test utilities do.
    """
    from opentelemetry.metrics import _internal as metrics_internal
    from opentelemetry.util._once import Once

    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    # The proxy hands a provider set later to the instruments made on it: a fresh one,
    # or it would hand out instruments of an earlier test's provider.
    metrics_internal._PROXY_METER_PROVIDER = metrics_internal._ProxyMeterProvider()


@contextlib.contextmanager
def _in_memory(*, set_meter_provider: bool = True) -> Iterator[tuple[Otel, MeterProvider]]:
    """Tracer and meter providers with in-memory exporters, the tracer provider set
    globally (the meter provider too unless told not to), both reset afterwards."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    _reset_otel_globals()
    trace.set_tracer_provider(tracer_provider)
    if set_meter_provider:
        metrics.set_meter_provider(meter_provider)
    try:
        yield Otel(exporter, reader), meter_provider
    finally:
        _reset_otel_globals()
        tracer_provider.shutdown()
        meter_provider.shutdown()


@pytest.fixture
def otel() -> Iterator[Otel]:
    with _in_memory() as (installed, _):
        yield installed


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="genkit")
    return caplog


def _attempt_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "genkit" and r.levelno == logging.DEBUG]


def _load(hosted: Hosted, **kwargs: Any) -> genkit.Generator:
    model = kwargs.pop("model", hosted.model)
    return genkit.load(
        f"{hosted.provider}:{model}", api_key=SECRET_KEY, retry=FAST, max_retries=2, **kwargs
    )


# --------------------------------------------------------------------------- driving a call


@dataclass
class Run:
    result: genkit.Generation | None = None
    error: genkit.ProviderError | None = None
    #: spans finished when the first chunk reached the caller (stream modes)
    finished_at_first_chunk: int | None = None
    received: list[str] = field(default_factory=list)


def _drive(gen: genkit.Generator, mode: Mode, otel: Otel | None = None, **params: Any) -> Run:
    run = Run()

    def first_chunk() -> None:
        if otel is not None and run.finished_at_first_chunk is None:
            run.finished_at_first_chunk = len(otel.finished())

    try:
        if mode == "call":
            run.result = gen.generate(PROMPT, **params)
        elif mode == "stream":
            with gen.stream(PROMPT, **params) as stream:
                for chunk in stream:
                    first_chunk()
                    run.received.append(chunk.text)
                run.result = stream.result
        else:
            asyncio.run(_adrive(gen, mode, run, first_chunk, params))
    except genkit.ProviderError as error:
        run.error = error
    return run


async def _adrive(
    gen: genkit.Generator, mode: Mode, run: Run, first_chunk: Any, params: dict[str, Any]
) -> None:
    try:
        if mode == "acall":
            run.result = await gen.agenerate(PROMPT, **params)
            return
        async with gen.astream(PROMPT, **params) as stream:
            async for chunk in stream:
                first_chunk()
                run.received.append(chunk.text)
            run.result = await stream.get_result()
    finally:
        await gen.aclose()


def _call_span(otel: Otel, hosted: Hosted) -> tuple[ReadableSpan, list[ReadableSpan]]:
    """The call span and its attempt spans; fails unless that is every span there is."""
    spans = otel.finished()
    calls = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert len(calls) == 1, [s.name for s in spans]
    call = calls[0]
    assert call.name == f"chat {hosted.model}"
    assert call.parent is None
    attempts = [
        s for s in spans if s.parent is not None and s.parent.span_id == call.context.span_id
    ]
    assert len(attempts) + 1 == len(spans), [s.name for s in spans]
    assert all(s.context.trace_id == call.context.trace_id for s in attempts)
    numbers = [(s.attributes or {}).get("genkit.attempt") for s in attempts]
    assert numbers == list(range(1, len(attempts) + 1))
    assert call.start_time is not None
    assert call.end_time is not None
    assert call.start_time <= attempts[0].start_time  # type: ignore[operator]
    assert call.end_time >= attempts[-1].end_time  # type: ignore[operator]
    # The attempt is the current span while it runs: an instrumented SDK's spans nest in it.
    attempt_ids = {a.context.span_id for a in attempts}
    for other in otel.spans.get_finished_spans():
        if _scope(other) != "genkit":
            assert other.parent is not None
            assert other.parent.span_id in attempt_ids
    return call, attempts


def _no_secret_anywhere(otel: Otel | None, caplog: pytest.LogCaptureFixture) -> None:
    texts: list[str] = []
    if otel is not None:
        for span in otel.spans.get_finished_spans():
            texts.append(span.name)
            # repr, not str: a bytes value then shows its content too (an ASCII secret verbatim).
            texts.extend(f"{k}={v!r}" for k, v in (span.attributes or {}).items())
            texts.extend(str(event.attributes) for event in span.events)
            texts.append(str(span.status.description))
    for record in caplog.records:
        if record.name == "genkit":
            texts.append(record.getMessage())
            texts.append(json.dumps(getattr(record, "genkit", None), default=str))
    assert texts
    for text in texts:
        assert SECRET_KEY not in text
        assert "PROMPT-SENTINEL" not in text
        assert "lighthouse" not in text


# --------------------------------------------------------------------------- spans, logs, metrics


@pytest.mark.parametrize(("hosted", "mode"), CASES)
def test_a_retried_call_is_one_span_with_one_child_per_attempt(
    server: FakeProviderServer,
    otel: Otel,
    debug_log: pytest.LogCaptureFixture,
    hosted: Hosted,
    mode: Mode,
) -> None:
    server.script(
        Reply.error(503, retry_after=0),
        Reply.text(GOOD, chunks=["the lamp", " turns all night"], usage=USAGE),
    )
    gen = _load(hosted)
    try:
        run = _drive(gen, mode, otel, temperature=0.5, max_tokens=17)
    finally:
        gen.close()
    assert run.error is None, run.error
    assert run.result is not None
    assert run.result.text == GOOD
    assert len(server.requests) == 2

    call, attempts = _call_span(otel, hosted)
    assert len(attempts) == 2
    failed, answered = attempts
    assert failed.attributes is not None
    assert answered.attributes is not None
    assert failed.attributes["error.type"] == "ServerError"
    assert failed.attributes["http.response.status_code"] == 503
    assert failed.status.status_code == StatusCode.ERROR
    assert "error.type" not in answered.attributes
    assert failed.end_time is not None
    assert answered.start_time is not None
    assert failed.end_time <= answered.start_time
    if mode in ("stream", "astream"):
        # The failed attempt was over when text arrived; the call was not: the call
        # span (and the answering attempt) last until the stream ends.
        assert run.finished_at_first_chunk == 1

    attributes = dict(call.attributes or {})
    first_chunk = attributes.pop("gen_ai.response.time_to_first_chunk", None)
    if mode in ("stream", "astream"):
        assert isinstance(first_chunk, float)
        assert first_chunk > 0
    else:
        assert first_chunk is None
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": PROVIDER_NAMES[hosted.provider],
        "gen_ai.request.model": hosted.model,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.max_tokens": 17,
        "gen_ai.response.model": run.result.model,
        "gen_ai.usage.input_tokens": USAGE[0],
        "gen_ai.usage.output_tokens": USAGE[1],
        "gen_ai.response.finish_reasons": ("stop",),
    }
    assert call.status.status_code == StatusCode.UNSET

    # One DEBUG line per attempt: the failure with its wait, then the answer.
    lines = [r.getMessage() for r in _attempt_lines(debug_log)]
    assert len(lines) == 2, lines
    assert f"{hosted.provider}:{hosted.model} attempt 1/3: ServerError 503 in " in lines[0]
    assert "; retrying in 0.00 s (Retry-After)" in lines[0]
    assert f"{hosted.provider}:{hosted.model} attempt 2/3: ok in " in lines[1]
    assert "tokens 11 in / 7 out" in lines[1]
    record = _attempt_lines(debug_log)[1]
    fields = record.genkit  # type: ignore[attr-defined]
    assert fields["outcome"] == "ok"
    assert (fields["input_tokens"], fields["output_tokens"]) == USAGE

    duration = otel.points("gen_ai.client.operation.duration")
    assert len(duration) == 1
    assert duration[0].count == 1
    assert dict(duration[0].attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": PROVIDER_NAMES[hosted.provider],
        "gen_ai.request.model": hosted.model,
        "gen_ai.response.model": run.result.model,
    }
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum for p in otel.points("gen_ai.client.token.usage")
    }
    assert tokens == {"input": USAGE[0], "output": USAGE[1]}

    _no_secret_anywhere(otel, debug_log)


@pytest.mark.parametrize(("hosted", "mode"), CASES)
def test_a_final_error_sets_error_type(
    server: FakeProviderServer,
    otel: Otel,
    debug_log: pytest.LogCaptureFixture,
    hosted: Hosted,
    mode: Mode,
) -> None:
    server.script(Reply.error(400))
    gen = _load(hosted)
    try:
        run = _drive(gen, mode, otel)
    finally:
        gen.close()
    assert isinstance(run.error, genkit.BadRequestError)
    call, attempts = _call_span(otel, hosted)
    assert len(attempts) == 1
    assert call.attributes is not None
    assert call.attributes["error.type"] == "BadRequestError"
    assert call.status.status_code == StatusCode.ERROR
    assert "gen_ai.usage.input_tokens" not in call.attributes
    assert attempts[0].attributes is not None
    assert attempts[0].attributes["http.response.status_code"] == 400

    lines = [r.getMessage() for r in _attempt_lines(debug_log)]
    assert len(lines) == 1, lines
    assert "attempt 1/3: BadRequestError 400 in " in lines[0]
    assert lines[0].endswith("; not retried: not retryable")

    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "BadRequestError"
    assert otel.points("gen_ai.client.token.usage") == []
    _no_secret_anywhere(otel, debug_log)


@pytest.mark.parametrize("mode", MODES)
def test_exhausted_retries_are_three_attempt_spans_and_three_lines(
    server: FakeProviderServer, otel: Otel, debug_log: pytest.LogCaptureFixture, mode: Mode
) -> None:
    hosted = HOSTED[0]
    server.script(Reply.error(503, retry_after=0).times(3))
    gen = _load(hosted)
    try:
        run = _drive(gen, mode, otel)
    finally:
        gen.close()
    assert isinstance(run.error, genkit.ServerError)
    call, attempts = _call_span(otel, hosted)
    assert len(attempts) == 3
    assert all(a.attributes and a.attributes["error.type"] == "ServerError" for a in attempts)
    assert call.attributes is not None
    assert call.attributes["error.type"] == "ServerError"
    lines = [r.getMessage() for r in _attempt_lines(debug_log)]
    assert len(lines) == 3, lines
    assert ["retrying in" in line for line in lines] == [True, True, False]
    assert lines[2].endswith("; not retried: retries exhausted")


def test_a_stream_broken_after_text_ends_its_span_with_the_error(
    server: FakeProviderServer, otel: Otel, debug_log: pytest.LogCaptureFixture
) -> None:
    hosted = HOSTED[0]
    server.script(Reply.reset_during(2))
    gen = _load(hosted)
    try:
        run = _drive(gen, "stream", otel)
    finally:
        gen.close()
    assert isinstance(run.error, genkit.ConnectionError)
    assert run.received
    call, attempts = _call_span(otel, hosted)
    assert len(attempts) == 1
    assert call.attributes is not None
    assert call.attributes["error.type"] == "ConnectionError"
    (line,) = [r.getMessage() for r in _attempt_lines(debug_log)]
    assert "attempt 1/3: ConnectionError in " in line
    assert line.endswith("; not retried: text had already reached the caller")


@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_a_stream_closed_early_ends_its_span(
    server: FakeProviderServer, otel: Otel, debug_log: pytest.LogCaptureFixture, mode: str
) -> None:
    hosted = HOSTED[1]
    server.script(Reply.text("one two three four five six"))
    gen = _load(hosted)

    async def astream() -> None:
        async with gen.astream(PROMPT) as stream:
            async for _ in stream:
                assert otel.finished() == []
                break
        await gen.aclose()

    try:
        if mode == "stream":
            with gen.stream(PROMPT) as stream:
                for _ in stream:
                    assert otel.finished() == []
                    break
        else:
            asyncio.run(astream())
    finally:
        gen.close()
    call, attempts = _call_span(otel, hosted)
    assert len(attempts) == 1
    assert call.status.status_code == StatusCode.UNSET
    (line,) = [r.getMessage() for r in _attempt_lines(debug_log)]
    assert "attempt 1/3: closed early in " in line


def test_spans_nest_under_the_callers_span(server: FakeProviderServer, otel: Otel) -> None:
    hosted = HOSTED[2]
    gen = _load(hosted)
    tracer = trace.get_tracer("the-app")
    try:
        with tracer.start_as_current_span("handle request") as parent:
            gen.generate(PROMPT)
    finally:
        gen.close()
    spans = {s.name: s for s in otel.finished()}
    call = spans[f"chat {hosted.model}"]
    assert call.parent is not None
    assert call.parent.span_id == parent.get_span_context().span_id


def test_a_meter_provider_set_after_tracing_began_gets_the_metrics(
    server: FakeProviderServer,
) -> None:
    """With tracing on genkit does not look the meter provider up per call (that costs
    an environment read while none is set): its instruments follow the API's proxy."""
    with _in_memory(set_meter_provider=False) as (otel, meter_provider):
        server.script(Reply.text(GOOD, usage=(1000, 500)), Reply.text(GOOD, usage=USAGE))
        with _load(HOSTED[0]) as gen:
            gen.generate(PROMPT)  # traced; no meter provider yet: in no metric
            metrics.set_meter_provider(meter_provider)
            gen.generate(PROMPT)
        assert len([s for s in otel.finished() if s.parent is None]) == 2
        (duration,) = otel.points("gen_ai.client.operation.duration")
        assert duration.count == 1
        tokens = {
            p.attributes["gen_ai.token.type"]: p.sum
            for p in otel.points("gen_ai.client.token.usage")
        }
        assert tokens == {"input": USAGE[0], "output": USAGE[1]}


def test_debug_lines_only_when_debug_is_on(
    server: FakeProviderServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="genkit")
    server.script(Reply.error(503, retry_after=0), Reply.text(GOOD))
    with _load(HOSTED[0]) as gen:
        assert gen.generate(PROMPT).text == GOOD
    assert _attempt_lines(caplog) == []
    # The policy's INFO line about the retry is still there.
    assert [r.levelno for r in caplog.records if r.name == "genkit"] == [logging.INFO]


def test_nothing_is_observed_without_debug_or_a_configured_provider() -> None:
    """No provider set (only OpenTelemetry's stand-ins) and DEBUG off: no Call at all."""
    _reset_otel_globals()
    logging.getLogger("genkit").setLevel(logging.WARNING)
    try:
        request = genkit.params.Request("gpt-4o", (genkit.Message("user", "hi"),), {})
        assert telemetry.observe("openai", request, genkit.RetryPolicy()) is None
        assert telemetry.observe("openai", request, genkit.RetryPolicy(), stream=True) is None
    finally:
        logging.getLogger("genkit").setLevel(logging.NOTSET)


def _run_child(code: str, server: FakeProviderServer) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "GENKIT_", "OPENAI_", "ANTHROPIC_", "GEMINI_", "GOOGLE_"))
    }
    env.update(OPENAI_API_KEY=SECRET_KEY, OPENAI_BASE_URL=server.openai_base_url)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_import_and_a_call_import_neither_opentelemetry_nor_genai_prices(
    server: FakeProviderServer,
) -> None:
    code = (
        "import sys, genkit\n"
        "def optional():\n"
        "    found = {m.split('.')[0] for m in sys.modules}\n"
        "    return sorted(found & {'opentelemetry', 'genai_prices'})\n"
        "print(optional())\n"
        "gen = genkit.load('openai:gpt-4o')\n"
        "result = gen.generate('hi')\n"
        "print(optional())\n"
        "assert result.usage.cost > 0\n"
        "print(optional())\n"
    )
    assert _run_child(code, server).splitlines() == ["[]", "[]", "['genai_prices']"]


# --------------------------------------------------------------------------- cost


def _price(hosted: Hosted, model: str, usage: tuple[int, int]) -> float:
    price = calc_price(
        PriceUsage(input_tokens=usage[0], output_tokens=usage[1]),
        model_ref=model,
        provider_id=PRICE_IDS[hosted.provider],
    )
    return float(price.total_price)


@pytest.mark.parametrize(("hosted", "mode"), CASES)
def test_cost_is_genai_prices_price_for_the_usage(
    server: FakeProviderServer, hosted: Hosted, mode: Mode
) -> None:
    server.script(Reply.text(GOOD, usage=(1000, 500)))
    gen = _load(hosted)
    try:
        run = _drive(gen, mode)
    finally:
        gen.close()
    assert run.result is not None
    cost = run.result.usage.cost
    assert cost is not None
    assert cost > 0
    assert cost == pytest.approx(_price(hosted, hosted.model, (1000, 500)), rel=1e-12)


def test_cost_is_for_the_model_that_answered(server: FakeProviderServer) -> None:
    openai = HOSTED[0]
    server.script(Reply.text(GOOD, usage=(1000, 500), model="gpt-4o-2024-05-13"))
    with _load(openai) as gen:
        result = gen.generate(PROMPT)
    snapshot = _price(openai, "gpt-4o-2024-05-13", (1000, 500))
    assert snapshot != _price(openai, "gpt-4o", (1000, 500))
    assert result.usage.cost == pytest.approx(snapshot, rel=1e-12)


def test_an_unknown_model_costs_none(server: FakeProviderServer) -> None:
    with _load(HOSTED[0], model="my-own-finetune") as gen:
        result = gen.generate(PROMPT)
    assert result.usage.output_tokens > 0
    assert result.usage.cost is None


def test_a_local_model_costs_none_and_is_traced(tiny_gpt2_path: Path, otel: Otel) -> None:
    with genkit.load(f"huggingface:{tiny_gpt2_path}", max_tokens=4) as gen:
        result = gen.generate("hello")
        with gen.stream("hello") as stream:
            streamed = stream.result
    assert result.usage.output_tokens > 0
    assert result.usage.cost is None
    assert streamed.usage.cost is None
    calls = [s for s in otel.finished() if s.kind == SpanKind.CLIENT]
    assert len(calls) == 2
    for call in calls:
        assert call.attributes is not None
        assert call.attributes["gen_ai.provider.name"] == "huggingface"
        output_tokens = call.attributes["gen_ai.usage.output_tokens"]
        assert isinstance(output_tokens, int)
        assert output_tokens > 0


@pytest.mark.parametrize("mode", ["call", "stream"])
def test_anthropic_candidates_cost_the_sum_of_their_requests(
    server: FakeProviderServer, mode: Mode
) -> None:
    """n=2 is two requests: each is priced on its own, past the 200k-token tier included."""
    anthropic = HOSTED[1]
    model = "claude-sonnet-4-5"
    one = (150_000, 10)
    server.script(Reply.text("first", usage=one), Reply.text("second", usage=one))
    gen = _load(anthropic, model=model)
    try:
        run = _drive(gen, mode, n=2)
    finally:
        gen.close()
    assert run.result is not None
    assert len(server.requests) == 2
    usage = run.result.usage
    assert (usage.input_tokens, usage.output_tokens) == (300_000, 20)
    per_request = 2 * _price(anthropic, model, one)
    assert per_request != _price(anthropic, model, (300_000, 20))  # the tier is real
    assert usage.cost == pytest.approx(per_request, rel=1e-12)


def test_added_usages_add_their_costs(server: FakeProviderServer) -> None:
    """Usage from several calls (tool-loop steps, fallbacks) adds up, each priced as itself."""
    gemini, openai = HOSTED[2], HOSTED[0]
    big = (150_000, 10)
    server.script(
        Reply.text("a", usage=big), Reply.text("b", usage=big), Reply.text("c", usage=(9, 9))
    )
    with _load(gemini, model="gemini-2.5-pro") as gen:
        first, second = gen.generate(PROMPT), gen.generate(PROMPT)
    with _load(openai) as gen:
        third = gen.generate(PROMPT)
    total = first.usage + second.usage + third.usage
    assert (total.input_tokens, total.output_tokens) == (300_009, 29)
    expected = 2 * _price(gemini, "gemini-2.5-pro", big) + _price(openai, "gpt-4o", (9, 9))
    assert total.cost == pytest.approx(expected, rel=1e-12)
    assert total == genkit.Usage(300_009, 29)  # the price is no part of equality
    assert pickle.loads(pickle.dumps(total)).cost == total.cost
    assert copy.copy(first.usage).cost == first.usage.cost

    with _load(openai, model="my-own-finetune") as gen:
        unknown = gen.generate(PROMPT)
    assert (total + unknown.usage).cost is None
    assert genkit.Usage(5, 5).cost is None  # built by hand: no model, no price


def test_cost_without_genai_prices_names_the_extra(server: FakeProviderServer) -> None:
    code = (
        "import sys\n"
        "sys.modules['genai_prices'] = None  # as if the 'cost' extra were not installed\n"
        "import genkit\n"
        "result = genkit.load('openai:gpt-4o').generate('hi')\n"
        "try:\n"
        "    result.usage.cost\n"
        "except genkit.MissingDependencyError as error:\n"
        "    print(error)\n"
    )
    assert "pip install 'genkit-sdk[cost]'" in _run_child(code, server)
