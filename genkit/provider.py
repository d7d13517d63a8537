"""The provider side of genkit in one import: what a third-party backend builds on.

A backend subclasses :class:`Backend`, declares its models' capabilities in a
:class:`CapabilityTable`, turns a validated :class:`Request` into its provider's call
and the answer back into a :class:`~genkit.Generation` (or, for streams, the typed
events below), and raises :class:`genkit.GenkitError` subclasses -
:func:`error_for_status` maps an HTTP status to the right one.  Register it with
``genkit.register("name", MyBackend)`` or a ``genkit.providers`` entry point.

Everything here is re-exported from where it lives, so this module costs nothing to
import beyond ``genkit`` itself.
"""

from genkit.backends.base import Backend, BackendSettings
from genkit.capabilities import FEATURES, CapabilityTable, ModelCapabilities
from genkit.errors import error_for_status
from genkit.messages import text_only
from genkit.params import SHARED_PARAMETERS, Request
from genkit.structured import OutputSchema
from genkit.tools import Tool
from genkit.types import (
    Chunk,
    Finish,
    Generation,
    Message,
    ProviderData,
    ReasoningDelta,
    RefusalDelta,
    ResponseMetadata,
    StreamEvent,
    StreamWarning,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageUpdate,
)

__all__ = [
    "FEATURES",
    "SHARED_PARAMETERS",
    "Backend",
    "BackendSettings",
    "CapabilityTable",
    "Chunk",
    "Finish",
    "Generation",
    "Message",
    "ModelCapabilities",
    "OutputSchema",
    "ProviderData",
    "ReasoningDelta",
    "RefusalDelta",
    "Request",
    "ResponseMetadata",
    "StreamEvent",
    "StreamWarning",
    "Tool",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "Usage",
    "UsageUpdate",
    "error_for_status",
    "text_only",
]
