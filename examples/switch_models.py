"""One script, any backend: the model comes from GENKIT_MODEL, never from the code.

    GENKIT_MODEL=openai:gpt-4o                 python examples/switch_models.py
    GENKIT_MODEL=anthropic:claude-sonnet-4-6   python examples/switch_models.py
    GENKIT_MODEL=gemini:gemini-2.5-flash       python examples/switch_models.py
    GENKIT_MODEL=huggingface:gpt2              python examples/switch_models.py

It exercises the four ways to call a model (sync, streaming, async, async
streaming) and prints what each returned.
"""

import asyncio

import genkit

PROMPT = [
    {"role": "system", "content": "You are a concise storyteller."},
    {"role": "user", "content": "Once upon a time"},
]


def report(mode: str, result: genkit.Generation) -> None:
    print(
        f"{mode:>12}: {result.text!r} finish={result.finish_reason} "
        f"usage={result.usage.input_tokens}+{result.usage.output_tokens}"
        f"={result.usage.total_tokens} model={result.model}"
    )


async def run_async(gen: genkit.Generator) -> None:
    report("agenerate", await gen.agenerate(PROMPT))
    stream = gen.astream(PROMPT)
    async for _chunk in stream:
        pass
    report("astream", stream.result)


def main() -> None:
    gen = genkit.load(max_tokens=40)
    print(f"model: {gen.provider}:{gen.model}")
    report("generate", gen.generate(PROMPT))
    with gen.stream(PROMPT) as stream:
        pieces = [chunk.text for chunk in stream]
    report("stream", stream.result)
    assert "".join(pieces) == stream.result.text
    asyncio.run(run_async(gen))


if __name__ == "__main__":
    main()
