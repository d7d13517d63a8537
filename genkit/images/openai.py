"""OpenAI image models (``openai:gpt-image-2``) through ``client.images.generate`` / ``edit``.

The client, the key handling and the error classes are the text backend's
(:class:`genkit.backends.openai.OpenAIBackend` is built here and used for them), so an
image call fails, retries and redacts exactly like a chat call.  Why the rest:

- GPT image models always answer base64 (``b64_json``); ``response_format`` is the
  retired DALL·E models' and is never sent.
- ``dall-e-2``/``dall-e-3`` (retired 2026-05-12) and ``gpt-image-1`` (shut down
  2026-10-23) are refused at load from :data:`RETIRED`, before any request: the API
  would answer 404 or 400 only after a round trip.
- Sizes: gpt-image-2 and later draw any ``WxH`` with sides divisible by 16, up to
  3840x2160 and an aspect ratio between 1:3 and 3:1; older models draw three sizes.
- ``stream()`` sends ``stream=True, partial_images=N`` (``N`` from
  ``provider_options["partial_images"]``, default 2) and yields each partial image as a
  preview, then the final result.
- ``provider_options`` are extra body fields (``background``, ``moderation``,
  ``output_compression``...).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from genkit.backends.base import BackendSettings
from genkit.backends.openai import OpenAIBackend
from genkit.errors import (
    InvalidParameterError,
    InvalidResponseError,
    ModelNotFoundError,
)
from genkit.images._spec import (
    ImageBackend,
    ImageCapabilityTable,
    ImageGeneration,
    ImageModelCapabilities,
    ImagePreview,
    ImageRequest,
)
from genkit.parts import Image
from genkit.types import Usage

__all__ = ["CAPABILITIES", "RETIRED", "OpenAIImageBackend"]

PROVIDER = "openai"

_QUALITIES = frozenset({"auto", "low", "medium", "high"})
_FORMATS = frozenset({"png", "jpeg", "webp"})
_CLASSIC_SIZES = frozenset({(1024, 1024), (1536, 1024), (1024, 1536)})

#: gpt-image-2 and later: any size on a 16-pixel grid up to 3840x2160.
_ANY_SIZE = ImageModelCapabilities(
    parameters=frozenset({"n", "size", "quality", "output_format"}),
    max_n=10,
    size_multiple=16,
    max_side=3840,
    max_pixels=3840 * 2160,
    qualities=_QUALITIES,
    output_formats=_FORMATS,
    edit=True,
    stream=True,
)
_CLASSIC = ImageModelCapabilities(
    parameters=_ANY_SIZE.parameters,
    max_n=10,
    fixed_sizes=_CLASSIC_SIZES,
    qualities=_QUALITIES,
    output_formats=_FORMATS,
    edit=True,
    stream=True,
)
_HIGHER = ImageModelCapabilities(
    parameters=_ANY_SIZE.parameters,
    max_n=10,
    size_multiple=16,
    max_side=3840,
    max_pixels=3840 * 2160,
    qualities=_QUALITIES | {"xhigh", "max"},
    output_formats=_FORMATS,
    edit=True,
    stream=True,
)

CAPABILITIES = ImageCapabilityTable(
    [
        ("gpt-image-2.5*", _HIGHER),
        ("gpt-image-2.6*", _HIGHER),
        ("gpt-image-2*", _ANY_SIZE),
        ("gpt-image-1-mini*", _CLASSIC),
        ("gpt-image-1.5*", _CLASSIC),
        ("chatgpt-image-*", _CLASSIC),
    ],
    default=_ANY_SIZE,  # a newer model: the newest rules
)

#: Model pattern -> why it cannot be used and what to use instead.
RETIRED: tuple[tuple[str, str], ...] = (
    ("dall-e-*", "retired by OpenAI on 2026-05-12; use a GPT image model such as gpt-image-2"),
    ("gpt-image-1", "shut down by OpenAI on 2026-10-23; use gpt-image-2.5-sunburst or -flare"),
    ("gpt-image-1-20*", "shut down by OpenAI on 2026-10-23; use gpt-image-2.5-sunburst or -flare"),
)

#: The widest aspect ratio gpt-image-2 draws (1:3 to 3:1); no table field expresses it.
_MAX_ASPECT = 3.0
_DEFAULT_PARTIAL_IMAGES = 2


class OpenAIImageBackend(ImageBackend):
    provider = PROVIDER
    capabilities = CAPABILITIES

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        for pattern, why in RETIRED:
            if fnmatchcase(model.lower(), pattern):
                raise ModelNotFoundError(f"{PROVIDER}:{model}", why)
        headers = settings.options.get("headers") or {}
        self._headers: Mapping[str, str] = dict(headers)
        # The text backend owns the clients, the key and the error translation.
        self._api = OpenAIBackend(model, settings)

    def check(self, request: ImageRequest) -> None:
        """Refuse what the row cannot say: an aspect ratio beyond 3:1 on a free-size model."""
        caps = self.capabilities.lookup(self.model)
        if request.size is None or caps.fixed_sizes is not None:
            return
        width, height = request.size
        if max(width, height) > _MAX_ASPECT * min(width, height):
            raise InvalidParameterError(
                "size",
                f"{width}x{height} is wider than 3:1",
                provider=PROVIDER,
                allowed="an aspect ratio between 1:3 and 3:1",
            )

    # ------------------------------------------------------------------ requests

    def _arguments(self, request: ImageRequest) -> dict[str, Any]:
        extra = dict(request.provider_options)
        extra.pop("partial_images", None)
        args: dict[str, Any] = {"model": request.model, "prompt": request.prompt}
        if request.n != 1:
            args["n"] = request.n
        if request.size is not None:
            args["size"] = f"{request.size[0]}x{request.size[1]}"
        if request.quality is not None:
            args["quality"] = request.quality
        if request.output_format is not None:
            args["output_format"] = request.output_format
        if request.image is not None:
            args["image"] = _upload("image", request.image)
            if request.mask is not None:
                args["mask"] = _upload("mask", request.mask)
        if request.timeout is not None:
            args["timeout"] = request.timeout
        if extra:
            args["extra_body"] = extra
        if self._headers:
            args["extra_headers"] = dict(self._headers)
        return args

    def _call(self, client: Any, request: ImageRequest, **more: Any) -> Any:
        images = client.images
        method = images.edit if request.image is not None else images.generate
        return method(**self._arguments(request), **more)

    def generate(self, request: ImageRequest) -> ImageGeneration:
        with self._api._translating:
            response = self._call(self._api._sync.get(), request)
        return self._generation(response)

    async def agenerate(self, request: ImageRequest) -> ImageGeneration:
        from genkit.backends._transport import within

        with self._api._translating:
            response = await within(
                self._call(self._api._async.get(), request), request.timeout, PROVIDER
            )
        return self._generation(response)

    def stream(self, request: ImageRequest) -> Iterator[ImagePreview | ImageGeneration]:
        partial = request.provider_options.get("partial_images", _DEFAULT_PARTIAL_IMAGES)
        with self._api._translating:
            events = self._call(self._api._sync.get(), request, stream=True, partial_images=partial)
        images: list[Image] = []
        usage = Usage()
        with self._api._translating, events:
            for event in events:
                kind = getattr(event, "type", "")
                if kind.endswith(".partial_image"):
                    yield ImagePreview(_decode(event.b64_json), len(images))
                elif kind.endswith(".completed"):
                    images.append(_decode(event.b64_json))
                    usage = usage + _usage(getattr(event, "usage", None))
        if not images:
            raise InvalidResponseError("the stream ended without a final image", provider=PROVIDER)
        yield ImageGeneration(images, self.model, PROVIDER, usage)

    # ------------------------------------------------------------------ responses

    def _generation(self, response: Any) -> ImageGeneration:
        data = getattr(response, "data", None)
        if not data:
            raise InvalidResponseError("the response holds no images", provider=PROVIDER)
        images = []
        for item in data:
            if not item.b64_json:
                raise InvalidResponseError(
                    "an image came without b64_json (GPT image models always send base64)",
                    provider=PROVIDER,
                )
            images.append(_decode(item.b64_json))
        return ImageGeneration(
            images=images,
            model=self.model,
            provider=PROVIDER,
            usage=_usage(response.usage),
            raw=response,
        )

    def close(self) -> None:
        self._api.close()

    async def aclose(self) -> None:
        await self._api.aclose()


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    return Usage(usage.input_tokens or 0, usage.output_tokens or 0)


def _decode(b64: object) -> Image:
    """Base64 from the provider -> an Image; anything else is the provider's fault."""
    if not isinstance(b64, str):
        raise InvalidResponseError("an image was not base64 text", provider=PROVIDER)
    try:
        data = base64.b64decode(b64, validate=True)
        return Image(data=data)
    except (binascii.Error, ValueError, InvalidParameterError):
        raise InvalidResponseError(
            "an image in the response is not base64 PNG, JPEG, GIF or WEBP", provider=PROVIDER
        ) from None


_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def _upload(name: str, image: Image) -> tuple[str, bytes, str]:
    """The multipart file the SDK sends: a name with the right extension, bytes, type."""
    media_type = image.media_type or "image/png"
    assert image.data is not None  # checked by the generator
    return (f"{name}.{_EXTENSIONS.get(media_type, 'png')}", image.data, media_type)
