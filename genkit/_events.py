"""The stream events: what ``stream.events()`` yields, one class per kind.

Defined apart from :mod:`genkit.types` so that ``import genkit`` does not build them:
each dataclass costs a compile of its generated methods, and these are needed only
once something streams.  They load with :mod:`genkit.streaming` or a backend's module
(both at the first stream or ``genkit.load``), or when first named as ``genkit.Chunk``
or ``genkit.types.Chunk``, which are the same classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

if TYPE_CHECKING:
    from genkit.parts import ProviderPart
    from genkit.types import FinishReason, Usage


# ---------------------------------------------------------------------- stream events
#
# What a stream carries, one class per kind: ``stream.events()`` yields them all, plain
# iteration only the text (:class:`Chunk`).  Each has a ``type`` discriminator (a class
# attribute, so it costs nothing per event) and ``index``, the candidate, where it
# belongs to one.  Match on the class (``case genkit.Finish(reason=r):``) or on
# ``event.type``.  The per-token kinds (Chunk, ReasoningDelta, ToolCallDelta) are not
# frozen: a frozen dataclass's ``__init__`` costs twice as much, and they are built once
# per streamed chunk.  Treat every event as read-only.


@dataclass(slots=True)  # not frozen: built once per streamed chunk, and frozen init costs 2x
class Chunk:
    """A piece of streamed text: ``text`` is new text only, ``index`` the candidate."""

    text: str
    index: int = 0
    type: ClassVar[Literal["text"]] = "text"

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning (thinking) text, kept apart from the answer."""

    text: str
    index: int = 0
    type: ClassVar[Literal["reasoning"]] = "reasoning"


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    """The model began a tool call: its id and the tool's name, before any arguments.

    ``call_index`` numbers the calls of one candidate from 0, in the order they began;
    the :class:`ToolCallDelta` and :class:`ToolCallEnd` of the same call carry it too.
    """

    id: str
    name: str
    index: int = 0
    call_index: int = 0
    type: ClassVar[Literal["tool_call_start"]] = "tool_call_start"


@dataclass(slots=True)
class ToolCallDelta:
    """More of a tool call's arguments, as JSON text exactly as streamed (not parseable alone)."""

    arguments: str
    index: int = 0
    call_index: int = 0
    type: ClassVar[Literal["tool_call_delta"]] = "tool_call_delta"


@dataclass(frozen=True, slots=True)
class ToolCallEnd:
    """A complete tool call: its arguments parsed.  Never sent for a call cut off mid-way."""

    id: str
    name: str
    arguments: dict[str, Any]
    index: int = 0
    call_index: int = 0
    type: ClassVar[Literal["tool_call_end"]] = "tool_call_end"


@dataclass(slots=True)
class RefusalDelta:
    """A piece of the provider's refusal text (OpenAI streams ``delta.refusal``)."""

    text: str
    index: int = 0
    type: ClassVar[Literal["refusal"]] = "refusal"


@dataclass(frozen=True, slots=True)
class ProviderData:
    """Provider data for the candidate's assistant turn (a thinking block, a signature).

    The stream puts ``part`` into ``result.message`` at this point of the turn, between
    the text and tool calls around it, so the next turn sends it back in order.
    """

    part: ProviderPart
    index: int = 0
    type: ClassVar[Literal["provider_data"]] = "provider_data"


@dataclass(frozen=True, slots=True)
class Finish:
    """A candidate ended: genkit's ``reason`` and the provider's own ``raw_reason``.

    ``raw_reason`` is ``None`` where the provider ended the stream without giving one.
    ``raw`` is the provider's event, kept in ``stream.result.raw``.
    """

    reason: FinishReason
    raw_reason: str | None = None
    index: int = 0
    raw: Any = field(default=None, repr=False, compare=False)
    type: ClassVar[Literal["finish"]] = "finish"


@dataclass(frozen=True, slots=True)
class UsageUpdate:
    """Token counts so far for the whole call (every candidate); the last one is final."""

    usage: Usage
    raw: Any = field(default=None, repr=False, compare=False)
    type: ClassVar[Literal["usage"]] = "usage"


@dataclass(frozen=True, slots=True)
class StreamWarning:
    """Something the caller should know that is not an error (also in ``result.warnings``)."""

    message: str
    type: ClassVar[Literal["warning"]] = "warning"


@dataclass(frozen=True, slots=True)
class ResponseMetadata:
    """What the provider says about the response itself: the model that answered."""

    model: str
    raw: Any = field(default=None, repr=False, compare=False)
    type: ClassVar[Literal["response_metadata"]] = "response_metadata"


#: Every event a stream can carry: ``stream.events()`` yields these, and a backend's
#: ``stream``/``astream`` yields them to genkit's stream wrapper.
StreamEvent: TypeAlias = (
    Chunk
    | ReasoningDelta
    | RefusalDelta
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | Finish
    | UsageUpdate
    | StreamWarning
    | ResponseMetadata
    | ProviderData
)

#: What a backend's stream yields (kept for backends written against the old name).
StreamItem: TypeAlias = StreamEvent
