"""Gemini image models (``gemini:gemini-2.5-flash-image``) through ``generate_content``.

Gemini draws in the same call that writes text: ``response_modalities=["TEXT",
"IMAGE"]`` and an ``image_config`` (aspect ratio, ``1K``/``2K``/``4K``).  The image
comes back as ``inlineData`` parts, any words beside it as text parts
(:attr:`ImageGeneration.text`).  ``generate_images`` (Imagen) is deprecated in
google-genai 3.6 and its models shut down, so genkit does not use it.

The client, key handling and error classes are the text backend's
(:class:`genkit.backends.gemini.GeminiBackend` is built here and used for them).
Editing is an image part beside the prompt.  ``size`` takes ``"16:9"``, ``"2K"`` or both
(``"16:9@2K"``); ``provider_options`` fields of ``ImageConfig`` (``person_generation``)
go there, any other into ``GenerateContentConfig``.  Gemini sends no partial images,
so ``stream()`` yields only the final result.
"""

from __future__ import annotations

import base64
from typing import Any

from genkit.backends.base import BackendSettings
from genkit.backends.gemini import GeminiBackend
from genkit.errors import InvalidParameterError, InvalidResponseError
from genkit.images._spec import (
    ImageBackend,
    ImageCapabilityTable,
    ImageGeneration,
    ImageModelCapabilities,
    ImageRequest,
)
from genkit.parts import Image

try:
    import pydantic
    from google.genai import models as genai_models
    from google.genai import types

    from genkit.backends._transport import within
    from genkit.backends.gemini._request import milliseconds
    from genkit.backends.gemini._response import FINISH_REASONS, response_usage
except ImportError as exc:  # pragma: no cover - the text backend raised already
    from genkit.errors import MissingDependencyError

    raise MissingDependencyError("gemini", "google-genai", "gemini") from exc

__all__ = ["CAPABILITIES", "GeminiImageBackend"]

PROVIDER = "gemini"

_RATIOS = frozenset({"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"})

_GEMINI_IMAGE = ImageModelCapabilities(
    parameters=frozenset({"size", "seed"}),
    max_n=1,
    aspect_ratios=_RATIOS,
    resolutions=frozenset({"1K", "2K", "4K"}),
    output_formats=frozenset({"png"}),
    edit=True,
    stream=False,
)
# gemini-2.5-flash-image draws 1K only.
_FLASH_25 = ImageModelCapabilities(
    parameters=frozenset({"size", "seed"}),
    max_n=1,
    aspect_ratios=_RATIOS,
    resolutions=frozenset({"1K"}),
    output_formats=frozenset({"png"}),
    edit=True,
    stream=False,
)

CAPABILITIES = ImageCapabilityTable([("gemini-2.5-flash-image*", _FLASH_25)], default=_GEMINI_IMAGE)

_IMAGE_CONFIG_FIELDS = frozenset(types.ImageConfig.model_fields)


class GeminiImageBackend(ImageBackend):
    provider = PROVIDER
    capabilities = CAPABILITIES
    load_options = frozenset({"api_version"})

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        self._headers: dict[str, str] = dict(settings.options.get("headers") or {})
        options = {k: v for k, v in settings.options.items() if k != "headers"}
        text_settings = BackendSettings(
            api_key=settings.api_key,
            base_url=settings.base_url,
            timeout=settings.timeout,
            options=options,
        )
        # The text backend owns the clients, the key and the error translation.
        self._api = GeminiBackend(model, text_settings)

    def check(self, request: ImageRequest) -> None:
        """Bad ``provider_options`` fail here, before anything is sent.

        Besides the pydantic check of the fields, the SDK's own mapping to the wire runs
        here: it raises ``ValueError`` for fields the Gemini Developer API does not take
        (``person_generation``), which would otherwise surface mid-call as an invalid
        response, and be retried.
        """
        if not request.provider_options:
            return
        config = self._config(request)
        parameters = types._GenerateContentParameters(
            model=request.model, contents=request.prompt, config=config
        )
        try:
            api = self._api._sync.get()._api_client
            genai_models._GenerateContentParameters_to_mldev(api, parameters, None, parameters)
        except ValueError as error:
            raise InvalidParameterError(
                "provider_options",
                str(error),
                provider=PROVIDER,
                allowed="fields the Gemini Developer API takes",
            ) from None

    # ------------------------------------------------------------------ requests

    def _config(self, request: ImageRequest) -> types.GenerateContentConfig:
        image: dict[str, Any] = {}
        if request.aspect_ratio is not None:
            image["aspect_ratio"] = request.aspect_ratio
        if request.resolution is not None:
            image["image_size"] = request.resolution
        fields: dict[str, Any] = {"response_modalities": ["TEXT", "IMAGE"]}
        if request.seed is not None:
            fields["seed"] = request.seed
        for name, value in request.provider_options.items():
            if name in _IMAGE_CONFIG_FIELDS:
                image[name] = value
            else:
                fields[name] = value
        timeout = request.timeout
        if timeout == self._api._timeout:
            timeout = None
        if timeout is not None or self._headers:
            fields["http_options"] = types.HttpOptions(
                timeout=milliseconds(timeout) if timeout is not None else None,
                headers=self._headers or None,
            )
        try:
            if image:
                fields["image_config"] = types.ImageConfig(**image)
            return types.GenerateContentConfig(**fields)
        except (pydantic.ValidationError, TypeError) as error:
            raise InvalidParameterError(
                "provider_options",
                f"not valid GenerateContentConfig or ImageConfig fields: {error}",
                provider=PROVIDER,
                allowed="fields of google.genai.types.GenerateContentConfig or ImageConfig",
            ) from error

    def _contents(self, request: ImageRequest) -> Any:
        if request.image is None:
            return request.prompt
        parts: list[types.Part] = [_part(request.image)]
        if request.mask is not None:
            parts.append(_part(request.mask))
        parts.append(types.Part(text=request.prompt))
        return [types.Content(role="user", parts=parts)]

    def generate(self, request: ImageRequest) -> ImageGeneration:
        config = self._config(request)
        with self._api._translating:
            response = self._api._sync.get().models.generate_content(
                model=request.model, contents=self._contents(request), config=config
            )
        return self._generation(response)

    async def agenerate(self, request: ImageRequest) -> ImageGeneration:
        config = self._config(request)
        with self._api._translating:
            response = await within(
                self._api._async.get().client.aio.models.generate_content(
                    model=request.model, contents=self._contents(request), config=config
                ),
                request.timeout,
                PROVIDER,
            )
        return self._generation(response)

    # ------------------------------------------------------------------ responses

    def _generation(self, response: types.GenerateContentResponse) -> ImageGeneration:
        candidates = response.candidates or []
        images: list[Image] = []
        texts: list[str] = []
        reason = None
        for candidate in candidates[:1]:
            reason = candidate.finish_reason
            for part in (candidate.content.parts if candidate.content else None) or []:
                blob = part.inline_data
                if blob is not None and blob.data:
                    images.append(_image(blob.data, blob.mime_type))
                elif part.text and not part.thought:
                    texts.append(part.text)
        text = "".join(texts) or None
        if not images:
            # A safety refusal (IMAGE_SAFETY, a blocked prompt) comes back the same on
            # every attempt: not retried.  NO_IMAGE and the like may draw next time.
            why = reason.name if reason is not None else "no candidate"
            refused = FINISH_REASONS.get(why) == "content_filter"
            feedback = response.prompt_feedback
            if feedback is not None and feedback.block_reason is not None:
                why, refused = f"prompt blocked: {feedback.block_reason.name}", True
            said = f"; it said: {text[:200]!r}" if text else ""
            raise InvalidResponseError(
                f"the model returned no image ({why}){said}",
                provider=PROVIDER,
                retryable=not refused,
            )
        return ImageGeneration(
            images=images,
            model=response.model_version or self.model,
            provider=PROVIDER,
            usage=response_usage(response.usage_metadata),
            text=text,
            raw=response,
        )

    def close(self) -> None:
        self._api.close()

    async def aclose(self) -> None:
        await self._api.aclose()


def _part(image: Image) -> types.Part:
    assert image.data is not None  # checked by the generator
    return types.Part(inline_data=types.Blob(data=image.data, mime_type=image.media_type))


def _image(data: bytes | str, media_type: str | None) -> Image:
    try:
        raw = base64.b64decode(data) if isinstance(data, str) else data
        return Image(data=raw)
    except ValueError:
        raise InvalidResponseError(
            f"an inline image ({media_type or 'no type'}) is not PNG, JPEG, GIF or WEBP",
            provider=PROVIDER,
        ) from None
