"""The user-facing calls: ``genkit.load()`` and :class:`Generator`.

A Generator binds one model with its defaults.  All per-call work that does not
depend on the provider happens here, once for every backend: prompt and
parameter checks, merging defaults, the retry policy and stream bookkeeping.
What a Generator holds is read-only after construction, so one instance is safe
to share across threads and asyncio tasks; its backend keeps the HTTP
connections (or the loaded model) and reuses them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from genkit._credentials import check_load_arguments
from genkit._lifetime import Closable
from genkit.backends.base import Backend, BackendSettings
from genkit.config import DEFAULT_MODEL, env_bool, env_float, env_int, parse_model
from genkit.errors import GeneratorClosedError, GenkitError, InvalidParameterError
from genkit.messages import Prompt, to_messages
from genkit.params import (
    CALL_OPTIONS,
    TOOL_ARGUMENTS,
    Request,
    check_call_options,
    check_parameters,
)
from genkit.registry import resolve
from genkit.retry import RetryPolicy
from genkit.telemetry import observe
from genkit.types import Generation, price_as

if TYPE_CHECKING:
    from genkit.streaming import AsyncStream, Stream
    from genkit.types import StreamEvent

__all__ = ["Generator", "load"]

#: load()'s own keyword arguments beside the call options, for "did you mean" hints.
_LOAD_ARGUMENTS = ("api_key", "base_url", "retry", "fallbacks", "fallback_on")


@cache
def _streams() -> tuple[type[Stream], type[AsyncStream]]:
    """The stream classes, imported by the first stream rather than by ``import genkit``.

    They bring the stream-event dataclasses, which only a stream needs; cached, so
    later streams pay a cached call here, not an import.
    """
    from genkit.streaming import AsyncStream, Stream

    return Stream, AsyncStream


def load(
    model: str | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    retry: RetryPolicy | None = None,
    drop_unsupported: bool | None = None,
    provider_options: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    fallbacks: Sequence[str] | str | None = None,
    fallback_on: Sequence[type[GenkitError]] | None = None,
    **defaults: Any,
) -> Generator:
    """Make a :class:`Generator` for ``"provider:model"``.

    ``model`` defaults to ``$GENKIT_MODEL``, else ``"huggingface:gpt2"``.  A comma-separated
    chain (``"openai:gpt-4o,anthropic:claude-sonnet-4-6"``) or ``fallbacks=[...]`` gives a
    chain that tries the next model when one is down (``genkit.fallback``; ``fallback_on=``
    sets which errors move on).  Other keyword
    arguments are default values for the shared parameters (``temperature=0.7``),
    checked now against the model's capabilities, or load options of the backend
    (``device=`` for the local one).  ``timeout`` (seconds; a non-streamed attempt
    as a whole, a stream's wait for each chunk) and ``max_retries`` default to
    ``$GENKIT_TIMEOUT`` and ``$GENKIT_MAX_RETRIES``, and ``drop_unsupported`` (drop
    what the model does not support, clamp values to its limits, with warnings) to
    ``$GENKIT_DROP_UNSUPPORTED``: switching models by environment stays code-free.
    ``headers`` are extra HTTP headers sent with every request of a hosted backend
    (a call's ``headers=`` adds to them).
    """
    check_load_arguments(api_key, base_url)
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise InvalidParameterError(
            "retry",
            f"expected a genkit.RetryPolicy, got {type(retry).__name__}",
            allowed="genkit.RetryPolicy(max_retries=..., initial_backoff=..., ...) or None",
        )
    spec = model or os.environ.get("GENKIT_MODEL") or DEFAULT_MODEL
    if fallbacks or fallback_on is not None or (isinstance(spec, str) and "," in spec):
        from genkit.fallback import load_chain

        return load_chain(
            spec,
            fallbacks,
            fallback_on,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            drop_unsupported=drop_unsupported,
            provider_options=provider_options,
            headers=headers,
            defaults=defaults,
        )
    provider_name, model_name = parse_model(spec)
    backend_cls = resolve(provider_name)
    provider = backend_cls.provider

    if timeout is None:
        timeout = env_float("GENKIT_TIMEOUT")
    if max_retries is None:
        max_retries = env_int("GENKIT_MAX_RETRIES")
    if drop_unsupported is None:
        drop_unsupported = env_bool("GENKIT_DROP_UNSUPPORTED")
    options = {
        name: value
        for name, value in {
            "timeout": timeout,
            "max_retries": max_retries,
            "drop_unsupported": drop_unsupported,
            "provider_options": provider_options,
            "headers": headers,
        }.items()
        if value is not None
    }
    checked = check_call_options(options, provider)
    policy = retry or RetryPolicy()
    if "max_retries" in checked:
        policy = replace(policy, max_retries=checked["max_retries"])

    load_options = {k: defaults.pop(k) for k in list(defaults) if k in backend_cls.load_options}
    settings = BackendSettings(
        api_key=api_key, base_url=base_url, timeout=timeout, options=load_options
    )
    backend = backend_cls(model_name, settings)
    return Generator(
        backend,
        defaults=defaults,
        policy=policy,
        timeout=timeout,
        drop_unsupported=checked.get("drop_unsupported", False),
        provider_options=checked.get("provider_options", {}),
        headers=checked.get("headers"),
    )


class Generator(Closable[Backend]):
    """One model with its defaults: ``generate``, ``stream`` and their async twins."""

    def __init__(
        self,
        backend: Backend,
        *,
        defaults: Mapping[str, Any] | None = None,
        policy: RetryPolicy | None = None,
        timeout: float | None = None,
        drop_unsupported: bool = False,
        provider_options: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._backend = backend
        self.provider: str = backend.provider
        self.model: str = backend.model
        self._capabilities = backend.capabilities.lookup(backend.model)
        self._policy = policy or RetryPolicy()
        self._timeout = timeout
        self._drop = drop_unsupported
        self._provider_options: Mapping[str, Any] = dict(provider_options or {})
        self._headers: Mapping[str, str] = dict(headers or {})
        self._load_warnings: list[str] = []
        self._closed = False
        defaults = dict(defaults or {})
        #: tools=, tool_choice=, ... given to load(): every call's, unless it overrides them.
        self._tool_defaults = {k: defaults.pop(k) for k in TOOL_ARGUMENTS if k in defaults}
        if self._tool_defaults:
            from genkit._tooling import check_tool_arguments

            check_tool_arguments(
                self._tool_defaults,
                provider=self.provider,
                model=self.model,
                capabilities=self._capabilities,
                drop_unsupported=drop_unsupported,
            )
        self._defaults: dict[str, Any] = check_parameters(
            defaults,
            provider=self.provider,
            model=self.model,
            capabilities=self._capabilities,
            drop_unsupported=drop_unsupported,
            warnings=self._load_warnings,
            known=(*backend.load_options, *_LOAD_ARGUMENTS),
        )

    @property
    def defaults(self) -> Mapping[str, Any]:
        """The shared-parameter defaults every call starts from."""
        return dict(self._defaults)

    @property
    def backend(self) -> Backend:
        return self._backend

    # ------------------------------------------------------------------ calls

    def generate(self, prompt: Prompt, *, system: str | None = None, **params: Any) -> Generation:
        """Generate a completion; raises a :class:`genkit.GenkitError` subclass on failure.

        With ``tools=`` and ``max_steps > 1`` it runs the tool loop (``result.steps``);
        ``schema=`` (a pydantic model, dataclass, TypedDict or JSON Schema dict) asks for
        JSON of that shape and sets ``result.parsed`` to the validated value of the final
        answer; ``output_retries=N`` asks again up to N times when it does not validate
        (see :mod:`genkit.structured`).
        """
        if not params and not self._tool_defaults:  # most calls: one request, nothing to run
            request, warnings, policy = self._prepare(prompt, system, params)
            return self._generate(request, warnings, policy)
        retries = _output_retries(params, self.provider)
        max_steps = self._max_steps(params)
        request, warnings, policy = self._prepare(prompt, system, params)
        if request.output is None and (max_steps == 1 or not request.tools):
            return self._generate(request, warnings, policy)

        def once(request: Request) -> Generation:
            result = self._generate(request, warnings, policy)
            if max_steps > 1 and request.tools:
                from genkit._toolloop import run_loop

                step = partial(self._generate, warnings=warnings, policy=policy)
                result = run_loop(request, result, max_steps, step, self._backend.check)
            return result

        if request.output is not None:
            from genkit import structured

            return structured.run(once, request, retries)
        return once(request)

    def _generate(self, request: Request, warnings: list[str], policy: RetryPolicy) -> Generation:
        call = observe(self.provider, request, policy)
        if call is None:
            result = policy.call(lambda: self._live().generate(request))
        else:
            result = call.call(policy, lambda: self._live().generate(request))
        price_as(result.usage, self.provider, result.model, self.model)
        if result.messages:
            import genkit._tooling

            genkit._tooling.settle_finish_reasons(result)
        if warnings:
            # The backend's own warnings (a schema it weakened) come after the call's.
            result.warnings = [*warnings, *result.warnings] if result.warnings else warnings
        return result

    async def agenerate(
        self, prompt: Prompt, *, system: str | None = None, **params: Any
    ) -> Generation:
        """``generate`` for asyncio; never blocks the event loop."""
        if not params and not self._tool_defaults:
            request, warnings, policy = self._prepare(prompt, system, params)
            return await self._agenerate(request, warnings, policy)
        retries = _output_retries(params, self.provider)
        max_steps = self._max_steps(params)
        request, warnings, policy = self._prepare(prompt, system, params)
        if request.output is None and (max_steps == 1 or not request.tools):
            return await self._agenerate(request, warnings, policy)

        async def once(request: Request) -> Generation:
            result = await self._agenerate(request, warnings, policy)
            if max_steps > 1 and request.tools:
                from genkit._toolloop import arun_loop

                astep = partial(self._agenerate, warnings=warnings, policy=policy)
                result = await arun_loop(request, result, max_steps, astep, self._backend.check)
            return result

        if request.output is not None:
            from genkit import structured

            return await structured.arun(once, request, retries)
        return await once(request)

    async def _agenerate(
        self, request: Request, warnings: list[str], policy: RetryPolicy
    ) -> Generation:
        call = observe(self.provider, request, policy)
        if call is None:
            result = await policy.acall(lambda: self._live().agenerate(request))
        else:
            result = await call.acall(policy, lambda: self._live().agenerate(request))
        price_as(result.usage, self.provider, result.model, self.model)
        if result.messages:
            import genkit._tooling

            genkit._tooling.settle_finish_reasons(result)
        if warnings:
            # The backend's own warnings (a schema it weakened) come after the call's.
            result.warnings = [*warnings, *result.warnings] if result.warnings else warnings
        return result

    def stream(self, prompt: Prompt, *, system: str | None = None, **params: Any) -> Stream:
        """Stream chunks as they are generated; the request starts on first iteration.

        Bad input raises here, before anything is sent.  With ``tools=`` and
        ``max_steps > 1`` the stream runs the tool loop: each step's events in turn.
        """
        _output_retries(params, self.provider, streaming=True)
        max_steps = self._max_steps(params)
        request, warnings, policy = self._prepare(prompt, system, params)
        stream = _streams()[0](
            lambda: self._live().stream(request),
            provider=self.provider,
            model=self.model,
            policy=policy,
            warnings=warnings,
            request=request,
        )
        if max_steps > 1 and request.tools:
            from genkit._toolloop import StreamLoop

            stream._loop = StreamLoop(
                request, max_steps, self._stream_opener, self._backend.check, warnings
            )
        return stream

    def astream(self, prompt: Prompt, *, system: str | None = None, **params: Any) -> AsyncStream:
        """``stream`` for asyncio: ``async for chunk in gen.astream(...)``."""
        _output_retries(params, self.provider, streaming=True)
        max_steps = self._max_steps(params)
        request, warnings, policy = self._prepare(prompt, system, params)
        stream = _streams()[1](
            lambda: self._live().astream(request),
            provider=self.provider,
            model=self.model,
            policy=policy,
            warnings=warnings,
            request=request,
        )
        if max_steps > 1 and request.tools:
            from genkit._toolloop import StreamLoop

            stream._loop = StreamLoop(
                request, max_steps, self._astream_opener, self._backend.check, warnings
            )
        return stream

    def _stream_opener(self, request: Request) -> Callable[[], Iterator[StreamEvent]]:
        return lambda: self._live().stream(request)

    def _astream_opener(self, request: Request) -> Callable[[], AsyncIterator[StreamEvent]]:
        return lambda: self._live().astream(request)

    def _max_steps(self, params: Mapping[str, Any]) -> int:
        """The call's ``max_steps`` (else load()'s); ``_prepare`` checks the value."""
        if "max_steps" not in params and not self._tool_defaults:
            return 1
        steps = params.get("max_steps", self._tool_defaults.get("max_steps"))
        return steps if isinstance(steps, int) else 1

    def _prepare(
        self, prompt: Prompt, system: str | None, params: dict[str, Any]
    ) -> tuple[Request, list[str], RetryPolicy]:
        if self._closed:
            raise GeneratorClosedError(self.provider, self.model)
        messages = to_messages(prompt, system, self.provider)
        if type(prompt) is not str and not all(type(m.content) is str for m in messages):
            # Parts, tool calls or results: loaded only for conversations that hold them.
            from genkit._tooling import check_history

            check_history(messages, self._capabilities, self.provider, self.model)
        warnings = list(self._load_warnings)
        schema = params.pop("schema", None)
        if not params and schema is None and not self._tool_defaults:
            request = Request(
                self.model,
                messages,
                self._defaults,
                self._provider_options,
                self._timeout,
                self._headers,
            )
            self._backend.check(request)
            return request, warnings, self._policy

        options: dict[str, Any] = {}
        if not params.keys().isdisjoint(CALL_OPTIONS):  # C speed: most calls give none
            options = {k: params.pop(k) for k in CALL_OPTIONS if params.get(k) is not None}
            if options:
                options = check_call_options(options, self.provider)
        tools: Any = None
        tool_values: dict[str, Any] = {}
        if not params.keys().isdisjoint(TOOL_ARGUMENTS):
            for name in TOOL_ARGUMENTS:
                if name in params:
                    tool_values[name] = params.pop(name)
        if tool_values or self._tool_defaults:
            import genkit._tooling  # (not ``from ... import``: that form costs 1 µs a call)

            tools = genkit._tooling.check_tool_arguments(
                {**self._tool_defaults, **tool_values},
                provider=self.provider,
                model=self.model,
                capabilities=self._capabilities,
                drop_unsupported=options.get("drop_unsupported", self._drop),
                warnings=warnings,
            )
        merged = self._defaults  # a call with only tools= or schema= changes none
        if params:
            checked = check_parameters(  # positional: keywords cost ~0.1 µs each per call
                params,
                self.provider,
                self.model,
                self._capabilities,
                options.get("drop_unsupported", self._drop),
                warnings,
            )
            if self._defaults:
                merged = dict(self._defaults)
                for name in params.keys() - checked.keys():
                    # An explicit None clears a load() default; so does a value drop mode
                    # removed.
                    merged.pop(name, None)
                merged.update(checked)
            else:
                merged = checked
        provider_options = self._provider_options
        if "provider_options" in options:
            provider_options = {**provider_options, **options["provider_options"]}
        policy = self._policy
        if "max_retries" in options:
            policy = replace(policy, max_retries=options["max_retries"])
        headers = self._headers
        if "headers" in options:
            headers = {**headers, **options["headers"]}
        output = None
        if schema is not None:
            from genkit import structured

            output = structured.output_schema(schema, self.provider)
        # Built once with every field (``dataclasses.replace`` costs as much as a
        # parameter check).
        request = Request(
            self.model,
            messages,
            merged,
            provider_options,
            options.get("timeout", self._timeout),
            headers,
            tools=() if tools is None else tools.tools,
            tool_choice=None if tools is None else tools.tool_choice,
            parallel_tool_calls=None if tools is None else tools.parallel_tool_calls,
            output=output,
        )
        if output is not None:
            structured.check_request(output, request, self._capabilities, self.provider)
        self._backend.check(request)
        return request, warnings, policy

    def __repr__(self) -> str:
        return (
            f"Generator(model='{self.provider}:{self.model}', defaults={self._defaults!r}, "
            f"max_retries={self._policy.max_retries}, timeout={self._timeout!r})"
        )


def _output_retries(params: dict[str, Any], provider: str, *, streaming: bool = False) -> int:
    """``output_retries=`` popped and checked; the schema machinery loads only when given."""
    if "output_retries" not in params:
        return 0
    from genkit import structured

    return structured.output_retries(params, provider, streaming=streaming)
