"""Real Gemini ``streamGenerateContent?alt=sse`` bodies, replayed through genkit's own decoder.

genkit reads Gemini's stream body itself (not through the SDK's per-chunk models), so
each recorded body is served byte for byte by the fake server, in 1-byte and odd-sized
writes, and genkit must give the text, finish reason, usage and model the recording
holds.  The figures come from the recordings' index (``expected``; checked there with
google-genai 3.6.1), not from genkit; as a second reference, the SDK's own stream over
the same bytes must give the same answer text.

Sources (byte-exact, CRLF framing as sent): pydantic/pydantic-ai test cassettes (MIT)
for ``gemini_stream``, ``gemini_structured_stream``, ``gemini_thinking_stream`` and
``gemini_tools_stream``; FirebaseExtended/vertexai-sdk-test-data (Apache-2.0) for
``gemini_thinking_tool_stream``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from google import genai
from google.genai import types

import genkit
from fakeprovider import FakeProviderServer, Reply
from tests.shared_recordings import recording as shared_recording


@dataclass(frozen=True)
class Recording:
    name: str
    text_start: str
    text_length: int
    finish: genkit.FinishReason
    usage: genkit.Usage  # output = candidates + thoughts tokens; reasoning = thoughts
    model: str


RECORDED = [
    Recording("gemini_stream", "The capital of France is Paris.\n", 32, "stop", genkit.Usage(13, 8),
              "gemini-2.0-flash-exp"),
    Recording("gemini_structured_stream",
              '{\n  "city": "Mexico City",\n  "country": "Mexico"\n} ', 51, "stop",
              genkit.Usage(128, 21 + 30, 30), "gemini-3-flash-preview"),
    Recording("gemini_thinking_stream", "This is a great question! Safely crossing the street",
              1938, "stop", genkit.Usage(34, 469 + 787, 787), "gemini-2.5-pro"),
    Recording("gemini_thinking_tool_stream", "", 0, "tool_calls", genkit.Usage(38, 6 + 168, 168),
              "gemini-2.5-flash"),
    Recording("gemini_tools_stream", "", 0, "tool_calls", genkit.Usage(29, 10 + 202, 202),
              "gemini-3-pro-preview"),
]  # fmt: skip


def _sdk_text(server: FakeProviderServer, recording: Recording) -> str:
    """The answer text google-genai itself reads from the same bytes (thoughts left out)."""
    server.script(Reply.replay(shared_recording(f"{recording.name}.sse")))
    client = genai.Client(
        api_key="AIza-recordings-0123456789",
        http_options=types.HttpOptions(base_url=server.gemini_base_url),
    )
    texts: list[str] = []
    for chunk in client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"):
        for candidate in chunk.candidates or ():
            for part in (candidate.content.parts or ()) if candidate.content else ():
                if part.text and not part.thought:
                    texts.append(part.text)
    client.close()
    return "".join(texts)


def _check(result: genkit.Generation, recording: Recording, text: str) -> None:
    assert result.text == text
    assert text.startswith(recording.text_start)
    assert len(text) == recording.text_length
    assert result.finish_reason == recording.finish
    assert result.usage == recording.usage
    assert result.model == recording.model


@pytest.mark.parametrize("chunk_size", [1, 97])
@pytest.mark.parametrize("recording", RECORDED, ids=lambda r: r.name)
def test_recorded_gemini_stream(
    fake_provider_env: FakeProviderServer, recording: Recording, chunk_size: int
) -> None:
    server = fake_provider_env
    path = shared_recording(f"{recording.name}.sse")
    server.script(Reply.replay(path, chunk_size=chunk_size))
    with genkit.load("gemini:gemini-2.5-flash") as gen:
        with gen.stream("hi") as stream:
            text = "".join(chunk.text for chunk in stream)
        _check(stream.result, recording, text)
        assert text == _sdk_text(server, recording)


@pytest.mark.parametrize("recording", RECORDED, ids=lambda r: r.name)
async def test_recorded_gemini_stream_async(
    fake_provider_env: FakeProviderServer, recording: Recording
) -> None:
    fake_provider_env.script(Reply.replay(shared_recording(f"{recording.name}.sse"), chunk_size=13))
    gen = genkit.load("gemini:gemini-2.5-flash")
    stream = gen.astream("hi")
    text = "".join([chunk.text async for chunk in stream])
    _check(await stream.get_result(), recording, text)
    await gen.aclose()


# ----------------------------------------------------------------------- continuation


def _event(text: str, usage: tuple[int, int], **candidate: object) -> dict[str, object]:
    return {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, **candidate}],
        "usageMetadata": {"promptTokenCount": usage[0], "candidatesTokenCount": usage[1]},
        "modelVersion": "gemini-2.5-flash",
    }


def _stream(*events: dict[str, object]) -> Reply:
    body = b"".join(f"data: {json.dumps(e)}\r\n\r\n".encode() for e in events)
    return Reply.raw(200, body, content_type="text/event-stream")


#: A request that stops at the per-request token limit, and the one that continues it.
CONTINUED = (
    _stream(
        _event("Once", (5, 1)),
        _event(" upon", (5, 2), finishReason="CONTINUATION", continuationToken="dG9rZW4x"),
    ),
    _stream(_event(" a time.", (7, 3), finishReason="STOP")),
)


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_continuation_is_followed_like_the_sdk_does(
    fake_provider_env: FakeProviderServer, mode: str
) -> None:
    """google-genai follows ``CONTINUATION`` by default; genkit's own decoder does too."""
    server = fake_provider_env
    server.script(*CONTINUED)
    gen = genkit.load("gemini:gemini-2.5-flash")
    if mode == "stream":
        with gen.stream("hi") as stream:
            texts = [chunk.text for chunk in stream]
        result = stream.result
    else:
        astream = gen.astream("hi")
        texts = [chunk.text async for chunk in astream]
        result = await astream.get_result()
    await gen.aclose()
    assert texts == ["Once", " upon", " a time."]
    assert result.finish_reason == "stop"
    assert result.usage == genkit.Usage(5 + 7, 2 + 3)  # each request's usage is its own
    assert len(server.requests) == 2
    first, second = (request.body or {} for request in server.requests)
    assert "continuationToken" not in first
    assert second["continuationToken"] == "dG9rZW4x"
    assert second["contents"] == first["contents"]


def test_continuation_off_ends_at_the_limit(fake_provider_env: FakeProviderServer) -> None:
    server = fake_provider_env
    server.script(*CONTINUED)
    gen = genkit.load("gemini:gemini-2.5-flash")
    result = gen.stream("hi", provider_options={"automatic_continuation": False}).result
    assert (result.text, result.finish_reason) == ("Once upon", "length")
    assert len(server.requests) == 1
