"""Content parts: what a message holds besides plain text.

A :class:`~genkit.Message` takes a ``str`` (the common case, kept as cheap as before) or a
sequence of parts.  The parts are frozen, slotted dataclasses so they hash-free compare by
value, cost little to build and cannot change between validation and sending.  Their
values are checked when a call is made (``genkit.messages``), where the error can name
the provider and the prompt position; only the file helpers check on their own, because
they read the disk.

Every backend maps parts with a ``match`` that ends in ``assert_never``: a new part type
is a type-check error in each backend until that backend decides what to do with it,
and a part a backend cannot send is refused with ``UnsupportedParameterError`` - never
dropped silently.
"""

from __future__ import annotations

import importlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from genkit.errors import InvalidParameterError, MissingDependencyError

__all__ = ["Document", "Image", "Part", "ProviderPart", "Text", "ToolCall", "ToolResult"]

#: Magic numbers of the image formats every hosted provider accepts (the intersection
#: of OpenAI's and Anthropic's lists): sniffed rather than guessed from a file name,
#: which lies more often than the bytes do.
_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
IMAGE_MEDIA_TYPES: tuple[str, ...] = ("image/png", "image/jpeg", "image/gif", "image/webp")
DOCUMENT_MEDIA_TYPES: tuple[str, ...] = ("application/pdf",)


def sniff_image(data: bytes) -> str | None:
    """The media type of an image from its first bytes, or ``None`` for an unknown format."""
    for magic, media_type in _IMAGE_MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def sniff_document(data: bytes) -> str | None:
    """``application/pdf`` for bytes that start like a PDF, else ``None``."""
    return "application/pdf" if data.startswith(b"%PDF") else None


def _read(path: str | os.PathLike[str], kind: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise InvalidParameterError(
            "path",
            f"cannot read {kind} file {os.fspath(path)!r}: {error.strerror or error}",
            allowed=f"a readable {kind} file",
        ) from None


def _write(path: str | os.PathLike[str], data: bytes | None, kind: str) -> None:
    if data is None:
        raise InvalidParameterError(
            "path",
            f"this {kind} is a URL reference and holds no bytes to save",
            allowed=f"an {kind} built from data or from_file()",
        )
    Path(path).write_bytes(data)


@dataclass(frozen=True, slots=True)
class Text:
    """A piece of text; a message's text parts read together as ``Message.text``."""

    text: str


@dataclass(frozen=True, slots=True)
class Image:
    """An image given inline (``data`` and ``media_type``) or by ``url`` for the provider to fetch.

    Build one from a file with :meth:`from_file`, which reads the media type from the
    bytes; with ``Image(data=...)`` and no ``media_type`` the bytes are sniffed too.
    """

    data: bytes | None = field(default=None, repr=False)
    url: str | None = None
    media_type: str | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise InvalidParameterError(
                "Image",
                "give exactly one of data= or url=",
                allowed="Image(data=...) or Image(url=...)",
            )
        if self.data is not None and self.media_type is None:
            # Frozen: the sniffed type is set once, here, through the dataclass's back door.
            object.__setattr__(self, "media_type", _image_type(self.data, "the image data"))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Image:
        """The image in ``path``; PNG, JPEG, GIF and WEBP are recognised from their bytes."""
        data = _read(path, "image")
        return cls(data=data, media_type=_image_type(data, repr(os.fspath(path))))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the image's bytes to ``path`` (a URL-only image has none)."""
        _write(path, self.data, "image")

    def to_pil(self) -> Any:
        """The image as a ``PIL.Image.Image`` (needs Pillow: ``genkit-sdk[images]``).

        Pillow is imported here, not with genkit, so ``import genkit`` stays fast and
        Pillow stays optional; the return type is ``Any`` for the same reason.
        """
        if self.data is None:
            raise InvalidParameterError(
                "Image", "a URL-only image has no bytes to open", allowed="an image with data"
            )
        try:
            pil = importlib.import_module("PIL.Image")
        except ImportError:
            raise MissingDependencyError("images", "pillow", "images") from None
        return pil.open(io.BytesIO(self.data))


def _image_type(data: bytes, what: str) -> str:
    media_type = sniff_image(data)
    if media_type is None:
        raise InvalidParameterError(
            "Image",
            f"{what} is not a PNG, JPEG, GIF or WEBP image (first bytes {data[:8]!r})",
            allowed=", ".join(IMAGE_MEDIA_TYPES),
        )
    return media_type


@dataclass(frozen=True, slots=True)
class Document:
    """A document (a PDF) given inline (``data``) or by ``url``.

    :meth:`from_file` and ``Document(data=...)`` check the ``%PDF`` signature, so a
    file that is not a PDF fails here rather than as a provider's 400.
    """

    data: bytes | None = field(default=None, repr=False)
    url: str | None = None
    media_type: str | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise InvalidParameterError(
                "Document",
                "give exactly one of data= or url=",
                allowed="Document(data=...) or Document(url=...)",
            )
        if self.data is not None and self.media_type is None:
            object.__setattr__(self, "media_type", _document_type(self.data, "the document data"))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Document:
        """The PDF in ``path``, recognised by its ``%PDF`` signature."""
        data = _read(path, "document")
        return cls(data=data, media_type=_document_type(data, repr(os.fspath(path))))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the document's bytes to ``path`` (a URL-only document has none)."""
        _write(path, self.data, "document")


def _document_type(data: bytes, what: str) -> str:
    media_type = sniff_document(data)
    if media_type is None:
        raise InvalidParameterError(
            "Document",
            f"{what} is not a PDF (first bytes {data[:8]!r})",
            allowed=", ".join(DOCUMENT_MEDIA_TYPES),
        )
    return media_type


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A model's request to call a tool: ``arguments`` already parsed from JSON."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool returned for the call ``call_id``, sent back in a ``"tool"`` turn.

    ``name`` is the tool's name (Gemini matches results by name, not id);
    ``is_error`` tells the model the tool failed rather than answered.
    """

    call_id: str
    content: str | Sequence[Text | Image]
    name: str | None = None
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class ProviderPart:
    """Provider data that must go back to that provider unchanged in the next turn.

    Anthropic's thinking blocks with their signatures and Gemini's thought signatures
    are opaque to genkit: it keeps them in the assistant turn and returns them as they
    came.  Another provider's backend refuses them rather than guess a translation.
    """

    provider: str
    data: Any = field(repr=False)


#: Anything a message's content list may hold.
Part: TypeAlias = Text | Image | Document | ToolCall | ToolResult | ProviderPart
