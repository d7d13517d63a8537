"""``genkit.images.load()`` and :class:`ImageGenerator`: the user side of image generation.

The same shape as text (:mod:`genkit.generator`): ``provider:model`` strings, defaults
checked at load, every call checked against the model's capability row before
anything is sent, and one retry policy (exactly ``1 + max_retries`` requests; SDK
retries off).  Provider differences live in the backends and their tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from genkit._credentials import check_load_arguments
from genkit._lifetime import Closable
from genkit.backends.base import BackendSettings
from genkit.config import env_bool, env_float, env_int, parse_model
from genkit.errors import GeneratorClosedError, InvalidParameterError, InvalidResponseError
from genkit.images._params import (
    IMAGE_PARAMETER_ORDER,
    check_image,
    check_image_parameters,
    check_prompt,
)
from genkit.images._registry import resolve
from genkit.images._spec import ImageBackend, ImageGeneration, ImagePreview, ImageRequest
from genkit.params import check_call_options
from genkit.retry import RetryPolicy
from genkit.suggest import closest

__all__ = ["DEFAULT_IMAGE_MODEL", "ImageGenerator", "load"]

#: Small (about 1 GB in fp16), 1-4 steps per image, and under a permissive licence.
DEFAULT_IMAGE_MODEL = "huggingface:stabilityai/sd-turbo"

_LOAD_ARGUMENTS = ("api_key", "base_url", "retry", "headers", "progress")


def load(
    model: str | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    retry: RetryPolicy | None = None,
    drop_unsupported: bool | None = None,
    provider_options: Mapping[str, Any] | None = None,
    **defaults: Any,
) -> ImageGenerator:
    """An :class:`ImageGenerator` for ``"provider:model"`` (``"openai:gpt-image-2"``).

    ``model`` defaults to ``$GENKIT_IMAGE_MODEL``, else :data:`DEFAULT_IMAGE_MODEL`.
    Other keyword arguments are default values of the image parameters (``size=``,
    ``quality=``...), checked now against the model's row, or load options of the
    backend (``device=`` for the local one).  ``timeout``, ``max_retries`` and
    ``drop_unsupported`` default to ``$GENKIT_TIMEOUT``, ``$GENKIT_MAX_RETRIES`` and
    ``$GENKIT_DROP_UNSUPPORTED``, as for text.
    """
    check_load_arguments(api_key, base_url)
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise InvalidParameterError(
            "retry",
            f"expected a genkit.RetryPolicy, got {type(retry).__name__}",
            allowed="genkit.RetryPolicy(max_retries=..., initial_backoff=..., ...) or None",
        )
    spec = model or os.environ.get("GENKIT_IMAGE_MODEL") or DEFAULT_IMAGE_MODEL
    provider_name, model_name = parse_model(spec)
    backend_cls = resolve(provider_name)
    provider = backend_cls.provider
    if timeout is None:
        timeout = env_float("GENKIT_TIMEOUT")
    if max_retries is None:
        max_retries = env_int("GENKIT_MAX_RETRIES")
    if drop_unsupported is None:
        drop_unsupported = env_bool("GENKIT_DROP_UNSUPPORTED")
    given = {
        "timeout": timeout,
        "max_retries": max_retries,
        "drop_unsupported": drop_unsupported,
        "provider_options": provider_options,
        "headers": headers,
    }
    checked = check_call_options({k: v for k, v in given.items() if v is not None}, provider)
    policy = retry or RetryPolicy()
    if "max_retries" in checked:
        policy = replace(policy, max_retries=checked["max_retries"])
    load_options = {k: defaults.pop(k) for k in list(defaults) if k in backend_cls.load_options}
    if "headers" in checked:
        load_options["headers"] = checked["headers"]
    progress = defaults.pop("progress", None)
    _refuse_unknown(defaults, provider, backend_cls.load_options)
    settings = BackendSettings(
        api_key=api_key, base_url=base_url, timeout=timeout, options=load_options
    )
    backend = backend_cls(model_name, settings)
    try:
        return ImageGenerator(
            backend,
            defaults=defaults,
            policy=policy,
            timeout=timeout,
            drop_unsupported=checked.get("drop_unsupported", False),
            provider_options=checked.get("provider_options", {}),
            progress=progress,
        )
    except BaseException:
        backend.close()
        raise


def _refuse_unknown(params: Mapping[str, Any], provider: str, load_options: frozenset[str]) -> None:
    known = (*IMAGE_PARAMETER_ORDER, *load_options, *_LOAD_ARGUMENTS, "timeout", "max_retries")
    for name in params:
        if name not in IMAGE_PARAMETER_ORDER:
            match = closest(name, known)
            raise InvalidParameterError(
                name,
                "unknown parameter" + (f" (did you mean {match!r}?)" if match else ""),
                provider=provider,
                allowed="image parameters " + ", ".join(IMAGE_PARAMETER_ORDER),
            )


class ImageGenerator(Closable[ImageBackend]):
    """One image model with its defaults: ``generate``, ``edit``, ``stream`` and async twins.

    Read-only after construction, so one instance is safe to share across threads and
    asyncio tasks; the backend keeps its connections (or its pipeline) and reuses them.
    """

    def __init__(
        self,
        backend: ImageBackend,
        *,
        defaults: Mapping[str, Any] | None = None,
        policy: RetryPolicy | None = None,
        timeout: float | None = None,
        drop_unsupported: bool = False,
        provider_options: Mapping[str, Any] | None = None,
        progress: bool | None = None,
    ) -> None:
        self._backend = backend
        self.provider: str = backend.provider
        self.model: str = backend.model
        self.capabilities = backend.capabilities.lookup(backend.model)
        self._policy = policy or RetryPolicy()
        self._timeout = timeout
        self._drop = drop_unsupported
        self._provider_options: Mapping[str, Any] = dict(provider_options or {})
        self._progress = progress
        self._load_warnings: list[str] = []
        self._closed = False
        self._defaults = check_image_parameters(
            defaults or {},
            provider=self.provider,
            model=self.model,
            caps=self.capabilities,
            drop_unsupported=drop_unsupported,
            warnings=self._load_warnings,
        )

    @property
    def backend(self) -> ImageBackend:
        return self._backend

    @property
    def defaults(self) -> Mapping[str, Any]:
        return dict(self._defaults)

    # ------------------------------------------------------------------ calls

    def generate(
        self,
        prompt: str,
        *,
        n: int | None = None,
        size: str | tuple[int, int] | None = None,
        seed: int | None = None,
        negative_prompt: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        quality: str | None = None,
        output_format: str | None = None,
        provider_options: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        drop_unsupported: bool | None = None,
        progress: bool | None = None,
    ) -> ImageGeneration:
        """Draw ``n`` images for ``prompt``; raises a :class:`genkit.GenkitError` subclass."""
        params = _params(n, size, seed, negative_prompt, steps, guidance, quality, output_format)
        request, warnings, policy = self._prepare(
            prompt,
            params,
            None,
            None,
            provider_options,
            timeout,
            max_retries,
            drop_unsupported,
            progress,
        )
        return _warned(policy.call(lambda: self._live().generate(request)), warnings)

    async def agenerate(
        self,
        prompt: str,
        *,
        n: int | None = None,
        size: str | tuple[int, int] | None = None,
        seed: int | None = None,
        negative_prompt: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        quality: str | None = None,
        output_format: str | None = None,
        provider_options: Mapping[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - per attempt, as for text
        max_retries: int | None = None,
        drop_unsupported: bool | None = None,
        progress: bool | None = None,
    ) -> ImageGeneration:
        """``generate`` for asyncio; never blocks the event loop."""
        params = _params(n, size, seed, negative_prompt, steps, guidance, quality, output_format)
        request, warnings, policy = self._prepare(
            prompt,
            params,
            None,
            None,
            provider_options,
            timeout,
            max_retries,
            drop_unsupported,
            progress,
        )
        return _warned(await policy.acall(lambda: self._live().agenerate(request)), warnings)

    def edit(
        self,
        image: Any,
        prompt: str,
        mask: Any = None,
        *,
        n: int | None = None,
        size: str | tuple[int, int] | None = None,
        seed: int | None = None,
        negative_prompt: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        quality: str | None = None,
        output_format: str | None = None,
        provider_options: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        drop_unsupported: bool | None = None,
        progress: bool | None = None,
    ) -> ImageGeneration:
        """Change ``image`` as ``prompt`` says; ``mask`` (where supported) marks where.

        Both are :class:`genkit.Image` values with bytes; the model's row must allow edits.
        """
        params = _params(n, size, seed, negative_prompt, steps, guidance, quality, output_format)
        request, warnings, policy = self._prepare(
            prompt,
            params,
            image,
            mask,
            provider_options,
            timeout,
            max_retries,
            drop_unsupported,
            progress,
            editing=True,
        )
        return _warned(policy.call(lambda: self._live().generate(request)), warnings)

    async def aedit(
        self,
        image: Any,
        prompt: str,
        mask: Any = None,
        *,
        n: int | None = None,
        size: str | tuple[int, int] | None = None,
        seed: int | None = None,
        negative_prompt: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        quality: str | None = None,
        output_format: str | None = None,
        provider_options: Mapping[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - per attempt, as for text
        max_retries: int | None = None,
        drop_unsupported: bool | None = None,
        progress: bool | None = None,
    ) -> ImageGeneration:
        """``edit`` for asyncio."""
        params = _params(n, size, seed, negative_prompt, steps, guidance, quality, output_format)
        request, warnings, policy = self._prepare(
            prompt,
            params,
            image,
            mask,
            provider_options,
            timeout,
            max_retries,
            drop_unsupported,
            progress,
            editing=True,
        )
        return _warned(await policy.acall(lambda: self._live().agenerate(request)), warnings)

    def stream(
        self,
        prompt: str,
        *,
        n: int | None = None,
        size: str | tuple[int, int] | None = None,
        seed: int | None = None,
        negative_prompt: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        quality: str | None = None,
        output_format: str | None = None,
        provider_options: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        drop_unsupported: bool | None = None,
        progress: bool | None = None,
        image: Any = None,
        mask: Any = None,
    ) -> Iterator[ImagePreview | ImageGeneration]:
        """Yield :class:`ImagePreview` values where the provider sends them, the final
        :class:`ImageGeneration` last (a model that cannot stream yields only that).

        Bad input raises here, before anything is sent.  A failure before the first
        item is retried like any call; once a preview was handed out it is not.
        """
        params = _params(n, size, seed, negative_prompt, steps, guidance, quality, output_format)
        request, warnings, policy = self._prepare(
            prompt,
            params,
            image,
            mask,
            provider_options,
            timeout,
            max_retries,
            drop_unsupported,
            progress,
            editing=image is not None or mask is not None,
        )
        return self._stream(request, warnings, policy)

    def _stream(
        self, request: ImageRequest, warnings: list[str], policy: RetryPolicy
    ) -> Iterator[ImagePreview | ImageGeneration]:
        def start() -> tuple[
            Iterator[ImagePreview | ImageGeneration], ImagePreview | ImageGeneration
        ]:
            items = self._live().stream(request)
            try:
                return items, next(items)
            except StopIteration:
                raise InvalidResponseError(
                    "the stream ended without an image", provider=self.provider
                ) from None

        items, first = policy.call(start)
        try:
            item = first
            while True:
                if isinstance(item, ImageGeneration):
                    yield _warned(item, warnings)
                    return
                yield item
                try:
                    item = next(items)
                except StopIteration:
                    raise InvalidResponseError(
                        "the stream ended before the final image", provider=self.provider
                    ) from None
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def _prepare(
        self,
        prompt: object,
        params: dict[str, Any],
        image: object,
        mask: object,
        provider_options: Mapping[str, Any] | None,
        timeout: float | None,
        max_retries: int | None,
        drop_unsupported: bool | None,
        progress: bool | None,
        *,
        editing: bool = False,
    ) -> tuple[ImageRequest, list[str], RetryPolicy]:
        if self._closed:
            raise GeneratorClosedError(self.provider, self.model)
        provider = self.provider
        text = check_prompt(prompt, provider)
        given = {
            "provider_options": provider_options,
            "timeout": timeout,
            "max_retries": max_retries,
            "drop_unsupported": drop_unsupported,
        }
        options = check_call_options({k: v for k, v in given.items() if v is not None}, provider)
        if progress is not None and not isinstance(progress, bool):
            raise InvalidParameterError(
                "progress",
                f"expected True or False, got {type(progress).__name__}",
                provider=provider,
            )
        caps = self.capabilities
        if editing:
            if not caps.edit:
                raise InvalidParameterError(
                    "image",
                    f"model {self.model!r} cannot edit images",
                    provider=provider,
                    allowed="generate() with this model, or a model that edits",
                )
            image = check_image("image", image, provider)
            if mask is not None:
                mask = check_image("mask", mask, provider)
        warnings = list(self._load_warnings)
        checked = check_image_parameters(
            params,
            provider=provider,
            model=self.model,
            caps=caps,
            drop_unsupported=options.get("drop_unsupported", self._drop),
            warnings=warnings,
        )
        merged = dict(self._defaults)
        if {"size", "aspect_ratio", "resolution"} & checked.keys():
            for name in ("size", "aspect_ratio", "resolution"):  # a call's size replaces all
                merged.pop(name, None)
        merged.update(checked)
        extra = self._provider_options
        if "provider_options" in options:
            extra = {**extra, **options["provider_options"]}
        policy = self._policy
        if "max_retries" in options:
            policy = replace(policy, max_retries=options["max_retries"])
        request = ImageRequest(
            model=self.model,
            prompt=text,
            image=image if editing else None,  # type: ignore[arg-type]
            mask=mask if editing else None,  # type: ignore[arg-type]
            progress=progress if progress is not None else self._progress,
            provider_options=extra,
            timeout=options.get("timeout", self._timeout),
            **merged,
        )
        check = getattr(self._backend, "check", None)  # optional: what no row can express
        if check is not None:
            check(request)
        return request, warnings, policy

    def __repr__(self) -> str:
        return (
            f"ImageGenerator(model='{self.provider}:{self.model}', defaults={self._defaults!r}, "
            f"max_retries={self._policy.max_retries}, timeout={self._timeout!r})"
        )


def _params(
    n: int | None,
    size: object,
    seed: int | None,
    negative_prompt: str | None,
    steps: int | None,
    guidance: float | None,
    quality: str | None,
    output_format: str | None,
) -> dict[str, Any]:
    values = (n, size, seed, negative_prompt, steps, guidance, quality, output_format)
    return {
        name: value
        for name, value in zip(IMAGE_PARAMETER_ORDER, values, strict=True)
        if value is not None
    }


def _warned(result: ImageGeneration, warnings: list[str]) -> ImageGeneration:
    if warnings:
        result.warnings = [*warnings, *result.warnings]
    return result
