"""``schema=`` on the local backend: grammar-constrained decoding with llguidance.

The tiny GPT-2 has random weights, so whatever it writes unconstrained is noise: every
valid object below comes from the grammar mask, not from the model.  Sampling at
temperature 1 with several seeds explores the grammar's branches (optional fields present
or not, lists of 0-3 items, each enum value), and every answer must validate with no
``output_retries``.  Strings and lists are bounded in the schemas so a random model ends
well within its token budget; a budget that is too small must surface as a truncated
:class:`genkit.OutputValidationError`, never as a valid object.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("llguidance")
pydantic = pytest.importorskip("pydantic")

from pydantic import BaseModel, Field  # noqa: E402

import genkit  # noqa: E402
from tests.test_huggingface import (  # noqa: E402
    PROMPT,
    backend_of,
    engine_of,
    gate,
    wait_until,
)

SEEDS = range(5)
BUDGET = 200  # far more than any answer to the schemas below needs


class Pet(BaseModel):
    kind: Literal["cat", "dog", "bird"]
    age: int = Field(ge=0, le=20)


class Owner(BaseModel):
    name: str = Field(max_length=8)
    pets: list[Pet] = Field(max_length=3)
    nickname: str | None = Field(default=None, max_length=6)
    verified: bool


DICT_SCHEMA: dict[str, Any] = {
    "title": "Point",
    "type": "object",
    "properties": {
        "x": {"type": "integer", "minimum": -5, "maximum": 5},
        "label": {"enum": ["a", "b"]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 2},
    },
    "required": ["x", "label"],
}


@pytest.fixture(scope="module")
def gen(tiny_gpt2_path: Path) -> Iterator[genkit.Generator]:
    generator = genkit.load(f"huggingface:{tiny_gpt2_path}")
    yield generator
    assert engine_of(generator).wait_idle(10)


def sampled(seed: int) -> dict[str, Any]:
    return {"seed": seed, "temperature": 1.0, "max_tokens": BUDGET}


def check_compact(text: str) -> None:
    """The grammar forces compact JSON: re-dumping it compactly gives the same text."""
    assert text == json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- every way to call


@pytest.mark.parametrize("seed", SEEDS)
def test_generate_yields_a_valid_instance_for_every_seed(gen: genkit.Generator, seed: int) -> None:
    result = gen.generate(PROMPT, schema=Owner, **sampled(seed))
    assert isinstance(result.parsed, Owner)
    assert result.finish_reason == "stop"
    assert result.warnings == []  # no output_retries took place
    check_compact(result.text)
    assert 0 < result.usage.output_tokens < BUDGET


def test_the_seeds_explore_the_grammar(gen: genkit.Generator) -> None:
    """Not one memorised answer: different seeds give different valid objects."""
    parsed = [gen.generate(PROMPT, schema=Owner, **sampled(seed)).parsed for seed in SEEDS]
    assert len({p.model_dump_json() for p in parsed}) == len(parsed)


@pytest.mark.parametrize("seed", SEEDS)
def test_stream_yields_partial_objects_then_a_valid_instance(
    gen: genkit.Generator, seed: int
) -> None:
    partials: list[Any] = []
    with gen.stream(PROMPT, schema=Owner, **sampled(seed)) as stream:
        for _ in stream:
            partials.append(stream.partial_object)
    result = stream.result
    assert isinstance(result.parsed, Owner)
    assert result.finish_reason == "stop"
    assert all(p is None or isinstance(p, dict) for p in partials)
    assert isinstance(partials[0], dict)  # the first chunk already opens the object
    assert partials[-1] == json.loads(result.text)
    assert result.text == gen.generate(PROMPT, schema=Owner, **sampled(seed)).text


@pytest.mark.parametrize("seed", SEEDS)
async def test_agenerate_and_astream_yield_valid_instances(
    gen: genkit.Generator, seed: int
) -> None:
    result = await gen.agenerate(PROMPT, schema=Owner, **sampled(seed))
    assert isinstance(result.parsed, Owner)
    stream = gen.astream(PROMPT, schema=Owner, **sampled(seed))
    async for _ in stream:
        pass
    assert isinstance(stream.result.parsed, Owner)
    assert stream.result.text == result.text


@pytest.mark.parametrize("seed", SEEDS)
def test_every_candidate_of_n_is_valid(gen: genkit.Generator, seed: int) -> None:
    result = gen.generate(PROMPT, schema=Owner, n=2, **sampled(seed))
    assert isinstance(result.parsed, Owner)
    assert result.finish_reasons == ["stop", "stop"]
    for text in result.texts:
        Owner.model_validate_json(text)


def test_a_json_schema_dict_gives_a_valid_dict(gen: genkit.Generator) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    for seed in SEEDS:
        result = gen.generate(PROMPT, schema=DICT_SCHEMA, **sampled(seed))
        assert isinstance(result.parsed, dict)
        jsonschema.validate(result.parsed, DICT_SCHEMA)
        # the schema leaves objects open; locally they are closed, so no invented keys
        assert set(result.parsed) <= {"x", "label", "tags"}


def test_a_non_object_root_is_unwrapped(gen: genkit.Generator) -> None:
    for seed in SEEDS:
        result = gen.generate(PROMPT, schema=list[Pet], **sampled(seed))
        assert isinstance(result.parsed, list)
        assert all(isinstance(pet, Pet) for pet in result.parsed)


def test_greedy_decoding_is_constrained_too(gen: genkit.Generator) -> None:
    result = gen.generate(PROMPT, schema=Owner, temperature=0, max_tokens=BUDGET)
    assert isinstance(result.parsed, Owner)


# --------------------------------------------------------------------------- truncation


@pytest.mark.parametrize("call", ["generate", "stream"])
def test_too_few_tokens_is_a_truncated_error_never_a_valid_object(
    gen: genkit.Generator, call: str
) -> None:
    def run(seed: int) -> None:
        params: dict[str, Any] = {"schema": Owner, "seed": seed, "max_tokens": 6}
        if call == "generate":
            gen.generate(PROMPT, temperature=1.0, **params)
            return
        with gen.stream(PROMPT, **params) as stream:
            for _ in stream:
                pass

    for seed in SEEDS:
        with pytest.raises(genkit.OutputValidationError) as info:
            run(seed)
        error = info.value
        assert error.truncated
        assert error.generation is not None
        assert error.generation.finish_reason == "length"
        assert error.generation.usage.output_tokens == 6
        assert error.text.startswith('{"')  # constrained as far as it went


# --------------------------------------------------------------------------- batching


def test_constrained_and_free_requests_share_one_batch(gen: genkit.Generator) -> None:
    tokenizer = backend_of(gen).loaded.tokenizer
    constrained: dict[str, Any] = {"prompt": PROMPT, "schema": Owner, "n": 2, **sampled(3)}
    free: dict[str, Any] = {"prompt": PROMPT, "seed": 4, "temperature": 1.0}
    free.update(max_tokens=40, n=2)
    alone = [gen.generate(**constrained).raw, gen.generate(**free).raw]
    engine = engine_of(gen)
    release = threading.Event()
    hold = gate(tokenizer, {1: release})  # keeps the engine busy while both queue up
    options = {"prefix_allowed_tokens_fn": hold}
    with ThreadPoolExecutor(3) as pool:
        holder = pool.submit(gen.generate, PROMPT, max_tokens=2, provider_options=options)
        assert hold.reached[1].wait(10)
        batches, rows = engine.batches, engine.rows
        futures = [pool.submit(gen.generate, **request) for request in (constrained, free)]
        assert wait_until(lambda: engine.pending == 2)
        release.set()
        together = [future.result() for future in futures]
        holder.result()
    assert engine.batches - batches == 1  # one generate() call ...
    assert engine.rows - rows == 4  # ... for both candidates of both requests
    assert isinstance(together[0].parsed, Owner)
    for text in together[0].texts:
        Owner.model_validate_json(text)
    # Each request's tokens depend on its seed alone: the mask touched only its own rows.
    assert [r.raw for r in together] == alone
    assert together[1].parsed is None


async def test_concurrent_tasks_mix_schemas(gen: genkit.Generator) -> None:
    results = await asyncio.gather(
        gen.agenerate(PROMPT, schema=Owner, **sampled(1)),
        gen.agenerate(PROMPT, schema=DICT_SCHEMA, **sampled(2)),
        gen.agenerate(PROMPT, seed=3, max_tokens=20),
        gen.agenerate(PROMPT, schema=list[Pet], **sampled(4)),
    )
    assert isinstance(results[0].parsed, Owner)
    assert isinstance(results[1].parsed, dict)
    assert results[2].parsed is None
    assert isinstance(results[3].parsed, list)


# --------------------------------------------------------------------------- refused up front


def test_a_schema_the_grammar_engine_refuses_fails_before_generating(
    gen: genkit.Generator,
) -> None:
    engine = engine_of(gen)
    assert engine.wait_idle(10)
    batches = engine.batches
    schema = {"type": "object", "properties": {"a": {"type": "string", "format": "no-such"}}}
    with pytest.raises(genkit.InvalidParameterError) as info:
        gen.generate(PROMPT, schema=schema)
    assert info.value.parameter == "schema"
    assert "huggingface" in str(info.value)
    assert "llguidance" in str(info.value)
    assert engine.batches == batches


def test_the_local_row_declares_structured_output_not_reasoning(gen: genkit.Generator) -> None:
    capabilities = gen.backend.capabilities.lookup(gen.model)
    assert "structured_output" in capabilities.features
    assert not {"image_input", "pdf_input"} & capabilities.features
    assert "reasoning" not in capabilities.supported
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        gen.generate(PROMPT, reasoning="low")
    assert info.value.parameter == "reasoning"
