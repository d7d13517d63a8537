"""The values every backend returns: one shape whatever the provider.

Plain slotted dataclasses: cheap to build on the hot path, typed, and easy to
read in a debugger.  ``raw`` keeps the SDK's own object for anything genkit does
not normalise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from genkit import _lazy

if TYPE_CHECKING:
    # Re-exported (``X as X``) so the part types and the stream events read as part of
    # this module; at run time they load on first use (``__getattr__`` below).
    from genkit._events import Chunk as Chunk
    from genkit._events import Finish as Finish
    from genkit._events import ProviderData as ProviderData
    from genkit._events import ReasoningDelta as ReasoningDelta
    from genkit._events import RefusalDelta as RefusalDelta
    from genkit._events import ResponseMetadata as ResponseMetadata
    from genkit._events import StreamEvent as StreamEvent
    from genkit._events import StreamItem as StreamItem
    from genkit._events import StreamWarning as StreamWarning
    from genkit._events import ToolCallDelta as ToolCallDelta
    from genkit._events import ToolCallEnd as ToolCallEnd
    from genkit._events import ToolCallStart as ToolCallStart
    from genkit._events import UsageUpdate as UsageUpdate
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

#: Names of this module that live in another and load with their first use (see
#: :mod:`genkit._lazy`): the parts and the stream events are not made by ``import genkit``
#: but by the first prompt that holds parts, the first stream, or a backend's module.
_ELSEWHERE: dict[str, str] = {
    **dict.fromkeys(_lazy.PARTS, "genkit.parts"),
    **dict.fromkeys((*_lazy.EVENTS, "StreamItem"), "genkit._events"),
}


@cache
def _part_types() -> tuple[type[Text], type[ToolCall]]:
    """The part classes this module's methods test for; cached, so no import per call."""
    from genkit.parts import Text, ToolCall

    return Text, ToolCall


def __getattr__(name: str) -> object:
    """PEP 562: a part or stream-event name, imported on first use and then kept here."""
    return _lazy.load(globals(), _ELSEWHERE, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_ELSEWHERE})


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
        text = _part_types()[0]
        return "".join(part.text for part in content if isinstance(part, text))


class _PricedAs:
    """Where a :class:`Usage`'s price comes from, kept out of its dataclass fields.

    Not fields, so ``==``, ``repr``, ``dataclasses.asdict`` and ``replace`` see token
    counts only.  ``_priced_as`` is ``(provider, response model, requested model)``,
    set by genkit once a call has answered; a sum keeps its addends in ``_parts`` so
    each is priced on its own (prices are per request: a long-context tier applies
    to one request, never to the sum of several).  Both slots stay unset until then.
    """

    __slots__ = ("_parts", "_priced_as")


@dataclass(frozen=True, slots=True)
class Usage(_PricedAs):
    """Token counts as the provider (or the local tokenizer) reported them.

    ``cost`` is what they cost in US dollars, read lazily from ``genai-prices``.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    #: Of ``output_tokens``, those spent on reasoning (thinking) the answer does not show.
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost(self) -> float | None:
        """The price in US dollars, ``None`` for a local or unknown model.

        Computed on first read (never on the call's own path) from the maintained
        price data of ``genai-prices`` (``pip install 'genkit-sdk[cost]'``); a sum of
        usages costs the sum of its parts' prices.  Token counts only: cached-input
        discounts and per-request surcharges genkit cannot see are not included.
        """
        from genkit._cost import usage_cost

        return usage_cost(self)

    def __add__(self, other: Usage) -> Usage:
        total = Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )
        object.__setattr__(total, "_parts", self._addends() + other._addends())
        return total

    def __reduce__(self) -> tuple[Any, ...]:
        # The pricing is no field: keep it through pickle and copy all the same.
        priced_as = getattr(self, "_priced_as", None)
        parts = getattr(self, "_parts", None)
        return (
            _rebuild_usage,
            (self.input_tokens, self.output_tokens, priced_as, parts, self.reasoning_tokens),
        )

    def _addends(self) -> tuple[Usage, ...]:
        """What this usage adds to a sum: an unpriced sum its parts, an unpriced 0 nothing."""
        if getattr(self, "_priced_as", None) is None:
            parts: tuple[Usage, ...] | None = getattr(self, "_parts", None)
            if parts is not None:
                return parts
            if not (self.input_tokens or self.output_tokens):
                return ()
        return (self,)


def _rebuild_usage(
    input_tokens: int,
    output_tokens: int,
    priced_as: tuple[str, str, str] | None,
    parts: tuple[Usage, ...] | None,
    reasoning_tokens: int = 0,
) -> Usage:
    usage = Usage(input_tokens, output_tokens, reasoning_tokens)
    if priced_as is not None:
        object.__setattr__(usage, "_priced_as", priced_as)
    if parts is not None:
        object.__setattr__(usage, "_parts", parts)
    return usage


def price_as(usage: Usage, provider: str, model: str, requested: str) -> None:
    """Tell ``usage`` which model produced it, so ``usage.cost`` can be looked up later.

    Called by genkit on each fresh result (one attribute store: the lookup itself
    waits until somebody reads ``cost``).
    """
    object.__setattr__(usage, "_priced_as", (provider, model, requested))


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
    #: Each candidate's assistant turn as parts (text, tool calls, provider data that
    #: must go back unchanged).  Backends fill it when a turn holds more than text;
    #: empty means each turn is its text alone (see :attr:`message`).
    messages: list[Message] = field(default_factory=list, repr=False)
    #: The first candidate's reasoning (thinking) text or summary, where returned.
    reasoning: str | None = None
    #: The provider's refusal text (OpenAI ``message.refusal``, Anthropic ``refusal``
    #: stop); ``finish_reason`` is then ``"content_filter"``.
    refusal: str | None = None
    #: The validated answer for ``schema=``: an instance of the schema's type.
    parsed: Any = None
    #: Every step of a tool loop, this one last; empty for a single-step call.
    _steps: list[Generation] = field(default_factory=list, repr=False, compare=False)

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""

    @property
    def message(self) -> Message:
        """The first candidate's assistant turn, ready to append to the conversation."""
        if self.messages:
            return self.messages[0]
        return Message("assistant", self.text)

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The first candidate's tool calls, in order (empty when it called none)."""
        if not self.messages:
            return []
        content = self.messages[0].content
        if isinstance(content, str):
            return []
        tool_call = _part_types()[1]
        return [part for part in content if isinstance(part, tool_call)]

    @property
    def steps(self) -> list[Generation]:
        """Each step's Generation of a tool loop (``max_steps``); ``[self]`` for one step."""
        return self._steps or [self]

    @property
    def finish_reason(self) -> FinishReason | None:
        return self.finish_reasons[0] if self.finish_reasons else None

    @property
    def raw_finish_reason(self) -> str | None:
        """The first candidate's finish reason as the provider wrote it."""
        return self.raw_finish_reasons[0] if self.raw_finish_reasons else None

    def __str__(self) -> str:
        return self.text
