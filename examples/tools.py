"""A tool loop: the model calls two Python functions, genkit runs them and sends the results.

    GENKIT_MODEL=openai:gpt-4o python examples/tools.py
    GENKIT_MODEL=test:echo python examples/tools.py      # offline, no key

Each function's name, docstring and type hints are what the model sees; ``max_steps``
lets genkit run the calls and ask again until the model answers in text.  The same
script runs on every backend: only GENKIT_MODEL differs.  (``test:echo`` calls the first
tool with empty arguments when a call is required, then answers with the prompt.)
"""

import sys
from typing import Literal

import genkit

RATES = {("EUR", "USD"): 1.08, ("USD", "EUR"): 0.93}


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict[str, object]:
    """Get the current weather in a city.

    Args:
        city: The city's name, e.g. "Paris".
        unit: The temperature unit.
    """
    celsius = 18.0
    temperature = celsius if unit == "celsius" else celsius * 9 / 5 + 32
    return {"city": city or "unknown", "temperature": temperature, "unit": unit, "sky": "cloudy"}


def convert_currency(amount: float, source: str, target: str) -> float:
    """Convert an amount of money between currencies.

    Args:
        amount: How much money.
        source: The ISO code of the currency it is in, e.g. "EUR".
        target: The ISO code of the currency wanted.
    """
    if source == target:
        return amount
    return round(amount * RATES[(source.upper(), target.upper())], 2)


def main() -> int:
    try:
        gen = genkit.load()  # $GENKIT_MODEL
        stream = gen.stream(
            "What's the weather in Paris, and how much is 20 EUR in USD?",
            tools=[get_weather, convert_currency],
            tool_choice="required",  # forced on the first step only
            max_steps=5,
        )
        for event in stream.events():
            if isinstance(event, genkit.ToolCallEnd):
                print(f"-> {event.name}({event.arguments})")
            elif isinstance(event, genkit.Chunk):
                print(event.text, end="", flush=True)
        result = stream.result
    except genkit.GenkitError as error:
        print(f"genkit: {error}", file=sys.stderr)
        return 1
    print()
    print(
        f"[{result.provider}:{result.model}] steps={len(result.steps)} "
        f"finish={result.finish_reason} tokens in/out="
        f"{result.usage.input_tokens}/{result.usage.output_tokens}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
