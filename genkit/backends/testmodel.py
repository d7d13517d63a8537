"""Provider ``test``: models that need no extra, no key and no network.

``test:echo`` answers with the last user message, ``test:lorem`` writes deterministic
lorem-ipsum text, ``test:scripted`` answers with the replies of a
:class:`genkit.testing.Script`.  They exist so that an application's own suite can run
offline through the real Generator (validation, retries, streams, async), with
``GENKIT_MODEL=test:echo`` instead of a key.

A *token* here is a whitespace-separated word: ``max_tokens`` counts words, usage
counts the words of the prompt (every message) and of every candidate, and a stream
yields one chunk per word (the word with the whitespace before it), so the joined
chunks are exactly the text ``generate`` returns.  Every shared parameter is accepted;
``max_tokens``, ``stop``, ``n`` and ``seed`` change the answer, the sampling knobs are
checked and otherwise ignored.

Every feature is declared (tools, images and documents in, structured output), so an
application's tool loop runs offline: ``test:scripted`` replies script the calls
(:class:`genkit.testing.Reply` ``tool_calls=``), and ``test:echo`` calls a tool when
``tool_choice`` forces one - ``"required"`` the first tool, a name that tool - with
the least arguments its schema allows (each required property's empty value: ``""``,
``0``, ``false``, ``[]``, ``{}``, an enum's first value); otherwise it answers with
text, so a loop ends on the next step.  Parts other than text are accepted and read
as nothing (``echo`` repeats the text of the last user turn).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from itertools import count
from typing import TYPE_CHECKING, Any

from genkit import testing
from genkit._jsonschema import example_instance
from genkit.backends._toolcalls import call_id
from genkit.backends.base import Backend, BackendSettings
from genkit.capabilities import FEATURES, CapabilityTable, ModelCapabilities
from genkit.errors import InvalidParameterError, ModelNotFoundError
from genkit.params import REASONING_LEVELS, SHARED_PARAMETERS, Request
from genkit.types import (
    Chunk,
    Finish,
    FinishReason,
    Generation,
    Message,
    RefusalDelta,
    ResponseMetadata,
    StreamEvent,
    Text,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageUpdate,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

__all__ = ["CAPABILITIES", "MODELS", "OfflineBackend", "split_words"]

PROVIDER = "test"
#: The models of the provider; anything else is refused at ``genkit.load()``.
MODELS: tuple[str, ...] = ("echo", "lorem", "scripted")

CAPABILITIES = CapabilityTable(
    [],
    default=ModelCapabilities(
        supported=frozenset(SHARED_PARAMETERS),
        # The test models take every reasoning setting (and ignore it) so that an
        # application's reasoning= runs offline unchanged.
        reasoning_levels=frozenset(REASONING_LEVELS),
        ranges={"reasoning": (0, 2**31 - 1)},
        features=FEATURES,
    ),
)

#: ``test:lorem`` writes this many words when ``max_tokens`` is not set.
LOREM_DEFAULT_WORDS = 16

_OPENING = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.".split()  # noqa: SIM905
_WORDS = (  # noqa: SIM905 - a word list reads best as text
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco "
    "laboris nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate "
    "velit esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident "
    "sunt culpa qui officia deserunt mollit anim id est laborum"
).split()
_WORD = re.compile(r"\s*\S+")


def split_words(text: str) -> list[str]:
    """``text`` as stream chunks: each word with the whitespace before it.

    Trailing whitespace stays on the last chunk, so ``"".join(split_words(t)) == t``.
    """
    pieces = _WORD.findall(text)
    rest = len(text) - sum(map(len, pieces))
    if rest:
        if pieces:
            pieces[-1] += text[-rest:]
        else:
            pieces.append(text)
    return pieces


def count_words(messages: Iterable[Message]) -> int:
    return sum(len(m.text.split()) for m in messages)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One candidate's answer, already cut: what ``generate`` returns and ``stream`` yields."""

    chunks: list[str]
    finish_reason: FinishReason
    calls: tuple[ToolCall, ...] = ()

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@dataclass(frozen=True, slots=True)
class _Answer:
    candidates: list[_Candidate]
    usage: Usage
    error: BaseException | None = None  # raised by a stream after its chunks
    refusal: str | None = None  # a scripted refusal, for every candidate
    events: tuple[StreamEvent, ...] | None = None  # a scripted stream, exactly


class OfflineBackend(Backend):
    """The ``test`` provider: answers computed in-process, instantly, the same every time."""

    provider = PROVIDER
    capabilities = CAPABILITIES
    load_options = frozenset({"script"})

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        if model not in MODELS:
            raise ModelNotFoundError(
                f"{PROVIDER}:{model}", f"the test provider has the models {', '.join(MODELS)}"
            )
        script = settings.options.get("script")
        if script is not None and (model != "scripted" or not isinstance(script, testing.Script)):
            raise InvalidParameterError(
                "script",
                f"got {type(script).__name__} for model {model!r}",
                provider=PROVIDER,
                allowed="a genkit.testing.Script, for the model 'scripted' only",
            )
        self._script: testing.Script | None = script

    # ------------------------------------------------------------------ calls

    def check(self, request: Request) -> None:
        # Every part is accepted (the models read text only): genkit's own checks
        # (capabilities, tool result ids) are what runs before this.
        return None

    def generate(self, request: Request) -> Generation:
        return self._generation(self._answer(request, "generate"))

    async def agenerate(self, request: Request) -> Generation:
        return self._generation(self._answer(request, "agenerate"))

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        yield from self._events(self._answer(request, "stream"))

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        for event in self._events(self._answer(request, "astream")):
            yield event
            await asyncio.sleep(0)  # let other tasks run, and cancellation land, between chunks

    # ------------------------------------------------------------------ answers

    def _answer(self, request: Request, method: str) -> _Answer:
        n: int = request.params.get("n", 1)
        if self.model == "scripted":
            return self._scripted(request, method, n)
        forced = _forced_call(request)
        if forced is not None:
            candidates = [_Candidate([], "tool_calls", (forced,)) for _ in range(n)]
            return _Answer(candidates, _usage(request, candidates))
        words, default_length = _WORD_SOURCES[self.model]
        if request.output is not None:
            # schema=: a valid instance, its strings from the model's words; the whole
            # of it unless max_tokens cuts it (then invalid JSON, finish "length").
            words, default_length = _json_words(request.output.json_schema, words), None
        max_tokens: int | None = request.params.get("max_tokens", default_length)
        stop: tuple[str, ...] = request.params.get("stop", ())
        candidates = [_cut(words(request, index), max_tokens, stop) for index in range(n)]
        return _Answer(candidates, _usage(request, candidates))

    def _scripted(self, request: Request, method: str, n: int) -> _Answer:
        script = self._script or testing.active_script()
        reply = script.next_reply(request, method)
        if reply.error is not None and method in ("generate", "agenerate"):
            raise reply.error
        if reply.events is not None:
            return _Answer([], reply.usage or Usage(), reply.error, events=tuple(reply.events))
        chunks = list(reply.chunks) if reply.chunks is not None else split_words(reply.text)
        calls = tuple(reply.tool_calls)
        candidates = [_Candidate(chunks, reply.finish_reason, calls) for _ in range(n)]
        usage = reply.usage or _usage(request, candidates)
        return _Answer(candidates, usage, reply.error, refusal=reply.refusal)

    def _events(self, answer: _Answer) -> Iterator[StreamEvent]:
        if answer.events is not None:
            yield from answer.events
            if answer.error is not None:
                raise answer.error
            return
        candidates = answer.candidates
        # Candidates interleave word by word, as a provider streaming n choices does.
        longest = max(len(c.chunks) for c in candidates)
        for step in range(longest):
            for index, candidate in enumerate(candidates):
                if step < len(candidate.chunks) and candidate.chunks[step]:
                    yield Chunk(candidate.chunks[step], index)
        for index, candidate in enumerate(candidates):
            for number, call in enumerate(candidate.calls):
                yield ToolCallStart(call.id, call.name, index, number)
                arguments = json.dumps(call.arguments)
                half = len(arguments) // 2  # two pieces, as providers send fragments
                for piece in (arguments[:half], arguments[half:]):
                    if piece:
                        yield ToolCallDelta(piece, index, number)
                yield ToolCallEnd(call.id, call.name, call.arguments, index, number)
        if answer.error is not None:
            # A scripted stream that breaks after its text, before the provider finished.
            raise answer.error
        if answer.refusal is not None:
            for index in range(len(candidates)):
                yield RefusalDelta(answer.refusal, index)
        for index, candidate in enumerate(candidates):
            # No provider here: the raw reason is genkit's own.
            yield Finish(candidate.finish_reason, candidate.finish_reason, index)
        yield UsageUpdate(answer.usage)
        yield ResponseMetadata(self.model)

    def _generation(self, answer: _Answer) -> Generation:
        if answer.events is not None:
            return _from_events(answer.events, self.model)
        calls = any(c.calls for c in answer.candidates)
        return Generation(
            texts=[c.text for c in answer.candidates],
            finish_reasons=[c.finish_reason for c in answer.candidates],
            raw_finish_reasons=[c.finish_reason for c in answer.candidates],
            usage=answer.usage,
            model=self.model,
            provider=PROVIDER,
            refusal=answer.refusal,
            messages=[_message(c) for c in answer.candidates] if calls else [],
        )


def _message(candidate: _Candidate) -> Message:
    text = candidate.text
    return Message("assistant", ((Text(text),) if text else ()) + candidate.calls)


def _from_events(events: tuple[StreamEvent, ...], model: str) -> Generation:
    """What a scripted stream adds up to, put together as genkit puts any stream together."""
    from genkit.streaming import _Accumulator

    accumulator = _Accumulator(PROVIDER, model, [])
    for event in events:
        accumulator.add(event)
    accumulator.check_complete()
    return accumulator.generation()


def _forced_call(request: Request) -> ToolCall | None:
    """``test:echo``'s call when ``tool_choice`` forces one: the least arguments allowed."""
    choice = request.tool_choice
    if not request.tools or choice in (None, "auto", "none"):
        return None
    tool = next((t for t in request.tools if t.name == choice), request.tools[0])
    return ToolCall(call_id(), tool.name, _least(tool.parameters, tool.parameters))  # type: ignore[arg-type]  # an object schema gives a dict


#: The least value of each JSON Schema type.
_LEAST: dict[str, object] = {
    "string": "",
    "integer": 0,
    "number": 0,
    "boolean": False,
    "array": [],
}


def _least(schema: object, root: Mapping[str, Any], depth: int = 0) -> object:
    """The least value ``schema`` allows: required properties only, local refs followed."""
    if not isinstance(schema, Mapping) or depth > 8:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _least(root.get("$defs", {}).get(ref[len("#/$defs/") :]), root, depth + 1)
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for combined in ("anyOf", "oneOf", "allOf"):
        if schema.get(combined):
            return _least(schema[combined][0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0] if kind else None
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: _least(properties.get(name, {}), root, depth + 1)
            for name in schema.get("required", ())
        }
    least = _LEAST.get(kind) if isinstance(kind, str) else None
    return [] if isinstance(least, list) else least


def _echo(request: Request, index: int) -> list[str]:
    """The last user message (the last message when there are only assistant turns)."""
    user = [m for m in request.messages if m.role == "user"]
    return split_words((user or list(request.messages))[-1].text)


def _json_words(
    schema: Mapping[str, Any], words: Callable[[Request, int], Iterable[str]]
) -> Callable[[Request, int], list[str]]:
    """``words`` turned into JSON: an example instance of ``schema``, one chunk per word.

    Written with a space after each separator, so ``max_tokens`` (words) can cut it
    anywhere, as a provider's token budget does.
    """

    def answer(request: Request, index: int) -> list[str]:
        value = example_instance(schema, iter(words(request, index)))
        return split_words(json.dumps(value, separators=(", ", ": ")))

    return answer


def _lorem_words(request: Request, index: int) -> Iterator[str]:
    return _lorem(request.params.get("seed"), index)


def _lorem(seed: int | None, index: int) -> Iterator[str]:
    """An endless, deterministic word stream for one candidate.

    Candidate 0 without a seed opens with the classic sentence; otherwise the words
    depend only on ``(seed, index)``: ``random.Random`` seeded with a string gives the
    same sequence in every process and Python version of the 3.x line.
    """
    rng = random.Random(f"genkit-lorem:{seed}:{index}")
    first = True
    if seed is None and index == 0:
        for word in _OPENING:
            yield word if first else " " + word
            first = False
    while True:
        length = rng.randint(4, 10)
        for position in range(length):
            word = rng.choice(_WORDS)
            if position == 0:
                word = word.capitalize()
            if position == length - 1:
                word += "."
            yield word if first else " " + word
            first = False


#: model -> (its words for candidate ``index``, its length when ``max_tokens`` is unset:
#: None means "until the words run out").
_WORD_SOURCES: dict[str, tuple[Callable[[Request, int], Iterable[str]], int | None]] = {
    "echo": (_echo, None),
    "lorem": (_lorem_words, LOREM_DEFAULT_WORDS),
}


def _cut(words: Iterable[str], max_tokens: int | None, stop: tuple[str, ...]) -> _Candidate:
    """Take chunks until the text holds a stop string (cut before it) or the budget is spent."""
    chunks: list[str] = []
    text = ""
    longest_stop = max(map(len, stop), default=0)
    iterator = iter(words)
    for taken in count():
        if max_tokens is not None and taken >= max_tokens:
            # Out of budget: "length" only if the model had more to say.
            finished: FinishReason = "stop" if next(iterator, None) is None else "length"
            return _Candidate(chunks, finished)
        chunk = next(iterator, None)
        if chunk is None:
            return _Candidate(chunks, "stop")
        # Only the new text (and what could end a stop string there) needs searching.
        start = max(0, len(text) - longest_stop + 1)
        text += chunk
        cut = min((i for s in stop if (i := text.find(s, start)) != -1), default=-1)
        if cut != -1:
            kept = len(text) - len(chunk)
            if cut < kept:  # the stop string began in an earlier chunk: trim back
                chunks = split_words(text[:cut])
            else:
                chunks.append(chunk[: cut - kept])
            return _Candidate([c for c in chunks if c], "stop")
        chunks.append(chunk)
    raise AssertionError("unreachable")  # pragma: no cover - count() never ends


def _usage(request: Request, candidates: list[_Candidate]) -> Usage:
    return Usage(
        input_tokens=count_words(request.messages),
        output_tokens=sum(len(c.text.split()) for c in candidates),
    )
