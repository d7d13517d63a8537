"""Beyond one machine: a real OpenAI-compatible server reached as ``openai:<model>`` + base_url.

vLLM, SGLang, TGI and ``transformers serve`` all speak the Chat Completions protocol; genkit
needs no backend of its own for them.  This starts a real ``transformers serve`` on a free
127.0.0.1 port with the tiny random GPT-2 (given a chat template: the server formats every
request with one), and talks to it through ``genkit.load("openai:<path>", base_url=...)``
with the real OpenAI SDK.  The server runs once per module (its start is the slow part).

Limits of ``transformers serve`` 5.x found on the way (from its source,
``transformers/cli/serving/chat_completion.py``): ``n`` and ``presence_penalty`` are
ignored with a warning (one candidate comes back), ``frequency_penalty`` becomes HF's
multiplicative ``repetition_penalty``, ``stop`` ends generation at the token that
completes the stop string but leaves the string (and the rest of that token) in the text,
and a stream drops an incomplete UTF-8 character at its end where the non-streamed
answer shows U+FFFD.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import genkit

pytest.importorskip("openai")
pytest.importorskip("torch")
_import_utils = pytest.importorskip("transformers.utils.import_utils")
if not _import_utils.is_serve_available():
    pytest.skip(
        "transformers serve is not available: pip install 'transformers[serving]' "
        "(or genkit-sdk[serve-test])",
        allow_module_level=True,
    )

pytestmark = pytest.mark.serve

#: A model load on a busy 2-core machine takes 5-30 s; this only bounds a hung start.
READY_TIMEOUT = 180.0
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
GREEDY: dict[str, Any] = {"temperature": 0, "max_tokens": 8}


def same_text(streamed: str, generated: str) -> bool:
    """Equal, but for what the server does with a random model's broken UTF-8 at the end.

    The random byte-level model often ends inside a multi-byte character: the
    non-streamed answer shows it as U+FFFD, the server's streaming decoder drops it.
    """
    return streamed.rstrip("\ufffd") == generated.rstrip("\ufffd")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll the health endpoint until it answers; fail at once if the server exits."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),  # refused / reset while it starts
            urllib.request.urlopen(url, timeout=2) as response,
        ):
            if response.status == 200:
                return
        try:
            # The poll interval doubles as a watch on the process: returns if it died.
            server.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(
            f"transformers serve exited with {server.returncode}:\n{log.read_text()[-3000:]}"
        )
    pytest.fail(
        f"transformers serve not ready after {READY_TIMEOUT:.0f}s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def served(
    tiny_gpt2_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """``(model path, base URL)`` of a running ``transformers serve``, stopped afterwards."""
    # A copy of the suite's tiny GPT-2 with a chat template (GPT-2 has none, and the server
    # formats every request with one); transformers reads it from chat_template.jinja.
    model_dir = tmp_path_factory.mktemp("served") / "tiny-gpt2-chat"
    shutil.copytree(tiny_gpt2_path, model_dir)
    (model_dir / "chat_template.jinja").write_text(CHAT_TEMPLATE)

    port = _free_port()
    log = model_dir.parent / "serve.log"
    command = [
        sys.executable,
        "-m",
        "transformers.cli.transformers",
        "serve",
        str(model_dir),  # preloaded before the port opens, so /health means "ready"
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(server, f"http://127.0.0.1:{port}/health", log)
        yield str(model_dir), f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def gen(served: tuple[str, str]) -> Iterator[genkit.Generator]:
    model, base_url = served
    with genkit.load(f"openai:{model}", base_url=base_url, api_key="unused") as generator:
        yield generator


def test_generate_through_openai_backend(gen: genkit.Generator, served: tuple[str, str]) -> None:
    result = gen.generate("Once upon a time", **GREEDY)
    assert result.provider == "openai"
    assert result.model == served[0]  # the server reports the model it ran
    assert result.finish_reason == "length"
    assert result.usage.output_tokens == 8
    assert result.usage.input_tokens > 4  # the prompt as the chat template formatted it
    assert gen.generate("Once upon a time", **GREEDY).text == result.text  # greedy


def test_stream_joins_to_the_generated_text(gen: genkit.Generator) -> None:
    expected = gen.generate("The quick brown fox", **GREEDY)
    with gen.stream("The quick brown fox", **GREEDY) as stream:
        chunks = [chunk.text for chunk in stream]
    assert chunks
    assert "".join(chunks) == stream.result.text
    assert same_text(stream.result.text, expected.text)
    assert stream.result.finish_reason == "length"
    assert stream.result.usage == expected.usage


async def test_async_generate_and_stream(gen: genkit.Generator) -> None:
    expected = gen.generate("Call me Ishmael.", **GREEDY)
    result = await gen.agenerate("Call me Ishmael.", **GREEDY)
    assert result.text == expected.text
    stream = gen.astream("Call me Ishmael.", **GREEDY)
    chunks = [chunk.text async for chunk in stream]
    assert same_text("".join(chunks), expected.text)
    assert (await stream.get_result()).finish_reason == "length"


def test_stop_ends_generation_early(gen: genkit.Generator) -> None:
    long = gen.generate("The quick brown fox", temperature=0, max_tokens=40)
    word = re.search(r"[A-Za-z]{2,}", long.text[1:])
    if word is None:
        pytest.skip("the random model wrote no ASCII letters to stop at")
    result = gen.generate("The quick brown fox", temperature=0, max_tokens=40, stop=word.group())
    assert result.finish_reason == "stop"
    assert result.usage.output_tokens < 40
    assert len(result.text) < len(long.text)


def test_a_server_error_is_a_typed_genkit_error_with_its_reason(served: tuple[str, str]) -> None:
    _, base_url = served
    other = genkit.load("openai:another-model", base_url=base_url, api_key="unused")
    with pytest.raises(genkit.BadRequestError, match="pinned") as caught:
        other.generate("hi")
    assert caught.value.status_code == 400
