"""A second model when the first is down: the chain comes from GENKIT_MODEL.

    GENKIT_MODEL="openai:gpt-4o,anthropic:claude-sonnet-4-6" python examples/fallbacks.py
    GENKIT_MODEL="anthropic:claude-sonnet-4-6,huggingface:gpt2" python examples/fallbacks.py

Each model spends its own retries first; the next one is tried when it is down, rate
limited past the retry budget, or refuses the key or the model name.  The script
prints which model answered and why any before it was skipped, for a call and a
stream; when every model fails, it prints each model's error and exits with 1.
"""

import sys

import genkit

PROMPT = "Once upon a time"


def report(mode: str, result: genkit.Generation) -> None:
    print(f"{mode}: answered by {result.provider}:{result.model}: {result.text!r}")
    for warning in result.warnings:
        print(f"{mode}: warning: {warning}")


def main() -> int:
    gen = genkit.load(max_tokens=40)  # $GENKIT_MODEL, commas and all
    chain = getattr(gen, "generators", (gen,))
    print("chain: " + " -> ".join(f"{g.provider}:{g.model}" for g in chain))
    with gen:
        try:
            report("generate", gen.generate(PROMPT))
            with gen.stream(PROMPT) as stream:
                for chunk in stream:
                    print(chunk.text, end="", flush=True)
            print()
            report("stream", stream.result)
        except genkit.AllModelsFailedError as error:
            # Every model failed: each one's error, in the order they were tried.
            for model, cause in error.errors:
                print(f"genkit: {model}: {type(cause).__name__}: {cause}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
