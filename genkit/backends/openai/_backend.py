"""The OpenAI backend: calls and streams; what it maps lives beside it in this package."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import ClassVar

import openai

from genkit._jsonschema import openai_strict
from genkit.backends._hosted import StainlessBackend
from genkit.backends._sse import EventDecoder
from genkit.backends._transport import within
from genkit.backends.openai._capabilities import CAPABILITIES
from genkit.backends.openai._errors import classify
from genkit.backends.openai._request import PROVIDER, body
from genkit.backends.openai._response import StreamState, events, generation
from genkit.params import Request
from genkit.types import Generation, StreamEvent

__all__ = ["OpenAIBackend"]


class OpenAIBackend(StainlessBackend[openai.OpenAI, openai.AsyncOpenAI]):
    provider = PROVIDER
    capabilities = CAPABILITIES
    key_variables = ("OPENAI_API_KEY",)
    base_url_variable = "OPENAI_BASE_URL"

    sdk: ClassVar[ModuleType] = openai
    sync_client_class = openai.OpenAI
    async_client_class = openai.AsyncOpenAI

    _classify = staticmethod(classify)

    # ------------------------------------------------------------------ calls

    _map_messages = staticmethod(body)

    def check(self, request: Request) -> None:
        # A schema strict mode cannot express is refused here, before anything is sent.
        if request.output is not None:
            request.output.dialect(openai_strict)
        super().check(request)

    def generate(self, request: Request) -> Generation:
        with self._translating:
            response = self._sync.get().chat.completions.create(**body(request))
            return generation(response, self.model)

    async def agenerate(self, request: Request) -> Generation:
        with self._translating:
            response = await within(
                self._async.get().chat.completions.create(**body(request)),
                request.timeout,
                PROVIDER,
            )
            return generation(response, self.model)

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        # The SDK sends the request and raises its typed errors; genkit decodes the
        # body itself (see genkit/backends/_sse.py for why).
        with self._translating:
            opened = self._sync.get().chat.completions.with_streaming_response.create(
                **body(request), stream=True, stream_options={"include_usage": True}
            )
            response = opened.__enter__()
        try:
            with self._translating:
                decoder = EventDecoder()
                state = StreamState()
                chunks = response.iter_bytes()
                for received in chunks:
                    for data in decoder.feed(received):
                        if data.startswith(b"[DONE]"):
                            for _rest in chunks:  # read to the end: the connection is reused
                                pass
                            return
                        yield from events(data, response, state)
        finally:
            opened.__exit__(None, None, None)

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        with self._translating:
            opened = self._async.get().chat.completions.with_streaming_response.create(
                **body(request), stream=True, stream_options={"include_usage": True}
            )
            response = await opened.__aenter__()
        try:
            with self._translating:
                decoder = EventDecoder()
                state = StreamState()
                chunks = response.iter_bytes()
                async for received in chunks:
                    for data in decoder.feed(received):
                        if data.startswith(b"[DONE]"):
                            async for _rest in chunks:  # read to the end: the connection is reused
                                pass
                            return
                        for event in events(data, response, state):
                            yield event
        finally:
            await opened.__aexit__(None, None, None)
