"""Many prompts at once from one Generator: it is safe to share across tasks."""

import asyncio

import genkit

PROMPTS = [f"Give me one word that rhymes with {word}." for word in ("cat", "sun", "tree", "blue")]


async def main() -> None:
    gen = genkit.load(max_tokens=20)
    results = await asyncio.gather(*(gen.agenerate(prompt) for prompt in PROMPTS))
    for prompt, result in zip(PROMPTS, results, strict=True):
        print(f"{prompt} -> {result.text.strip()!r}")
    await gen.aclose()


asyncio.run(main())
