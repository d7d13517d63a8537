"""Google Gemini API (``gemini:<model>``, alias ``google:``) through ``google-genai``.

How genkit's shared request maps onto ``generateContent``, and why:

- ``system`` messages become ``system_instruction`` (several joined with a blank line);
  ``assistant`` turns are sent with Gemini's role name, ``model``.
- Every shared parameter is native (:data:`PARAMETER_NAMES`); ``n`` is
  ``candidate_count`` (at most 8) and ``stop`` at most 5 sequences.
- ``provider_options`` are extra fields of ``GenerateContentConfig`` given by name, e.g.
  ``{"safety_settings": [...], "thinking_config": {"thinking_budget": 0},
  "response_mime_type": "application/json"}``; they win over genkit's own fields and an
  unknown name is refused before any request.
- The Gemini Developer API only: ``vertexai=False`` is pinned so a stray
  ``GOOGLE_GENAI_USE_VERTEXAI`` cannot send the API key elsewhere.  The API version is
  the SDK's default (``v1``; ``GOOGLE_GENAI_API_VERSION`` is honoured), or
  ``genkit.load(..., api_version="v1beta")``.
- The HTTP clients are genkit's own httpx2 clients handed to the SDK: the SDK would
  otherwise pick aiohttp for async calls when it is installed (or plain httpx when
  ``GOOGLE_GENAI_HTTP_CLIENT=httpx``), and genkit translates httpx2's errors only.
- google-genai sets no timeout of its own, so :data:`DEFAULT_TIMEOUT` applies when the
  caller gave none: a stalled connection never hangs a call forever.
- Streams: the SDK maps the request, builds its URL, headers and timeout, sends it and
  raises its typed error for a failed status (its own ``_api_client`` steps, the ones
  ``generate_content_stream`` takes: google-genai has no public raw-stream mode);
  genkit decodes the ``alt=sse`` body itself and reads the JSON events as dicts, where
  the SDK built pydantic models per event (8x the CPU per chunk).  ``CONTINUATION``
  is followed with its token, as the SDK does by default.
- Output usage counts thinking tokens too (``thoughts_token_count``), as OpenAI's
  ``completion_tokens`` counts reasoning tokens: both are billed as output.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, assert_never
from urllib.parse import urlencode

from genkit._credentials import check_base_url_env, find_api_key, raw_secrets
from genkit._redact import scrub_exception
from genkit.backends.base import Backend, BackendSettings, Lazy, PerLoop
from genkit.capabilities import CapabilityTable, ModelCapabilities
from genkit.errors import (
    AuthenticationError,
    GenkitError,
    InvalidParameterError,
    InvalidResponseError,
    MissingDependencyError,
    ProviderError,
    error_for_status,
)
from genkit.messages import unsupported_part
from genkit.params import Request
from genkit.parts import Document, Image, Part, ProviderPart, Text, ToolCall, ToolResult
from genkit.retry import parse_retry_after
from genkit.types import FinishReason, Generation, Message, StreamEvent, Usage

try:
    import httpx2
    import pydantic
    from google import genai
    from google.genai import _common, types
    from google.genai import errors as genai_errors
    from google.genai import models as genai_models
    from google.genai._api_client import BaseApiClient, HttpRequest, HttpResponse

    # httpx2 comes with the SDK: a missing extra must not surface as its ImportError.
    from genkit.backends._sse import EventDecoder
    from genkit.backends._transport import POOL_LIMITS, not_found_hint, translate_transport, within
except ImportError as exc:  # pragma: no cover - exercised by the missing-extra test
    raise MissingDependencyError("gemini", "google-genai", "gemini") from exc

__all__ = [
    "CAPABILITIES",
    "DEFAULT_TIMEOUT",
    "FINISH_REASONS",
    "PARAMETER_NAMES",
    "GeminiBackend",
]

PROVIDER = "gemini"

#: Seconds per attempt when neither ``load(timeout=)`` nor the call set one.
DEFAULT_TIMEOUT = 600.0

#: genkit's shared parameter -> ``GenerateContentConfig`` field.
PARAMETER_NAMES: Mapping[str, str] = {
    "max_tokens": "max_output_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop": "stop_sequences",
    "seed": "seed",
    "n": "candidate_count",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}

_INT32 = 2**31
_GEMINI = ModelCapabilities(
    supported=frozenset(PARAMETER_NAMES),
    ranges={
        "temperature": (0.0, 2.0),
        "presence_penalty": (-2.0, 2.0),
        "frequency_penalty": (-2.0, 2.0),
        "seed": (-_INT32, _INT32 - 1),  # an int32 in the API
    },
    max_stop=5,
    max_n=8,
)

CAPABILITIES = CapabilityTable([], default=_GEMINI)

_CONTENT_FILTER: FinishReason = "content_filter"

#: Gemini ``finishReason`` -> genkit finish reason; anything else is "other".
#: A model that called a function ends with ``STOP``; genkit reports that as
#: "tool_calls" (see :func:`_finish`).  A *malformed* or unexpected call is "other":
#: there is no call for the caller to run.
FINISH_REASONS: Mapping[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    # Seen only with automatic_continuation=False: the per-request token limit.
    "CONTINUATION": "length",
    "SAFETY": _CONTENT_FILTER,
    "RECITATION": _CONTENT_FILTER,
    "BLOCKLIST": _CONTENT_FILTER,
    "PROHIBITED_CONTENT": _CONTENT_FILTER,
    "SPII": _CONTENT_FILTER,
    "IMAGE_SAFETY": _CONTENT_FILTER,
    "IMAGE_PROHIBITED_CONTENT": _CONTENT_FILTER,
    "IMAGE_RECITATION": _CONTENT_FILTER,
    "MODEL_ARMOR": _CONTENT_FILTER,
    "ESCALATION": _CONTENT_FILTER,
    "PUP_LIMITED_DISABLED": _CONTENT_FILTER,
}

#: genkit role -> Gemini role.
_ROLES: Mapping[str, str] = {"user": "user", "assistant": "model"}

#: ``google.rpc.ErrorInfo`` reasons whose genkit class is not the status's own.
_REASON_CLASSES: Mapping[str, type[ProviderError]] = {"API_KEY_INVALID": AuthenticationError}

_KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
_SDK_KEY_ORDER = ("GOOGLE_API_KEY", "GEMINI_API_KEY")


@dataclass(frozen=True, slots=True)
class _LoopClient:
    """A ``genai.Client`` for one event loop and the async HTTP pool it was given."""

    client: genai.Client
    http: httpx2.AsyncClient


class GeminiBackend(Backend):
    provider = PROVIDER
    capabilities = CAPABILITIES
    load_options = frozenset({"api_version"})

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        # google-genai's order: GOOGLE_API_KEY wins over GEMINI_API_KEY.  genkit reads it,
        # stripped and checked (see _credentials), and hands the SDK that key.
        self._key, _ = find_api_key(
            PROVIDER, settings.api_key, _SDK_KEY_ORDER, advertised=_KEY_VARIABLES
        )
        self._secrets = raw_secrets(settings.api_key, _KEY_VARIABLES)
        check_base_url_env(settings.base_url, "GOOGLE_GEMINI_BASE_URL", empty_is_unset=True)
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
        self._sync = Lazy(lambda: self._client(None))
        self._async = PerLoop(
            self._loop_client, close=lambda loop_client: loop_client.http.aclose()
        )

    def _client(self, async_http: httpx2.AsyncClient | None) -> genai.Client:
        # attempts=1: genkit's policy is the only one.  No base_url unless given, so the
        # SDK's own GOOGLE_GEMINI_BASE_URL applies.
        options = types.HttpOptions(
            base_url=self.settings.base_url,
            api_version=self._api_version,
            timeout=_milliseconds(self._timeout),
            retry_options=types.HttpRetryOptions(attempts=1),
            httpx_client=self._http.get(),
            httpx_async_client=async_http,
        )
        return genai.Client(vertexai=False, api_key=self._key, http_options=options)

    def _loop_client(self) -> _LoopClient:
        http = httpx2.AsyncClient(follow_redirects=True, limits=POOL_LIMITS)
        return _LoopClient(self._client(http), http)

    # ------------------------------------------------------------------ calls

    def check(self, request: Request) -> None:
        for message in request.messages:
            if message.content.__class__ is not str:  # parts: map now, to refuse before sending
                _contents(request)
                break
        if request.provider_options:
            self._config(request)  # unknown or ill-typed fields fail before anything is sent

    def _config(self, request: Request) -> types.GenerateContentConfig | None:
        # A per-request timeout makes the SDK copy and merge its HTTP options on every
        # call (hundreds of microseconds), so only a timeout that differs is sent.
        timeout = request.timeout
        return _config(request, None if timeout in (None, self._timeout) else timeout)

    def generate(self, request: Request) -> Generation:
        config = self._config(request)
        try:
            response = self._sync.get().models.generate_content(
                model=request.model, contents=_contents(request), config=config
            )
            return self._generation(response, _candidates(request))
        except GenkitError:
            raise
        except Exception as error:
            raise self._translate(error) from error

    async def agenerate(self, request: Request) -> Generation:
        config = self._config(request)
        try:
            response = await within(
                self._async.get().client.aio.models.generate_content(
                    model=request.model, contents=_contents(request), config=config
                ),
                request.timeout,
                PROVIDER,
            )
            return self._generation(response, _candidates(request))
        except GenkitError:
            raise
        except Exception as error:
            raise self._translate(error) from error

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        # The SDK builds, sends and authenticates the request and raises its typed
        # errors; genkit decodes the body itself (see genkit/backends/_sse.py for why).
        config = self._config(request)
        state = _StreamState(_candidates(request), _continues(config))
        token: str | None = None
        while True:
            try:
                api = self._sync.get()._api_client
                http_request, options = _stream_request(api, request, config, token)
                response = _body(api._request(http_request, options, stream=True))
            except GenkitError:
                raise
            except Exception as error:
                raise self._translate(error) from error
            state.response = response
            try:
                decoder = EventDecoder()
                for received in response.iter_bytes():  # to the end: the connection is reused
                    for data in decoder.feed(received):
                        yield from state.events(data)
            except GenkitError:
                raise
            except Exception as error:
                raise self._translate(error) from error
            finally:
                response.close()
            token = state.next_request()
            if token is None:
                return

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        config = self._config(request)
        state = _StreamState(_candidates(request), _continues(config))
        token: str | None = None
        while True:
            try:
                api = self._async.get().client._api_client
                http_request, options = _stream_request(api, request, config, token)
                response = _body(await api._async_request(http_request, options, stream=True))
            except GenkitError:
                raise
            except Exception as error:
                raise self._translate(error) from error
            state.response = response
            try:
                decoder = EventDecoder()
                async for received in response.aiter_bytes():  # to the end: reused
                    for data in decoder.feed(received):
                        for event in state.events(data):
                            yield event
            except GenkitError:
                raise
            except Exception as error:
                raise self._translate(error) from error
            finally:
                await response.aclose()
            token = state.next_request()
            if token is None:
                return

    def close(self) -> None:
        http = self._http.built
        if http is not None:
            http.close()
        self._async.clear()

    async def aclose(self) -> None:
        loop_client = self._async.current()  # before close() forgets the per-loop clients
        self.close()
        if loop_client is not None:
            await loop_client.http.aclose()

    # ------------------------------------------------------------------ responses

    def _generation(self, response: types.GenerateContentResponse, n: int) -> Generation:
        candidates = sorted(response.candidates or [], key=_index)
        if candidates:
            scanned = [_scan(c) for c in candidates]
            texts = [text for text, _ in scanned]
            reasons = [
                _finish(c.finish_reason, called)
                for c, (_, called) in zip(candidates, scanned, strict=True)
            ]
        elif _blocked(response):
            # The prompt itself was refused: no candidate, only promptFeedback.
            texts, reasons = [""] * n, [_CONTENT_FILTER] * n
        else:
            raise InvalidResponseError("response has no candidates", provider=PROVIDER)
        return Generation(
            texts=texts,
            finish_reasons=list(reasons),
            usage=_usage(response.usage_metadata),
            model=response.model_version or self.model,
            provider=PROVIDER,
            raw=response,
        )

    # ------------------------------------------------------------------ errors

    def _translate(self, error: Exception) -> ProviderError:
        scrub_exception(error, self._secrets)
        translated = _classify(error)
        scrub_exception(translated, self._secrets)  # its message and its args (repr)
        return translated


# ---------------------------------------------------------------------- request mapping


def _contents(request: Request) -> str | list[types.ContentDict]:
    turns = [(i, m) for i, m in enumerate(request.messages) if m.role != "system"]
    if len(turns) == 1 and turns[0][1].role == "user":
        # The SDK builds the same user turn from a string, and faster than from a dict.
        index, turn = turns[0]
        content = turn.content
        return content if isinstance(content, str) else _text(content, index, request.model)
    return [_turn(m, i, request.model) for i, m in turns]


def _turn(message: Message, index: int, model: str) -> types.ContentDict:
    content = message.content
    # Parts first: a part not mapped yet is refused before its role is looked up.
    text = content if isinstance(content, str) else _text(content, index, model)
    return {"role": _ROLES[message.role], "parts": [{"text": text}]}


def _text(parts: Sequence[Part], index: int, model: str) -> str:
    """A parts list as the turn's one text part sent today: its text parts joined.

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


def _milliseconds(seconds: float) -> int:
    return math.ceil(seconds * 1000)  # google-genai's HttpOptions.timeout is in ms


def _config(request: Request, timeout: float | None) -> types.GenerateContentConfig | None:
    """The request's ``GenerateContentConfig``, or ``None`` when it would be empty.

    A bad ``provider_options`` name fails here.
    """
    fields: dict[str, Any] = {
        PARAMETER_NAMES[name]: list(value) if name == "stop" else value
        for name, value in request.params.items()
    }
    system = [m.text for m in request.messages if m.role == "system"]
    if system:
        fields["system_instruction"] = "\n\n".join(system)
    if timeout is not None or request.headers:
        # The SDK merges these headers into its own (the API key's included).
        fields["http_options"] = types.HttpOptions(
            timeout=_milliseconds(timeout) if timeout is not None else None,
            headers=dict(request.headers) or None,
        )
    if request.provider_options:
        fields.update(request.provider_options)
        # Tools given through provider_options are declared, never called by the SDK.
        fields.setdefault(
            "automatic_function_calling", types.AutomaticFunctionCallingConfig(disable=True)
        )
    if not fields:
        return None
    try:
        return types.GenerateContentConfig(**fields)
    except (pydantic.ValidationError, TypeError) as error:
        raise InvalidParameterError(
            "provider_options",
            f"not valid GenerateContentConfig fields: {error}",
            provider=PROVIDER,
            allowed="fields of google.genai.types.GenerateContentConfig",
        ) from error


def _candidates(request: Request) -> int:
    n: int = request.params.get("n", 1)
    return n


# ---------------------------------------------------------------------- responses


def _index(candidate: types.Candidate) -> int:
    return candidate.index or 0


def _finish(reason: types.FinishReason | None, called_function: bool) -> FinishReason:
    return _finish_name(reason.value if reason is not None else "", called_function)


def _scan(candidate: types.Candidate) -> tuple[str, bool]:
    """The answer's text and whether it calls a function, in one pass."""
    content = candidate.content
    if content is None or not content.parts:
        return "", False
    texts = [p.text for p in content.parts if p.text and not p.thought]
    return "".join(texts), any(p.function_call is not None for p in content.parts)


def _blocked(response: types.GenerateContentResponse) -> bool:
    feedback = response.prompt_feedback
    return feedback is not None and feedback.block_reason is not None


def _usage(metadata: types.GenerateContentResponseUsageMetadata | None) -> Usage:
    if metadata is None:
        return Usage()
    output = (metadata.candidates_token_count or 0) + (metadata.thoughts_token_count or 0)
    return Usage(metadata.prompt_token_count or 0, output)


class _StreamState:
    """Turns the JSON events of ``streamGenerateContent?alt=sse`` bodies into genkit events.

    Reads the wire dicts directly (camelCase, as the API sends them) rather than
    building the SDK's pydantic response per event.  Remembers which candidates called
    a function, since the call arrives in an earlier event than the ``STOP`` that ends
    the candidate.

    Automatic continuation, as google-genai does it (on unless ``provider_options``
    say ``automatic_continuation=False``): a request whose first candidate ends with
    ``CONTINUATION`` and a new ``continuationToken`` is followed by another request
    with that token; the ``CONTINUATION`` is not a finish, and the usage of finished
    requests is added to the next one's (each request's usage is its own).
    """

    __slots__ = (
        "_before",
        "_calls",
        "_continues",
        "_hop",
        "_n",
        "_reason",
        "_sent",
        "_token",
        "response",
    )

    def __init__(self, n: int, continues: bool) -> None:
        self._n = n
        self._calls: set[int] = set()
        self._continues = continues
        self.response: httpx2.Response | None = None  # for the SDK's in-stream errors
        self._before: Usage | None = None  # usage of the requests already finished
        self._hop: Usage | None = None  # this request's usage so far
        self._sent: str | None = None  # the continuation token this request was sent with
        self._token: str | None = None  # the latest one it returned
        self._reason: str | None = None  # the first candidate's last finish reason

    def next_request(self) -> str | None:
        """The continuation token to send the next request with; None when finished."""
        token = self._token
        if token is None or token == self._sent:
            return None
        if not self._continues or self._reason != "CONTINUATION":
            return None
        if self._hop is not None:
            self._before = self._hop if self._before is None else self._before + self._hop
        self._sent, self._token, self._reason, self._hop = token, None, None, None
        return token

    def events(self, data: bytes) -> list[StreamEvent]:
        """The genkit events in one SSE event (a list: cheaper per event than a generator)."""
        chunk = json.loads(data)
        if "error" in chunk:
            # An error inside a 200 stream: the SDK's own error for it, as the SDK
            # raises it, so it is classified like an HTTP error status.
            error = chunk["error"]
            code: Any = error.get("code") if isinstance(error, Mapping) else None
            genai_errors.APIError.raise_error(code, chunk, self.response)
        events: list[StreamEvent] = []
        candidates = chunk.get("candidates") or ()
        # Usage rides on the event's first genkit event rather than one of its own:
        # per event, one object less to build and accumulate.
        metadata = chunk.get("usageMetadata")
        usage = None
        if metadata is not None:
            usage = self._hop = _wire_usage(metadata)
            if self._before is not None:
                usage = usage + self._before
        model = chunk.get("modelVersion")
        raw: dict[str, Any] | None = None
        for position, candidate in enumerate(candidates):
            index = candidate.get("index")
            if index is None:
                index = position
            text, called = _scan_wire(candidate)
            if called:
                self._calls.add(index)
            reason = candidate.get("finishReason")
            if position == 0 and (reason or "continuationToken" in candidate):
                reason = self._first(candidate, reason)
            if text or reason:
                finish: FinishReason | None = None
                if reason:
                    finish = _finish_name(reason, index in self._calls)
                    if raw is None:  # the final event, for stream.result.raw
                        raw = _sdk_json(chunk, self.response)
                events.append(
                    StreamEvent(
                        text=text,
                        index=index,
                        finish_reason=finish,
                        usage=usage,
                        model=model,
                        raw=raw if reason else None,
                    )
                )
                usage = None
        if not candidates and _wire_blocked(chunk):
            # The prompt itself was refused: no candidate, only promptFeedback.
            events.extend(
                StreamEvent(index=index, finish_reason=_CONTENT_FILTER) for index in range(self._n)
            )
        if usage is not None:
            events.append(StreamEvent(usage=usage))
        return events

    def _first(self, candidate: Mapping[str, Any], reason: str | None) -> str | None:
        """Note the first candidate's continuation token; the finish reason to report."""
        token = candidate.get("continuationToken")
        if isinstance(token, str) and token:
            self._token = token
        elif reason and reason != "CONTINUATION":
            self._token = None
        if reason:
            self._reason = reason
            if reason == "CONTINUATION" and self._continues and self._token is not None:
                return None  # not finished: the next request continues it
        return reason


def _sdk_json(chunk: Mapping[str, Any], response: httpx2.Response | None) -> dict[str, Any]:
    """An event in the SDK's JSON form (snake_case, its HTTP headers included).

    ``stream.result.raw`` keeps this form, the one it had when the SDK decoded the
    stream; built once per stream, for the final event only.
    """
    parsed = types.GenerateContentResponse._from_response(
        response=genai_models._GenerateContentResponse_from_mldev(chunk), kwargs={}
    )
    if response is not None:
        parsed.sdk_http_response = types.HttpResponse(headers=dict(response.headers))
    return parsed.to_json_dict()


def _scan_wire(candidate: Mapping[str, Any]) -> tuple[str, bool]:
    """A streamed candidate's answer text and whether it calls a function, in one pass.

    Thought summaries (``"thought": true``) are not the answer.
    """
    content = candidate.get("content")
    parts = content.get("parts") if content else None
    if not parts:
        return "", False
    if len(parts) == 1:  # a streamed event nearly always has one part
        part = parts[0]
        text = part.get("text")
        return (text if text and not part.get("thought") else ""), "functionCall" in part
    texts = [p["text"] for p in parts if p.get("text") and not p.get("thought")]
    return "".join(texts), any("functionCall" in p for p in parts)


def _finish_name(reason: str, called_function: bool) -> FinishReason:
    finish = FINISH_REASONS.get(reason, "other")
    return "tool_calls" if finish == "stop" and called_function else finish


def _wire_blocked(chunk: Mapping[str, Any]) -> bool:
    feedback = chunk.get("promptFeedback")
    return isinstance(feedback, Mapping) and feedback.get("blockReason") is not None


def _wire_usage(metadata: Mapping[str, Any]) -> Usage:
    output = (metadata.get("candidatesTokenCount") or 0) + (metadata.get("thoughtsTokenCount") or 0)
    return Usage(metadata.get("promptTokenCount") or 0, output)


def _body(opened: HttpResponse) -> httpx2.Response:
    """The open httpx2 response behind the SDK's streamed ``HttpResponse``."""
    response = opened.response_stream
    if not isinstance(response, httpx2.Response):  # genkit hands the SDK httpx2 clients only
        raise TypeError(f"expected an httpx2 response, got {type(response).__name__}")
    return response


#: ``streamGenerateContent`` with ``alt=sse``: the body is server-sent events, one
#: ``GenerateContentResponse`` as JSON per event.
_STREAM_PATH = "{model}:streamGenerateContent?alt=sse"


def _continues(config: types.GenerateContentConfig | None) -> bool:
    """Whether a ``CONTINUATION`` is followed, as google-genai does by default."""
    return config is None or config.automatic_continuation is not False


def _stream_request(
    api: BaseApiClient,
    request: Request,
    config: types.GenerateContentConfig | None,
    continuation: str | None,
) -> tuple[HttpRequest, types.HttpOptions | None]:
    """The SDK's own HTTP request for a streamed call, and its per-call HTTP options.

    The same steps ``Models.generate_content_stream`` takes before it sends: the SDK
    maps the parameters (``provider_options`` included) to the wire and builds the
    URL (base URL, API version), headers (API key, ``headers=``) and timeout.  genkit
    leaves out only what it never uses: automatic function calling (off for genkit)
    and the SDK's per-event pydantic responses.
    """
    # The SDK's public calls take ContentDicts and pydantic validates them into Content;
    # this private model's annotation names only the validated types.
    contents: Any = _contents(request)
    parameters = types._GenerateContentParameters(
        model=request.model, contents=contents, config=config
    )
    body = genai_models._GenerateContentParameters_to_mldev(api, parameters, None, parameters)
    url = body.get("_url")
    path = _STREAM_PATH.format_map(url) if url else _STREAM_PATH
    query = body.get("_query")
    if query:
        path = f"{path}?{urlencode(query)}"
    body.pop("config", None)
    if continuation is not None:  # as the API returned it (base64), where the SDK puts it
        body["continuationToken"] = continuation
    body = _common.encode_unserializable_types(_common.convert_to_dict(body))
    options = config.http_options if config is not None else None
    return api._build_request("post", path, body, options), options


# ---------------------------------------------------------------------- errors


def _classify(error: Exception) -> ProviderError:
    if isinstance(error, genai_errors.APIError):
        return _api_error(error)
    if isinstance(error, genai_errors.UnknownApiResponseError):
        return InvalidResponseError(f"malformed response: {error}", provider=PROVIDER)
    transport = translate_transport(error, PROVIDER)
    if transport is not None:
        return transport
    if isinstance(
        error, pydantic.ValidationError | AttributeError | KeyError | TypeError | ValueError
    ):
        return InvalidResponseError(
            f"response not in the generateContent format ({type(error).__name__}: {error})",
            provider=PROVIDER,
        )
    return ProviderError(f"{type(error).__name__}: {error}", provider=PROVIDER)


def _api_error(error: genai_errors.APIError) -> ProviderError:
    """An HTTP error status, or an ``{"error": {...}}`` chunk inside a 200 stream."""
    details = _error_details(error.details)
    status = error.code
    message = error.message or str(error)
    if status == 404:
        message += not_found_hint(_request_of(error.response), PROVIDER)
    retry_after = _retry_after(getattr(error.response, "headers", None), details)
    translated = error_for_status(status, message, provider=PROVIDER, retry_after=retry_after)
    cls = _REASON_CLASSES.get(_reason(details) or "")
    if cls is None:
        return translated
    return cls(
        message,
        provider=PROVIDER,
        status_code=status,
        retryable=translated.retryable,
        retry_after=retry_after,
    )


def _request_of(response: object) -> Any:
    """The httpx2 request behind an SDK error's response, when there is one."""
    try:
        return response.request if isinstance(response, httpx2.Response) else None
    except RuntimeError:  # a response built without its request
        return None


def _error_details(body: object) -> list[Mapping[str, Any]]:
    """The ``google.rpc`` detail objects of an error body."""
    inner = body.get("error", body) if isinstance(body, Mapping) else None
    details = inner.get("details") if isinstance(inner, Mapping) else None
    if not isinstance(details, list):
        return []
    return [d for d in details if isinstance(d, Mapping)]


def _detail(details: list[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    for detail in details:
        if str(detail.get("@type", "")).endswith(f"google.rpc.{kind}"):
            return detail
    return None


def _reason(details: list[Mapping[str, Any]]) -> str | None:
    info = _detail(details, "ErrorInfo")
    reason = info.get("reason") if info is not None else None
    return reason if isinstance(reason, str) else None


def _retry_after(headers: object, details: list[Mapping[str, Any]]) -> float | None:
    """``Retry-After`` if the response has one, else the body's ``RetryInfo.retryDelay``."""
    if isinstance(headers, Mapping):
        from_header = parse_retry_after(headers)
        if from_header is not None:
            return from_header
    info = _detail(details, "RetryInfo")
    delay = info.get("retryDelay") if info is not None else None
    if not isinstance(delay, str) or not delay.endswith("s"):
        return None
    try:
        return max(0.0, float(delay[:-1]))
    except ValueError:
        return None
