"""Fallback chains: a second model when the first is down.

``GENKIT_MODEL="openai:gpt-4o,anthropic:claude-sonnet-4-6"`` or
``genkit.load("openai:gpt-4o", fallbacks=["anthropic:claude-sonnet-4-6"])`` gives a
:class:`FallbackGenerator`: the same interface as a :class:`~genkit.Generator`, over one
Generator per model.  The rules, and why:

- Each model first spends its own retry policy; the next model is tried only when the
  error says this model cannot answer now (retryable errors once retries are exhausted,
  and 401/403/404: a revoked key or a retired model will not heal within the call).
  A 400 or bad input is the caller's mistake and would fail on every model, so it is
  raised at once.  ``fallback_on=`` replaces that set.
- Everything the chain could send is checked against every model before the first
  request: load-time defaults at ``load()``, per-call values and prompts at each call.
  A fallback that cannot take the call is found out now, not during an outage.
- A stream falls back only until its first chunk reached the caller: after that the
  caller holds text from one model, and splicing in another's would be a lie.
- What answered is in ``result.provider``/``result.model``; every model that failed
  before it is one line of ``result.warnings``.  When all fail,
  :class:`~genkit.errors.AllModelsFailedError` carries each model's error.

When the primary answers, the chain costs the checks of the other models' requests
plus one ``try`` - well under 1% of a call (``python -m bench.fallback_overhead``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from genkit.config import parse_model
from genkit.errors import (
    AllModelsFailedError,
    AuthenticationError,
    ConfigurationError,
    ConnectionError,
    GenkitError,
    InvalidParameterError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    TimeoutError,
)
from genkit.generator import Generator, load
from genkit.registry import resolve
from genkit.streaming import AsyncEventIterator, AsyncStream, EventIterator, Stream
from genkit.types import Chunk, Generation, StreamEvent

if TYPE_CHECKING:
    from genkit.messages import Prompt
    from genkit.retry import RetryPolicy

__all__ = ["DEFAULT_FALLBACK_ON", "FallbackGenerator", "load_chain", "split_chain"]

logger = logging.getLogger("genkit")

#: The errors after which the next model is tried, by default.  Besides these classes,
#: any other :class:`ProviderError` marked ``retryable`` (a 409, say) falls back too.
DEFAULT_FALLBACK_ON: tuple[type[GenkitError], ...] = (
    RateLimitError,
    ServerError,
    TimeoutError,
    ConnectionError,
    InvalidResponseError,
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
)


def split_chain(spec: object) -> list[str]:
    """``"a:x, b:y"`` -> ``["a:x", "b:y"]``; an empty member is a typo, not a model."""
    if not isinstance(spec, str):
        raise ConfigurationError(
            f"model must be a string like 'openai:gpt-4o', got {type(spec).__name__}"
        )
    models = [part.strip() for part in spec.split(",")]
    if not all(models):
        raise ConfigurationError(
            f"malformed model chain {spec!r}: write it as 'provider:model,provider:model', "
            "e.g. 'openai:gpt-4o,anthropic:claude-sonnet-4-6'"
        )
    return models


def load_chain(
    spec: str,
    fallbacks: Sequence[str] | str | None,
    fallback_on: Sequence[type[GenkitError]] | None,
    *,
    api_key: str | None,
    base_url: str | None,
    timeout: float | None,
    max_retries: int | None,
    retry: RetryPolicy | None,
    drop_unsupported: bool | None,
    provider_options: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None,
    defaults: dict[str, Any],
) -> Generator:
    """``genkit.load()`` for a chain: one Generator per model, each loaded by ``load()``.

    Any model that cannot load (no key, extra not installed, defaults it cannot take)
    fails the whole load: a fallback that was never usable would surface only during
    the outage it was meant to cover.
    """
    models = split_chain(spec)
    if isinstance(fallbacks, str):
        fallbacks = [fallbacks]
    for fallback in fallbacks or ():
        models.extend(split_chain(fallback))
    classes = [resolve(parse_model(model)[0]) for model in models]
    if (api_key is not None or base_url is not None) and len({c.provider for c in classes}) > 1:
        raise ConfigurationError(
            "api_key= and base_url= name one provider's endpoint, but the chain "
            f"{','.join(models)!r} spans several: set each provider's own environment "
            "variables (OPENAI_API_KEY, ANTHROPIC_BASE_URL, ...) instead"
        )
    checked_on = _check_fallback_on(fallback_on)

    # A backend's load option (device=, api_version=) goes to the models that take it;
    # every other keyword is a shared default, checked against every model.
    load_names = frozenset().union(*(c.load_options for c in classes))
    shared = {k: v for k, v in defaults.items() if k not in load_names}
    generators: list[Generator] = []
    try:
        for model, cls in zip(models, classes, strict=True):
            own = {k: v for k, v in defaults.items() if k in cls.load_options}
            generators.append(
                load(
                    model,
                    api_key=api_key,
                    base_url=base_url,
                    timeout=timeout,
                    max_retries=max_retries,
                    retry=retry,
                    drop_unsupported=drop_unsupported,
                    provider_options=provider_options,
                    headers=headers,
                    **shared,
                    **own,
                )
            )
    except BaseException:
        for generator in generators:
            generator.close()
        raise
    if len(generators) == 1:
        return generators[0]
    return FallbackGenerator(generators, fallback_on=checked_on)


def _check_fallback_on(
    fallback_on: Sequence[type[GenkitError]] | None,
) -> tuple[type[GenkitError], ...] | None:
    if fallback_on is None:
        return None
    given: Sequence[object] = [fallback_on] if isinstance(fallback_on, type) else fallback_on
    classes: list[type[GenkitError]] = []
    for cls in given:
        if not (isinstance(cls, type) and issubclass(cls, GenkitError)):
            raise InvalidParameterError(
                "fallback_on",
                f"expected genkit error classes, got {cls!r:.60}",
                allowed="a tuple of genkit.GenkitError subclasses, e.g. (genkit.ServerError,)",
            )
        classes.append(cls)
    return tuple(classes)


def _name(generator: Generator) -> str:
    return f"{generator.provider}:{generator.model}"


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


class FallbackGenerator(Generator):
    """Several models tried in order: the interface of :class:`Generator`.

    ``provider``, ``model``, ``defaults`` and ``backend`` are the primary's;
    ``generators`` holds one Generator per model, primary first.  Closing the chain
    closes every model.
    """

    def __init__(
        self,
        generators: Sequence[Generator],
        *,
        fallback_on: Sequence[type[GenkitError]] | None = None,
    ) -> None:
        # Not Generator.__init__: the chain owns no backend of its own.  The attributes
        # Generator's properties read are the primary's.
        if len(generators) < 2:
            raise ConfigurationError("a fallback chain needs at least two models")
        self.generators: tuple[Generator, ...] = tuple(generators)
        primary = self.generators[0]
        self._primary = primary
        self._rest = self.generators[1:]
        self._names = tuple(_name(g) for g in self.generators)
        self.provider = primary.provider
        self.model = primary.model
        self._backend = primary.backend
        self._defaults = dict(primary.defaults)
        checked = _check_fallback_on(fallback_on)
        self._fallback_on = DEFAULT_FALLBACK_ON if checked is None else checked
        #: Only the default set also falls back on any other retryable provider error.
        self._on_retryable = checked is None

    def falls_back(self, error: BaseException) -> bool:
        """Whether the next model is tried after ``error``."""
        if isinstance(error, self._fallback_on):
            return True
        return self._on_retryable and isinstance(error, ProviderError) and error.retryable

    # ------------------------------------------------------------------ calls

    def generate(self, prompt: Prompt, *, system: str | None = None, **params: Any) -> Generation:
        self._check_rest(prompt, system, params)
        try:
            return self._primary.generate(prompt, system=system, **params)
        except GenkitError as error:
            if not self.falls_back(error):
                raise
            failures = [(self._names[0], error)]
        for index, generator in enumerate(self._rest, 1):
            self._log(failures)
            try:
                result = generator.generate(prompt, system=system, **params)
            except GenkitError as error:
                self._give_up_unless_fallback(error, failures, index)
                continue
            return self._answered(result, failures)
        raise self._all_failed(failures)

    async def agenerate(
        self, prompt: Prompt, *, system: str | None = None, **params: Any
    ) -> Generation:
        self._check_rest(prompt, system, params)
        try:
            return await self._primary.agenerate(prompt, system=system, **params)
        except GenkitError as error:
            if not self.falls_back(error):
                raise
            failures = [(self._names[0], error)]
        for index, generator in enumerate(self._rest, 1):
            self._log(failures)
            try:
                result = await generator.agenerate(prompt, system=system, **params)
            except GenkitError as error:
                self._give_up_unless_fallback(error, failures, index)
                continue
            return self._answered(result, failures)
        raise self._all_failed(failures)

    def stream(self, prompt: Prompt, *, system: str | None = None, **params: Any) -> Stream:
        """A stream that moves to the next model only before its first chunk.

        Every model's stream is made (and so checked) now; none sends anything before
        the first iteration.
        """
        streams = [g.stream(prompt, system=system, **params) for g in self.generators]
        return FallbackStream(streams, self._names, self.falls_back)  # type: ignore[return-value]

    def astream(self, prompt: Prompt, *, system: str | None = None, **params: Any) -> AsyncStream:
        streams = [g.astream(prompt, system=system, **params) for g in self.generators]
        return AsyncFallbackStream(streams, self._names, self.falls_back)  # type: ignore[return-value]

    # ------------------------------------------------------------------ helpers

    def _check_rest(self, prompt: Prompt, system: str | None, params: dict[str, Any]) -> None:
        """Refuse input any fallback would refuse, before the primary sends anything."""
        for generator in self._rest:
            generator._prepare(prompt, system, dict(params))

    def _give_up_unless_fallback(
        self, error: GenkitError, failures: list[tuple[str, GenkitError]], index: int
    ) -> None:
        if not self.falls_back(error):
            error.add_note(f"genkit: tried after {_tried(failures)}")
            raise error
        failures.append((self._names[index], error))

    def _answered(self, result: Generation, failures: list[tuple[str, GenkitError]]) -> Generation:
        result.warnings = _warnings(failures, self._names) + result.warnings
        return result

    def _log(self, failures: list[tuple[str, GenkitError]]) -> None:
        model, error = failures[-1]
        logger.warning(
            "genkit: %s failed (%s); falling back to %s",
            model,
            _one_line(error),
            self._names[len(failures)],
        )

    def _all_failed(self, failures: list[tuple[str, GenkitError]]) -> AllModelsFailedError:
        error = AllModelsFailedError(list(failures))
        error.__cause__ = failures[-1][1]
        return error

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Close every model's connections, even if closing one of them fails."""
        _close_all([g.close for g in self.generators])

    async def aclose(self) -> None:
        errors: list[BaseException] = []
        for generator in self.generators:
            try:
                await generator.aclose()
            except Exception as error:
                errors.append(error)
        if errors:
            raise errors[0]

    def __enter__(self) -> FallbackGenerator:
        return self

    async def __aenter__(self) -> FallbackGenerator:
        return self

    def __repr__(self) -> str:
        return f"FallbackGenerator(models={list(self._names)!r}, defaults={self._defaults!r})"


def _close_all(closers: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []
    for close in closers:
        try:
            close()
        except Exception as error:
            errors.append(error)
    if errors:
        raise errors[0]


def _tried(failures: list[tuple[str, GenkitError]]) -> str:
    return "; ".join(f"{model} failed ({_one_line(error)})" for model, error in failures)


def _warnings(failures: list[tuple[str, GenkitError]], names: Sequence[str]) -> list[str]:
    """One line per failed model, in order; failure ``i`` was model ``i`` of the chain."""
    lines = []
    for index, (model, error) in enumerate(failures):
        then = f"; fell back to {names[index + 1]}" if index + 1 < len(names) else ""
        lines.append(f"{model} failed ({_one_line(error)}){then}")
    return lines


# --------------------------------------------------------------------------- streams


class _FallbackStreamBase:
    """What both stream twins share: which model is streaming and what failed before it."""

    def __init__(
        self,
        streams: Sequence[Stream] | Sequence[AsyncStream],
        names: Sequence[str],
        falls_back: Callable[[BaseException], bool],
    ) -> None:
        self._names = names
        self._falls_back = falls_back
        self._index = 0
        self._delivered = False
        self._finished = False
        self._failures: list[tuple[str, GenkitError]] = []
        self._failed: AllModelsFailedError | None = None

    def _next_model(self, error: GenkitError, count: int) -> bool:
        """After ``error`` before the first chunk: move on (True) or give up (False)."""
        if not self._falls_back(error):
            if self._failures:
                error.add_note(f"genkit: tried after {_tried(self._failures)}")
                self._add_warnings(error)
            self._finished = True
            return False
        self._failures.append((self._names[self._index], error))
        if self._index + 1 >= count:
            self._finished = True
            failed = self._failed = AllModelsFailedError(list(self._failures))
            failed.__cause__ = error
            if isinstance(error, ProviderError):
                failed.partial = self._with_warnings(error.partial)
            return False
        logger.warning(
            "genkit: %s failed (%s); falling back to %s",
            self._names[self._index],
            _one_line(error),
            self._names[self._index + 1],
        )
        self._index += 1
        return True

    def _add_warnings(self, error: BaseException) -> None:
        if isinstance(error, ProviderError):
            error.partial = self._with_warnings(error.partial)

    def _with_warnings(self, result: Generation | None) -> Generation | None:
        if result is not None and self._failures:
            result.warnings = _warnings(self._failures, self._names) + result.warnings
        return result


class FallbackStream(_FallbackStreamBase):
    """:class:`~genkit.Stream`'s interface over one stream per model of a chain."""

    def __init__(
        self,
        streams: Sequence[Stream],
        names: Sequence[str],
        falls_back: Callable[[BaseException], bool],
    ) -> None:
        super().__init__(streams, names, falls_back)
        self._streams = streams
        self._current = streams[0]

    def __iter__(self) -> Iterator[Chunk]:
        return self

    def events(self) -> Iterator[StreamEvent]:
        """Every event of the answering model's stream, as :meth:`genkit.Stream.events`."""
        return EventIterator(self.__next__, self._streams)

    def __next__(self) -> Chunk:
        if self._delivered:
            try:
                return next(self._current)
            except StopIteration:
                self._finished = True
                raise
            except GenkitError as error:
                self._finished = True
                self._add_warnings(error)
                raise
        while True:
            try:
                chunk = next(self._current)
            except StopIteration:
                self._finished = True
                raise
            except GenkitError as error:
                if self._next_model(error, len(self._streams)):
                    self._current = self._streams[self._index]
                    continue
                if self._failed is not None:
                    raise self._failed from error
                raise
            self._delivered = True
            return chunk

    @property
    def error(self) -> GenkitError | None:
        return self._failed or self._current.error

    @property
    def text(self) -> str:
        return self._current.text

    @property
    def partial_object(self) -> Any:
        """The answering model's ``partial_object`` (``schema=``: the JSON so far)."""
        return self._current.partial_object

    @property
    def result(self) -> Generation:
        """The answering model's Generation (reads the rest of the stream first)."""
        if not self._finished:
            for _ in self:
                pass
        result = self._with_warnings(self._current.result)
        assert result is not None
        return result

    def get_result(self) -> Generation:
        """``result`` as a method, like :meth:`genkit.Stream.get_result`."""
        return self.result

    def close(self) -> None:
        self._finished = True
        _close_all([s.close for s in self._streams])

    def __enter__(self) -> FallbackStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "done" if self._finished else "open"
        return f"<genkit.FallbackStream {self._names[self._index]} {state}>"


class AsyncFallbackStream(_FallbackStreamBase):
    """:class:`~genkit.AsyncStream`'s interface over one stream per model of a chain."""

    def __init__(
        self,
        streams: Sequence[AsyncStream],
        names: Sequence[str],
        falls_back: Callable[[BaseException], bool],
    ) -> None:
        super().__init__(streams, names, falls_back)
        self._streams = streams
        self._current = streams[0]

    def __aiter__(self) -> AsyncIterator[Chunk]:
        return self

    def events(self) -> AsyncIterator[StreamEvent]:
        """Every event of the answering model's stream, as :meth:`genkit.AsyncStream.events`."""
        return AsyncEventIterator(self.__anext__, self._streams)

    async def __anext__(self) -> Chunk:
        if self._delivered:
            try:
                return await self._current.__anext__()
            except StopAsyncIteration:
                self._finished = True
                raise
            except GenkitError as error:
                self._finished = True
                self._add_warnings(error)
                raise
        while True:
            try:
                chunk = await self._current.__anext__()
            except StopAsyncIteration:
                self._finished = True
                raise
            except GenkitError as error:
                if self._next_model(error, len(self._streams)):
                    self._current = self._streams[self._index]
                    continue
                if self._failed is not None:
                    raise self._failed from error
                raise
            self._delivered = True
            return chunk

    @property
    def error(self) -> GenkitError | None:
        return self._failed or self._current.error

    @property
    def text(self) -> str:
        return self._current.text

    @property
    def partial_object(self) -> Any:
        """The answering model's ``partial_object`` (``schema=``: the JSON so far)."""
        return self._current.partial_object

    async def get_result(self) -> Generation:
        """The answering model's Generation, reading the rest of the stream first."""
        if not self._finished:
            async for _ in self:
                pass
        return self.result

    @property
    def result(self) -> Generation:
        """The generation as received so far (complete once the loop has ended)."""
        result = self._with_warnings(self._current.result)
        assert result is not None
        return result

    async def aclose(self) -> None:
        self._finished = True
        errors: list[BaseException] = []
        for stream in self._streams:
            try:
                await stream.aclose()
            except Exception as error:
                errors.append(error)
        if errors:
            raise errors[0]

    async def __aenter__(self) -> AsyncFallbackStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "done" if self._finished else "open"
        return f"<genkit.AsyncFallbackStream {self._names[self._index]} {state}>"
