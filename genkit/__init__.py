"""genkit: one Generator interface for local and hosted text-generation models.

    import genkit
    gen = genkit.load("openai:gpt-4o", temperature=0.7)   # or genkit.load() -> $GENKIT_MODEL
    print(gen.generate("Once upon a time", max_tokens=50).text)

Switch models with ``GENKIT_MODEL`` (``huggingface:gpt2``, ``anthropic:claude-sonnet-4-5``,
``gemini:gemini-2.5-flash``, ...), not code.  Importing genkit imports no vendor SDK
and no torch: a backend's SDK loads when a model of that provider is first loaded.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

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
from genkit.streaming import AsyncStream, Stream
from genkit.types import (
    Chunk,
    Document,
    Finish,
    FinishReason,
    Generation,
    Image,
    Message,
    Part,
    ProviderData,
    ProviderPart,
    ReasoningDelta,
    RefusalDelta,
    ResponseMetadata,
    StreamEvent,
    StreamWarning,
    Text,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    ToolResult,
    Usage,
    UsageUpdate,
)

if _TYPE_CHECKING:
    from genkit.images._generator import ImageGenerator
    from genkit.images._spec import ImageGeneration
    from genkit.tools import Tool

__version__ = "0.1.0"

#: Image generation names, imported on first use: ``import genkit`` stays as light as before.
_LAZY = {
    "Tool": "genkit.tools",
    "ImageGenerator": "genkit.images._generator",
    "ImageGeneration": "genkit.images._spec",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'genkit' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


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
