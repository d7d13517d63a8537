"""OpenAI Chat Completions (and any OpenAI-compatible server via ``OPENAI_BASE_URL``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, assert_never

from genkit._credentials import check_base_url_env, find_api_key, raw_secrets
from genkit._redact import scrub_exception
from genkit.backends._sse import EventDecoder
from genkit.backends.base import Backend, BackendSettings, Lazy, PerLoop
from genkit.capabilities import CapabilityTable, ModelCapabilities
from genkit.errors import (
    GenkitError,
    InvalidResponseError,
    MissingDependencyError,
    ProviderError,
    error_for_status,
)
from genkit.messages import unsupported_part
from genkit.params import Request
from genkit.parts import Document, Image, Part, ProviderPart, Text, ToolCall, ToolResult
from genkit.retry import parse_retry_after
from genkit.types import Chunk, FinishReason, Generation, StreamEvent, StreamItem, Usage

try:
    import openai

    # httpx2 comes with the SDK: a missing extra must not surface as its ImportError.
    from genkit.backends._transport import (
        POOL_LIMITS,
        connection_error,
        not_found_hint,
        timeout_error,
        translate_transport,
        within,
    )
except ImportError as exc:  # pragma: no cover - exercised by the missing-extra test
    raise MissingDependencyError("openai", "openai", "openai") from exc

__all__ = ["CAPABILITIES", "FINISH_REASONS", "PARAMETER_NAMES", "OpenAIBackend"]

PROVIDER = "openai"
_KEY_VARIABLES = ("OPENAI_API_KEY",)

#: genkit's shared parameter -> Chat Completions field.
PARAMETER_NAMES: Mapping[str, str] = {
    "max_tokens": "max_completion_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "stop": "stop",
    "seed": "seed",
    "n": "n",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}

_CHAT = ModelCapabilities(
    supported=frozenset(PARAMETER_NAMES),
    ranges={
        "temperature": (0.0, 2.0),
        "presence_penalty": (-2.0, 2.0),
        "frequency_penalty": (-2.0, 2.0),
    },
    max_stop=4,
    max_n=128,
)
# Reasoning models fix their own sampling and reject the knobs outright.
_REASONING = _CHAT.without("temperature", "top_p", "presence_penalty", "frequency_penalty", "stop")

CAPABILITIES = CapabilityTable(
    [
        ("o1*", _REASONING),
        ("o3*", _REASONING),
        ("o4*", _REASONING),
        ("gpt-5*", _REASONING),
        ("gpt-6*", _REASONING),
    ],
    default=_CHAT,
)

FINISH_REASONS: Mapping[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}


class OpenAIBackend(Backend):
    provider = PROVIDER
    capabilities = CAPABILITIES

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        # genkit reads the key the SDK would read, stripped and checked (see _credentials).
        self._key, _ = find_api_key(PROVIDER, settings.api_key, _KEY_VARIABLES)
        self._secrets = raw_secrets(settings.api_key, _KEY_VARIABLES)
        check_base_url_env(settings.base_url, "OPENAI_BASE_URL")
        self._sync = Lazy(
            lambda: openai.OpenAI(
                http_client=openai.DefaultHttpxClient(limits=POOL_LIMITS), **self._client_args()
            )
        )
        self._async = PerLoop(
            lambda: openai.AsyncOpenAI(
                http_client=openai.DefaultAsyncHttpxClient(limits=POOL_LIMITS),
                **self._client_args(),
            ),
            close=lambda client: client.close(),
        )

    def _client_args(self) -> dict[str, Any]:
        # max_retries=0: genkit's policy is the only one, so attempts never multiply.
        return {"max_retries": 0, **self.settings.given(), "api_key": self._key}

    # ------------------------------------------------------------------ requests

    def check(self, request: Request) -> None:
        for message in request.messages:
            if message.content.__class__ is not str:  # parts: map now, to refuse before sending
                self._body(request)
                break

    def _body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [
                {
                    "role": m.role,
                    "content": m.content
                    if isinstance(m.content, str)
                    else _content(m.content, i, request.model),
                }
                for i, m in enumerate(request.messages)
            ],
        }
        for name, value in request.params.items():
            body[PARAMETER_NAMES[name]] = list(value) if name == "stop" else value
        if request.timeout is not None:
            body["timeout"] = request.timeout
        if request.provider_options:
            body["extra_body"] = dict(request.provider_options)
        if request.headers:
            body["extra_headers"] = dict(request.headers)
        return body

    def _generation(self, response: Any) -> Generation:
        choices = sorted(response.choices, key=lambda c: c.index)
        usage = response.usage
        return Generation(
            texts=[c.message.content or "" for c in choices],
            finish_reasons=[FINISH_REASONS.get(c.finish_reason, "other") for c in choices],
            usage=Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage(),
            model=response.model or self.model,
            provider=PROVIDER,
            raw=response,
        )

    def generate(self, request: Request) -> Generation:
        try:
            response = self._sync.get().chat.completions.create(**self._body(request))
            return self._generation(response)
        except GenkitError:
            raise
        except Exception as error:
            raise self._translate(error) from error

    async def agenerate(self, request: Request) -> Generation:
        try:
            response = await within(
                self._async.get().chat.completions.create(**self._body(request)),
                request.timeout,
                PROVIDER,
            )
            return self._generation(response)
        except GenkitError:
            raise
        except Exception as error:
            raise self._translate(error) from error

    def stream(self, request: Request) -> Iterator[StreamItem]:
        # The SDK sends the request and raises its typed errors; genkit decodes the
        # body itself (see genkit/backends/_sse.py for why).
        try:
            opened = self._sync.get().chat.completions.with_streaming_response.create(
                **self._body(request), stream=True, stream_options={"include_usage": True}
            )
            response = opened.__enter__()
        except Exception as error:
            raise self._translate(error) from error
        try:
            decoder = EventDecoder()
            body = response.iter_bytes()
            for received in body:
                for data in decoder.feed(received):
                    if data.startswith(b"[DONE]"):
                        for _rest in body:  # read to the end: the connection goes back to the pool
                            pass
                        return
                    yield from self._events(data, response)
        except GenkitError:
            raise
        except Exception as error:
            raise self._translate(error) from error
        finally:
            opened.__exit__(None, None, None)

    async def astream(self, request: Request) -> AsyncIterator[StreamItem]:
        try:
            opened = self._async.get().chat.completions.with_streaming_response.create(
                **self._body(request), stream=True, stream_options={"include_usage": True}
            )
            response = await opened.__aenter__()
        except Exception as error:
            raise self._translate(error) from error
        try:
            decoder = EventDecoder()
            body = response.iter_bytes()
            async for received in body:
                for data in decoder.feed(received):
                    if data.startswith(b"[DONE]"):
                        async for _rest in body:  # read to the end: the connection is reused
                            pass
                        return
                    for event in self._events(data, response):
                        yield event
        except GenkitError:
            raise
        except Exception as error:
            raise self._translate(error) from error
        finally:
            await opened.__aexit__(None, None, None)

    def _events(self, data: bytes, response: Any) -> list[StreamItem]:
        """The genkit events in one streamed chunk (a list: cheaper than a generator).

        Text alone becomes a Chunk handed to the user as it is; the model the provider
        reports rides on the finish and usage events, which every stream ends with, and
        those chunks (as parsed) become ``stream.result.raw``.
        """
        chunk = json.loads(data)
        if chunk.get("error"):
            # The SDK's own error for it: mapped as usual, and the caller finds the
            # vendor exception as __cause__.
            body = chunk["error"]
            message = body.get("message") if isinstance(body, Mapping) else None
            raise openai.APIError(
                message if isinstance(message, str) else "An error occurred during streaming",
                response.http_request,
                body=body,
            )
        events: list[StreamItem] = []
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta")
            text = delta.get("content") if delta else None
            reason = choice.get("finish_reason")
            if reason:
                finish = FINISH_REASONS.get(reason, "other")
                index = choice.get("index") or 0
                events.append(
                    StreamEvent(text or "", index, finish, None, chunk.get("model"), chunk)
                )
            elif text:
                events.append(Chunk(text, choice.get("index") or 0))
        usage = chunk.get("usage")
        if usage:
            tokens = Usage(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)
            events.append(StreamEvent(usage=tokens, model=chunk.get("model"), raw=chunk))
        return events

    def close(self) -> None:
        client = self._sync.built
        if client is not None:
            client.close()
        self._async.clear()

    async def aclose(self) -> None:
        client = self._async.current()  # before close() forgets the per-loop clients
        self.close()
        if client is not None:
            await client.close()

    # ------------------------------------------------------------------ errors

    def _translate(self, error: Exception) -> ProviderError:
        scrub_exception(error, self._secrets)
        translated = self._classify(error)
        translated.redact(self._secrets)
        return translated

    def _classify(self, error: Exception) -> ProviderError:
        if isinstance(error, openai.APIStatusError):
            message = _message(error.body, error.message)
            if error.status_code == 404:
                message += not_found_hint(error.response.request, PROVIDER)
            return error_for_status(
                error.status_code,
                message,
                provider=PROVIDER,
                retry_after=parse_retry_after(error.response.headers),
                request_id=error.request_id,
            )
        if isinstance(error, openai.APITimeoutError):
            return timeout_error(error, PROVIDER)
        if isinstance(error, openai.APIConnectionError):
            return connection_error(error, PROVIDER)
        if isinstance(error, openai.APIResponseValidationError):
            return InvalidResponseError(f"unexpected response: {error.message}", provider=PROVIDER)
        if isinstance(error, openai.APIError):
            # No status: the SDK's name for an error event inside a 200 stream.
            return _event_error(error.body)
        transport = translate_transport(error, PROVIDER)
        if transport is not None:
            return transport
        if isinstance(error, AttributeError | KeyError | TypeError | ValueError):
            return InvalidResponseError(
                f"response not in the Chat Completions format ({type(error).__name__}: {error})",
                provider=PROVIDER,
            )
        return ProviderError(f"{type(error).__name__}: {error}", provider=PROVIDER)


def _message(body: object, fallback: str) -> str:
    """The provider's own error text, without the SDK's "Error code: NNN - " prefix.

    A body that is not JSON (a proxy's HTML or plain-text page) arrives as a string;
    it says more than the SDK's bare "Error code: 502".
    """
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        # OpenAI-compatible servers built on FastAPI (transformers serve) answer {"detail": "..."}.
        detail = body.get("detail")
        if isinstance(detail, str) and detail.strip():
            return detail.strip()
    if isinstance(body, str) and body.strip():
        return body.strip()
    return fallback


#: ``error.type`` of an error event inside a stream -> the HTTP status OpenAI sends
#: the same error with.  OpenAI-compatible servers (vLLM and others) put the status
#: itself in ``error.code``, which wins.
_EVENT_TYPE_STATUS: Mapping[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "requests": 429,
    "tokens": 429,
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "service_unavailable": 503,
}
_EVENT_DEFAULT_STATUS = 500


def _event_error(body: object) -> ProviderError:
    """An error event inside a 200 stream: the provider failed mid-answer.

    The event has no HTTP status; its type gives the one the same failure gets
    before a stream starts, and with it the same class and retry decision.
    """
    message = _message({"error": body}, "the provider reported an error mid-stream")
    return error_for_status(_event_status(body), message, provider=PROVIDER)


def _event_status(body: object) -> int:
    """The status an in-stream error event stands for (500 when it says nothing)."""
    if not isinstance(body, Mapping):
        return _EVENT_DEFAULT_STATUS
    inner = body.get("error", body)
    if not isinstance(inner, Mapping):
        return _EVENT_DEFAULT_STATUS
    code = inner.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code
    for key in (code, inner.get("type")):
        if isinstance(key, str) and key in _EVENT_TYPE_STATUS:
            return _EVENT_TYPE_STATUS[key]
    return _EVENT_DEFAULT_STATUS


def _content(parts: Sequence[Part], index: int, model: str) -> str:
    """A parts list as the message content sent today: its text parts joined.

    Exhaustive on purpose: a new part type fails type-checking here until mapped, and
    a part not mapped yet is refused before anything is sent, never dropped.
    """
    texts: list[str] = []
    for j, part in enumerate(parts):
        match part:
            case Text():
                texts.append(part.text)
            case Image() | Document() | ToolCall() | ToolResult() | ProviderPart():
                raise unsupported_part(index, j, part, PROVIDER, model)
            case _:
                assert_never(part)
    return "".join(texts)
