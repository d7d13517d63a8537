"""Server-sent events, decoded incrementally from the bytes of a streamed HTTP body.

Why genkit decodes a stream itself: a vendor SDK turns every streamed chunk into a
pydantic model (the OpenAI SDK spends ~75% of a chunk's time there), only for genkit
to read three fields and drop it.  The SDK still sends the request, authenticates,
and raises its typed errors for a failed status; genkit reads the body it returns.
"""

from __future__ import annotations

__all__ = ["EventDecoder"]


class EventDecoder:
    """Feed body bytes as they arrive; get back the ``data`` of each complete event.

    An event is a run of lines ended by a blank line; its ``data:`` lines are joined
    with newlines (``event:``, ``id:``, ``retry:`` and ``:`` comment lines carry
    nothing genkit reads).  Lines may end in LF or CRLF, and an event may be split
    across any number of network reads.  An event the body ends in the middle of is
    not complete and is never returned.
    """

    __slots__ = ("_data", "_partial")

    def __init__(self) -> None:
        self._partial = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = (self._partial + chunk).split(b"\n") if self._partial else chunk.split(b"\n")
        self._partial = lines.pop()
        events: list[bytes] = []
        data = self._data
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if data:
                    events.append(data[0] if len(data) == 1 else b"\n".join(data))
                    data = self._data = []
            elif line.startswith(b"data:"):
                data.append(line[6:] if line[5:6] == b" " else line[5:])
        return events
