"""The example scripts run unchanged on every backend: only GENKIT_MODEL differs."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import genkit
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


# ------------------------------------------------------- tools, schemas, images on every backend


def _local_features(path: Path) -> frozenset[str]:
    """The local capability row's features: examples run locally where the row has the feature."""
    gen = genkit.load(f"huggingface:{path}")
    return gen.backend.capabilities.lookup(gen.model).features


def _last_user_parts(provider: str, body: dict[str, Any]) -> list[tuple[str, str, bytes]]:
    """(kind, media type, bytes) of each inline image/document in the last turn sent."""
    found: list[tuple[str, str, bytes]] = []
    if provider == "openai":
        for part in body["messages"][-1]["content"]:
            if part["type"] == "image_url":
                url = part["image_url"]["url"]
                media, data = url.removeprefix("data:").split(";base64,")
                found.append(("image", media, base64.b64decode(data)))
            elif part["type"] == "file":
                media, data = part["file"]["file_data"].removeprefix("data:").split(";base64,")
                found.append(("document", media, base64.b64decode(data)))
    elif provider == "anthropic":
        for block in body["messages"][-1]["content"]:
            if block["type"] in ("image", "document"):
                source = block["source"]
                assert source["type"] == "base64"
                found.append(
                    (block["type"], source["media_type"], base64.b64decode(source["data"]))
                )
    else:
        for part in body["contents"][-1]["parts"]:
            inline = part.get("inlineData") or part.get("inline_data")
            if inline:
                media = inline.get("mimeType") or inline["mime_type"]
                kind = "document" if media == "application/pdf" else "image"
                # google-genai writes bytes in the URL-safe base64 alphabet.
                found.append((kind, media, base64.urlsafe_b64decode(inline["data"])))
    return found


def _assert_valid_pdf(data: bytes) -> None:
    """The example's hand-written PDF: every xref offset points at its object."""
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    startxref = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[startxref:].startswith(b"xref")
    entries = data[startxref:].split(b"\n")[3:]
    offsets = [int(line.split()[0]) for line in entries if line.endswith(b" n ")]
    assert offsets
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(b"%d 0 obj" % number)


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_vision_example_sends_an_image_and_a_pdf(
    hosted: Hosted, server: FakeProviderServer
) -> None:
    proc = run_example("vision.py", f"{hosted.provider}:{hosted.model}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"model: {hosted.provider}:{hosted.model}",
        "image: echo: What is in this image?",
        "PDF: echo: What is the total of this invoice?",
    ]
    assert len(server.requests) == 2
    for request in server.requests:
        assert request.validation_error is None, request.validation_error
    image_body, pdf_body = (r.body for r in server.requests)
    assert image_body is not None
    assert pdf_body is not None
    [(kind, media, png)] = _last_user_parts(hosted.provider, image_body)
    assert (kind, media) == ("image", "image/png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    [(kind, media, pdf)] = _last_user_parts(hosted.provider, pdf_body)
    assert (kind, media) == ("document", "application/pdf")
    _assert_valid_pdf(pdf)


def test_vision_example_runs_offline() -> None:
    proc = run_example("vision.py", "test:echo")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "model: test:echo",
        "image: What is in this image?",
        "PDF: What is the total of this invoice?",
    ]


def test_vision_example_says_a_text_only_local_model_takes_no_images(
    tiny_gpt2_path: Path,
) -> None:
    features = _local_features(tiny_gpt2_path)
    if {"image_input", "pdf_input"} <= features:
        pytest.skip("this local model's row takes images and PDFs")
    proc = run_example("vision.py", f"huggingface:{tiny_gpt2_path}")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    model = f"huggingface:{tiny_gpt2_path}"
    if "image_input" not in features:
        assert lines[1].startswith(f"image: {model} takes no images (")
        assert "prompt[0].content[1]" in lines[1]
    if "pdf_input" not in features:
        assert lines[2].startswith(f"PDF: {model} takes no PDFs (")


TOOL_REPLIES = (
    Reply.text(
        "",
        tool_calls=[
            ("get_weather", {"city": "Paris"}),
            ("convert_currency", {"amount": 20, "source": "EUR", "target": "USD"}),
        ],
    ),
    Reply.text("Cloudy, 18 C; 20 EUR is 21.6 USD."),
)


def _tool_results(provider: str, body: dict[str, Any]) -> list[str]:
    """The texts of the tool results the second request sent back, in order."""
    if provider == "openai":
        return [m["content"] for m in body["messages"] if m["role"] == "tool"]
    if provider == "anthropic":
        blocks = body["messages"][-1]["content"]
        return [
            b["content"] if isinstance(b["content"], str) else b["content"][0]["text"]
            for b in blocks
            if b["type"] == "tool_result"
        ]
    parts = body["contents"][-1]["parts"]
    return [
        (p.get("functionResponse") or p["function_response"])["response"]["output"] for p in parts
    ]


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_tools_example_runs_a_loop_on_every_hosted_backend(
    hosted: Hosted, server: FakeProviderServer
) -> None:
    server.script(*TOOL_REPLIES)
    proc = run_example("tools.py", f"{hosted.provider}:{hosted.model}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "-> get_weather({'city': 'Paris'})",
        "-> convert_currency({'amount': 20, 'source': 'EUR', 'target': 'USD'})",
        "Cloudy, 18 C; 20 EUR is 21.6 USD.",
    ]
    assert "steps=2 finish=stop" in proc.stderr
    assert [r.stream for r in server.requests] == [True, True]
    body = server.requests[1].body
    assert body is not None
    results = _tool_results(hosted.provider, body)
    assert len(results) == 2
    assert json.loads(results[0]) == {
        "city": "Paris",
        "temperature": 18.0,
        "unit": "celsius",
        "sky": "cloudy",
    }
    assert results[1] == "21.6"


def test_tools_example_on_the_local_model_runs_or_is_refused_cleanly(
    tiny_gpt2_path: Path,
) -> None:
    proc = run_example("tools.py", f"huggingface:{tiny_gpt2_path}")
    assert "Traceback" not in proc.stderr
    if "tools" not in _local_features(tiny_gpt2_path):
        assert proc.returncode == 1
        assert proc.stderr.startswith("genkit: invalid 'tools' for provider 'huggingface'")
        return
    # The row has tools: the tiny GPT-2 has no tool template and cannot be forced to call,
    # so a refusal naming why is as right as a finished loop; a crash is not.
    assert proc.returncode == 0 or proc.stderr.startswith("genkit: "), proc.stderr


CITIES = (
    {"name": "Paris", "country": "France", "population": 2100000, "landmarks": ["Louvre"]},
    {"name": "Rome", "country": "Italy", "population": 2800000, "landmarks": ["Colosseum"]},
)


def _schema_sent(provider: str, body: dict[str, Any]) -> dict[str, Any]:
    if provider == "openai":
        assert body["response_format"]["type"] == "json_schema"
        schema = body["response_format"]["json_schema"]["schema"]
    elif provider == "anthropic":
        assert body["output_config"]["format"]["type"] == "json_schema"
        schema = body["output_config"]["format"]["schema"]
    else:
        config = body.get("generationConfig") or body["generation_config"]
        assert (config.get("responseMimeType") or config["response_mime_type"]) == (
            "application/json"
        )
        schema = config.get("responseJsonSchema") or config["response_json_schema"]
    assert isinstance(schema, dict)
    return schema


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_structured_example_runs_on_every_hosted_backend(
    hosted: Hosted, server: FakeProviderServer
) -> None:
    server.script(*(Reply.text(json.dumps(city)) for city in CITIES))
    proc = run_example("structured.py", f"{hosted.provider}:{hosted.model}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "generate: Paris, France: 1 landmarks",
        "stream: Rome (4 fields seen while streaming)",
    ]
    assert [r.stream for r in server.requests] == [False, True]
    for request in server.requests:
        assert request.body is not None
        schema = _schema_sent(hosted.provider, request.body)
        assert set(schema["properties"]) == {"name", "country", "population", "landmarks"}


def test_structured_example_on_the_local_model_runs_or_is_refused_cleanly(
    tiny_gpt2_path: Path,
) -> None:
    proc = run_example("structured.py", f"huggingface:{tiny_gpt2_path}")
    assert "Traceback" not in proc.stderr
    if "structured_output" not in _local_features(tiny_gpt2_path):
        assert proc.returncode == 1
        assert proc.stderr.startswith("genkit: invalid 'schema' for provider 'huggingface'")
        return
    # Constrained decoding guarantees the shape, not that random weights finish a City
    # within the context: a parsed City, or an error the example explains.
    if proc.returncode == 0:
        assert proc.stdout.startswith("generate: ")
    else:
        assert proc.stderr.startswith(("no valid City", "genkit: ")), proc.stderr
