"""Print text as it is generated; the full result (with usage) is there after the loop."""

import sys

import genkit

gen = genkit.load()
with gen.stream("Write a haiku about the sea.", max_tokens=60) as stream:
    for chunk in stream:
        print(chunk.text, end="", flush=True)
result = stream.result
print(f"\n[{result.finish_reason}, {result.usage.total_tokens} tokens]", file=sys.stderr)
