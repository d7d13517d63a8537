"""The values every backend returns: one shape whatever the provider.

Plain slotted dataclasses: cheap to build on the hot path, typed, and easy to
read in a debugger.  ``raw`` keeps the SDK's own object for anything genkit does
not normalise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

# Re-exported (``X as X``) so the part types live beside Message for readers of types.
from genkit.parts import Document as Document
from genkit.parts import Image as Image
from genkit.parts import Part as Part
from genkit.parts import ProviderPart as ProviderPart
from genkit.parts import Text as Text
from genkit.parts import ToolCall as ToolCall
from genkit.parts import ToolResult as ToolResult

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]
FinishReason: TypeAlias = Literal["stop", "length", "content_filter", "tool_calls", "other"]

ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")
FINISH_REASONS: tuple[str, ...] = ("stop", "length", "content_filter", "tool_calls", "other")


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a conversation: ``content`` is text, or a sequence of parts.

    A plain ``str`` stays the cheap, common form (one is built per call); parts
    (:class:`Text`, :class:`Image`, :class:`Document`, :class:`ToolCall`,
    :class:`ToolResult`, :class:`ProviderPart`) carry everything else.  A ``"tool"`` turn
    holds :class:`ToolResult` parts.
    """

    role: Role
    content: str | Sequence[Part]

    @property
    def text(self) -> str:
        """The message's text: ``content`` itself, or its :class:`Text` parts joined."""
        content = self.content
        if isinstance(content, str):
            return content
        return "".join(part.text for part in content if isinstance(part, Text))


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

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""

    @property
    def finish_reason(self) -> FinishReason | None:
        return self.finish_reasons[0] if self.finish_reasons else None

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True)  # not frozen: built once per streamed chunk, and frozen init costs 2x
class Chunk:
    """A piece of streamed text: ``text`` is new text only, ``index`` the candidate."""

    text: str
    index: int = 0

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True)  # not frozen: built once per chunk, and frozen init costs 2x
class StreamEvent:
    """What a backend's stream yields to genkit's stream wrapper (not shown to users).

    A backend reports text, a candidate's finish reason, usage and the model name as
    they arrive; the wrapper accumulates them into the final :class:`Generation`.
    """

    text: str = ""
    index: int = 0
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    model: str | None = None
    #: The provider's own event, for the stream's final events (finish, usage): kept
    #: in ``stream.result.raw``.  Left unset on text events, so a long stream keeps
    #: nothing per chunk.
    raw: Any = None


#: What a backend's stream yields: a :class:`Chunk` for an event that carries only
#: text (nearly every event of a long stream, handed to the user as it is), a
#: :class:`StreamEvent` for anything else.
StreamItem: TypeAlias = StreamEvent | Chunk
