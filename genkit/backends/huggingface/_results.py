"""What a caller gets from a job: stream events as tokens arrive, or the whole Generation.

Both run on the caller's thread (or event loop), never on the engine thread, so turning
tokens into text costs the device nothing and a slow reader never holds up a batch.
"""

from __future__ import annotations

from typing import Any

from genkit.backends.huggingface._deps import PROVIDER
from genkit.backends.huggingface._detokenize import TextStream, final_text
from genkit.backends.huggingface._jobs import Job
from genkit.backends.huggingface._tools import CallReader, ToolParsing, read_candidate
from genkit.types import (
    Chunk,
    Finish,
    FinishReason,
    Generation,
    ResponseMetadata,
    StreamEvent,
    Usage,
    UsageUpdate,
)

__all__ = ["JobReader", "generation", "usage"]


def usage(job: Job) -> Usage:
    """The prompt counted once however many candidates; output summed over candidates.

    A candidate's output counts every token it generated, the EOS or the token completing
    a stop string included (they cost a forward pass), padding after it excluded.
    """
    return Usage(len(job.prompt), job.output_tokens)


def generation(
    job: Job, tokenizer: Any, model: str, parsing: ToolParsing | None = None
) -> Generation:
    """The finished job as genkit's result; ``raw`` is each candidate's generated token ids.

    With ``parsing`` (a request with tools) each candidate is read for tool calls.
    """
    if job.error is not None:
        raise job.error
    reasons: list[FinishReason | None] = [reason or "length" for reason in job.finish]
    if parsing is not None:
        return _with_tools(job, model, parsing, reasons)
    return Generation(
        texts=[final_text(tokenizer, ids, job.stops) for ids in job.tokens],
        finish_reasons=reasons,
        raw_finish_reasons=list(reasons),  # no provider: genkit's reasons are the raw ones
        usage=usage(job),
        model=model,
        provider=PROVIDER,
        raw=[list(ids) for ids in job.tokens],
    )


def _with_tools(
    job: Job, model: str, parsing: ToolParsing, reasons: list[FinishReason | None]
) -> Generation:
    candidates = [
        read_candidate(parsing, row, ids, reasons[row] or "length")
        for row, ids in enumerate(job.tokens)
    ]
    finish: list[FinishReason | None] = [c.finish_reason for c in candidates]
    called = any(not isinstance(c.message.content, str) for c in candidates)
    return Generation(
        texts=[c.text for c in candidates],
        finish_reasons=finish,
        raw_finish_reasons=list(finish),
        usage=usage(job),
        model=model,
        provider=PROVIDER,
        raw=[list(ids) for ids in job.tokens],
        messages=[c.message for c in candidates] if called else [],
        reasoning=(candidates[0].reasoning or None) if candidates else None,
    )


class JobReader:
    """Turns a running job's new tokens into stream events, one candidate per ``index``."""

    def __init__(
        self, job: Job, tokenizer: Any, model: str, parsing: ToolParsing | None = None
    ) -> None:
        self._job = job
        self._model = model
        self._texts = [TextStream(tokenizer, job.stops) for _ in range(job.n)]
        #: With tools: each candidate read for calls instead of as plain text.
        self._calls = (
            None if parsing is None else [CallReader(parsing, row) for row in range(job.n)]
        )
        self._seen = [0] * job.n
        self._open = [True] * job.n
        self.finished = False

    def poll(self) -> list[StreamEvent]:
        """Events for everything the engine produced since the last poll."""
        job = self._job
        done = job.done  # read before the rows: once set, every row is complete
        events: list[StreamEvent] = []
        for row in range(job.n):
            if not self._open[row]:
                continue
            reason = job.finish[row]  # read before the tokens, which are all in once it is set
            tokens = job.tokens[row]
            end = len(tokens)
            if self._calls is not None:
                self._poll_calls(row, reason, done, tokens[self._seen[row] : end], events)
                self._seen[row] = end
                continue
            stream = self._texts[row]
            text = "".join([stream.push(token) for token in tokens[self._seen[row] : end]])
            self._seen[row] = end
            if reason is None and done and job.error is None:
                reason = "length"
            if reason is not None:
                text += stream.flush()
                self._open[row] = False
            if text:
                events.append(Chunk(text, row))
            if reason is not None:
                events.append(Finish(reason, reason, row))
        if done:
            if job.error is not None:
                if not events:  # deliver the last text first; the next poll raises
                    raise job.error
                return events
            self.finished = True
            events.append(UsageUpdate(usage(job)))
            events.append(ResponseMetadata(self._model))
        return events

    def _poll_calls(
        self,
        row: int,
        reason: FinishReason | None,
        done: bool,
        tokens: list[int],
        events: list[StreamEvent],
    ) -> None:
        """Like the text path, but each candidate is read for tool calls (``CallReader``)."""
        assert self._calls is not None
        reader = self._calls[row]
        events.extend(reader.push(tokens))
        if reason is None and done and self._job.error is None:
            reason = "length"
        if reason is not None:
            events.extend(reader.finish(reason))
            self._open[row] = False
            final = reader.finish_reason(reason)
            events.append(Finish(final, final, row))
