"""Content parts: ``genkit.Message(role, [parts])`` through the public API.

Text parts must reach every provider exactly as the plain-string form does (compared on
the bodies the fake server recorded), and every part a backend cannot send yet must be
refused with ``UnsupportedParameterError`` before a single request leaves - never
dropped.  The file helpers of ``Image`` and ``Document`` sniff the bytes, not the name.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import genkit
import genkit.testing
from fakeprovider import FakeProviderServer
from tests.hosted import HOSTED, Hosted, point_sdks_at

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
GIF = b"GIF89a" + b"\x00" * 16
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8
PDF = b"%PDF-1.7\n" + b"\x00" * 16

#: One of each part genkit has but no backend sends yet, in a turn that may hold it.
NOT_YET: list[tuple[str, genkit.Part, str]] = [
    ("user", genkit.Image(data=PNG), "image"),
    ("user", genkit.Image(url="https://example.com/cat.png"), "image"),
    ("user", genkit.Document(data=PDF), "document"),
    ("assistant", genkit.ToolCall("call_1", "weather", {"city": "Paris"}), "tool call"),
    ("tool", genkit.ToolResult("call_1", "sunny", name="weather"), "tool result"),
    ("assistant", genkit.ProviderPart("anthropic", {"type": "thinking"}), "provider data"),
]


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


@pytest.fixture
def local(tiny_gpt2_path: Path) -> Iterator[genkit.Generator]:
    with genkit.load(f"huggingface:{tiny_gpt2_path}") as gen:
        yield gen


def _body(server: FakeProviderServer, gen: genkit.Generator, prompt: Any, **kw: Any) -> Any:
    server.reset()
    gen.generate(prompt, **kw)
    (request,) = server.requests
    assert request.validation_error is None
    return request.body


# ---------------------------------------------------------------------- text parts


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_text_parts_send_the_same_body_as_a_string(
    server: FakeProviderServer, hosted: Hosted
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    text = genkit.Text
    cases: list[tuple[Any, Any]] = [
        # (parts form, string form)
        ([genkit.Message("user", [text("Hello "), text("there")])], "Hello there"),
        ([{"role": "user", "content": [text("Hello there")]}], "Hello there"),
        (
            [
                genkit.Message("system", [text("Be brief.")]),
                {"role": "user", "content": [text("Hi")]},
                genkit.Message("assistant", [text("Hello")]),
                genkit.Message("user", (text("How "), text("are you?"))),
            ],
            [
                genkit.Message("system", "Be brief."),
                {"role": "user", "content": "Hi"},
                genkit.Message("assistant", "Hello"),
                genkit.Message("user", "How are you?"),
            ],
        ),
    ]
    for parts, plain in cases:
        assert _body(server, gen, parts, system="Rules.") == _body(
            server, gen, plain, system="Rules."
        )
        assert _body(server, gen, parts) == _body(server, gen, plain)
    gen.close()


def test_text_parts_prompt_the_local_model_like_a_string(local: genkit.Generator) -> None:
    parts = [genkit.Message("user", [genkit.Text("Once upon "), genkit.Text("a time")])]
    with_parts = local.generate(parts, temperature=0, max_tokens=5)
    plain = local.generate("Once upon a time", temperature=0, max_tokens=5)
    assert with_parts.text == plain.text
    assert with_parts.usage == plain.usage  # the same prompt tokens


def test_the_test_provider_echoes_the_text_parts() -> None:
    with genkit.load("test:echo") as gen:
        prompt: list[Any] = [
            genkit.Message("user", "first"),
            genkit.Message("assistant", [genkit.Text("ok")]),
            {"role": "user", "content": [genkit.Text("say "), genkit.Text("this")]},
        ]
        assert gen.generate(prompt).text == "say this"


def test_message_text_joins_the_text_parts() -> None:
    assert genkit.Message("user", "plain").text == "plain"
    message = genkit.Message(
        "user", [genkit.Text("a "), genkit.Image(url="https://x.test/i.png"), genkit.Text("b")]
    )
    assert message.text == "a b"
    assert genkit.Message("tool", [genkit.ToolResult("c1", "done")]).text == ""


def test_a_list_given_is_copied_before_the_call() -> None:
    with genkit.testing.scripted(["ok"]) as script:
        parts: list[genkit.Part] = [genkit.Text("hi")]
        genkit.load("test:scripted").generate([{"role": "user", "content": parts}])
        parts.append(genkit.Text(" there"))
        (request,) = script.requests
        assert request.prompt == "hi"
        assert isinstance(request.messages[0].content, tuple)


# ---------------------------------------------------------------------- refused parts


# Local tool calls and results go through the chat template: tests/test_huggingface_tools.py.
@pytest.mark.parametrize(
    ("role", "part", "kind"),
    [case for case in NOT_YET if case[2] not in ("tool call", "tool result")],
    ids=lambda v: str(v)[:24],
)
# The test provider declares every feature (tests/test_tools.py): only the local one refuses.
@pytest.mark.parametrize("model", ["local"])
def test_offline_backends_refuse_parts_not_mapped_yet(
    role: str, part: genkit.Part, kind: str, model: str, tiny_gpt2_path: Path
) -> None:
    prompt: list[Any] = [genkit.Message("user", "question")]
    if role != "user":
        prompt.append(genkit.Message("assistant", "answer"))
    prompt.append(genkit.Message(role, [part]))  # type: ignore[arg-type]
    name = f"huggingface:{tiny_gpt2_path}" if model == "local" else model
    with (
        genkit.load(name) as gen,
        pytest.raises(genkit.UnsupportedParameterError, match=f"{kind} input") as info,
    ):
        gen.generate(prompt)
    assert info.value.parameter == f"prompt[{len(prompt) - 1}].content[0]"


@pytest.mark.parametrize(
    ("content", "role", "where", "says"),
    [
        ([], "user", "prompt[0].content", "empty list of parts"),
        ([genkit.Text("")], "user", "prompt[0].content[0].text", "non-empty text"),
        ([genkit.Text("a\ud800b")], "user", "prompt[0].content[0].text", "lone surrogate"),
        (["plain str in a list"], "user", "prompt[0].content[0]", "expected a content part"),
        ([genkit.ToolCall("c1", "f", {})], "user", "prompt[0].content[0]", "cannot hold tool call"),
        ([genkit.ToolResult("c1", "x")], "user", "prompt[0].content[0]", "tool result"),
        ([genkit.Image(data=PNG)], "system", "prompt[0].content[0]", "cannot hold image"),
        ("just text", "tool", "prompt[0].content", "tool results, not text"),
        ([genkit.Text("hi")], "tool", "prompt[0].content[0]", "cannot hold text"),
        (
            [genkit.ToolResult("c1", "bad \udc80")],
            "tool",
            "prompt[0].content[0].content",
            "lone surrogate",
        ),
        (
            [genkit.ToolResult("c1", [genkit.Text("\ud800")])],
            "tool",
            "prompt[0].content[0].content[0].text",
            "lone surrogate",
        ),
        ([genkit.ToolResult("", "x")], "tool", "prompt[0].content[0].call_id", "non-empty"),
        (
            [genkit.ToolCall("c1", "f", "not a dict")],  # type: ignore[arg-type]
            "assistant",
            "prompt[0].content[0].arguments",
            "expected a dict",
        ),
        (b"bytes", "user", "prompt[0].content", "a list of parts"),
    ],
)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_bad_parts_are_refused_before_sending(
    server: FakeProviderServer, hosted: Hosted, content: Any, role: str, where: str, says: str
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    prompt = [{"role": role, "content": content}, {"role": "user", "content": "next"}]
    with pytest.raises(genkit.InvalidParameterError) as info:
        gen.generate(prompt)
    assert not isinstance(info.value, genkit.UnsupportedParameterError)
    assert info.value.parameter == where
    assert info.value.provider == hosted.provider
    assert says in str(info.value)
    assert server.requests == []
    gen.close()


# ---------------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")],
)
def test_image_from_file_sniffs_the_bytes(tmp_path: Path, data: bytes, media_type: str) -> None:
    path = tmp_path / "picture.bin"  # the name says nothing: the bytes decide
    path.write_bytes(data)
    image = genkit.Image.from_file(path)
    assert (image.data, image.media_type, image.url) == (data, media_type, None)
    assert genkit.Image(data=data).media_type == media_type
    copy = tmp_path / "copy"
    image.save(copy)
    assert copy.read_bytes() == data


def test_unknown_image_and_document_types_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(b"BM not really a png")
    with pytest.raises(genkit.InvalidParameterError, match="not a PNG, JPEG, GIF or WEBP") as info:
        genkit.Image.from_file(path)
    assert "cat.png" in str(info.value)
    with pytest.raises(genkit.InvalidParameterError, match="not a PDF"):
        genkit.Document.from_file(path)
    with pytest.raises(genkit.InvalidParameterError, match="exactly one of"):
        genkit.Image()
    with pytest.raises(genkit.InvalidParameterError, match="exactly one of"):
        genkit.Document(data=PDF, url="https://x.test/a.pdf")


def test_unreadable_files_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "scan.pdf"
    for read in (genkit.Image.from_file, genkit.Document.from_file):
        with pytest.raises(genkit.InvalidParameterError) as info:
            read(missing)
        assert info.value.parameter == "path"
        assert str(missing) in str(info.value)
    with pytest.raises(genkit.InvalidParameterError):
        genkit.Image.from_file(tmp_path)  # a directory


def test_document_from_file(tmp_path: Path) -> None:
    path = tmp_path / "report"
    path.write_bytes(PDF)
    document = genkit.Document.from_file(path)
    assert (document.data, document.media_type) == (PDF, "application/pdf")
    with pytest.raises(genkit.InvalidParameterError, match="no bytes"):
        genkit.Document(url="https://x.test/a.pdf").save(tmp_path / "out.pdf")


@pytest.mark.skipif(
    importlib.util.find_spec("PIL") is not None, reason="checks the error without Pillow"
)
def test_to_pil_needs_pillow() -> None:
    with pytest.raises(genkit.MissingDependencyError, match=r"genkit-sdk\[images\]"):
        genkit.Image(data=PNG).to_pil()


def test_parts_are_frozen_values() -> None:
    part = genkit.Text("x")
    with pytest.raises(AttributeError):
        part.text = "y"  # type: ignore[misc]
    assert genkit.Text("x") == part
    assert "data" not in repr(genkit.Image(data=PNG))  # no megabytes of bytes in a repr
