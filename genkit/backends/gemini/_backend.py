"""The Gemini backend: clients, calls and streams (the mapping lives beside it, see _request.py).

- The Gemini Developer API only: ``vertexai=False`` is pinned so a stray
  ``GOOGLE_GENAI_USE_VERTEXAI`` cannot send the API key elsewhere.  The API version is
  the SDK's default (``v1``; ``GOOGLE_GENAI_API_VERSION`` is honoured), or
  ``genkit.load(..., api_version="v1beta")``.
- The HTTP clients are genkit's own httpx2 clients handed to the SDK: the SDK would
  otherwise pick aiohttp for async calls when it is installed (or plain httpx when
  ``GOOGLE_GENAI_HTTP_CLIENT=httpx``), and genkit translates httpx2's errors only.
- google-genai sets no timeout of its own, so :data:`DEFAULT_TIMEOUT` applies when the
  caller gave none: a stalled connection never hangs a call forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass

import httpx2
from google import genai
from google.genai import types
from google.genai._api_client import HttpResponse

from genkit.backends._hosted import HostedBackend
from genkit.backends._sse import EventDecoder
from genkit.backends._transport import POOL_LIMITS, within
from genkit.backends.base import BackendSettings, Lazy
from genkit.backends.gemini._capabilities import CAPABILITIES
from genkit.backends.gemini._errors import classify
from genkit.backends.gemini._request import (
    PROVIDER,
    candidates,
    config,
    contents,
    continues,
    milliseconds,
    schema_warnings,
    stream_request,
)
from genkit.backends.gemini._response import StreamState, generation
from genkit.errors import InvalidParameterError
from genkit.params import Request
from genkit.types import Generation, StreamEvent, StreamWarning

__all__ = ["DEFAULT_TIMEOUT", "GeminiBackend"]

#: Seconds per attempt when neither ``load(timeout=)`` nor the call set one.
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class _LoopClient:
    """A ``genai.Client`` for one event loop and the async HTTP pool it was given."""

    client: genai.Client
    http: httpx2.AsyncClient


class GeminiBackend(HostedBackend[genai.Client, _LoopClient]):
    provider = PROVIDER
    capabilities = CAPABILITIES
    load_options = frozenset({"api_version"})
    # google-genai's order: GOOGLE_API_KEY wins over GEMINI_API_KEY.
    key_variables = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
    advertised_key_variables = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    base_url_variable = "GOOGLE_GEMINI_BASE_URL"
    base_url_empty_is_unset = True

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        version = settings.options.get("api_version")
        if version is not None and (not isinstance(version, str) or not version):
            raise InvalidParameterError(
                "api_version",
                f"expected a string like 'v1beta', got {version!r}",
                provider=PROVIDER,
            )
        self._api_version: str | None = version
        self._timeout = settings.timeout if settings.timeout is not None else DEFAULT_TIMEOUT
        self._http = Lazy(lambda: httpx2.Client(follow_redirects=True, limits=POOL_LIMITS))

    def _client(self, async_http: httpx2.AsyncClient | None) -> genai.Client:
        # attempts=1: genkit's policy is the only one.  No base_url unless given, so the
        # SDK's own GOOGLE_GEMINI_BASE_URL applies.
        options = types.HttpOptions(
            base_url=self.settings.base_url,
            api_version=self._api_version,
            timeout=milliseconds(self._timeout),
            retry_options=types.HttpRetryOptions(attempts=1),
            httpx_client=self._http.get(),
            httpx_async_client=async_http,
        )
        return genai.Client(vertexai=False, api_key=self._key, http_options=options)

    def _new_sync_client(self) -> genai.Client:
        return self._client(None)

    def _new_async_client(self) -> _LoopClient:
        http = httpx2.AsyncClient(follow_redirects=True, limits=POOL_LIMITS)
        return _LoopClient(self._client(http), http)

    def _close_async_client(self, client: _LoopClient) -> Awaitable[None]:
        return client.http.aclose()

    def _close_sync_client(self) -> None:
        # The connections are the httpx2 pool genkit handed the SDK.
        http = self._http.built
        if http is not None:
            http.close()

    _classify = staticmethod(classify)

    # ------------------------------------------------------------------ calls

    _map_messages = staticmethod(contents)

    def check(self, request: Request) -> None:
        super().check(request)
        if request.provider_options or request.output is not None:
            # Unknown or ill-typed fields and a schema Gemini cannot express fail
            # before anything is sent.
            self._config(request)

    def _config(self, request: Request) -> types.GenerateContentConfig | None:
        # A per-request timeout makes the SDK copy and merge its HTTP options on every
        # call (hundreds of microseconds), so only a timeout that differs is sent.
        timeout = request.timeout
        return config(request, None if timeout in (None, self._timeout) else timeout)

    def generate(self, request: Request) -> Generation:
        settings = self._config(request)
        with self._translating:
            response = self._sync.get().models.generate_content(
                model=request.model, contents=contents(request), config=settings
            )
            return _warned(generation(response, candidates(request), self.model), request)

    async def agenerate(self, request: Request) -> Generation:
        settings = self._config(request)
        with self._translating:
            response = await within(
                self._async.get().client.aio.models.generate_content(
                    model=request.model, contents=contents(request), config=settings
                ),
                request.timeout,
                PROVIDER,
            )
            return _warned(generation(response, candidates(request), self.model), request)

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        # The SDK builds, sends and authenticates the request and raises its typed
        # errors; genkit decodes the body itself (see genkit/backends/_sse.py for why).
        settings = self._config(request)
        state = StreamState(candidates(request), continues(settings))
        for warning in schema_warnings(request):
            yield StreamWarning(warning)
        token: str | None = None
        while True:
            with self._translating:
                api = self._sync.get()._api_client
                http_request, options = stream_request(api, request, settings, token)
                response = _body(api._request(http_request, options, stream=True))
            state.response = response
            try:
                with self._translating:
                    decoder = EventDecoder()
                    for received in response.iter_bytes():  # to the end: the connection is reused
                        for data in decoder.feed(received):
                            yield from state.events(data)
            finally:
                response.close()
            token = state.next_request()
            if token is None:
                return

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        settings = self._config(request)
        state = StreamState(candidates(request), continues(settings))
        for warning in schema_warnings(request):
            yield StreamWarning(warning)
        token: str | None = None
        while True:
            with self._translating:
                api = self._async.get().client._api_client
                http_request, options = stream_request(api, request, settings, token)
                response = _body(await api._async_request(http_request, options, stream=True))
            state.response = response
            try:
                with self._translating:
                    decoder = EventDecoder()
                    async for received in response.aiter_bytes():  # to the end: reused
                        for data in decoder.feed(received):
                            for event in state.events(data):
                                yield event
            finally:
                await response.aclose()
            token = state.next_request()
            if token is None:
                return


def _warned(result: Generation, request: Request) -> Generation:
    """``result`` with what the schema lost on its way to Gemini in its warnings."""
    warnings = schema_warnings(request)
    if warnings:
        result.warnings.extend(warnings)
    return result


def _body(opened: HttpResponse) -> httpx2.Response:
    """The open httpx2 response behind the SDK's streamed ``HttpResponse``."""
    response = opened.response_stream
    if not isinstance(response, httpx2.Response):  # genkit hands the SDK httpx2 clients only
        raise TypeError(f"expected an httpx2 response, got {type(response).__name__}")
    return response
