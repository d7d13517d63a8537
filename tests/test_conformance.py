"""One behavioural suite, run against every hosted backend through the real vendor SDKs.

Application code must not be able to tell the backends apart except by what the
models write: same calls, same result fields, same streaming, same errors, same
retries.  Each test runs once per provider against the local fake server and
asserts both what the user got and what the server received.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.hosted import HOSTED, PARAM_VALUES, Hosted, point_sdks_at

FAST = genkit.RetryPolicy(initial_backoff=0.001, max_backoff=0.01)


@pytest.fixture(params=HOSTED, ids=str)
def hosted(request: pytest.FixtureRequest) -> Hosted:
    spec: Hosted = request.param
    return spec


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


@pytest.fixture
def gen(hosted: Hosted, server: FakeProviderServer) -> Iterator[genkit.Generator]:
    generator = genkit.load(f"{hosted.provider}:{hosted.model}", retry=FAST)
    yield generator
    generator.close()


# --------------------------------------------------------------------------- call styles


def test_generate(gen: genkit.Generator, server: FakeProviderServer) -> None:
    server.script(Reply.text("Hello there", usage=(5, 2)))
    result = gen.generate("Once upon a time", max_tokens=20)
    assert result.text == "Hello there"
    assert result.texts == ["Hello there"]
    assert result.finish_reason == "stop"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (5, 2)
    assert result.usage.total_tokens == 7
    assert result.provider == gen.provider
    assert result.model
    assert result.raw is not None
    assert len(server.requests) == 1
    assert server.requests[0].protocol == gen.provider


def test_stream(gen: genkit.Generator, server: FakeProviderServer) -> None:
    server.script(Reply.text("one two three", chunks=["one", " two", " three"], usage=(4, 3)))
    with gen.stream("count") as stream:
        pieces = [chunk.text for chunk in stream]
    assert pieces == ["one", " two", " three"]
    result = stream.result
    assert result.text == "one two three"
    assert result.finish_reason == "stop"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (4, 3)
    assert server.requests[0].stream


async def test_agenerate(gen: genkit.Generator, server: FakeProviderServer) -> None:
    server.script(Reply.text("async hello", usage=(2, 2)))
    result = await gen.agenerate("hi")
    assert result.text == "async hello"
    assert result.usage.total_tokens == 4
    await gen.aclose()


async def test_astream(gen: genkit.Generator, server: FakeProviderServer) -> None:
    server.script(Reply.text("a b c", chunks=["a", " b", " c"], usage=(1, 3)))
    stream = gen.astream("hi")
    pieces = [chunk.text async for chunk in stream]
    assert pieces == ["a", " b", " c"]
    assert stream.result.text == "a b c"
    assert stream.result.finish_reason == "stop"
    assert stream.result.usage.output_tokens == 3
    await gen.aclose()


# --------------------------------------------------------------------------- prompts


def test_system_prompt_shortcut(
    hosted: Hosted, gen: genkit.Generator, server: FakeProviderServer
) -> None:
    gen.generate("hi", system="Be terse.")
    body = server.requests[-1].body
    assert body is not None
    assert hosted.system(body) == "Be terse."


def test_multi_turn_messages(
    hosted: Hosted, gen: genkit.Generator, server: FakeProviderServer
) -> None:
    gen.generate(
        [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Hi"},
            genkit.Message("assistant", "Hello!"),
            {"role": "user", "content": "How are you?"},
        ]
    )
    body = server.requests[-1].body
    assert body is not None
    assert hosted.system(body) == "You are helpful."
    assistant = "model" if hosted.provider == "gemini" else "assistant"
    assert hosted.roles(body) == ["user", assistant, "user"]


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("name", list(PARAM_VALUES))
def test_each_shared_parameter_reaches_its_wire_field(
    hosted: Hosted, gen: genkit.Generator, server: FakeProviderServer, name: str
) -> None:
    value = PARAM_VALUES[name]
    if name in hosted.unsupported:
        with pytest.raises(genkit.UnsupportedParameterError) as info:
            gen.generate("hi", **{name: value})
        assert info.value.parameter == name
        assert hosted.provider in str(info.value)
        assert server.requests == []
        return
    gen.generate("hi", **{name: value})
    body = server.requests[-1].body
    assert body is not None
    if name not in hosted.wire:  # emulated by genkit (Anthropic's n): nothing on the wire
        assert len(server.requests) == 1
        return
    sent = hosted.wire[name](body)
    assert sent == value or (isinstance(value, list) and list(sent) == value)


def test_load_defaults_apply_and_calls_override(hosted: Hosted, server: FakeProviderServer) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", temperature=0.25, max_tokens=11)
    assert gen.defaults == {"temperature": 0.25, "max_tokens": 11}
    gen.generate("hi", temperature=0.75)
    body = server.requests[-1].body
    assert body is not None
    assert hosted.wire["temperature"](body) == 0.75
    assert hosted.wire["max_tokens"](body) == 11


def test_unsupported_parameter_can_be_dropped_with_a_warning(
    hosted: Hosted, server: FakeProviderServer, caplog: pytest.LogCaptureFixture
) -> None:
    if not hosted.unsupported:
        pytest.skip(f"{hosted.provider} supports every shared parameter")
    name = hosted.unsupported[0]
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", drop_unsupported=True)
    with caplog.at_level("WARNING", logger="genkit"):
        result = gen.generate("hi", **{name: PARAM_VALUES[name]})
    assert any(name in w for w in result.warnings)
    assert any(name in r.getMessage() for r in caplog.records)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature", -0.1),
        ("top_p", 0),
        ("top_p", 1.5),
        ("max_tokens", 0),
        ("n", 0),
        ("temperature", "hot"),
        ("max_tokens", 2.5),
        ("stop", 5),
        ("stop", ["a", "b", "c", "d", "e", "f"]),
    ],
)
def test_out_of_range_values_fail_before_any_request(
    gen: genkit.Generator, server: FakeProviderServer, name: str, value: Any
) -> None:
    no_limit = gen.backend.capabilities.lookup(gen.model).max_stop is None
    if name == "stop" and isinstance(value, list) and no_limit:
        pytest.skip(f"{gen.provider} documents no limit on stop sequences")
    with pytest.raises(genkit.InvalidParameterError) as info:
        gen.generate("hi", **{name: value})
    assert info.value.parameter == name
    assert gen.provider in str(info.value)
    assert server.requests == []


def test_stop_sequences_end_generation(gen: genkit.Generator, server: FakeProviderServer) -> None:
    server.script(Reply.text("before", finish="stop_sequence"))
    result = gen.generate("hi", stop="END")
    assert result.finish_reason == "stop"


@pytest.mark.parametrize("finish", ["stop", "length", "content_filter", "tool_calls", "other"])
def test_finish_reasons_map_to_one_vocabulary(
    gen: genkit.Generator, server: FakeProviderServer, finish: str
) -> None:
    server.script(Reply.text("x", finish=finish), Reply.text("x", finish=finish))
    assert gen.generate("hi").finish_reason == finish
    with gen.stream("hi") as stream:
        list(stream)
    assert stream.result.finish_reason == finish


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "error_class", "retryable"),
    [
        (400, genkit.BadRequestError, False),
        (401, genkit.AuthenticationError, False),
        (403, genkit.PermissionDeniedError, False),
        (404, genkit.NotFoundError, False),
        (429, genkit.RateLimitError, True),
        (500, genkit.ServerError, True),
        (503, genkit.ServerError, True),
    ],
)
def test_each_error_status_becomes_one_typed_error(
    gen: genkit.Generator,
    server: FakeProviderServer,
    status: int,
    error_class: type[genkit.ProviderError],
    retryable: bool,
) -> None:
    server.script(*[Reply.error(status, message="scripted failure", retry_after=0)] * 3)
    with pytest.raises(error_class) as info:
        gen.generate("hi")
    error = info.value
    assert error.provider == gen.provider
    assert error.status_code == status
    assert error.retryable is retryable
    assert error.__cause__ is not None
    assert "scripted failure" in str(error)
    assert len(server.requests) == (3 if retryable else 1)


def test_rate_limit_with_retry_after_zero_is_retried_and_succeeds(
    gen: genkit.Generator, server: FakeProviderServer
) -> None:
    server.script(*[Reply.error(429, retry_after=0)] * 2, Reply.text("ok"))
    assert gen.generate("hi").text == "ok"
    assert len(server.requests) == 3


@pytest.mark.parametrize("max_retries", [0, 1, 4])
def test_attempts_equal_one_plus_max_retries(
    hosted: Hosted, server: FakeProviderServer, max_retries: int
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", retry=FAST, max_retries=max_retries)
    server.script(*[Reply.error(503, retry_after=0)] * (max_retries + 1))
    with pytest.raises(genkit.ServerError):
        gen.generate("hi")
    assert len(server.requests) == 1 + max_retries


def test_stream_is_retried_before_its_first_chunk(
    gen: genkit.Generator, server: FakeProviderServer
) -> None:
    server.script(Reply.error(503, retry_after=0), Reply.text("fine now", chunks=["fine", " now"]))
    with gen.stream("hi") as stream:
        assert "".join(c.text for c in stream) == "fine now"
    assert len(server.requests) == 2


def test_mid_stream_failure_keeps_the_text_received(
    gen: genkit.Generator, server: FakeProviderServer
) -> None:
    server.script(Reply.stream_error(after_chunks=2, status=503, message="Overloaded"))
    got: list[str] = []
    stream = gen.stream("hi")
    with pytest.raises(genkit.ServerError) as info:  # noqa: PT012 - the loop is the call
        for chunk in stream:
            got.append(chunk.text)
    assert got, "chunks before the failure must reach the caller"
    partial = info.value.partial
    assert partial is not None
    assert partial.text == "".join(got)
    assert partial.finish_reason is None
    assert stream.result.text == "".join(got)
    assert len(server.requests) == 1, "a stream that delivered text is never retried"


def test_breaking_out_of_a_stream_closes_the_connection(
    gen: genkit.Generator, server: FakeProviderServer
) -> None:
    server.script(Reply.text("x " * 2000, chunks=["x "] * 2000))
    with gen.stream("hi") as stream:
        for _chunk in stream:
            break
    assert server.wait_until(lambda s: s.connections_open == 0, timeout=5)


async def test_breaking_out_of_an_async_stream_closes_the_connection(
    gen: genkit.Generator, server: FakeProviderServer
) -> None:
    server.script(Reply.text("x " * 2000, chunks=["x "] * 2000))
    async with gen.astream("hi") as stream:
        async for _chunk in stream:
            break
    assert await asyncio.to_thread(server.wait_until, lambda s: s.connections_open == 0, 5)
    await gen.aclose()


# --------------------------------------------------------------------------- concurrency


def test_one_generator_shared_by_threads(gen: genkit.Generator, server: FakeProviderServer) -> None:
    server.default = Reply.text("shared")
    results: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                results.append(gen.generate("hi").text)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == ["shared"] * 40
    assert server.connections_opened <= 8, "connections are pooled and reused"


async def test_one_generator_shared_by_tasks(
    gen: genkit.Generator, server: FakeProviderServer
) -> None:
    server.default = Reply.text("shared")
    results = await asyncio.gather(*(gen.agenerate(f"hi {i}") for i in range(50)))
    assert [r.text for r in results] == ["shared"] * 50
    await gen.aclose()


def test_secret_key_never_appears_in_repr_or_errors(
    gen: genkit.Generator, server: FakeProviderServer
) -> None:
    from tests.hosted import API_KEY

    assert API_KEY not in repr(gen)
    server.script(Reply.error(401, message=f"Incorrect API key provided: {API_KEY}"))
    with pytest.raises(genkit.AuthenticationError) as info:
        gen.generate("hi")
    assert API_KEY not in str(info.value)
    assert API_KEY not in repr(info.value)
    assert API_KEY not in str(info.value.__cause__)


# --------------------------------------------------------------------------- every backend
# The same contract again, with the local backend joining: no scripted replies here,
# only what every backend must do with whatever its model writes.

EVERY_BACKEND = [*(h.provider for h in HOSTED), "huggingface"]


@pytest.fixture(params=EVERY_BACKEND)
def any_gen(
    request: pytest.FixtureRequest, fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[genkit.Generator]:
    point_sdks_at(fake_server, monkeypatch)
    provider: str = request.param
    if provider == "huggingface":
        path = request.getfixturevalue("tiny_gpt2_path")
        generator = genkit.load(f"huggingface:{path}", max_tokens=8)
    else:
        spec = next(h for h in HOSTED if h.provider == provider)
        generator = genkit.load(f"{provider}:{spec.model}", retry=FAST, max_tokens=8)
    yield generator
    generator.close()


def _check_complete(result: genkit.Generation, provider: str) -> None:
    assert isinstance(result.text, str)
    assert result.finish_reason in ("stop", "length", "content_filter", "tool_calls", "other")
    assert result.usage.input_tokens > 0
    assert result.usage.output_tokens > 0
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens
    assert result.provider == provider
    assert result.model


def test_every_backend_generates(any_gen: genkit.Generator) -> None:
    _check_complete(any_gen.generate("Once upon a time"), any_gen.provider)


def test_every_backend_streams_what_it_returns(any_gen: genkit.Generator) -> None:
    with any_gen.stream("Once upon a time") as stream:
        chunks = list(stream)
    assert chunks, "a stream yields at least one chunk"
    assert {c.index for c in chunks} == {0}
    assert "".join(c.text for c in chunks) == stream.result.text
    _check_complete(stream.result, any_gen.provider)


async def test_every_backend_is_async(any_gen: genkit.Generator) -> None:
    result = await any_gen.agenerate("Once upon a time")
    _check_complete(result, any_gen.provider)
    stream = any_gen.astream("Once upon a time")
    text = "".join([chunk.text async for chunk in stream])
    assert text == stream.result.text
    _check_complete(stream.result, any_gen.provider)
    await any_gen.aclose()


def test_every_backend_takes_system_and_multi_turn(any_gen: genkit.Generator) -> None:
    result = any_gen.generate(
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Tell me a story"},
        ],
        system="Be brief.",
    )
    _check_complete(result, any_gen.provider)


def test_every_backend_returns_n_candidates(any_gen: genkit.Generator) -> None:
    result = any_gen.generate("Once upon a time", n=2)
    assert len(result.texts) == 2
    assert len(result.finish_reasons) == 2
    assert all(reason is not None for reason in result.finish_reasons)


def test_every_backend_refuses_what_its_model_cannot_do(any_gen: genkit.Generator) -> None:
    capabilities = any_gen.backend.capabilities.lookup(any_gen.model)
    for name in genkit.SHARED_PARAMETERS:
        if name not in capabilities.supported:
            params: dict[str, Any] = {name: PARAM_VALUES[name]}
            with pytest.raises(genkit.UnsupportedParameterError):
                any_gen.generate("hi", **params)
    for name, value in [("temperature", -1), ("max_tokens", 0), ("stop", 5), ("top_p", 2)]:
        params = {name: value}
        with pytest.raises(genkit.InvalidParameterError):
            any_gen.generate("hi", **params)
    with pytest.raises(genkit.InvalidParameterError):
        any_gen.generate("")


def test_every_backend_survives_an_early_close(any_gen: genkit.Generator) -> None:
    stream = any_gen.stream("Once upon a time", max_tokens=64)
    next(iter(stream))
    stream.close()
    _check_complete(any_gen.generate("again"), any_gen.provider)


def test_every_backend_serves_threads_at_once(any_gen: genkit.Generator) -> None:
    results: list[genkit.Generation] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(3):
            result = any_gen.generate("Once upon a time")
            with lock:
                results.append(result)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 18
    for result in results:
        _check_complete(result, any_gen.provider)
