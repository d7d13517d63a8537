"""Token ids to text, one token at a time, without breaking characters or leaking stop strings.

Two problems make "decode each new token" wrong:

- byte-level BPE splits a multi-byte character (é, €, emoji) over several tokens, so a
  token decoded alone is U+FFFD; text ending in U+FFFD is held back until the character is
  whole.  Decoding a small window with a little context before it also keeps tokenizers
  that drop a leading space on a lone token (SentencePiece) right;
- a stop string can arrive split over tokens, and the token that completes it can run past
  it.  Text that could still turn out to be the start of a stop string is held back, and
  the text is cut where the stop string begins.

Concatenating everything a :class:`TextStream` emits equals :func:`final_text` of the same
ids: a streamed answer and a non-streamed one are the same string.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["IncrementalDecoder", "StopFilter", "TextStream", "cut_at_stop", "final_text"]

_REPLACEMENT = "\ufffd"


def _decode(tokenizer: Any, ids: Sequence[int]) -> str:
    text: str = tokenizer.decode(ids, skip_special_tokens=True)
    return text


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to the earliest stop string, and whether one was found."""
    hits = [i for i in (text.find(stop) for stop in stops) if i >= 0]
    return (text[: min(hits)], True) if hits else (text, False)


def final_text(tokenizer: Any, ids: Sequence[int], stops: Sequence[str]) -> str:
    """The whole text of one candidate, cut at its first stop string."""
    return cut_at_stop(_decode(tokenizer, ids), stops)[0]


class IncrementalDecoder:
    """Decode a growing list of ids, returning only text that is complete."""

    __slots__ = ("_ids", "_prefix", "_read", "_tokenizer")

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._ids: list[int] = []
        self._prefix = 0  # start of the context window already emitted
        self._read = 0  # end of what has been emitted

    def push(self, token: int) -> str:
        self._ids.append(token)
        before = _decode(self._tokenizer, self._ids[self._prefix : self._read])
        after = _decode(self._tokenizer, self._ids[self._prefix :])
        if len(after) > len(before) and not after.endswith(_REPLACEMENT):
            self._prefix, self._read = self._read, len(self._ids)
            return after[len(before) :]
        return ""

    def flush(self) -> str:
        """Whatever is held back, broken characters included: the candidate has ended."""
        before = _decode(self._tokenizer, self._ids[self._prefix : self._read])
        after = _decode(self._tokenizer, self._ids[self._prefix :])
        self._prefix = self._read = len(self._ids)
        return after[len(before) :]


class StopFilter:
    """Pass text through until a stop string appears; hold back what might start one."""

    __slots__ = ("_pending", "_stops", "stopped")

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(stops)
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if self.stopped or not text:
            return ""
        pending = self._pending + text
        cut, found = cut_at_stop(pending, self._stops)
        if found:
            self._pending = ""
            self.stopped = True
            return cut
        keep = self._partial_stop_length(pending)
        self._pending = pending[len(pending) - keep :] if keep else ""
        return pending[: len(pending) - keep]

    def flush(self) -> str:
        pending, self._pending = self._pending, ""
        return "" if self.stopped else pending

    def _partial_stop_length(self, text: str) -> int:
        """Length of the longest suffix of ``text`` that is a proper prefix of a stop string."""
        longest = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(text)), longest, -1):
                if text.endswith(stop[:size]):
                    longest = size
                    break
        return longest


class TextStream:
    """One candidate's text as its tokens arrive: decoding and stop strings together."""

    __slots__ = ("_decoder", "_filter")

    def __init__(self, tokenizer: Any, stops: Sequence[str]) -> None:
        self._decoder = IncrementalDecoder(tokenizer)
        self._filter = StopFilter(stops) if stops else None

    @property
    def stopped(self) -> bool:
        """A stop string has appeared: the candidate is complete."""
        return self._filter is not None and self._filter.stopped

    def push(self, token: int) -> str:
        text = self._decoder.push(token)
        return text if self._filter is None else self._filter.feed(text)

    def flush(self) -> str:
        text = self._decoder.flush()
        if self._filter is None:
            return text
        return self._filter.feed(text) + self._filter.flush()
