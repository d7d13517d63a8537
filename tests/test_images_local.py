"""Local image generation through diffusers, on a tiny random Stable Diffusion pipeline.

Every test loads the pipeline with ``genkit.images.load("huggingface:<dir>")``, the path a
hub id takes.  Its pictures are noise: the tests check sizes, counts, seeds, batching,
editing, refusals and shutdown.  Two seeded images are compared pixel by pixel with a
tolerance of one level out of 255 where one came from a batch: a batched matrix product may
round its last float bit differently, which can move a pixel by one after quantisation.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import genkit
import genkit.images
from genkit.errors import InvalidParameterError, ModelNotFoundError
from genkit.images.huggingface import DiffusersBackend
from genkit.parts import Image
from tests.tiny_sd import tiny_sd_path  # noqa: F401 - the session fixture

PIL = pytest.importorskip("PIL.Image")

STEPS = 2


@pytest.fixture
def ig(tiny_sd_path: Path) -> Any:  # noqa: F811
    """An image generator on the tiny pipeline: 2 steps, 32x32, progress bar off."""
    return genkit.images.load(f"huggingface:{tiny_sd_path}", steps=STEPS, size="32x32")


def _pixels(image: Any) -> Any:
    return np.asarray(image.to_pil().convert("RGB"), dtype=np.int16)


def _same_picture(a: Any, b: Any) -> bool:
    """Equal up to one quantisation level (see the module docstring)."""
    return bool(np.abs(_pixels(a) - _pixels(b)).max() <= 1)


def _engine(ig: Any) -> Any:
    backend = ig.backend
    assert isinstance(backend, DiffusersBackend)
    return backend.engine


def test_generate_returns_n_png_images_of_the_requested_size(ig: Any) -> None:
    result = ig.generate("a red fox", n=3, size="64x48", seed=1)
    assert len(result.images) == 3
    assert result.provider == "huggingface"
    for image in result.images:
        assert image.media_type == "image/png"
        assert image.data.startswith(b"\x89PNG")
        assert image.to_pil().size == (64, 48)
    assert result.image is result.images[0]
    assert result.raw["seeds"] == [1, 2, 3]


@pytest.mark.parametrize(("fmt", "media_type"), [("jpeg", "image/jpeg"), ("webp", "image/webp")])
def test_output_formats(ig: Any, fmt: str, media_type: str) -> None:
    image = ig.generate("a fox", seed=1, output_format=fmt).image
    assert image.media_type == media_type
    assert image.to_pil().format == fmt.upper()


def test_same_seed_same_bytes_different_seed_different_picture(ig: Any) -> None:
    first = ig.generate("a lighthouse", seed=7).image
    again = ig.generate("a lighthouse", seed=7).image
    other = ig.generate("a lighthouse", seed=8).image
    assert first.data == again.data
    assert np.abs(_pixels(first) - _pixels(other)).max() > 10


def test_image_k_of_a_seeded_request_is_the_picture_of_seed_plus_k(ig: Any) -> None:
    pair = ig.generate("a boat", n=2, seed=20)
    assert _same_picture(pair.images[1], ig.generate("a boat", seed=21).image)
    assert not _same_picture(pair.images[0], pair.images[1])


def test_unseeded_requests_differ_and_report_their_seeds(ig: Any) -> None:
    a = ig.generate("a boat")
    b = ig.generate("a boat")
    assert a.raw["seeds"] != b.raw["seeds"]
    assert ig.generate("a boat", seed=a.raw["seeds"][0]).image.data == a.image.data


def test_concurrent_same_size_requests_share_one_pipeline_call(ig: Any) -> None:
    engine = _engine(ig)
    results: dict[int, Any] = {}

    def call(i: int) -> None:
        results[i] = ig.generate(f"picture {i}", seed=100 + i)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    before = engine.batches
    with engine.hold():  # queue all eight before the engine takes any
        for thread in threads:
            thread.start()
        assert engine.wait_pending(8, timeout=60)
    for thread in threads:
        thread.join(120)
    assert engine.batches - before == 1
    assert engine.largest_batch == 8
    for i in range(8):
        solo = ig.generate(f"picture {i}", seed=100 + i).image
        assert _same_picture(results[i].image, solo), i


def test_different_sizes_are_not_batched_together(ig: Any) -> None:
    engine = _engine(ig)
    results: list[Any] = []
    sizes = ["32x32", "48x32", "32x32"]
    threads = [
        threading.Thread(target=lambda s=s: results.append(ig.generate("x", size=s, seed=1)))
        for s in sizes
    ]
    before = engine.batches
    with engine.hold():
        for thread in threads:
            thread.start()
        assert engine.wait_pending(3, timeout=60)
    for thread in threads:
        thread.join(120)
    assert engine.batches - before == 2
    assert sorted(r.image.to_pil().size for r in results) == [(32, 32), (32, 32), (48, 32)]


def _png(picture: Any) -> Image:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return Image(data=buffer.getvalue())


def test_edit_runs_image_to_image_at_the_input_size(tiny_sd_path: Path) -> None:  # noqa: F811
    ig = genkit.images.load(f"huggingface:{tiny_sd_path}", steps=4)  # no default size
    source = ig.generate("a house", size="48x32", seed=3).image
    result = ig.edit(source, "the house at night", seed=4)
    assert result.raw["pipeline"] == "StableDiffusionImg2ImgPipeline"
    assert result.image.to_pil().size == (48, 32)
    assert ig.edit(source, "the house at night", seed=4).image.data == result.image.data
    resized = ig.edit(source, "the house at night", seed=4, size="32x32")
    assert resized.image.to_pil().size == (32, 32)


def test_edit_with_a_mask_inpaints(ig: Any) -> None:
    source = ig.generate("a house", seed=3).image
    mask = PIL.new("L", (32, 32), 0)
    mask.paste(255, (8, 8, 24, 24))
    result = ig.edit(source, "a door", mask=_png(mask), seed=5, steps=4, n=2)
    assert result.raw["pipeline"] == "StableDiffusionInpaintPipeline"
    assert [image.to_pil().size for image in result.images] == [(32, 32), (32, 32)]


def test_edit_of_a_non_image_is_refused(ig: Any) -> None:
    with pytest.raises(InvalidParameterError, match="image"):
        ig.edit(b"not an image", "a door")


@pytest.mark.parametrize("size", ["30x32", "32x33", "0x32"])
def test_bad_size_refused_before_anything_runs(ig: Any, size: str) -> None:
    engine = _engine(ig)
    before = engine.batches
    with pytest.raises(InvalidParameterError, match="size"):
        ig.generate("a fox", size=size)
    assert engine.batches == before


def test_bad_values_refused_before_anything_runs(ig: Any) -> None:
    engine = _engine(ig)
    before = engine.batches
    with pytest.raises(InvalidParameterError, match="steps"):
        ig.generate("a fox", steps=0)
    with pytest.raises(InvalidParameterError, match="num_inference_steps"):
        ig.generate("a fox", provider_options={"num_inference_steps": 3})
    with pytest.raises(InvalidParameterError, match="quality"):
        ig.generate("a fox", quality="hd")
    assert engine.batches == before


def test_progress_bar_only_when_asked_off_a_terminal(ig: Any, capfd: Any) -> None:
    ig.generate("a fox", seed=1)
    assert "2/2" not in capfd.readouterr().err  # pytest's stderr is not a terminal
    ig.generate("a fox", seed=1, progress=True)
    assert "2/2" in capfd.readouterr().err


def test_loaded_once_per_model_device_and_dtype(tiny_sd_path: Path) -> None:  # noqa: F811
    a = genkit.images.load(f"huggingface:{tiny_sd_path}").backend
    b = genkit.images.load(f"hf:{tiny_sd_path}/", device="cpu").backend
    assert isinstance(a, DiffusersBackend)
    assert isinstance(b, DiffusersBackend)
    assert a.loaded is b.loaded
    assert a.engine is b.engine
    assert str(a.dtype) == "torch.float32"
    assert a.device.type == "cpu"


def test_bad_dtype_names_the_setting(tiny_sd_path: Path, monkeypatch: Any) -> None:  # noqa: F811
    monkeypatch.setenv("GENKIT_DTYPE", "float8")
    with pytest.raises(InvalidParameterError, match="dtype"):
        genkit.images.load(f"huggingface:{tiny_sd_path}")


def test_missing_models_fail_at_once(tmp_path: Path) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    with pytest.raises(ModelNotFoundError, match="no-such/diffusion-model"):
        genkit.images.load("huggingface:no-such/diffusion-model")
    with pytest.raises(ModelNotFoundError, match=r"model_index\.json"):
        genkit.images.load(f"huggingface:{tmp_path}")


def test_timeout_gives_up_and_the_engine_keeps_serving(ig: Any) -> None:
    with pytest.raises(genkit.TimeoutError):
        ig.generate("slow", steps=500, size="256x256", timeout=0.2, max_retries=0)
    assert _engine(ig).wait_idle(60)  # the abandoned batch stopped at its next step
    assert len(ig.generate("fast", seed=1).images) == 1


async def test_async_generate_batches_concurrent_tasks(ig: Any) -> None:
    engine = _engine(ig)
    before = engine.batches
    with engine.hold():
        tasks = [asyncio.ensure_future(ig.agenerate(f"p{i}", seed=i)) for i in range(4)]
        await asyncio.to_thread(engine.wait_pending, 4, 60)
    results = await asyncio.gather(*tasks)
    assert engine.batches - before == 1
    assert [r.raw["seeds"] for r in results] == [[0], [1], [2], [3]]
    assert (await ig.agenerate("p2", seed=2)).image.data == ig.generate("p2", seed=2).image.data


async def test_cancelled_task_stops_its_batch_and_the_engine_keeps_serving(ig: Any) -> None:
    engine = _engine(ig)
    task = asyncio.ensure_future(ig.agenerate("slow", steps=500, size="256x256"))
    assert await asyncio.to_thread(engine.wait_busy, 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(engine.wait_idle, 60)
    assert len((await ig.agenerate("after", seed=1)).images) == 1


_EXIT_SCRIPT = """
import sys, threading
import genkit.images

ig = genkit.images.load(sys.argv[1], size=sys.argv[2], steps=int(sys.argv[3]))
engine = ig.backend.engine

def call():
    try:
        ig.generate("in flight", max_retries=0)
        print("finished", flush=True)
    except Exception as exc:
        print(type(exc).__name__, exc, flush=True)

thread = threading.Thread(target=call, daemon=sys.argv[4] == "daemon")
if thread.daemon:  # inside torch, hundreds of steps from the end, when main returns
    thread.start()
    assert engine.wait_busy(120)
else:  # queued or running when main returns: Python waits for the thread
    with engine.hold():
        thread.start()
        assert engine.wait_pending(1, 120)
print("in flight", flush=True)
"""


@pytest.mark.parametrize(
    ("mode", "size", "steps"), [("daemon", "256x256", "500"), ("non-daemon", "32x32", "4")]
)
def test_process_exits_cleanly_with_a_request_in_flight(
    tiny_sd_path: Path,  # noqa: F811
    mode: str,
    size: str,
    steps: str,
) -> None:
    """A daemon caller's batch stops at its next step; a non-daemon caller gets its image.

    Without the engine's exit hook the daemon case aborts in torch's C++ teardown
    ("terminate called without an active exception", status -6).
    """
    done = subprocess.run(
        [sys.executable, "-c", _EXIT_SCRIPT, f"huggingface:{tiny_sd_path}", size, steps, mode],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "in flight" in done.stdout
    assert "terminate called" not in done.stderr
    assert "Traceback" not in done.stderr
    assert "Loading pipeline components" not in done.stderr  # stderr is no terminal: no bars
    assert "it/s]" not in done.stderr
    if mode == "non-daemon":
        assert "finished" in done.stdout


def test_images_example_runs_on_the_local_backend(
    tiny_sd_path: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "images.py"
    model = f"huggingface:{tiny_sd_path}"
    done = subprocess.run(
        [sys.executable, str(example), str(tmp_path)],
        env={**os.environ, "GENKIT_IMAGE_MODEL": model, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[0] == f"model: {model}"
    for name in ("lighthouse.png", "lighthouse-moon.png", "fox.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), name
    assert "0 preview(s)" in done.stdout


def test_turbo_models_default_to_one_step_without_guidance(
    tiny_sd_path: Path,  # noqa: F811
    tmp_path: Path,
    capfd: Any,
) -> None:
    turbo = tmp_path / "sd-turbo"
    shutil.copytree(tiny_sd_path, turbo)
    ig = genkit.images.load(f"huggingface:{turbo}", size="32x32")
    capfd.readouterr()
    ig.generate("a fox", seed=1, progress=True)
    assert "1/1" in capfd.readouterr().err  # one denoising step: the table's default
    ig.generate("a fox", seed=1, steps=3, progress=True)
    assert "3/3" in capfd.readouterr().err  # the caller's steps still win
