"""Anthropic Messages (``anthropic:<model>``) through the official ``anthropic`` SDK.

How genkit's shared request maps onto the Messages API, and why:

- ``system`` messages become the top-level ``system`` field (several are joined with a
  blank line): the API has no system role inside ``messages``.
- ``max_tokens`` is required by the API, so :data:`DEFAULT_MAX_TOKENS` is sent when the
  caller gave none.  4096 is the largest value every Claude model accepts (Claude 3
  Haiku/Opus cap their output there), so the default never causes a 400.
- anthropic 2.x's ``messages.create()`` has no ``temperature``/``top_p``/``top_k``
  arguments; they travel in ``extra_body`` and only to models that still accept them
  (see :data:`CAPABILITIES`): the newest models answer 400 to any of them.
- ``n > 1`` is not native: it is emulated with ``n`` concurrent requests (threads for
  sync calls, ``asyncio.gather`` for async ones).  Streams open the ``n`` requests
  concurrently and deliver the candidates one after another (each chunk carries its
  ``index``), so closing the stream closes every connection from the caller's thread.
  Usage is the sum over the ``n`` requests: what the provider bills.
- ``provider_options`` are merged into the request body as given (``extra_body``), and
  win over genkit's own fields.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, assert_never

from genkit._credentials import check_base_url_env, find_api_key, raw_secrets
from genkit._redact import scrub_exception
from genkit.backends._sse import EventDecoder
from genkit.backends.base import Backend, BackendSettings, Lazy, PerLoop
from genkit.capabilities import CapabilityTable, ModelCapabilities
from genkit.errors import (
    GenkitError,
    InvalidParameterError,
    InvalidResponseError,
    MissingDependencyError,
    ProviderError,
    ServerError,
    error_for_status,
)
from genkit.messages import unsupported_part
from genkit.params import Request
from genkit.parts import Document, Image, Part, ProviderPart, Text, ToolCall, ToolResult
from genkit.retry import parse_retry_after
from genkit.types import Chunk, FinishReason, Generation, Message, StreamEvent, StreamItem, Usage

try:
    import anthropic

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
    raise MissingDependencyError("anthropic", "anthropic", "anthropic") from exc

__all__ = [
    "CAPABILITIES",
    "DEFAULT_MAX_TOKENS",
    "ERROR_TYPE_STATUS",
    "EXTRA_BODY_FIELDS",
    "FINISH_REASONS",
    "MAX_N",
    "PARAMETER_NAMES",
    "AnthropicBackend",
]

PROVIDER = "anthropic"
T = TypeVar("T")
#: A streamed response the SDK opened (its context manager, to close it, and the
#: response whose body genkit reads).
_Opened = tuple[Any, Any]

#: Sent as ``max_tokens`` when the caller set none (the API requires the field).
DEFAULT_MAX_TOKENS = 4096
#: The most candidates genkit fans out to: each one is a full, separately billed request.
MAX_N = 8

#: genkit's shared parameter -> Messages API field.  ``n`` has no field: it is emulated.
PARAMETER_NAMES: Mapping[str, str] = {
    "max_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop": "stop_sequences",
}
#: Fields anthropic 2.x's ``messages.create()`` has no argument for: sent via ``extra_body``.
EXTRA_BODY_FIELDS = frozenset({"temperature", "top_p", "top_k"})

_CLAUDE = ModelCapabilities(
    supported=frozenset({*PARAMETER_NAMES, "n"}),
    ranges={"temperature": (0.0, 1.0)},
    max_n=MAX_N,
    blank_stop=False,  # refused by check() below; dropped in drop mode
)
# Opus 4.7 and later fix their own sampling and answer 400 to any sampling knob.
_FIXED_SAMPLING = _CLAUDE.without("temperature", "top_p", "top_k")

CAPABILITIES = CapabilityTable(
    [
        ("claude-opus-4-[7-9]*", _FIXED_SAMPLING),
        ("claude-opus-4-1[0-9]*", _FIXED_SAMPLING),  # 4.10+, not claude-opus-4-1-2025...
        ("claude-opus-[5-9]*", _FIXED_SAMPLING),
        ("claude-sonnet-[5-9]*", _FIXED_SAMPLING),  # not claude-sonnet-4-5
        ("claude-haiku-[5-9]*", _FIXED_SAMPLING),
        ("*fable*", _FIXED_SAMPLING),
        ("*mythos*", _FIXED_SAMPLING),
    ],
    # Claude 3.x, Sonnet 4.x, Haiku 4.5, Opus up to 4.6 and models genkit does not know.
    default=_CLAUDE,
)

#: Anthropic ``stop_reason`` -> genkit finish reason; anything else is "other".
FINISH_REASONS: Mapping[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

#: ``error.type`` -> the HTTP status Anthropic sends it with.  An ``event: error``
#: inside a 200 stream carries only the type, so this gives it the same genkit class
#: (and retry decision) the same failure gets before the stream starts.
ERROR_TYPE_STATUS: Mapping[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "conflict_error": 409,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_UNKNOWN_ERROR_STATUS = 500

_KEY_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


class AnthropicBackend(Backend):
    provider = PROVIDER
    capabilities = CAPABILITIES

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        # The SDK's order: api_key=, $ANTHROPIC_API_KEY, then $ANTHROPIC_AUTH_TOKEN (sent as
        # a bearer token); genkit reads it, stripped and checked (see _credentials).
        key, source = find_api_key(
            PROVIDER, settings.api_key, _KEY_VARIABLES, advertised=_KEY_VARIABLES[:1]
        )
        self._credential = {"auth_token" if source == _KEY_VARIABLES[1] else "api_key": key}
        self._secrets = raw_secrets(settings.api_key, _KEY_VARIABLES)
        check_base_url_env(settings.base_url, "ANTHROPIC_BASE_URL")
        self._sync = Lazy(
            lambda: anthropic.Anthropic(
                http_client=anthropic.DefaultHttpxClient(limits=POOL_LIMITS),
                **self._client_args(),
            )
        )
        self._async = PerLoop(
            lambda: anthropic.AsyncAnthropic(
                http_client=anthropic.DefaultAsyncHttpxClient(limits=POOL_LIMITS),
                **self._client_args(),
            ),
            close=lambda client: client.close(),
        )

    def _client_args(self) -> dict[str, Any]:
        # max_retries=0: genkit's policy is the only one, so attempts never multiply.
        # The base URL stays the SDK's own (ANTHROPIC_BASE_URL) unless base_url= was given.
        return {"max_retries": 0, **self.settings.given(), "api_key": None, **self._credential}

    # ------------------------------------------------------------------ calls

    def check(self, request: Request) -> None:
        for message in request.messages:
            if message.content.__class__ is not str:  # parts: map now, to refuse before sending
                _arguments(request)
                break
        _check_turns(request.messages)
        _check_stop(request.params.get("stop", ()))

    def generate(self, request: Request) -> Generation:
        args = _arguments(request)
        messages = _concurrently(lambda: self._create(args), _candidates(request))
        return self._generation(messages)

    async def agenerate(self, request: Request) -> Generation:
        args = _arguments(request)
        messages = await within(
            _aconcurrently(lambda: self._acreate(args), _candidates(request)),
            request.timeout,
            PROVIDER,
        )
        return self._generation(messages)

    def stream(self, request: Request) -> Iterator[StreamItem]:
        # The SDK sends each request and raises its typed errors; genkit decodes the
        # body itself (see genkit/backends/_sse.py for why).
        args = _arguments(request)
        opened = _concurrently(lambda: self._open(args), _candidates(request), _close)
        merger = _StreamMerger(len(opened))
        try:
            for index, (_, response) in enumerate(opened):
                decoder = EventDecoder()
                for received in response.iter_bytes():
                    for data in decoder.feed(received):
                        yield from self._events(merger, index, data, response)
        except GenkitError:
            raise
        except Exception as error:
            raise self._translate(error) from error
        finally:
            for each in opened:
                _close(each)

    async def astream(self, request: Request) -> AsyncIterator[StreamItem]:
        args = _arguments(request)
        opened = await _aconcurrently(lambda: self._aopen(args), _candidates(request), _aclose)
        merger = _StreamMerger(len(opened))
        try:
            for index, (_, response) in enumerate(opened):
                decoder = EventDecoder()
                async for received in response.iter_bytes():
                    for data in decoder.feed(received):
                        for event in self._events(merger, index, data, response):
                            yield event
        except GenkitError:
            raise
        except Exception as error:
            raise self._translate(error) from error
        finally:
            for each in opened:
                await _aclose(each)

    def _events(
        self, merger: _StreamMerger, index: int, data: bytes, response: Any
    ) -> list[StreamItem]:
        """The genkit events in one streamed event of candidate ``index``."""
        event = json.loads(data)
        kind = event["type"]
        # Text deltas are nearly every event: handled here, without a dispatch.
        if kind == "content_block_delta":
            delta = event["delta"]
            text = delta.get("text")
            return [Chunk(text, index)] if text and delta.get("type") == "text_delta" else []
        if kind == "error":
            # The SDK's own error for it, so the usual mapping (by the error's type)
            # applies and the caller finds the vendor exception as __cause__.
            message = f"{event}"
            raise anthropic.APIStatusError(message, response=response.http_response, body=event)
        out = merger.event(index, event)
        return [out] if out is not None else []

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

    # ------------------------------------------------------------------ one request

    def _create(self, args: dict[str, Any]) -> anthropic.types.Message:
        try:
            message: anthropic.types.Message = self._sync.get().messages.create(**args)
        except Exception as error:
            raise self._translate(error) from error
        return message

    async def _acreate(self, args: dict[str, Any]) -> anthropic.types.Message:
        try:
            message: anthropic.types.Message = await self._async.get().messages.create(**args)
        except Exception as error:
            raise self._translate(error) from error
        return message

    def _open(self, args: dict[str, Any]) -> _Opened:
        try:
            context = self._sync.get().messages.with_streaming_response.create(**args, stream=True)
            return context, context.__enter__()
        except Exception as error:
            raise self._translate(error) from error

    async def _aopen(self, args: dict[str, Any]) -> _Opened:
        try:
            context = self._async.get().messages.with_streaming_response.create(**args, stream=True)
            return context, await context.__aenter__()
        except Exception as error:
            raise self._translate(error) from error

    def _generation(self, messages: Sequence[anthropic.types.Message]) -> Generation:
        try:
            usage = sum(
                (Usage(m.usage.input_tokens, m.usage.output_tokens) for m in messages), Usage()
            )
            return Generation(
                texts=[_text(m) for m in messages],
                finish_reasons=[_finish(m.stop_reason) for m in messages],
                usage=usage,
                model=messages[0].model or self.model,
                provider=PROVIDER,
                raw=messages[0] if len(messages) == 1 else list(messages),
            )
        except Exception as error:
            raise self._translate(error) from error

    # ------------------------------------------------------------------ errors

    def _translate(self, error: Exception) -> ProviderError:
        scrub_exception(error, self._secrets)
        translated = _classify(error)
        scrub_exception(translated, self._secrets)  # its message and its args (repr)
        return translated


# ---------------------------------------------------------------------- request mapping


def _arguments(request: Request) -> dict[str, Any]:
    """Keyword arguments for ``messages.create()``."""
    system = [m.text for m in request.messages if m.role == "system"]
    args: dict[str, Any] = {
        "model": request.model,
        "messages": [
            _turn(m, i, request.model) for i, m in enumerate(request.messages) if m.role != "system"
        ],
        "max_tokens": DEFAULT_MAX_TOKENS,
        # Always explicit: without one the SDK refuses large max_tokens on non-streaming
        # calls with a ValueError, before any request, to force streaming.
        "timeout": request.timeout if request.timeout is not None else anthropic.DEFAULT_TIMEOUT,
    }
    if system:
        args["system"] = "\n\n".join(system)
    extra: dict[str, Any] = {}
    for name, field in PARAMETER_NAMES.items():
        if name in request.params:
            value = request.params[name]
            target = extra if name in EXTRA_BODY_FIELDS else args
            target[field] = list(value) if name == "stop" else value
    extra.update(request.provider_options)
    if extra:
        args["extra_body"] = extra
    if request.headers:
        args["extra_headers"] = dict(request.headers)
    return args


def _check_turns(messages: Sequence[Message]) -> None:
    """Refuse, before sending, the turns the Messages API answers with a 400."""
    turns = [m for m in messages if m.role != "system"]
    for turn in turns:
        text = turn.content if isinstance(turn.content, str) else turn.text
        if not text.strip():
            raise InvalidParameterError(
                "prompt",
                f"Anthropic refuses a {turn.role} turn made only of whitespace: {text!r:.40}",
                provider=PROVIDER,
                allowed="turns with at least one non-whitespace character",
            )
    last = turns[-1]
    if last.role == "assistant" and last.text != last.text.rstrip():
        raise InvalidParameterError(
            "prompt",
            "Anthropic refuses a final assistant turn (a prefill) that ends in whitespace: "
            f"{last.text[-40:]!r}",
            provider=PROVIDER,
            allowed="a prefill without trailing whitespace",
        )


def _check_stop(stop: Sequence[str]) -> None:
    """The API answers 400 to a stop sequence that is only whitespace (``"\\n"``): say so first."""
    for sequence in stop:
        if not sequence.strip():
            raise InvalidParameterError(
                "stop",
                f"Anthropic refuses a stop sequence made only of whitespace: {sequence!r}",
                provider=PROVIDER,
                allowed="stop sequences with at least one non-whitespace character",
            )


def _turn(message: Message, index: int, model: str) -> dict[str, str]:
    content = message.content
    return {
        "role": message.role,
        "content": content if isinstance(content, str) else _content(content, index, model),
    }


def _content(parts: Sequence[Part], index: int, model: str) -> str:
    """A parts list as the turn's content sent today: its text parts joined.

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


def _candidates(request: Request) -> int:
    n: int = request.params.get("n", 1)
    return n


# ---------------------------------------------------------------------- responses


def _text(message: anthropic.types.Message) -> str:
    """The text blocks of an answer; thinking and tool-use blocks are not text."""
    return "".join(block.text for block in message.content if block.type == "text")


def _finish(stop_reason: str | None) -> FinishReason:
    return FINISH_REASONS.get(stop_reason or "", "other")


class _StreamMerger:
    """Turns the raw stream events of ``n`` emulated candidates into genkit events.

    Usage is reported as the running total over every candidate, because genkit's
    stream keeps the last usage it sees.  ``message_start``, ``message_delta`` and
    ``message_stop`` (as parsed) become ``stream.result.raw``.
    """

    __slots__ = ("_finished", "_usage")

    def __init__(self, n: int) -> None:
        self._usage = [Usage()] * n
        self._finished = [False] * n

    def event(self, index: int, event: dict[str, Any]) -> StreamEvent | None:
        """The genkit event for a stream event other than a content delta, if it carries any."""
        handler = _HANDLERS.get(event["type"])
        return handler(self, index, event) if handler is not None else None

    def _total(self) -> Usage:
        return sum(self._usage, Usage())

    def _message_start(self, index: int, event: dict[str, Any]) -> StreamEvent | None:
        message = event["message"]
        usage = message.get("usage") or {}
        self._usage[index] = Usage(usage.get("input_tokens") or 0, usage.get("output_tokens") or 0)
        return StreamEvent(index=index, usage=self._total(), model=message.get("model"), raw=event)

    def _block_start(self, index: int, event: dict[str, Any]) -> StreamEvent | None:
        block = event["content_block"]
        if block.get("type") == "text" and block.get("text"):
            return StreamEvent(text=block["text"], index=index)
        return None

    def _message_delta(self, index: int, event: dict[str, Any]) -> StreamEvent | None:
        # Counts in message_delta are cumulative; input_tokens is optional there.
        usage = event.get("usage") or {}
        before = self._usage[index]
        inputs = usage.get("input_tokens")
        outputs = usage.get("output_tokens")
        self._usage[index] = Usage(
            before.input_tokens if inputs is None else inputs,
            before.output_tokens if outputs is None else outputs,
        )
        reason = (event.get("delta") or {}).get("stop_reason")
        if reason is not None:
            self._finished[index] = True
        return StreamEvent(
            index=index,
            usage=self._total(),
            finish_reason=_finish(reason) if reason is not None else None,
            raw=event,
        )

    def _message_stop(self, index: int, event: dict[str, Any]) -> StreamEvent | None:
        # The provider said it is done; a missing stop_reason is still a finished answer.
        if self._finished[index]:
            return StreamEvent(index=index, raw=event)
        self._finished[index] = True
        return StreamEvent(index=index, finish_reason="other", raw=event)


_HANDLERS: Mapping[str, Callable[[_StreamMerger, int, dict[str, Any]], StreamEvent | None]] = {
    "message_start": _StreamMerger._message_start,
    "content_block_start": _StreamMerger._block_start,
    "message_delta": _StreamMerger._message_delta,
    "message_stop": _StreamMerger._message_stop,
}


# ---------------------------------------------------------------------- n > 1 fan-out


def _ignore(_: object) -> None:
    return None


async def _aignore(_: object) -> None:
    return None


def _close(opened: _Opened) -> None:
    opened[0].__exit__(None, None, None)


async def _aclose(opened: _Opened) -> None:
    await opened[0].__aexit__(None, None, None)


def _concurrently(call: Callable[[], T], n: int, discard: Callable[[T], None] = _ignore) -> list[T]:
    """Run ``call`` ``n`` times at once; on any failure discard the successes, raise the first."""
    if n == 1:
        return [call()]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="genkit-anthropic") as pool:
        futures = [pool.submit(call) for _ in range(n)]
    failure = next((f.exception() for f in futures if f.exception() is not None), None)
    results = [f.result() for f in futures if f.exception() is None]
    if failure is not None:
        for result in results:
            discard(result)
        raise failure
    return results


async def _aconcurrently(
    call: Callable[[], Awaitable[T]],
    n: int,
    discard: Callable[[T], Awaitable[None]] = _aignore,
) -> list[T]:
    """The asyncio twin of :func:`_concurrently`, on ``asyncio.gather``."""
    if n == 1:
        return [await call()]
    outcomes = await asyncio.gather(*(call() for _ in range(n)), return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    results = [o for o in outcomes if not isinstance(o, BaseException)]
    if failures:
        for result in results:
            await discard(result)
        raise failures[0]
    return results


# ---------------------------------------------------------------------- errors


def _classify(error: Exception) -> ProviderError:
    if isinstance(error, anthropic.APIStatusError):
        status = _status(error)
        message = _message(error)
        if status == 404 and error.status_code == 404:
            message += not_found_hint(error.response.request, PROVIDER)
        return error_for_status(
            status,
            message,
            provider=PROVIDER,
            retry_after=parse_retry_after(error.response.headers),
            request_id=error.request_id,
        )
    if isinstance(error, anthropic.APITimeoutError):
        return timeout_error(error, PROVIDER)
    if isinstance(error, anthropic.APIConnectionError):
        return connection_error(error, PROVIDER)
    if isinstance(error, anthropic.APIResponseValidationError):
        return InvalidResponseError(f"unexpected response: {error.message}", provider=PROVIDER)
    if isinstance(error, anthropic.APIError):
        return ServerError(error.message, provider=PROVIDER)
    transport = translate_transport(error, PROVIDER)
    if transport is not None:
        return transport
    if isinstance(error, AttributeError | KeyError | TypeError | ValueError | IndexError):
        return InvalidResponseError(
            f"response not in the Messages format ({type(error).__name__}: {error})",
            provider=PROVIDER,
        )
    return ProviderError(f"{type(error).__name__}: {error}", provider=PROVIDER)


def _status(error: anthropic.APIStatusError) -> int:
    """The HTTP status, or for an ``event: error`` inside a 200 stream its type's status."""
    if error.status_code >= 400:
        return error.status_code
    return ERROR_TYPE_STATUS.get(error.type or "", _UNKNOWN_ERROR_STATUS)


def _message(error: anthropic.APIStatusError) -> str:
    """The provider's own error text, without the SDK's "Error code: NNN - {...}" wrapping."""
    return error.api_message if isinstance(error.api_message, str) else error.message
