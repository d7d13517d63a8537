"""genkit: one Generator interface for local and hosted text-generation models.

    import genkit
    gen = genkit.load("openai:gpt-4o", temperature=0.7)   # or genkit.load() -> $GENKIT_MODEL
    print(gen.generate("Once upon a time", max_tokens=50).text)

Switch models with ``GENKIT_MODEL`` (``huggingface:gpt2``, ``anthropic:claude-sonnet-4-5``,
``gemini:gemini-2.5-flash``, ...), not code.  Importing genkit imports no vendor SDK
and no torch: a backend's SDK loads when a model of that provider is first loaded.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from genkit import _lazy
from genkit.errors import (
    AllModelsFailedError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConnectionError,
    GeneratorClosedError,
    GenkitError,
    InvalidParameterError,
    InvalidResponseError,
    MissingAPIKeyError,
    MissingDependencyError,
    ModelNotFoundError,
    NotFoundError,
    OutputValidationError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    RefusalError,
    ServerError,
    StreamNotFinishedError,
    TimeoutError,
    UnknownProviderError,
    UnsupportedParameterError,
)
from genkit.generator import Generator, load
from genkit.params import SHARED_PARAMETERS
from genkit.registry import providers, register
from genkit.retry import RetryPolicy
from genkit.types import FinishReason, Generation, Message, Usage

if _TYPE_CHECKING:
    from genkit._events import (
        Chunk,
        Finish,
        ProviderData,
        ReasoningDelta,
        RefusalDelta,
        ResponseMetadata,
        StreamEvent,
        StreamWarning,
        ToolCallDelta,
        ToolCallEnd,
        ToolCallStart,
        UsageUpdate,
    )
    from genkit.images._generator import ImageGenerator
    from genkit.images._spec import ImageGeneration
    from genkit.parts import Document, Image, Part, ProviderPart, Text, ToolCall, ToolResult
    from genkit.streaming import AsyncStream, Stream
    from genkit.tools import Tool

__version__ = "0.1.0"

#: Names imported on first use, so ``import genkit`` builds only what a plain call needs:
#: the content parts, the streams and their event classes (dataclasses, each compiled
#: when made), tools and image generation.  The classes are the same whichever way
#: they are reached (``genkit.Chunk is genkit.types.Chunk``).
_LAZY: dict[str, str] = {
    **dict.fromkeys(_lazy.PARTS, "genkit.parts"),
    **dict.fromkeys(_lazy.EVENTS, "genkit._events"),
    "AsyncStream": "genkit.streaming",
    "Stream": "genkit.streaming",
    "Tool": "genkit.tools",
    "ImageGenerator": "genkit.images._generator",
    "ImageGeneration": "genkit.images._spec",
}


#: Submodules that ``import genkit`` used to load, and so to set as attributes: still
#: reachable as ``genkit.parts`` and so on without an import of their own.
_SUBMODULES = ("capabilities", "parts", "streaming")


def __getattr__(name: str) -> object:
    """PEP 562: a name of ``_LAZY``, imported on first use and then kept in this module."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"genkit.{name}")  # which sets the attribute
    return _lazy.load(globals(), _LAZY, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})


__all__ = [
    "SHARED_PARAMETERS",
    "AllModelsFailedError",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "Chunk",
    "ConfigurationError",
    "ConnectionError",
    "Document",
    "Finish",
    "FinishReason",
    "Generation",
    "Generator",
    "GeneratorClosedError",
    "GenkitError",
    "Image",
    "ImageGeneration",
    "ImageGenerator",
    "InvalidParameterError",
    "InvalidResponseError",
    "Message",
    "MissingAPIKeyError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "NotFoundError",
    "OutputValidationError",
    "Part",
    "PermissionDeniedError",
    "ProviderData",
    "ProviderError",
    "ProviderPart",
    "RateLimitError",
    "ReasoningDelta",
    "RefusalDelta",
    "RefusalError",
    "ResponseMetadata",
    "RetryPolicy",
    "ServerError",
    "Stream",
    "StreamEvent",
    "StreamNotFinishedError",
    "StreamWarning",
    "Text",
    "TimeoutError",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "ToolResult",
    "UnknownProviderError",
    "UnsupportedParameterError",
    "Usage",
    "UsageUpdate",
    "load",
    "providers",
    "register",
]
