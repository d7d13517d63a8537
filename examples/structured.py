"""Ask for a typed answer: a pydantic model in, a validated instance out, on any backend.

    GENKIT_MODEL=test:lorem python examples/structured.py        # offline
    GENKIT_MODEL=openai:gpt-4o python examples/structured.py     # or anthropic:, gemini:

genkit sends the schema in each provider's own dialect and validates the answer
locally with pydantic; ``output_retries`` asks again, with the errors, when it does
not match.  While streaming, ``stream.partial_object`` is the JSON received so far.
"""

import sys
from typing import Annotated

from pydantic import BaseModel, Field

import genkit


class City(BaseModel):
    """A city and a few facts about it."""

    # Bounds help a weak model (and bound a local model's constrained answer).
    name: str = Field(max_length=60)
    country: str = Field(max_length=60)
    population: int = Field(ge=0, le=100_000_000)
    landmarks: list[Annotated[str, Field(max_length=60)]] = Field(max_length=5)


gen = genkit.load()
try:
    result = gen.generate("Describe Paris.", schema=City, max_tokens=400, output_retries=1)
    city = result.parsed
    print(f"generate: {city.name}, {city.country}: {len(city.landmarks)} landmarks")

    with gen.stream("Describe Rome.", schema=City, max_tokens=400) as stream:
        seen = 0
        for _ in stream:
            partial = stream.partial_object or {}
            seen = max(seen, len(partial))
    print(f"stream: {stream.result.parsed.name} ({seen} fields seen while streaming)")
except genkit.RefusalError as error:
    sys.exit(f"refused: {error.refusal}")
except genkit.OutputValidationError as error:
    hint = " (raise max_tokens)" if error.truncated else ""
    sys.exit(f"no valid City{hint}: {error}")
except genkit.GenkitError as error:  # e.g. a model without schema=, refused before sending
    sys.exit(f"genkit: {error}")
