"""The provider side of image generation: what every image backend receives and returns.

This module is the contract shared by the hosted backends (OpenAI, Gemini) and the
local diffusers backend, so both can be built at once.  Like the text side
(:mod:`genkit.backends.base`), users never touch it: :class:`genkit.ImageGenerator`
validates against an :class:`ImageCapabilityTable`, builds an :class:`ImageRequest`
and hands it to an :class:`ImageBackend`.  Capabilities are data (one row per model
pattern), never ``if`` chains on model names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any, ClassVar

from genkit.backends.base import BackendSettings
from genkit.parts import Image
from genkit.types import Usage

__all__ = [
    "ImageBackend",
    "ImageCapabilityTable",
    "ImageGeneration",
    "ImageModelCapabilities",
    "ImagePreview",
    "ImageRequest",
]

#: The request parameters a capability row can allow (``prompt`` always is).
IMAGE_PARAMETERS: frozenset[str] = frozenset(
    {"n", "size", "seed", "negative_prompt", "steps", "guidance", "quality", "output_format"}
)


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """One validated call: what the user asked for, already checked against the model's row."""

    model: str
    prompt: str
    n: int = 1
    size: tuple[int, int] | None = None  # (width, height), parsed from "1024x1024"
    aspect_ratio: str | None = None  # Gemini "16:9" etc. (from size="16:9")
    resolution: str | None = None  # Gemini "1K" | "2K" | "4K"
    seed: int | None = None
    negative_prompt: str | None = None
    steps: int | None = None
    guidance: float | None = None
    quality: str | None = None
    output_format: str | None = None  # "png" | "jpeg" | "webp"
    image: Image | None = None  # set for edit()
    mask: Image | None = None
    progress: bool | None = None  # local only: None = only on a terminal
    provider_options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class ImagePreview:
    """A partial image while streaming; the final :class:`ImageGeneration` comes last."""

    image: Image
    index: int = 0  # which of the n images


@dataclass(slots=True)
class ImageGeneration:
    """The result of one image call, whatever the provider.

    ``text`` holds words a model returned beside the picture (Gemini); ``raw`` keeps the
    SDK's own object for anything genkit does not normalise.
    """

    images: list[Image]
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    text: str | None = None
    raw: Any = field(default=None, repr=False)
    warnings: list[str] = field(default_factory=list)

    @property
    def image(self) -> Image:
        """The first image (most calls ask for one)."""
        return self.images[0]


@dataclass(frozen=True, slots=True)
class ImageModelCapabilities:
    """What one image model accepts.

    ``parameters`` names which of :data:`IMAGE_PARAMETERS` the model takes.  Sizes are
    checked by whichever rules are set: ``size_multiple`` (each side divisible by it),
    ``max_side`` / ``max_pixels`` (upper bounds), ``fixed_sizes`` (only these),
    ``aspect_ratios`` / ``resolutions`` (Gemini's "16:9" and "1K"/"2K"/"4K").
    """

    parameters: frozenset[str]
    max_n: int = 1
    size_multiple: int | None = None
    max_pixels: int | None = None
    max_side: int | None = None
    fixed_sizes: frozenset[tuple[int, int]] | None = None
    aspect_ratios: frozenset[str] | None = None
    resolutions: frozenset[str] | None = None
    qualities: frozenset[str] | None = None
    output_formats: frozenset[str] = frozenset({"png"})
    edit: bool = False
    stream: bool = False


class ImageCapabilityTable:
    """Ordered ``(pattern, capabilities)`` rows; the first case-insensitive glob that matches wins.

    A model matching no row gets ``default``: the provider's behaviour for models genkit
    does not know yet.  Provider-qualified ids ("org/sd-turbo") also match on the last part.
    """

    def __init__(
        self, rows: Iterable[tuple[str, ImageModelCapabilities]], default: ImageModelCapabilities
    ) -> None:
        self.rows = tuple((pattern.lower(), caps) for pattern, caps in rows)
        self.default = default
        self.lookup = lru_cache(maxsize=256)(self._lookup)

    def _lookup(self, model: str) -> ImageModelCapabilities:
        name = model.lower()
        short = name.rsplit("/", 1)[-1]
        for pattern, caps in self.rows:
            if fnmatchcase(name, pattern) or fnmatchcase(short, pattern):
                return caps
        return self.default


class ImageBackend(ABC):
    """One image provider.

    Instances are shared by every call of an ImageGenerator: be thread-safe.
    """

    #: The provider name used in model strings ("openai" in "openai:gpt-image-2").
    provider: ClassVar[str]
    #: Per-model capabilities, read by the generic checker before anything runs.
    capabilities: ClassVar[ImageCapabilityTable]
    #: Extra keyword arguments ``genkit.images.load()`` accepts for this backend.
    load_options: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, model: str, settings: BackendSettings) -> None:
        self.model = model
        self.settings = settings

    @abstractmethod
    def generate(self, request: ImageRequest) -> ImageGeneration:
        """Draw (or, with ``request.image`` set, edit) and return every image."""

    @abstractmethod
    async def agenerate(self, request: ImageRequest) -> ImageGeneration: ...

    def stream(self, request: ImageRequest) -> Iterator[ImagePreview | ImageGeneration]:
        """Yield previews where the provider sends them; the final result is always last."""
        yield self.generate(request)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients, connections or the device."""

    async def aclose(self) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider}:{self.model}>"
