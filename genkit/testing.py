"""Scripted replies for an application's own tests: ``test:scripted``.

The application keeps calling ``genkit.load()`` and ``gen.generate(...)``; the test
says what the "provider" answers, in order, and checks what genkit asked::

    import genkit
    import genkit.testing

    def test_summary_retries_a_rate_limit(monkeypatch):
        monkeypatch.setenv("GENKIT_MODEL", "test:scripted")
        with genkit.testing.scripted([
            genkit.RateLimitError("slow down", provider="test", retry_after=0),
            "A short summary.",
        ]) as script:
            assert my_app.summarize("long text") == "A short summary."
        assert len(script.requests) == 2               # one retry
        assert script.requests[1].params["max_tokens"] == 100

Each request genkit sends - each attempt, so a retry takes the next reply - consumes
one entry of the script:

- a ``str``: the answer's text (finish reason ``"stop"``);
- a :class:`Reply`: text, tool calls, finish reason, usage, the chunks a stream
  yields, an error a stream raises after those chunks, or a refusal - or the exact
  stream events, for a test of what a stream puts together;
- an exception instance: raised as the provider's error would be, so genkit's retry
  policy, ``fallbacks`` and error handling see exactly what a real failure gives them;
- a callable taking the :class:`ScriptedRequest` and returning one of the above (or
  raising), for answers that depend on the request.

Nothing here is mocked: the Generator, its checks, retries and streams are genkit's
own; only the model's answer is scripted.  A Script is thread-safe and works for
``generate``, ``agenerate``, ``stream`` and ``astream``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

from genkit.errors import GenkitError, InvalidParameterError
from genkit.types import FINISH_REASONS, FinishReason, Message, StreamEvent, ToolCall, Usage

if TYPE_CHECKING:
    from genkit.generator import Generator
    from genkit.params import Request
    from genkit.structured import OutputSchema
    from genkit.tools import Tool

__all__ = ["Reply", "Script", "ScriptError", "ScriptedRequest", "active_script", "scripted"]


class ScriptError(GenkitError):
    """The test's script cannot answer: no reply left, or no script active.

    Not a provider error, so it is never retried: an unexpected extra call fails the
    test at once, naming the request that had no reply.
    """


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer.

    ``chunks`` is how a stream delivers ``text`` (default: one chunk per word); give
    either, or both when they agree.  ``usage`` defaults to words counted like the
    other test models.  ``error``, when set, is raised by a stream after its chunks -
    a stream that breaks mid-way - and by ``generate``/``agenerate`` at once.
    ``refusal`` scripts a provider's refusal: the text lands in ``result.refusal``
    (a stream yields it as a :class:`~genkit.RefusalDelta`) and the finish reason
    becomes ``"content_filter"``; with ``schema=`` the call raises
    :class:`~genkit.RefusalError`.  With ``n > 1`` every candidate gets this reply.

    ``tool_calls`` are the calls the turn makes after its text (a call with an empty
    ``id`` gets a generated one); a stream yields each as ``ToolCallStart``, its
    arguments as ``ToolCallDelta`` pieces and ``ToolCallEnd``.  genkit decides
    ``finish_reason == "tool_calls"`` from them, as for every provider, while
    ``raw_finish_reason`` stays this ``finish_reason``.

    ``events``, instead of all of the above but ``error`` and ``usage``: the exact
    events a stream yields (then ``error``, if set, is raised); ``generate`` returns
    what they add up to.  For tests of stream handling: a call cut mid-arguments, a
    refusal, provider data.
    """

    text: str = ""
    finish_reason: FinishReason = "stop"
    usage: Usage | None = None
    chunks: Sequence[str] | None = None
    error: BaseException | None = None
    refusal: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    events: Sequence[StreamEvent] | None = None

    def __post_init__(self) -> None:
        if self.refusal is not None and self.finish_reason == "stop":
            object.__setattr__(self, "finish_reason", "content_filter")
        if self.finish_reason not in FINISH_REASONS:
            raise InvalidParameterError(
                "finish_reason", f"got {self.finish_reason!r}", allowed=", ".join(FINISH_REASONS)
            )
        if self.error is not None and not isinstance(self.error, BaseException):
            raise InvalidParameterError(
                "error", f"expected an exception instance, got {type(self.error).__name__}"
            )
        calls = tuple(self.tool_calls)
        if not all(isinstance(call, ToolCall) for call in calls):
            raise InvalidParameterError("tool_calls", "every item must be a genkit.ToolCall")
        if any(not call.id for call in calls):
            from genkit.backends._toolcalls import call_id

            calls = tuple(ToolCall(c.id or call_id(), c.name, c.arguments) for c in calls)
        object.__setattr__(self, "tool_calls", calls)
        if self.events is not None:
            if self.text or self.chunks is not None or calls:
                raise InvalidParameterError(
                    "events", "give events alone, or text/chunks/tool_calls without events"
                )
            object.__setattr__(self, "events", tuple(self.events))
        if self.chunks is None:
            return
        chunks = tuple(self.chunks)
        if not all(isinstance(c, str) for c in chunks):
            raise InvalidParameterError("chunks", "every chunk must be a string")
        joined = "".join(chunks)
        if self.text and self.text != joined:
            raise InvalidParameterError(
                "chunks", f"the chunks make {joined!r}, not the text {self.text!r}"
            )
        object.__setattr__(self, "chunks", chunks)
        object.__setattr__(self, "text", joined)


@dataclass(frozen=True, slots=True)
class ScriptedRequest:
    """What genkit sent for one attempt, after defaults, checks and ``system=``."""

    method: str  #: "generate", "agenerate", "stream" or "astream"
    messages: tuple[Message, ...]
    params: Mapping[str, Any]  #: shared parameters, load() defaults merged in
    provider_options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    #: The schema= of the call (its canonical JSON Schema in ``output.json_schema``).
    output: OutputSchema | None = None
    #: The tools sent (functions already converted), and the tool options.
    tools: tuple[Tool, ...] = ()
    tool_choice: str | None = None
    parallel_tool_calls: bool | None = None

    @property
    def tool_names(self) -> list[str]:
        """The names of the tools sent, in order."""
        return [tool.name for tool in self.tools]

    @property
    def prompt(self) -> str:
        """The last user message's text: what most assertions are about."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return ""


Entry: TypeAlias = "str | Reply | BaseException | Callable[[ScriptedRequest], str | Reply]"

_active: list[Script] = []
_active_lock = threading.Lock()


class Script:
    """Replies in order, and the requests that consumed them.

    Use it as a context manager (:func:`scripted`) to answer every ``test:scripted``
    Generator, including ones the application builds itself, or bind it to one
    Generator with ``genkit.load("test:scripted", script=script)`` / :meth:`load`.
    """

    def __init__(self, replies: Iterable[Entry] = ()) -> None:
        self._lock = threading.Lock()
        self._replies: deque[Entry] = deque()
        self._requests: list[ScriptedRequest] = []
        self.add(*replies)

    def add(self, *replies: Entry) -> None:
        """Append replies to the script."""
        start = len(self._replies) + len(self._requests)
        for offset, entry in enumerate(replies):
            _check_entry(entry, start + offset)
        with self._lock:
            self._replies.extend(replies)

    @property
    def requests(self) -> list[ScriptedRequest]:
        """Every request so far, in the order they were answered."""
        with self._lock:
            return list(self._requests)

    @property
    def remaining(self) -> int:
        """Replies not used yet (``assert script.remaining == 0`` checks all were needed)."""
        with self._lock:
            return len(self._replies)

    def load(self, **options: Any) -> Generator:
        """A Generator answered by this script: ``genkit.load("test:scripted", script=self)``."""
        from genkit.generator import load

        return load("test:scripted", script=self, **options)

    def next_reply(self, request: Request, method: str) -> Reply:
        """Record one attempt and produce its reply (called by the ``test`` backend)."""
        recorded = ScriptedRequest(
            method,
            request.messages,
            dict(request.params),
            request.provider_options,
            request.timeout,
            request.output,
            request.tools,
            request.tool_choice,
            request.parallel_tool_calls,
        )
        with self._lock:
            self._requests.append(recorded)
            number = len(self._requests)
            entry = self._replies.popleft() if self._replies else None
        if entry is None:
            raise ScriptError(
                f"the script has no reply left for request #{number} ({method}, prompt "
                f"{recorded.prompt[:60]!r}): it held {number - 1}; add replies, or check for an "
                "unexpected call or retry"
            )
        if callable(entry) and not isinstance(entry, BaseException):
            entry = entry(recorded)
        if isinstance(entry, BaseException):
            raise entry
        if isinstance(entry, str):
            return Reply(entry)
        if not isinstance(entry, Reply):
            raise ScriptError(
                f"the scripted callable for request #{number} returned {type(entry).__name__}; "
                "return a str or a genkit.testing.Reply, or raise"
            )
        return entry

    # ---------------------------------------------------------------- activation

    def __enter__(self) -> Script:
        with _active_lock:
            _active.append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with _active_lock:
            for index in range(len(_active) - 1, -1, -1):
                if _active[index] is self:
                    del _active[index]
                    break

    def __repr__(self) -> str:
        return f"<genkit.testing.Script {len(self.requests)} answered, {self.remaining} left>"


def scripted(replies: Iterable[Entry]) -> Script:
    """A :class:`Script` to use as ``with genkit.testing.scripted([...]) as script:``.

    While the block runs, every ``test:scripted`` Generator without a script of its
    own - from any thread - takes its replies from this one (the innermost, when
    blocks nest).
    """
    return Script(replies)


def active_script() -> Script:
    """The innermost script of a running ``with scripted(...)`` block."""
    with _active_lock:
        if _active:
            return _active[-1]
    raise ScriptError(
        "test:scripted has no script: wrap the calls in `with genkit.testing.scripted([...]):` "
        "or pass genkit.load('test:scripted', script=genkit.testing.Script([...]))"
    )


def _check_entry(entry: object, index: int) -> None:
    if isinstance(entry, str | Reply | BaseException):
        return
    if isinstance(entry, type) and issubclass(entry, BaseException):
        raise InvalidParameterError(
            f"replies[{index}]",
            f"the exception class {entry.__name__}, not an instance",
            allowed=f"an instance, e.g. genkit.{entry.__name__}('...', provider='test')",
        )
    if not callable(entry):
        raise InvalidParameterError(
            f"replies[{index}]",
            f"got {type(entry).__name__}",
            allowed="a str, a genkit.testing.Reply, an exception instance or a callable",
        )
