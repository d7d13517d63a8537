"""The stream decoder genkit reads provider streams with (OpenAI's, through its SDK)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from genkit.backends._sse import EventDecoder

BODY = (
    b": keep-alive comment\n"
    b"event: message\n"
    b'data: {"a": 1}\n'
    b"\n"
    b"id: 7\r\n"
    b"data:first line\r\n"
    b"data: second line\r\n"
    b"\r\n"
    b"retry: 100\n"
    b"\n"
    b"data: [DONE]\n"
    b"\n"
)
EVENTS = [b'{"a": 1}', b"first line\nsecond line", b"[DONE]"]


def decode(pieces: list[bytes]) -> list[bytes]:
    decoder = EventDecoder()
    return [event for piece in pieces for event in decoder.feed(piece)]


def test_events_in_one_read() -> None:
    assert decode([BODY]) == EVENTS


@given(st.lists(st.integers(min_value=0, max_value=len(BODY)), max_size=12))
def test_events_split_across_any_reads(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(BODY)]
    assert decode([BODY[a:b] for a, b in itertools.pairwise(bounds)]) == EVENTS


def test_an_event_the_body_ends_inside_is_not_returned() -> None:
    assert decode([b'data: {"a": 1}\n\ndata: {"b"']) == [b'{"a": 1}']
    assert decode([b'data: {"a": 1}\n\ndata: {"b": 2}\n']) == [b'{"a": 1}']


def test_lines_without_data_make_no_event() -> None:
    assert decode([b"event: ping\n\n: comment\n\n"]) == []
