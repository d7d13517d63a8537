"""First-run and setup behaviour of the local backend: an unreachable hub, device and dtype
spellings, progress bars, and what ``timeout`` bounds.

The hub is never contacted: ``HF_ENDPOINT`` points the hub client at 127.0.0.1 (a closed
port, or a server that accepts and never answers), in subprocesses because huggingface_hub
reads its settings at import.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import genkit  # noqa: E402 - after the optional-dependency skips
from genkit.backends.huggingface import HuggingFaceBackend  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MISSING = "genkit-tests/no-such-model"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An endpoint that accepts connections and never answers: a hub behind a dead proxy."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def _online_env(endpoint: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    env["HF_ENDPOINT"] = endpoint
    return env


_TIMED_LOAD = f"""
import time, genkit, transformers
from genkit.backends import huggingface
started = time.monotonic()
try:
    genkit.load("huggingface:{MISSING}")
except genkit.ModelNotFoundError as error:
    print(f"{{time.monotonic() - started:.2f}}")
    print(error)
"""


def test_unreachable_hub_fails_fast_with_one_message(silent_server: str) -> None:
    refused = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        env={**_online_env(f"http://127.0.0.1:{_closed_port()}"), "GENKIT_MODEL": f"hf:{MISSING}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    silent = subprocess.Popen(
        [sys.executable, "-c", _TIMED_LOAD],
        env=_online_env(silent_server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = refused.communicate(timeout=120)
    assert refused.returncode == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err  # no traceback, no hub retry chatter
    assert lines[0].startswith(f"genkit: model '{MISSING}' not found")
    assert "cannot be reached" in lines[0]
    assert "HF_HUB_OFFLINE" not in lines[0]

    out, err = silent.communicate(timeout=120)
    seconds, message = out.splitlines()
    assert float(seconds) < 15  # the hub client alone retries for ~50 s
    assert "cannot be reached" in message
    assert "Retrying" not in err


def test_offline_mode_message_does_not_ask_to_set_it() -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # set for the whole suite by conftest
    with pytest.raises(genkit.ModelNotFoundError) as raised:
        genkit.load(f"huggingface:{MISSING}")
    message = str(raised.value)
    assert "HF_HUB_OFFLINE is set" in message
    assert "HF_HUB_OFFLINE=1" not in message
    assert raised.value.__cause__ is None  # no page of hub internals under it


def _backend(gen: genkit.Generator) -> HuggingFaceBackend:
    backend = gen.backend
    assert isinstance(backend, HuggingFaceBackend)
    return backend


def test_device_and_dtype_names_ignore_case(
    tiny_gpt2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = genkit.load(f"hf:{tiny_gpt2_path}", device="CPU", dtype="BFloat16")
    assert _backend(gen).dtype == torch.bfloat16
    assert str(_backend(gen).device) == "cpu"
    monkeypatch.setenv("GENKIT_DEVICE", " Cpu ")
    monkeypatch.setenv("GENKIT_DTYPE", "Float16")
    assert _backend(genkit.load(f"hf:{tiny_gpt2_path}")).dtype == torch.float16
    monkeypatch.setenv("GENKIT_DTYPE", "AUTO")
    assert _backend(genkit.load(f"hf:{tiny_gpt2_path}")).dtype == torch.float32


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "shown"), [(io.StringIO, False), (_Terminal, True)])
def test_loading_bar_only_on_a_terminal(
    tiny_gpt2_path: Path, monkeypatch: pytest.MonkeyPatch, stream: type, shown: bool
) -> None:
    err = stream()
    monkeypatch.setattr(sys, "stderr", err)
    # a batch size no other test uses: a fresh load, not the shared copy
    genkit.load(f"hf:{tiny_gpt2_path}", max_batch_size=3 if shown else 5)
    assert ("Loading weights" in err.getvalue()) is shown
    assert transformers.utils.logging.is_progress_bar_enabled()  # switched back on


# --------------------------------------------------------------------------- timeout


@pytest.fixture(scope="module")
def gen(tiny_gpt2_path: Path) -> genkit.Generator:
    return genkit.load(f"huggingface:{tiny_gpt2_path}")


def _no_eos(gen: genkit.Generator) -> dict[str, Any]:
    return {"suppress_tokens": [_backend(gen).loaded.tokenizer.eos_token_id]}


def test_timeout_bounds_the_whole_answer_of_generate(gen: genkit.Generator) -> None:
    with pytest.raises(genkit.TimeoutError, match=r"timeout=0\.05"):
        gen.generate("Hi", max_tokens=100000, timeout=0.05, provider_options=_no_eos(gen))
    assert _backend(gen).engine.wait_idle(10)


async def test_timeout_bounds_the_whole_answer_of_agenerate(gen: genkit.Generator) -> None:
    with pytest.raises(genkit.TimeoutError, match=r"timeout=0\.05"):
        await gen.agenerate("Hi", max_tokens=100000, timeout=0.05, provider_options=_no_eos(gen))


class _Paced:
    """A ``generate()`` hook that makes every step last ``seconds``: a slow model's pace."""

    def __init__(self, vocab: int, seconds: float) -> None:
        self._all = list(range(vocab))
        self._seconds = seconds
        self._never = threading.Event()

    def __call__(self, batch_id: int, ids: Any) -> list[int]:
        self._never.wait(self._seconds)
        return self._all


@pytest.mark.parametrize("style", ["sync", "async"])
async def test_timeout_bounds_each_gap_of_a_stream_not_its_length(
    gen: genkit.Generator, style: str
) -> None:
    # Each step takes 0.2 s; 20 steps take over 4 s; the timeout is 2 s.  A gap is a
    # step or two (a split character is held back), so each bound has 5-10x headroom
    # for a loaded machine, and the whole stream still outlasts the timeout twice over.
    options = {**_no_eos(gen), "prefix_allowed_tokens_fn": _Paced(400, 0.2)}
    kw: dict[str, Any] = {"max_tokens": 20, "timeout": 2.0, "provider_options": options}
    started = time.monotonic()
    if style == "sync":
        with gen.stream("Hi", **kw) as stream:
            text = "".join(chunk.text for chunk in stream)
            result = stream.result
    else:
        astream = gen.astream("Hi", **kw)
        text = "".join([chunk.text async for chunk in astream])
        result = astream.result
    assert time.monotonic() - started > 2.0
    assert result.finish_reason == "length"
    assert result.usage.output_tokens == 20
    assert text == result.text
