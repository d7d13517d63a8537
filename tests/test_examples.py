"""The example scripts run unchanged on every backend: only GENKIT_MODEL differs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakeprovider import FakeProviderServer, Reply
from tests.hosted import HOSTED, Hosted, point_sdks_at

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, model: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GENKIT_MODEL": model, **extra_env}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_switch_models_runs_every_call_style(hosted: Hosted, server: FakeProviderServer) -> None:
    proc = run_example("switch_models.py", f"{hosted.provider}:{hosted.model}")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"model: {hosted.provider}:{hosted.model}"
    for mode in ("generate", "stream", "agenerate", "astream"):
        line = next(line for line in lines if line.strip().startswith(f"{mode}:"))
        assert "finish=stop" in line
        assert "usage=" in line
        assert "=0 " not in line
    assert {r.protocol for r in server.requests} == {hosted.provider}
    assert [r.stream for r in server.requests] == [False, True, False, True]


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_quickstart_runs_on_a_hosted_model(hosted: Hosted, server: FakeProviderServer) -> None:
    proc = run_example("quickstart.py", f"{hosted.provider}:{hosted.model}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    body = server.requests[-1].body
    assert body is not None
    assert "Once upon a time" in str(body)


def test_quickstart_explains_a_missing_model(tmp_path: Path) -> None:
    proc = run_example("quickstart.py", f"huggingface:{tmp_path / 'no-such-model'}")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "genkit:" in proc.stderr


def test_switch_models_runs_on_a_local_checkpoint(tiny_gpt2_path: Path) -> None:
    """The acceptance for the local backend: a saved tiny GPT-2 runs the same script."""
    proc = run_example("switch_models.py", f"huggingface:{tiny_gpt2_path}")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"model: huggingface:{tiny_gpt2_path}"
    for mode in ("generate", "stream", "agenerate", "astream"):
        line = next(line for line in lines if line.strip().startswith(f"{mode}:"))
        assert "finish=" in line
        assert "finish=None" not in line


CHAIN = "openai:gpt-4o,anthropic:claude-sonnet-4-6"


def test_fallbacks_example_moves_to_the_next_model(server: FakeProviderServer) -> None:
    server.script_for("openai", Reply.error(503), Reply.error(503))
    proc = run_example("fallbacks.py", CHAIN, GENKIT_MAX_RETRIES="0")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "chain: openai:gpt-4o -> anthropic:claude-sonnet-4-6"
    for mode in ("generate", "stream"):
        assert f"{mode}: answered by anthropic:claude-sonnet-4-6: 'echo: Once upon a time'" in lines
        assert any(
            line.startswith(f"{mode}: warning: openai:gpt-4o failed (ServerError: openai 503")
            for line in lines
        )
    assert [r.protocol for r in server.requests] == ["openai", "anthropic"] * 2


def test_fallbacks_example_reports_every_failure(server: FakeProviderServer) -> None:
    server.script_for("openai", Reply.error(401))
    server.script_for("anthropic", Reply.error(404))
    proc = run_example("fallbacks.py", CHAIN)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "genkit: openai:gpt-4o: AuthenticationError: openai 401" in proc.stderr
    assert "genkit: anthropic:claude-sonnet-4-6: NotFoundError: anthropic 404" in proc.stderr


@pytest.mark.parametrize("model", ["openai:gpt-image-2", "gemini:gemini-2.5-flash-image"])
def test_images_example_runs_on_a_hosted_image_model(
    model: str, server: FakeProviderServer, tmp_path: Path
) -> None:
    env = {**os.environ, "GENKIT_IMAGE_MODEL": model}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "images.py"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == f"model: {model}"
    for name in ("lighthouse.png", "lighthouse-moon.png", "fox.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), name
    previews = "2 preview(s)" if model.startswith("openai") else "0 preview(s)"
    assert previews in proc.stdout
    assert len(server.requests) == 3


def test_the_readme_backend_runs_through_the_public_provider_surface() -> None:
    # examples/custom_backend.py is the README's "Writing a backend" example: a backend
    # built only on genkit.provider, registered at run time, called and streamed.
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "custom_backend.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["HELLO THERE, BACKEND", "STREAMS"]


@pytest.mark.parametrize("model", ["test:lorem", "test:echo"])
def test_structured_example_parses_a_city_and_streams_partial_objects(model: str) -> None:
    # Offline through the test models; hosted runs join once their backends send schemas.
    proc = run_example("structured.py", model)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("generate: ")
    assert "1 landmarks" in lines[0]
    assert lines[1].startswith("stream: ")
    assert "(4 fields seen while streaming)" in lines[1]


def test_tools_example_runs_a_loop_offline() -> None:
    proc = run_example("tools.py", "test:echo")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "-> get_weather({'city': ''})"
    assert lines[1] == "What's the weather in Paris, and how much is 20 EUR in USD?"
    assert "steps=2 finish=stop" in proc.stderr
