"""The values every backend returns: one shape whatever the provider.

Plain slotted dataclasses: cheap to build on the hot path, typed, and easy to
read in a debugger.  ``raw`` keeps the SDK's own object for anything genkit does
not normalise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias

Role: TypeAlias = Literal["system", "user", "assistant"]
FinishReason: TypeAlias = Literal["stop", "length", "content_filter", "tool_calls", "other"]

ROLES: tuple[str, ...] = ("system", "user", "assistant")
FINISH_REASONS: tuple[str, ...] = ("stop", "length", "content_filter", "tool_calls", "other")


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a conversation."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the provider (or the local tokenizer) reported them."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(slots=True)
class Generation:
    """The result of one call: every candidate's text, why it ended, and what it cost.

    ``finish_reason`` is ``None`` only on a partial result (a stream that broke before
    the provider said it was done): a cut stream is never reported as complete.
    """

    texts: list[str]
    finish_reasons: list[FinishReason | None]
    usage: Usage
    model: str
    provider: str
    raw: Any = field(default=None, repr=False)
    warnings: list[str] = field(default_factory=list)
    #: Each candidate's finish reason in the provider's own words ("end_turn", "STOP",
    #: "length"), for what genkit's five reasons fold together; ``None`` where the
    #: provider gave none.  The local and test backends have no provider: theirs are
    #: genkit's reasons.
    raw_finish_reasons: list[str | None] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""

    @property
    def finish_reason(self) -> FinishReason | None:
        return self.finish_reasons[0] if self.finish_reasons else None

    @property
    def raw_finish_reason(self) -> str | None:
        """The first candidate's finish reason as the provider wrote it."""
        return self.raw_finish_reasons[0] if self.raw_finish_reasons else None

    def __str__(self) -> str:
        return self.text


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
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | Finish
    | UsageUpdate
    | StreamWarning
    | ResponseMetadata
)

#: What a backend's stream yields (kept for backends written against the old name).
StreamItem: TypeAlias = StreamEvent
