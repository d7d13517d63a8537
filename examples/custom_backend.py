"""A complete third-party backend in about 30 lines: it shouts the last user message back.

Run it: python examples/custom_backend.py
"""

from collections.abc import AsyncIterator, Iterator

import genkit
from genkit.provider import (
    Backend,
    CapabilityTable,
    Chunk,
    Finish,
    Generation,
    ModelCapabilities,
    Request,
    StreamEvent,
    Usage,
    UsageUpdate,
    text_only,
)  # fmt: skip


class ShoutBackend(Backend):
    provider = "shout"
    capabilities = CapabilityTable([], default=ModelCapabilities(frozenset({"max_tokens"})))

    def _answer(self, request: Request) -> list[str]:
        last = request.messages[-1]
        text = last.content if isinstance(last.content, str) else text_only(
            last.content, len(request.messages) - 1, self.provider, self.model)  # fmt: skip
        return text.upper().split()[: request.params.get("max_tokens")]

    def generate(self, request: Request) -> Generation:
        words = self._answer(request)
        return Generation([" ".join(words)], ["stop"], Usage(len(words), len(words)),
                          self.model, self.provider, raw_finish_reasons=["done"])  # fmt: skip

    async def agenerate(self, request: Request) -> Generation:
        return self.generate(request)

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        words = self._answer(request)
        yield from (Chunk(("" if i == 0 else " ") + w) for i, w in enumerate(words))
        yield UsageUpdate(Usage(len(words), len(words)))
        yield Finish("stop", "done")

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        for event in self.stream(request):
            yield event


genkit.register("shout", ShoutBackend)
if __name__ == "__main__":
    gen = genkit.load("shout:loud")
    print(gen.generate("hello there, backend").text)
    print("".join(chunk.text for chunk in gen.stream("streams too", max_tokens=1)))
