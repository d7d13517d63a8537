"""The local Hugging Face backend, end to end through ``genkit.load("huggingface:<dir>")``.

Everything runs offline on CPU against the tiny random GPT-2 of :mod:`tests.tiny_gpt2`.
Its text is noise, so the tests check mechanics against references computed here: the
transformers pipeline, a hand-written decoding loop, or genkit's own sequential results.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.tiny_gpt2 import EURO  # the tiny_gpt2_path fixture comes through conftest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import genkit  # noqa: E402 - after the optional-dependency skips
from genkit import ModelNotFoundError  # noqa: E402
from genkit.backends.huggingface import HuggingFaceBackend  # noqa: E402

PROMPT = "Once upon a time"
PROMPTS = [
    "Hi",
    "Once upon a time",
    "The quick brown fox jumps over",
    "It was a dark and stormy night; the rain fell",
    "Call me Ishmael.",
    "In a hole in the ground there lived a hobbit! Not a nasty, dirty, wet hole.",
    "She said hello",
    "All happy families are alike",
]
LONG = 480  # a token budget the tests stop long before it runs out


@pytest.fixture(scope="module")
def gen(tiny_gpt2_path: Path) -> Iterator[genkit.Generator]:
    generator = genkit.load(f"huggingface:{tiny_gpt2_path}")
    yield generator
    assert engine_of(generator).wait_idle(10)  # nothing left running for the next module


@pytest.fixture(scope="module")
def tokenizer(tiny_gpt2_path: Path) -> Any:
    return transformers.AutoTokenizer.from_pretrained(tiny_gpt2_path)


@pytest.fixture(scope="module")
def no_eos(tokenizer: Any) -> dict[str, Any]:
    """provider_options that forbid EOS, so every candidate runs to its token budget."""
    return {"suppress_tokens": [tokenizer.eos_token_id]}


def backend_of(gen: genkit.Generator) -> HuggingFaceBackend:
    backend = gen.backend
    assert isinstance(backend, HuggingFaceBackend)
    return backend


def engine_of(gen: genkit.Generator) -> Any:
    return backend_of(gen).engine


def wait_until(condition: Callable[[], bool], limit: float = 10.0) -> bool:
    """Poll a condition another thread makes true (engine state has no event to wait on)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


class Gate:
    """Pauses generation at chosen steps until the test says go: timing-free concurrency tests.

    Passed as ``provider_options={"prefix_allowed_tokens_fn": gate}``, a plain ``generate()``
    hook called on the engine thread before each token is chosen (it allows every token).
    ``pause_at[k]`` is the event generation waits for once ``k`` tokens exist; ``waits``
    records whether each wait ended because the event was set (not the 10 s safety limit).
    """

    def __init__(self, prompt_tokens: int, vocab: int, pause_at: dict[int, threading.Event]):
        self._prompt = prompt_tokens
        self._all = list(range(vocab))
        self.pause_at = pause_at
        self.reached = {made: threading.Event() for made in pause_at}
        self.waits: list[bool] = []

    def __call__(self, batch_id: int, ids: Any) -> list[int]:
        made = ids.shape[-1] - self._prompt
        if made in self.pause_at:
            self.reached[made].set()
            self.waits.append(self.pause_at[made].wait(10))
        return self._all


def gate(tokenizer: Any, pause_at: dict[int, threading.Event]) -> Gate:
    """A :class:`Gate` for a request whose prompt is :data:`PROMPT`."""
    return Gate(len(tokenizer(PROMPT)["input_ids"]), len(tokenizer), pause_at)


def raw_result(gen: genkit.Generator, request: dict[str, Any]) -> Any:
    return gen.generate(**request).raw


def _whole_text(text: str) -> bool:
    return bool(text) and not text.endswith("\ufffd")


def greedy(gen: genkit.Generator, prompt: Any, tokens: int = 12, **kw: Any) -> genkit.Generation:
    return gen.generate(prompt, temperature=0, max_tokens=tokens, **kw)


# --------------------------------------------------------------------------- loading


def test_loads_a_local_checkpoint_under_both_names(
    gen: genkit.Generator,
    tiny_gpt2_path: Path,
) -> None:
    result = greedy(gen, PROMPT)
    assert result.provider == "huggingface"
    assert result.model == str(tiny_gpt2_path)
    alias = genkit.load(f"hf:{tiny_gpt2_path}")
    assert alias.provider == "huggingface"
    assert backend_of(alias).engine is engine_of(gen)
    assert greedy(alias, PROMPT).text == result.text
    assert backend_of(gen).device.type == "cpu"
    assert backend_of(gen).dtype == torch.float32


def test_greedy_output_equals_the_transformers_pipeline(
    gen: genkit.Generator,
    tiny_gpt2_path: Path,
) -> None:
    pipe = transformers.pipeline("text-generation", model=str(tiny_gpt2_path), device="cpu")
    for prompt in (PROMPT, PROMPTS[3], PROMPTS[5]):
        expected = pipe(prompt, max_new_tokens=20, do_sample=False)[0]["generated_text"]
        assert prompt + greedy(gen, prompt, 20).text == expected


def test_missing_model_is_a_clear_configuration_error(tmp_path: Path) -> None:
    for name in ("genkit-tests/no-such-model", str(tmp_path / "nowhere")):
        with pytest.raises(ModelNotFoundError) as info:
            genkit.load(f"huggingface:{name}")
        assert isinstance(info.value, genkit.ConfigurationError)
        assert name in str(info.value)
        assert "not found" in str(info.value)


def test_missing_extra_names_the_pip_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['transformers'] = None  # as if the 'local' extra were not installed\n"
        "import genkit\n"
        "try:\n"
        "    genkit.load('huggingface:gpt2')\n"
        "except genkit.MissingDependencyError as error:\n"
        "    print(error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "'transformers'" in out.stdout
    assert "pip install 'genkit-sdk[local]'" in out.stdout


def test_model_is_loaded_once_when_eight_threads_race(
    tiny_gpt2_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copy = shutil.copytree(tiny_gpt2_path, tmp_path / "copy")  # a model nobody loaded yet
    loads: list[str] = []
    original = transformers.AutoModelForCausalLM.from_pretrained

    def counting(*args: Any, **kwargs: Any) -> Any:
        loads.append(str(args[0]))
        return original(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", counting)
    barrier = threading.Barrier(8)

    def load(_: int) -> genkit.Generator:
        barrier.wait()
        return genkit.load(f"huggingface:{copy}")

    with ThreadPoolExecutor(8) as pool:
        generators = list(pool.map(load, range(8)))
    assert len(loads) == 1
    models = {id(backend_of(g).loaded.model) for g in generators}
    engines = {id(backend_of(g).engine) for g in generators}
    assert len(models) == len(engines) == 1


def test_device_and_dtype_come_from_options_then_environment(
    tiny_gpt2_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    half = genkit.load(f"hf:{tiny_gpt2_path}", dtype="bfloat16", device="cpu")
    assert backend_of(half).dtype == torch.bfloat16
    assert greedy(half, PROMPT, 4).usage.output_tokens >= 1
    monkeypatch.setenv("GENKIT_DTYPE", "bf16")
    monkeypatch.setenv("GENKIT_DEVICE", "cpu")
    env = genkit.load(f"hf:{tiny_gpt2_path}")
    assert backend_of(env).engine is backend_of(half).engine
    monkeypatch.setenv("GENKIT_DTYPE", "int3")
    with pytest.raises(genkit.InvalidParameterError, match="dtype"):
        genkit.load(f"hf:{tiny_gpt2_path}")
    monkeypatch.delenv("GENKIT_DTYPE")
    monkeypatch.setenv("GENKIT_DEVICE", "nosuchdevice")
    with pytest.raises(genkit.InvalidParameterError, match="device"):
        genkit.load(f"hf:{tiny_gpt2_path}")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_asking_for_a_missing_gpu_is_a_configuration_error(
    tiny_gpt2_path: Path,
) -> None:
    with pytest.raises(genkit.ConfigurationError, match="CUDA"):
        genkit.load(f"hf:{tiny_gpt2_path}", device="cuda")


# --------------------------------------------------------------------------- parameters


def test_max_tokens_is_the_exact_output_length(
    gen: genkit.Generator, no_eos: dict[str, Any]
) -> None:
    result = gen.generate(PROMPT, max_tokens=7, n=3, provider_options=no_eos)
    assert [len(ids) for ids in result.raw] == [7, 7, 7]
    assert result.finish_reasons == ["length"] * 3
    assert result.usage.output_tokens == 21


def test_default_is_the_pipelines_256_sampled_tokens(
    gen: genkit.Generator, no_eos: dict[str, Any]
) -> None:
    first = gen.generate(PROMPT, provider_options=no_eos)
    second = gen.generate(PROMPT, provider_options=no_eos)
    assert first.usage.output_tokens == second.usage.output_tokens == 256
    assert first.text != second.text  # sampling, unseeded


def test_usage_counts_prompt_once_and_every_generated_token(
    gen: genkit.Generator, tokenizer: Any
) -> None:
    result = gen.generate(PROMPT, max_tokens=9, n=2, seed=4)
    assert result.usage.input_tokens == len(tokenizer(PROMPT)["input_ids"])
    assert result.usage.output_tokens == sum(len(ids) for ids in result.raw)
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens


def test_temperature_zero_is_deterministic(gen: genkit.Generator) -> None:
    first = greedy(gen, PROMPT, 16, n=3)
    assert len(set(first.texts)) == 1
    assert greedy(gen, PROMPT, 16).text == first.text


def test_seed_reproduces_and_different_seeds_differ(gen: genkit.Generator) -> None:
    sample: dict[str, Any] = {"temperature": 1.0, "top_k": 10_000, "max_tokens": 20}  # no top_k
    one = gen.generate(PROMPT, seed=1, **sample)
    assert gen.generate(PROMPT, seed=1, **sample).text == one.text
    assert gen.generate(PROMPT, seed=2, **sample).text != one.text
    n = gen.generate(PROMPT, seed=1, n=3, **sample)
    assert gen.generate(PROMPT, seed=1, n=3, **sample).texts == n.texts
    assert len(set(n.texts)) == 3  # one seed, independent candidates


def test_n_returns_n_candidates(gen: genkit.Generator) -> None:
    result = gen.generate(PROMPT, n=4, max_tokens=10, temperature=1.0, seed=9)
    assert len(result.texts) == len(result.finish_reasons) == len(result.raw) == 4
    assert len(set(result.texts)) > 1


def test_top_k_one_and_tiny_top_p_equal_greedy(gen: genkit.Generator) -> None:
    expected = greedy(gen, PROMPT, 16).text
    assert gen.generate(PROMPT, temperature=1.5, top_k=1, max_tokens=16, seed=3).text == expected
    assert gen.generate(PROMPT, temperature=1.5, top_p=1e-6, max_tokens=16, seed=3).text == expected


def test_stop_cuts_the_text_and_finishes_with_stop(
    gen: genkit.Generator, no_eos: dict[str, Any]
) -> None:
    full = greedy(gen, PROMPT, 40, provider_options=no_eos)
    stop = next(c for c in full.text[4:] if c.isascii() and c.isprintable())
    expected = full.text[: full.text.find(stop)]
    result = greedy(gen, PROMPT, 40, stop=[stop, "never-in-noise"], provider_options=no_eos)
    assert result.text == expected
    assert result.finish_reason == "stop"
    assert result.usage.output_tokens < 40
    assert result.raw[0] == full.raw[0][: len(result.raw[0])]
    with gen.stream(PROMPT, temperature=0, max_tokens=40, stop=stop, provider_options=no_eos) as s:
        chunks = [chunk.text for chunk in s]
    assert "".join(chunks) == expected
    assert s.result.finish_reason == "stop"


def test_eos_finishes_with_stop(gen: genkit.Generator, tokenizer: Any) -> None:
    eos = tokenizer.eos_token_id
    result = greedy(gen, PROMPT, 20, provider_options={"sequence_bias": {(eos,): 100.0}})
    assert (result.text, result.finish_reason, result.raw) == ("", "stop", [[eos]])


def test_penalties_are_openais_definition(
    gen: genkit.Generator,
    tokenizer: Any,
    tiny_gpt2_path: Path,
) -> None:
    presence, frequency, steps = 0.7, 0.4, 15
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_gpt2_path).eval()
    ids = list(tokenizer(PROMPT)["input_ids"])
    counts = torch.zeros(model.config.vocab_size)
    expected: list[int] = []
    with torch.no_grad():
        for _ in range(steps):
            logits = model(torch.tensor([ids])).logits[0, -1].float()
            logits -= presence * (counts > 0).float() + frequency * counts
            logits[tokenizer.eos_token_id] = float("-inf")
            token = int(logits.argmax())
            expected.append(token)
            ids.append(token)
            counts[token] += 1
    result = greedy(
        gen,
        PROMPT,
        steps,
        presence_penalty=presence,
        frequency_penalty=frequency,
        provider_options={"suppress_tokens": [tokenizer.eos_token_id]},
    )
    assert result.raw[0] == expected
    assert result.raw[0] != greedy(gen, PROMPT, steps).raw[0]  # the penalties did something


def test_provider_options_reach_generate(gen: genkit.Generator, no_eos: dict[str, Any]) -> None:
    plain = greedy(gen, PROMPT, 20, provider_options=no_eos)
    options = {**no_eos, "no_repeat_ngram_size": 1}
    distinct = greedy(gen, PROMPT, 20, provider_options=options)
    assert len(set(distinct.raw[0])) == 20
    assert distinct.raw[0] != plain.raw[0] or len(set(plain.raw[0])) == 20


def test_bad_parameters_fail_before_generating(gen: genkit.Generator) -> None:
    with pytest.raises(genkit.InvalidParameterError, match="presence_penalty"):
        gen.generate(PROMPT, presence_penalty=3.0)
    with pytest.raises(genkit.InvalidParameterError, match="max_tokens"):
        gen.generate(PROMPT, provider_options={"max_new_tokens": 5})
    with pytest.raises(genkit.InvalidParameterError, match="streamer"):
        gen.generate(PROMPT, provider_options={"streamer": object()})
    with pytest.raises(genkit.InvalidParameterError, match="unknown parameter"):
        gen.generate(PROMPT, logprobs=True)
    with pytest.raises(genkit.BadRequestError, match="generate"):
        gen.generate(PROMPT, max_tokens=2, provider_options={"no_such_generate_option": 1})


def test_prompt_longer_than_the_context_is_refused_and_budget_capped(
    gen: genkit.Generator, tokenizer: Any, no_eos: dict[str, Any]
) -> None:
    with pytest.raises(genkit.BadRequestError, match="512"):
        gen.generate("a b " * 400, max_tokens=1)
    prompt = EURO * 166  # three byte tokens each: 498 tokens, room for 14 more
    assert len(tokenizer(prompt)["input_ids"]) == 498
    result = gen.generate(prompt, max_tokens=100, provider_options=no_eos)
    assert result.usage.output_tokens == 14
    assert result.finish_reason == "length"


# --------------------------------------------------------------------------- prompts


def test_system_prompt_and_turns_render_as_a_transcript(gen: genkit.Generator) -> None:
    messages = [
        {"role": "user", "content": "tell me a story"},
        {"role": "assistant", "content": "once there was a king."},
        {"role": "user", "content": "and then?"},
    ]
    transcript = (
        "Be brief.\n\nUser: tell me a story\nAssistant: once there was a king.\n"
        "User: and then?\nAssistant:"
    )
    chat = greedy(gen, messages, 16, system="Be brief.")
    plain = greedy(gen, transcript, 16)
    assert chat.raw == plain.raw
    assert chat.usage.input_tokens == plain.usage.input_tokens
    prefill = greedy(
        gen, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Oh"}]
    )
    assert prefill.raw == greedy(gen, "User: hi\nAssistant: Oh").raw


def test_chat_template_is_used_when_the_tokenizer_has_one(
    tiny_gpt2_path: Path,
    tmp_path: Path,
) -> None:
    chat_dir = shutil.copytree(tiny_gpt2_path, tmp_path / "chat")
    tok = transformers.AutoTokenizer.from_pretrained(chat_dir)
    tok.chat_template = (
        "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    tok.save_pretrained(chat_dir)
    messages = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "hi"}]
    expected = tok.apply_chat_template(messages, add_generation_prompt=True, return_dict=False)
    chat = genkit.load(f"hf:{chat_dir}")
    assert greedy(chat, "hi", system="Be kind.").usage.input_tokens == len(expected)


# --------------------------------------------------------------------------- streaming


def test_stream_delivers_text_while_generating_and_close_stops_it(
    gen: genkit.Generator, tokenizer: Any, no_eos: dict[str, Any]
) -> None:
    full = greedy(gen, PROMPT, 20, provider_options=no_eos).raw[0]
    # k: how many tokens it takes for the first whole character of text to exist
    k = next(i for i in range(1, 21) if _whole_text(tokenizer.decode(full[:i])))
    received, closed = threading.Event(), threading.Event()
    hook = gate(tokenizer, {k: received, k + 1: closed})
    engine = engine_of(gen)
    assert engine.wait_idle(10)
    before = engine.tokens
    options = {**no_eos, "prefix_allowed_tokens_fn": hook}
    stream = gen.stream(PROMPT, temperature=0, max_tokens=LONG, provider_options=options)
    first = next(iter(stream))  # generation is paused after k tokens until this arrives
    received.set()
    assert first.text == tokenizer.decode(full[:k])
    assert hook.reached[k + 1].wait(10)  # generation went on while the stream was open ...
    stream.close()
    closed.set()
    assert engine.wait_idle(10)
    assert hook.waits == [True, True]
    assert engine.tokens - before == k + 1  # ... and stopped at the first step after close()


def test_stream_equals_generate_for_every_candidate(
    gen: genkit.Generator, no_eos: dict[str, Any]
) -> None:
    kw: dict[str, Any] = {"max_tokens": 30, "n": 3, "seed": 5, "temperature": 1.0}
    kw["provider_options"] = no_eos
    expected = gen.generate(PROMPT, **kw)
    parts: dict[int, list[str]] = {0: [], 1: [], 2: []}
    with gen.stream(PROMPT, **kw) as stream:
        for chunk in stream:
            parts[chunk.index].append(chunk.text)
    assert ["".join(parts[i]) for i in range(3)] == expected.texts
    assert stream.result.texts == expected.texts
    assert stream.result.finish_reasons == ["length"] * 3
    assert stream.result.usage == expected.usage


def test_multibyte_characters_are_never_split_in_a_stream(
    gen: genkit.Generator, tokenizer: Any
) -> None:
    a, b, c = tokenizer(EURO)["input_ids"]  # "€" is three byte tokens in this vocabulary
    force = {"sequence_bias": {(a,): 50.0, (a, b): 100.0, (a, b, c): 150.0}}
    for tokens, expected in ((9, EURO * 3), (10, EURO * 3 + "\ufffd")):
        whole = greedy(gen, PROMPT, tokens, provider_options=force)
        assert whole.text == expected
        with gen.stream(PROMPT, temperature=0, max_tokens=tokens, provider_options=force) as s:
            chunks = [chunk.text for chunk in s]
        assert "".join(chunks) == expected
        # Whole characters only: chunks may join several (a busy machine lets tokens pile
        # up between reads), but none holds part of one.
        assert all(chunk.rstrip("\ufffd") == EURO * chunk.count(EURO) for chunk in chunks)


async def test_async_generate_and_stream(gen: genkit.Generator) -> None:
    expected = greedy(gen, PROMPT, 12)
    result = await gen.agenerate(PROMPT, temperature=0, max_tokens=12)
    assert result.text == expected.text
    chunks = [chunk.text async for chunk in gen.astream(PROMPT, temperature=0, max_tokens=12)]
    assert "".join(chunks) == expected.text


async def test_cancelling_an_async_call_stops_generation(
    gen: genkit.Generator, tokenizer: Any, no_eos: dict[str, Any]
) -> None:
    engine = engine_of(gen)
    assert await asyncio.to_thread(engine.wait_idle, 10)

    async def consume_stream(options: dict[str, Any]) -> None:
        async for _ in gen.astream(PROMPT, max_tokens=LONG, provider_options=options):
            pass

    def agenerate(options: dict[str, Any]) -> Any:
        return gen.agenerate(PROMPT, max_tokens=LONG, provider_options=options)

    for call in (agenerate, consume_stream):
        resume = threading.Event()
        hook = gate(tokenizer, {2: resume})
        before = engine.tokens
        task = asyncio.create_task(call({**no_eos, "prefix_allowed_tokens_fn": hook}))
        assert await asyncio.to_thread(hook.reached[2].wait, 10)  # two tokens made, paused
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        resume.set()
        assert await asyncio.to_thread(engine.wait_idle, 10)
        assert hook.waits == [True]
        assert engine.tokens - before == 2  # the token chosen after cancel() was never kept


def test_timeout_stops_generation(
    gen: genkit.Generator, tokenizer: Any, no_eos: dict[str, Any]
) -> None:
    engine = engine_of(gen)
    assert engine.wait_idle(10)
    before = engine.tokens
    resume = threading.Event()
    options = {**no_eos, "prefix_allowed_tokens_fn": gate(tokenizer, {1: resume})}
    with pytest.raises(genkit.TimeoutError):
        gen.generate(PROMPT, max_tokens=LONG, timeout=0.05, provider_options=options)
    resume.set()
    assert engine.wait_idle(10)
    assert engine.tokens - before == 1


# --------------------------------------------------------------------------- concurrency


def _requests() -> list[dict[str, Any]]:
    """Greedy and seeded sampling requests of different lengths, to share one batch."""
    sampled = {"temperature": 0.9, "top_k": 20, "top_p": 0.9, "max_tokens": 12}
    return [
        {"prompt": p, "temperature": 0, "max_tokens": 6 + i}
        if i % 2
        else {"prompt": p, "seed": i, **sampled}
        for i, p in enumerate(PROMPTS)
    ]


def test_eight_threads_each_get_their_own_result_from_one_batch(
    gen: genkit.Generator, tokenizer: Any, no_eos: dict[str, Any]
) -> None:
    requests = _requests()
    expected = [gen.generate(**r).raw for r in requests]  # one at a time
    engine = engine_of(gen)
    release = threading.Event()
    hold = gate(tokenizer, {1: release})  # keeps the engine busy while the eight queue up
    hold_options = {**no_eos, "prefix_allowed_tokens_fn": hold}
    with ThreadPoolExecutor(9) as pool:
        holder = pool.submit(gen.generate, PROMPT, max_tokens=2, provider_options=hold_options)
        assert hold.reached[1].wait(10)
        batches = engine.batches
        futures = [pool.submit(raw_result, gen, r) for r in requests]
        assert wait_until(lambda: engine.pending == 8)
        release.set()
        results = [future.result() for future in futures]
        assert holder.result().usage.output_tokens == 2
    assert results == expected
    assert engine.batches - batches == 1  # all eight ran in one generate() call


async def test_concurrent_tasks_each_get_their_own_result(gen: genkit.Generator) -> None:
    requests = _requests()
    expected = [gen.generate(**r).raw for r in requests]
    results = await asyncio.gather(*(gen.agenerate(**r) for r in requests))
    assert [r.raw for r in results] == expected


def test_gpu_code_path_runs_on_cpu_without_compile(
    gen: genkit.Generator,
    tiny_gpt2_path: Path,
) -> None:
    static = genkit.load(f"hf:{tiny_gpt2_path}", static_cache=True, max_batch_size=8)
    assert backend_of(static).engine is not engine_of(gen)
    for prompt in (PROMPT, PROMPTS[5]):
        assert greedy(static, prompt, 20, n=3).raw == greedy(gen, prompt, 20, n=3).raw
    seeded: dict[str, Any] = {"seed": 11, "temperature": 1.0, "max_tokens": 20}
    assert static.generate(PROMPT, **seeded).raw == gen.generate(PROMPT, **seeded).raw
