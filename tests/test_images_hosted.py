"""Hosted image generation: OpenAI's image endpoints and Gemini's image output.

The real SDKs talk to the local fake server (``fakeprovider``): recorded bodies replay
through it, bad input is refused with zero requests, and every fault of the text
fault table (``tests/test_faults.py``: the very same rows) strikes the image routes
and must end the same way - the same error class, status, retry count and
``Retry-After`` handling.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

import genkit
import genkit.images
from fakeprovider import FakeProviderServer, Reply
from genkit.images import ImageGeneration, ImagePreview
from genkit.parts import Image
from tests.hosted import Hosted, point_sdks_at
from tests.shared_recordings import recording
from tests.test_faults import (
    CALLS,
    FAST,
    FAULTS,
    MAX_RETRIES,
    SLACK,
    TIMEOUT,
    Fault,
    _attempt_bound,
    _check_error,
    _refused_base_url,
    hang_guard,
)

OPENAI_MODEL = "openai:gpt-image-2"
GEMINI_MODEL = "gemini:gemini-2.5-flash-image"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: Providers as the shared fault checks know them (only provider and model are read).
IMAGE_HOSTED = {
    "openai": Hosted("openai", "gpt-image-2", {}, lambda b: "", lambda b: []),
    "gemini": Hosted("gemini", "gemini-2.5-flash-image", {}, lambda b: "", lambda b: []),
}


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    monkeypatch.delenv("GENKIT_IMAGE_MODEL", raising=False)
    return fake_server


def _png(image: Image) -> Any:
    """The image opened with Pillow: the bytes really are a PNG."""
    assert image.data is not None
    assert image.data.startswith(PNG_MAGIC)
    assert image.media_type == "image/png"
    pil = image.to_pil()
    pil.load()
    assert pil.format == "PNG"
    return pil


def _sample() -> Image:
    return Image(
        data=base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
        )
    )


# --------------------------------------------------------------------------- recordings


def test_openai_recorded_images_response_replays(server: FakeProviderServer) -> None:
    body = recording("openai_images_b64.json").read_bytes()
    server.script(Reply.raw(200, body, content_type="application/json"))
    with genkit.images.load(OPENAI_MODEL) as ig:
        result = ig.generate("a white siamese cat", size="1024x1024")
    assert isinstance(result, genkit.ImageGeneration)
    assert len(result.images) == 1
    assert _png(result.image).size == (1, 1)
    assert result.raw.created == 1685642324
    assert result.usage == genkit.Usage()  # the recording has no usage: zero, not a crash
    assert (result.provider, result.model, result.text) == ("openai", "gpt-image-2", None)
    (sent,) = server.requests
    assert sent.path == "/v1/images/generations"
    assert sent.body == {
        "model": "gpt-image-2",
        "prompt": "a white siamese cat",
        "size": "1024x1024",
    }
    assert "response_format" not in sent.body  # GPT image models always answer base64


def test_openai_recorded_400_is_a_typed_final_error(server: FakeProviderServer) -> None:
    body = recording("openai_images_error_400.json").read_bytes()
    server.script(Reply.raw(400, body, content_type="application/json"))
    ig = genkit.images.load(OPENAI_MODEL, retry=FAST)
    with pytest.raises(genkit.BadRequestError) as caught:
        ig.generate("a cat", quality="high")
    assert caught.value.status_code == 400
    assert "Unknown parameter: 'quality'" in str(caught.value)
    assert len(server.requests) == 1  # a 400 is never retried


def test_gemini_recorded_image_output_replays(server: FakeProviderServer) -> None:
    body = recording("gemini_image_output.json").read_bytes()
    server.script(Reply.raw(200, body, content_type="application/json; charset=UTF-8"))
    ig = genkit.images.load(GEMINI_MODEL)
    result = ig.generate("Generate an image of an axolotl.")
    assert result.text == "Here's an image of an axolotl for you! "
    assert len(result.images) == 1
    assert _png(result.image).size == (1, 1)
    assert result.usage.input_tokens == 10
    assert result.usage.output_tokens == 1304
    (sent,) = server.requests
    assert sent.path.endswith("/models/gemini-2.5-flash-image:generateContent")
    recorded = json.loads(recording("gemini_image_output.request.json").read_text())
    assert sent.body is not None
    assert sent.body["contents"] == recorded["contents"]
    assert sent.body["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]


# --------------------------------------------------------------------------- requests


def test_openai_parameters_reach_the_wire(server: FakeProviderServer) -> None:
    ig = genkit.images.load(OPENAI_MODEL, quality="low", headers={"X-Team": "art"})
    result = ig.generate(
        "a lighthouse",
        n=2,
        size=(1536, 1024),
        output_format="jpg",
        provider_options={"background": "opaque"},
    )
    assert len(result.images) == 2
    for image in result.images:
        _png(image)
    assert result.usage.output_tokens > 0
    (sent,) = server.requests
    assert sent.body == {
        "model": "gpt-image-2",
        "prompt": "a lighthouse",
        "n": 2,
        "size": "1536x1024",
        "quality": "low",
        "output_format": "jpeg",
        "background": "opaque",
    }
    assert sent.headers["x-team"] == "art"


def test_gemini_size_is_aspect_ratio_and_resolution(server: FakeProviderServer) -> None:
    ig = genkit.images.load("gemini:gemini-3-pro-image-preview", size="16:9@2K")
    result = ig.generate("a city", seed=5, provider_options={"temperature": 0.5})
    _png(result.image)
    assert result.text is not None
    (sent,) = server.requests
    assert sent.body is not None
    config = sent.body["generationConfig"]
    assert config["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}
    assert (config["seed"], config["temperature"]) == (5, 0.5)
    # A call's size replaces the load default as a whole.
    ig.generate("a city", size="1:1")
    body = server.requests[-1].body
    assert body is not None
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": "1:1"}


def test_openai_edit_sends_image_and_mask(server: FakeProviderServer) -> None:
    picture, mask = _sample(), Image(data=b"\x89PNG\r\n\x1a\nmask-bytes")
    with genkit.images.load(OPENAI_MODEL) as ig:
        result = ig.edit(picture, "add a hat", mask=mask, size="1024x1024")
    _png(result.image)
    (sent,) = server.requests
    assert sent.path == "/v1/images/edits"
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert sent.body is not None
    assert sent.body["prompt"] == "add a hat"
    assert sent.body["image"]["data"] == picture.data
    assert sent.body["image"]["content_type"] == "image/png"
    assert sent.body["mask"]["data"] == mask.data


def test_gemini_edit_sends_the_image_beside_the_prompt(server: FakeProviderServer) -> None:
    picture = _sample()
    result = genkit.images.load(GEMINI_MODEL).edit(picture, "make it blue")
    _png(result.image)
    (sent,) = server.requests
    assert sent.body is not None
    parts = sent.body["contents"][0]["parts"]
    assert base64.urlsafe_b64decode(parts[0]["inlineData"]["data"]) == picture.data
    blob = parts[0]["inlineData"]
    # google-genai sends the field in snake case here; the API reads both spellings.
    assert blob.get("mimeType", blob.get("mime_type")) == "image/png"
    assert parts[-1] == {"text": "make it blue"}


def test_async_generate_and_edit(server: FakeProviderServer) -> None:
    async def main() -> list[ImageGeneration]:
        async with genkit.images.load(OPENAI_MODEL) as ig, genkit.images.load(GEMINI_MODEL) as gg:
            return list(
                await asyncio.gather(
                    ig.agenerate("one"),
                    ig.aedit(_sample(), "two"),
                    gg.agenerate("three"),
                    gg.aedit(_sample(), "four"),
                )
            )

    results = asyncio.run(main())
    for result in results:
        _png(result.image)
    assert sorted(r.path for r in server.requests)[:2] == [
        "/v1/images/edits",
        "/v1/images/generations",
    ]
    assert len(server.requests) == 4


def test_stream_yields_previews_then_the_final_image(server: FakeProviderServer) -> None:
    ig = genkit.images.load(OPENAI_MODEL)
    items = list(ig.stream("a fox", provider_options={"partial_images": 3}))
    assert [type(i) for i in items] == [ImagePreview] * 3 + [ImageGeneration]
    previews, final = items[:-1], items[-1]
    assert isinstance(final, ImageGeneration)
    _png(final.image)
    for preview in previews:
        assert isinstance(preview, ImagePreview)
        _png(preview.image)
        assert preview.image.data != final.image.data
    assert final.usage.output_tokens > 0
    (sent,) = server.requests
    assert sent.body is not None
    assert (sent.body["stream"], sent.body["partial_images"]) == (True, 3)


def test_stream_of_an_edit_and_of_a_model_without_previews(server: FakeProviderServer) -> None:
    ig = genkit.images.load(OPENAI_MODEL)
    items = list(ig.stream("a fox", image=_sample()))
    assert [type(i) for i in items] == [ImagePreview] * 2 + [ImageGeneration]
    assert server.requests[-1].path == "/v1/images/edits"
    (only,) = list(genkit.images.load(GEMINI_MODEL).stream("a fox"))
    assert isinstance(only, ImageGeneration)
    _png(only.image)


# --------------------------------------------------------------------------- bad input


def _bad_calls() -> Iterator[Any]:
    gen, edit = "generate", "edit"
    yield pytest.param(OPENAI_MODEL, gen, {"prompt": ""}, "prompt", id="empty-prompt")
    yield pytest.param(OPENAI_MODEL, gen, {"prompt": "  \n"}, "prompt", id="blank-prompt")
    yield pytest.param(OPENAI_MODEL, gen, {"prompt": 3}, "prompt", id="prompt-not-text")
    yield pytest.param(OPENAI_MODEL, gen, {"n": 0}, "n", id="n-zero")
    yield pytest.param(OPENAI_MODEL, gen, {"n": 11}, "n", id="n-above-10")
    yield pytest.param(OPENAI_MODEL, gen, {"n": 1.5}, "n", id="n-float")
    yield pytest.param(GEMINI_MODEL, gen, {"n": 2}, "n", id="gemini-n-2")
    yield pytest.param(OPENAI_MODEL, gen, {"size": "1000x1000"}, "size", id="size-not-16")
    yield pytest.param(OPENAI_MODEL, gen, {"size": "4096x2160"}, "size", id="size-too-wide")
    yield pytest.param(OPENAI_MODEL, gen, {"size": "3840x3840"}, "size", id="size-too-big")
    yield pytest.param(OPENAI_MODEL, gen, {"size": "2048x512"}, "size", id="aspect-4-to-1")
    yield pytest.param(OPENAI_MODEL, gen, {"size": "big"}, "size", id="size-word")
    yield pytest.param(OPENAI_MODEL, gen, {"size": "16:9"}, "size", id="ratio-on-openai")
    yield pytest.param("openai:gpt-image-1.5", gen, {"size": "1024x1536"}, None, id="ok-classic")
    yield pytest.param(
        "openai:gpt-image-1.5", gen, {"size": "2048x2048"}, "size", id="classic-size"
    )
    yield pytest.param(OPENAI_MODEL, gen, {"quality": "ultra"}, "quality", id="unknown-quality")
    yield pytest.param(OPENAI_MODEL, gen, {"quality": "max"}, "quality", id="max-before-2.5")
    yield pytest.param("openai:gpt-image-2.5-flare", gen, {"quality": "max"}, None, id="ok-max")
    yield pytest.param(OPENAI_MODEL, gen, {"output_format": "bmp"}, "output_format", id="bmp")
    yield pytest.param(OPENAI_MODEL, gen, {"negative_prompt": "x"}, "negative_prompt", id="neg")
    yield pytest.param(OPENAI_MODEL, gen, {"steps": 4}, "steps", id="steps-on-openai")
    yield pytest.param(GEMINI_MODEL, gen, {"size": "1024x1024"}, "size", id="gemini-pixels")
    yield pytest.param(GEMINI_MODEL, gen, {"size": "5:7"}, "size", id="gemini-ratio")
    yield pytest.param(GEMINI_MODEL, gen, {"size": "4K"}, "size", id="gemini-25-4k")
    yield pytest.param("gemini:gemini-3-pro-image", gen, {"size": "8K"}, "size", id="gemini-8k")
    yield pytest.param(GEMINI_MODEL, gen, {"quality": "high"}, "quality", id="gemini-quality")
    yield pytest.param(
        GEMINI_MODEL,
        gen,
        {"provider_options": {"no_such_field": 1}},
        "provider_options",
        id="gemini-options",
    )
    yield pytest.param(
        GEMINI_MODEL,
        gen,
        {"provider_options": {"person_generation": "ALLOW_NONE"}},  # Vertex only
        "provider_options",
        id="gemini-vertex-only-option",
    )
    yield pytest.param(OPENAI_MODEL, edit, {"image": b"\x89PNG..."}, "image", id="edit-bytes")
    yield pytest.param(OPENAI_MODEL, edit, {"image": "cat.png"}, "image", id="edit-path")
    yield pytest.param(
        OPENAI_MODEL, edit, {"image": Image(url="https://x.test/a.png")}, "image", id="edit-url"
    )
    yield pytest.param(OPENAI_MODEL, edit, {"mask": "mask.png"}, "mask", id="mask-not-image")
    yield pytest.param(GEMINI_MODEL, edit, {"image": None}, "image", id="gemini-edit-none")
    yield pytest.param(OPENAI_MODEL, gen, {"timeout": -1}, "timeout", id="timeout")
    yield pytest.param(OPENAI_MODEL, gen, {"max_retries": -1}, "max_retries", id="max-retries")


@pytest.mark.parametrize(("model", "method", "kwargs", "parameter"), list(_bad_calls()))
def test_bad_input_is_refused_before_anything_is_sent(
    server: FakeProviderServer,
    model: str,
    method: str,
    kwargs: dict[str, Any],
    parameter: str | None,
) -> None:
    ig = genkit.images.load(model)
    args = {"prompt": "a cat", **kwargs}
    prompt = args.pop("prompt")

    def call() -> ImageGeneration:
        if method == "edit":
            image = args.pop("image", _sample())
            return ig.edit(image, prompt, **args)
        return ig.generate(prompt, **args)

    if parameter is None:
        _png(call().image)
        return
    for run in (call, lambda: list(ig.stream(prompt, **{k: v for k, v in args.items()}))):
        if method == "edit" and run is not call:
            continue
        with pytest.raises(genkit.InvalidParameterError) as caught:
            run()
        error = caught.value
        assert error.parameter == parameter
        assert error.provider == model.split(":")[0]
        assert f"for provider {error.provider!r}" in str(error)
        if parameter not in ("prompt", "image", "mask", "provider_options"):
            assert error.allowed, "the message says what is allowed"
    assert server.requests == []


def test_unsupported_parameter_is_dropped_with_a_warning_when_asked(
    server: FakeProviderServer,
) -> None:
    ig = genkit.images.load(OPENAI_MODEL, drop_unsupported=True, negative_prompt="blurry")
    result = ig.generate("a cat", steps=4)
    assert any("negative_prompt" in w for w in result.warnings)
    assert any("steps" in w for w in result.warnings)
    (sent,) = server.requests
    assert sent.body is not None
    assert "steps" not in sent.body
    assert "negative_prompt" not in sent.body
    with pytest.raises(genkit.UnsupportedParameterError, match="steps"):
        genkit.images.load(OPENAI_MODEL).generate("a cat", steps=4)


@pytest.mark.parametrize("model", ["openai:dall-e-3", "openai:dall-e-2", "openai:gpt-image-1"])
def test_retired_models_are_refused_at_load(server: FakeProviderServer, model: str) -> None:
    with pytest.raises(genkit.ConfigurationError, match=r"retired|shut down"):
        genkit.images.load(model)
    assert server.requests == []


def test_load_errors_match_text(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(genkit.InvalidParameterError, match=r"did you mean 'quality'\?"):
        genkit.images.load(OPENAI_MODEL, qualty="high")
    with pytest.raises(genkit.UnknownProviderError, match=r"[Dd]id you mean 'openai'\?"):
        genkit.images.load("opnai:gpt-image-2")
    with pytest.raises(genkit.ConfigurationError, match="provider:model"):
        genkit.images.load("gpt-image-2")
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(genkit.MissingAPIKeyError, match="OPENAI_API_KEY"):
        genkit.images.load(OPENAI_MODEL)
    with pytest.raises(genkit.InvalidParameterError, match="size"):
        genkit.images.load(OPENAI_MODEL, api_key="sk-x", size="1000x1000")
    assert server.requests == []


def test_model_comes_from_the_environment(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENKIT_IMAGE_MODEL", GEMINI_MODEL)
    ig = genkit.images.load()
    assert (ig.provider, ig.model) == ("gemini", "gemini-2.5-flash-image")
    assert genkit.images.DEFAULT_IMAGE_MODEL == "huggingface:stabilityai/sd-turbo"


def test_closed_generator_refuses_calls(server: FakeProviderServer) -> None:
    ig = genkit.images.load(OPENAI_MODEL)
    ig.close()
    with pytest.raises(genkit.GeneratorClosedError):
        ig.generate("a cat")
    assert server.requests == []


# --------------------------------------------------------------------------- faults


def _image_fault_cases() -> Iterator[Any]:
    for fault in FAULTS:
        for provider in ("openai", "gemini"):
            if provider not in fault.providers:
                continue
            for mode in fault.modes:
                if mode in CALLS:
                    yield pytest.param(fault, provider, mode, id=f"{fault.name}-{provider}-{mode}")


def _drive(
    ig: genkit.ImageGenerator, mode: str
) -> tuple[ImageGeneration | None, genkit.ProviderError | None, float]:
    started = time.monotonic()
    try:
        result = ig.generate("a cat") if mode == "call" else asyncio.run(ig.agenerate("a cat"))
    except genkit.ProviderError as error:
        return None, error, time.monotonic() - started
    return result, None, time.monotonic() - started


@pytest.mark.parametrize(("fault", "provider", "mode"), list(_image_fault_cases()))
def test_fault_on_image_routes_behaves_like_text(
    server: FakeProviderServer, fault: Fault, provider: str, mode: str
) -> None:
    hosted = IMAGE_HOSTED[provider]
    base_url = _refused_base_url(provider) if fault.reply is None else None
    ig = genkit.images.load(
        f"{provider}:{hosted.model}",
        base_url=base_url,
        retry=FAST,
        max_retries=MAX_RETRIES,
        timeout=TIMEOUT,
    )
    attempts = 1 + MAX_RETRIES
    with ig, hang_guard(2 * _attempt_bound(fault, 2 * attempts) + 5):
        if fault.reply is None:
            _, error, _ = _drive(ig, mode)
            _check_error(error, fault, hosted)
            return
        if fault.outcome == "recovers":
            server.script(fault.reply())
            result, error, elapsed = _drive(ig, mode)
            assert error is None, f"{type(error).__name__}: {error}"
            assert result is not None
            _png(result.image)
            assert len(server.requests) == 2
            assert elapsed < _attempt_bound(fault, 2)
            server.reset()
            server.script(*[fault.reply() for _ in range(attempts)])
            _, error, elapsed = _drive(ig, mode)
            _check_error(error, fault, hosted)
            assert error is not None
            assert error.retryable
            assert len(server.requests) == attempts
            assert elapsed < _attempt_bound(fault, attempts)
        else:
            server.script(fault.reply())
            _, error, elapsed = _drive(ig, mode)
            _check_error(error, fault, hosted)
            assert len(server.requests) == 1, "retrying cannot help, so it is not tried"
            assert elapsed < SLACK
            if fault.retry_after is not None:
                assert error is not None
                assert error.retry_after is not None
                assert fault.retry_after - 5 <= error.retry_after <= fault.retry_after
    assert all(
        r.path.startswith(("/v1/images", "/v1/models", "/v1beta/models")) for r in server.requests
    )


def _gemini_body(finish: str, parts: list[dict[str, Any]]) -> bytes:
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}
    usage = {"promptTokenCount": 7, "totalTokenCount": 7}
    return json.dumps({"candidates": [candidate], "usageMetadata": usage}).encode()


@pytest.mark.parametrize(
    ("finish", "parts", "requests", "says"),
    [
        ("IMAGE_SAFETY", [], 1, "IMAGE_SAFETY"),
        ("STOP", [{"text": "I can't draw that."}], 3, "I can't draw that."),
        ("NO_IMAGE", [], 3, "NO_IMAGE"),
    ],
)
def test_gemini_without_an_image_is_an_error_retried_unless_refused(
    server: FakeProviderServer, finish: str, parts: list[dict[str, Any]], requests: int, says: str
) -> None:
    body = _gemini_body(finish, parts)
    server.script(*[Reply.raw(200, body, content_type="application/json")] * 3)
    ig = genkit.images.load(GEMINI_MODEL, retry=FAST)
    with pytest.raises(genkit.InvalidResponseError, match="returned no image") as caught:
        ig.generate("a cat")
    assert says in str(caught.value)
    assert caught.value.retryable is (requests > 1)
    assert len(server.requests) == requests


def test_stream_fault_before_a_preview_is_retried(server: FakeProviderServer) -> None:
    ig = genkit.images.load(OPENAI_MODEL, retry=FAST, timeout=TIMEOUT)
    server.script(Reply.stream_error(0), Reply.error(503, retry_after=0))
    items = list(ig.stream("a fox"))
    assert isinstance(items[-1], ImageGeneration)
    assert len(server.requests) == 3


def test_stream_fault_after_a_preview_is_not_retried(server: FakeProviderServer) -> None:
    ig = genkit.images.load(OPENAI_MODEL, retry=FAST, timeout=TIMEOUT)
    server.script(Reply.stream_error(1))
    seen: list[object] = []
    items = ig.stream("a fox")
    seen.append(next(items))
    with pytest.raises(genkit.ServerError) as caught:
        next(items)
    assert [type(i) for i in seen] == [ImagePreview]
    assert caught.value.status_code == 500
    assert len(server.requests) == 1
    server.reset()
    server.script(Reply.malformed_sse(1))
    with pytest.raises(genkit.InvalidResponseError):
        list(ig.stream("a fox"))
    assert len(server.requests) == 1


# --------------------------------------------------------------------------- secrets, imports


SECRET = "sk-images-secret-0123456789abcdef"


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


@pytest.mark.parametrize("model", [OPENAI_MODEL, GEMINI_MODEL])
def test_the_key_never_leaks(server: FakeProviderServer, model: str) -> None:
    server.script(Reply.error(401, message=f"Incorrect API key provided: {SECRET}"))
    ig = genkit.images.load(model, api_key=SECRET)
    assert SECRET not in repr(ig)
    assert SECRET not in repr(ig.backend)
    with pytest.raises(genkit.AuthenticationError) as caught:
        ig.generate("a cat")
    for error in _chain(caught.value):
        assert SECRET not in str(error)
        assert SECRET not in repr(error)
        assert all(SECRET not in repr(arg) for arg in error.args)
    assert server.requests[0].validation_error is None


def test_import_genkit_stays_light() -> None:
    code = (
        "import sys, genkit\n"
        "heavy = [m for m in ('genkit.images', 'openai', 'google.genai', 'diffusers', 'torch')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert genkit.ImageGenerator.__name__ == 'ImageGenerator'\n"
        "assert genkit.ImageGeneration.__name__ == 'ImageGeneration'\n"
        "assert 'openai' not in sys.modules\n"
        "assert {'ImageGenerator', 'ImageGeneration'} <= set(genkit.__all__)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_pillow_opens_every_image(server: FakeProviderServer) -> None:
    result = genkit.images.load(OPENAI_MODEL).generate("a cat", n=3)
    sizes = {_png(image).size for image in result.images}
    assert sizes == {(2, 2)}
    buffer = io.BytesIO()
    result.image.to_pil().save(buffer, format="PNG")
    assert buffer.getvalue().startswith(PNG_MAGIC)


# --------------------------------------------------------------------------- the CLI


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genkit", "image", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_image_writes_the_file(server: FakeProviderServer, tmp_path: Any) -> None:
    out = tmp_path / "cat.png"
    proc = _cli("-m", OPENAI_MODEL, "--size", "1024x1024", "a", "cat", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [str(out)]
    assert out.read_bytes().startswith(PNG_MAGIC)
    (sent,) = server.requests
    assert sent.body == {"model": "gpt-image-2", "prompt": "a cat", "size": "1024x1024"}


def test_cli_image_several_json_stdin_and_env_model(
    server: FakeProviderServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENKIT_IMAGE_MODEL", OPENAI_MODEL)
    out = tmp_path / "fox.png"
    proc = _cli("-n", "2", "--json", "-o", str(out), stdin="a fox\n")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["files"] == [str(out), str(tmp_path / "fox-2.png")]
    assert doc["provider"] == "openai"
    assert doc["usage"]["output_tokens"] > 0
    for name in doc["files"]:
        assert open(name, "rb").read().startswith(PNG_MAGIC)  # noqa: SIM115
    assert server.requests[0].body["prompt"] == "a fox"  # type: ignore[index]


def test_cli_image_edit_with_mask_on_gemini(server: FakeProviderServer, tmp_path: Any) -> None:
    source = tmp_path / "in.png"
    _sample().save(source)
    out = tmp_path / "out.png"
    proc = _cli("-m", GEMINI_MODEL, "--edit", str(source), "bluer", "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["text"] == "echo: bluer"
    assert out.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (("-m", OPENAI_MODEL, "--size", "1000x1000", "x"), 2, "divisible by 16"),
        (("-m", OPENAI_MODEL, ""), 2, "prompt"),
        (("-m", OPENAI_MODEL, "--steps", "4", "x"), 2, "steps"),
        (("-m", "openai:dall-e-3", "x"), 2, "retired"),
        (("-m", "opnai:gpt-image-2", "x"), 2, "openai"),
        (("-m", OPENAI_MODEL, "--mask", "m.png", "x"), 2, "--edit"),
    ],
)
def test_cli_image_bad_input_is_one_line_and_status_2(
    server: FakeProviderServer, tmp_path: Any, args: tuple[str, ...], status: int, says: str
) -> None:
    proc = _cli(*args, "-o", str(tmp_path / "x.png"))
    assert proc.returncode == status, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("genkit: error: ")
    assert says in lines[0]
    assert server.requests == []
    assert not (tmp_path / "x.png").exists()


def test_cli_image_provider_failure_is_status_1(server: FakeProviderServer, tmp_path: Any) -> None:
    server.script(Reply.error(400, message="Your request was rejected by the safety system."))
    proc = _cli("-m", OPENAI_MODEL, "a cat", "-o", str(tmp_path / "x.png"))
    assert proc.returncode == 1
    (line,) = proc.stderr.splitlines()
    assert line.startswith("genkit: error: openai 400: ")
    assert "rejected by the safety system" in line
    assert len(server.requests) == 1
