"""The classic, through genkit.

Same job as ``transformers.pipeline("text-generation", model="gpt2")("Once upon a time",
max_length=50)``, but the model is one environment variable away from any other:
``GENKIT_MODEL=openai:gpt-4o python examples/quickstart.py``.
"""

import sys

import genkit


def main() -> int:
    try:
        gen = genkit.load()  # $GENKIT_MODEL, else "huggingface:gpt2"
        result = gen.generate("Once upon a time", max_tokens=50)
    except genkit.GenkitError as error:
        print(f"genkit: {error}", file=sys.stderr)
        return 1
    print(result.text)
    print(
        f"\n[{result.provider}:{result.model}] finish={result.finish_reason} "
        f"tokens in/out={result.usage.input_tokens}/{result.usage.output_tokens}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
