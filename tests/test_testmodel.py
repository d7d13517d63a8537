"""The ``test`` provider (echo, lorem, scripted) and ``genkit.testing``, through the public API."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

import genkit
import genkit.testing
from genkit.testing import Reply, Script, ScriptedRequest

NO_WAIT = genkit.RetryPolicy(initial_backoff=0.0)


def stream_all(
    gen: genkit.Generator, prompt: str, **params: Any
) -> tuple[list[str], genkit.Generation]:
    with gen.stream(prompt, **params) as stream:
        chunks = [chunk.text for chunk in stream]
    return chunks, stream.result


async def astream_all(
    gen: genkit.Generator, prompt: str, **params: Any
) -> tuple[list[str], genkit.Generation]:
    stream = gen.astream(prompt, **params)
    chunks = [chunk.text async for chunk in stream]
    return chunks, await stream.get_result()


# --------------------------------------------------------------------------- echo


def test_echo_answers_with_the_last_user_text() -> None:
    gen = genkit.load("test:echo")
    prompt = [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {"role": "user", "content": "Once upon  a time"},
    ]
    result = gen.generate(prompt, system="be brief")
    assert result.text == "Once upon  a time"
    assert result.finish_reason == "stop"
    assert (result.provider, result.model) == ("test", "echo")
    # Tokens are whitespace words: 2 + 2 + 4 in the turns, 2 in the system prompt.
    assert result.usage == genkit.Usage(input_tokens=10, output_tokens=4)


def test_echo_without_a_user_turn_echoes_the_last_message() -> None:
    result = genkit.load("test:echo").generate([{"role": "assistant", "content": "prefill"}])
    assert result.text == "prefill"


def test_echo_max_tokens_cuts_at_a_word_and_says_length() -> None:
    gen = genkit.load("test:echo")
    cut = gen.generate("one two three four", max_tokens=2)
    assert (cut.text, cut.finish_reason, cut.usage.output_tokens) == ("one two", "length", 2)
    whole = gen.generate("one two three four", max_tokens=4)  # nothing was cut
    assert (whole.text, whole.finish_reason) == ("one two three four", "stop")


@pytest.mark.parametrize(
    ("stop", "text"),
    [
        (".", "Hello world"),
        (["zzz", "wor"], "Hello "),
        ("lo wo", "Hel"),  # the stop string spans two words
        ("absent", "Hello world. Bye"),
    ],
)
def test_echo_stop_is_cut_from_the_text(stop: str | list[str], text: str) -> None:
    gen = genkit.load("test:echo")
    result = gen.generate("Hello world. Bye", stop=stop)
    assert (result.text, result.finish_reason) == (text, "stop")
    chunks, streamed = stream_all(gen, "Hello world. Bye", stop=stop)
    assert "".join(chunks) == streamed.text == text


def test_echo_streams_a_chunk_per_word_joined_to_the_text() -> None:
    gen = genkit.load("test:echo")
    chunks, result = stream_all(gen, "  Once upon\na time  ")
    assert chunks == ["  Once", " upon", "\na", " time  "]
    assert result.text == "  Once upon\na time  " == gen.generate("  Once upon\na time  ").text
    assert result.usage == genkit.Usage(4, 4)
    assert result.finish_reason == "stop"


# --------------------------------------------------------------------------- lorem


def test_lorem_writes_max_tokens_words_deterministically() -> None:
    gen = genkit.load("test:lorem")
    result = gen.generate("anything", max_tokens=40)
    assert len(result.text.split()) == 40 == result.usage.output_tokens
    assert result.finish_reason == "length"
    assert result.text.startswith("Lorem ipsum dolor sit amet, consectetur adipiscing elit.")
    assert gen.generate("another prompt", max_tokens=40).text == result.text
    # The default length when max_tokens is unset.
    assert len(gen.generate("x").text.split()) == 16


def test_lorem_candidates_differ_by_index_and_seed_changes_the_text() -> None:
    gen = genkit.load("test:lorem", max_tokens=12)
    result = gen.generate("x", n=3)
    assert len(set(result.texts)) == 3
    assert result.finish_reasons == ["length"] * 3
    assert result.usage.output_tokens == 36
    assert gen.generate("x", n=3).texts == result.texts
    seeded = gen.generate("x", n=3, seed=7)
    assert seeded.texts == gen.generate("x", n=3, seed=7).texts
    assert all(a != b for a, b in zip(seeded.texts, result.texts, strict=True))
    assert gen.generate("x", seed=8).text not in seeded.texts


def test_lorem_stop_and_stream_match_generate() -> None:
    gen = genkit.load("test:lorem", max_tokens=50)
    result = gen.generate("x", stop=".", seed=3)
    assert result.finish_reason == "stop"
    assert "." not in result.text
    assert 4 <= len(result.text.split()) <= 10  # one sentence
    chunks, streamed = stream_all(gen, "x", stop=".", seed=3)
    assert "".join(chunks) == streamed.text == result.text
    assert all(len(chunk.split()) == 1 for chunk in chunks)  # a chunk per word


def test_lorem_streams_n_candidates_interleaved() -> None:
    gen = genkit.load("test:lorem")
    with gen.stream("x", n=2, max_tokens=5) as stream:
        indexes = [chunk.index for chunk in stream]
    assert indexes == [0, 1] * 5
    assert stream.result.texts == gen.generate("x", n=2, max_tokens=5).texts


async def test_async_calls_match_sync_ones() -> None:
    for model in ("test:echo", "test:lorem"):
        gen = genkit.load(model, max_tokens=7)
        expected = gen.generate("one two three four five six seven eight", n=2)
        result = await gen.agenerate("one two three four five six seven eight", n=2)
        assert result.texts == expected.texts
        assert result.usage == expected.usage
        chunks, streamed = await astream_all(gen, "one two three four five six seven eight")
        assert "".join(chunks) == streamed.text == expected.text
        assert streamed.finish_reason == "length"


def test_every_shared_parameter_is_accepted_and_still_checked() -> None:
    gen = genkit.load("test:lorem")
    result = gen.generate(
        "x",
        max_tokens=3,
        temperature=0.3,
        top_p=0.9,
        top_k=5,
        stop=["!"],
        seed=1,
        n=1,
        presence_penalty=0.5,
        frequency_penalty=0.5,
    )
    assert len(result.text.split()) == 3
    with pytest.raises(genkit.InvalidParameterError, match=r"'top_p' for provider 'test'"):
        gen.generate("x", top_p=2)
    with pytest.raises(genkit.InvalidParameterError, match="'max_tokens'"):
        genkit.load("test:echo", max_tokens=0)


def test_unknown_test_model_names_the_models() -> None:
    with pytest.raises(genkit.ConfigurationError, match="echo, lorem, scripted"):
        genkit.load("test:gpt-4o")
    assert "test" in genkit.providers()


def test_import_genkit_loads_neither_the_test_backend_nor_genkit_testing() -> None:
    code = (
        "import sys, genkit\n"
        "print(sorted(m for m in sys.modules if m in "
        "('genkit.testing', 'genkit.backends.testmodel')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- genkit.testing


def test_scripted_replies_in_order_and_records_the_requests() -> None:
    gen = genkit.load("test:scripted", temperature=0.5)
    with genkit.testing.scripted(
        ["first reply", Reply("cut short", finish_reason="length", usage=genkit.Usage(7, 2))]
    ) as script:
        first = gen.generate("Hello there", system="be nice", max_tokens=20)
        second = gen.generate("Again")
    assert (first.text, first.finish_reason) == ("first reply", "stop")
    assert first.usage == genkit.Usage(4, 2)  # words of the prompt and of the reply
    assert (second.text, second.finish_reason) == ("cut short", "length")
    assert second.usage == genkit.Usage(7, 2)
    assert (first.provider, first.model) == ("test", "scripted")
    assert script.remaining == 0
    assert script.requests == [
        ScriptedRequest(
            "generate",
            (genkit.Message("system", "be nice"), genkit.Message("user", "Hello there")),
            {"temperature": 0.5, "max_tokens": 20},
        ),
        ScriptedRequest("generate", (genkit.Message("user", "Again"),), {"temperature": 0.5}),
    ]
    assert script.requests[0].prompt == "Hello there"


def test_a_scripted_rate_limit_is_retried_like_a_provider_error() -> None:
    gen = genkit.load("test:scripted", retry=NO_WAIT)
    with genkit.testing.scripted(
        [genkit.RateLimitError("slow down", provider="test", retry_after=0), "made it"]
    ) as script:
        assert gen.generate("hi").text == "made it"
    assert len(script.requests) == 2  # one retry


def test_a_scripted_bad_request_is_raised_once_and_not_retried() -> None:
    error = genkit.BadRequestError("no such thing", provider="test", status_code=400)
    script = Script([error, "never used"])
    with pytest.raises(genkit.BadRequestError) as caught:
        script.load().generate("hi")
    assert caught.value is error
    assert (len(script.requests), script.remaining) == (1, 1)


def test_retries_exhausted_raise_the_last_scripted_error() -> None:
    down = [genkit.ServerError(f"down {i}", provider="test", status_code=503) for i in range(3)]
    script = Script(down)
    with pytest.raises(genkit.ServerError, match="down 2"):
        script.load(max_retries=2, retry=NO_WAIT).generate("hi")
    assert len(script.requests) == 3


def test_scripted_stream_chunks_and_a_retry_before_the_first_chunk() -> None:
    script = Script(
        [
            genkit.ConnectionError("reset", provider="test"),
            Reply(chunks=["Once", " upon", " a time"], finish_reason="length"),
        ]
    )
    chunks, result = stream_all(script.load(retry=NO_WAIT), "go", max_tokens=3)
    assert chunks == ["Once", " upon", " a time"]
    assert (result.text, result.finish_reason) == ("Once upon a time", "length")
    assert [r.method for r in script.requests] == ["stream", "stream"]


def test_a_scripted_stream_that_breaks_after_text_keeps_the_partial() -> None:
    broken = Reply(chunks=["Once", " upon"], error=genkit.ServerError("gone", provider="test"))
    script = Script([broken, "unused"])
    stream = script.load(retry=NO_WAIT).stream("go")
    assert [next(stream).text, next(stream).text] == ["Once", " upon"]
    with pytest.raises(genkit.ServerError) as caught:
        next(stream)
    assert caught.value.partial is not None
    assert caught.value.partial.text == "Once upon"
    assert stream.result.finish_reason is None  # a cut stream is never complete
    assert len(script.requests) == 1  # text had reached the caller: not retried


async def test_scripted_async_calls() -> None:
    script = Script(
        [
            genkit.RateLimitError("slow", provider="test", retry_after=0),
            "async answer",
            Reply(chunks=["a", "b"]),
        ]
    )
    gen = script.load(retry=NO_WAIT)
    assert (await gen.agenerate("one")).text == "async answer"
    chunks, result = await astream_all(gen, "two")
    assert chunks == ["a", "b"]
    assert result.text == "ab"
    assert [r.method for r in script.requests] == ["agenerate", "agenerate", "astream"]


def test_a_callable_reply_sees_the_request() -> None:
    script = Script([lambda request: request.prompt.upper()])
    assert script.load().generate("shout this").text == "SHOUT THIS"


def test_running_out_of_replies_is_a_clear_error_not_a_retry() -> None:
    script = Script(["only one"])
    gen = script.load()
    gen.generate("a")
    with pytest.raises(genkit.testing.ScriptError, match=r"no reply left for request #2 .*'b'"):
        gen.generate("b")
    assert len(script.requests) == 2


def test_no_active_script_says_how_to_give_one() -> None:
    with pytest.raises(genkit.testing.ScriptError, match=r"genkit\.testing\.scripted"):
        genkit.load("test:scripted").generate("hi")


def test_bad_script_entries_are_refused_when_scripted() -> None:
    with pytest.raises(genkit.InvalidParameterError, match=r"replies\[1\].*instance"):
        Script(["ok", genkit.RateLimitError])  # type: ignore[list-item]
    with pytest.raises(genkit.InvalidParameterError, match=r"replies\[0\]"):
        Script([42])  # type: ignore[list-item]
    with pytest.raises(genkit.InvalidParameterError, match="finish_reason"):
        Reply("x", finish_reason="done")  # type: ignore[arg-type]
    with pytest.raises(genkit.InvalidParameterError, match="chunks"):
        Reply("abc", chunks=["a", "b"])
    with pytest.raises(genkit.InvalidParameterError, match="script"):
        genkit.load("test:echo", script=Script())


def test_nested_scripts_the_innermost_answers() -> None:
    gen = genkit.load("test:scripted")
    with genkit.testing.scripted(["outer"]) as outer:
        with genkit.testing.scripted(["inner"]):
            assert gen.generate("x").text == "inner"
        assert gen.generate("x").text == "outer"
    assert outer.remaining == 0


def test_a_script_is_thread_safe_every_reply_used_once() -> None:
    replies = [f"reply {i}" for i in range(200)]
    gen = genkit.load("test:scripted")
    answers: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            text = gen.generate("x").text
            with lock:
                answers.append(text)

    with genkit.testing.scripted(replies) as script:  # threads see the active script
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(answers) == sorted(replies)
    assert len(script.requests) == 200
    assert script.remaining == 0


def test_an_application_runs_offline_with_genkit_model_test_echo(tmp_path: Path) -> None:
    """The application only calls genkit.load(); the environment picks the test model."""
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            """
            import asyncio, sys
            import genkit

            gen = genkit.load()  # $GENKIT_MODEL
            print(gen.generate("hello from the app", max_tokens=3).text)
            print("".join(chunk.text for chunk in gen.stream("streamed reply")))
            print(asyncio.run(gen.agenerate("async reply")).text)
            vendor = {"openai", "anthropic", "google", "httpx", "httpx2", "torch", "transformers"}
            print(sorted(vendor & {name.split(".")[0] for name in sys.modules}))
            """
        )
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_BASE_URL")) and not k.startswith("GENKIT_")
    }
    env["GENKIT_MODEL"] = "test:echo"
    out = subprocess.run(
        [sys.executable, str(app)], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["hello from the", "streamed reply", "async reply", "[]"]
