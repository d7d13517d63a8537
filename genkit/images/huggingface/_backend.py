"""The diffusers backend: turns an :class:`ImageRequest` into an engine job and back."""

from __future__ import annotations

import asyncio
import io
import random
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from genkit.backends.base import BackendSettings
from genkit.backends.huggingface._backend import _deadline, _LoopWaker, _timeout
from genkit.backends.huggingface._device import resolve_device, resolve_dtype
from genkit.backends.huggingface._jobs import freeze
from genkit.errors import InvalidParameterError
from genkit.images._spec import (
    ImageBackend,
    ImageCapabilityTable,
    ImageGeneration,
    ImageModelCapabilities,
    ImageRequest,
)
from genkit.images.huggingface._deps import PROVIDER, PILImage
from genkit.images.huggingface._engine import Engine, ImageJob, engine_for
from genkit.images.huggingface._loading import (
    LoadedPipeline,
    PipelineKey,
    load_pipeline,
    model_source,
)
from genkit.parts import Image

__all__ = ["CAPABILITIES", "MODEL_DEFAULTS", "DiffusersBackend", "StepDefaults"]

#: Every local pipeline takes the same parameters; sides must be multiples of 8 (the VAE's
#: downscaling factor), and at most 16 images per request.
CAPABILITIES = ImageCapabilityTable(
    [],
    default=ImageModelCapabilities(
        parameters=frozenset(
            {"n", "size", "seed", "negative_prompt", "steps", "guidance", "output_format"}
        ),
        max_n=16,
        size_multiple=8,
        output_formats=frozenset({"png", "jpeg", "webp"}),
        edit=True,
        stream=False,
    ),
)


@dataclass(frozen=True, slots=True)
class StepDefaults:
    """Steps and guidance for models whose pipeline defaults (50 steps, CFG 7.5) are wrong."""

    steps: int | None = None
    guidance: float | None = None


#: Distilled one-step models ("turbo") are trained for 1 step without classifier-free
#: guidance; first matching glob (on the hub id's last part, lower case) wins.
MODEL_DEFAULTS: tuple[tuple[str, StepDefaults], ...] = (
    ("sd-turbo", StepDefaults(steps=1, guidance=0.0)),
    ("sdxl-turbo", StepDefaults(steps=1, guidance=0.0)),
)

_FORMATS: Mapping[str, tuple[str, str]] = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "jpg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}

#: Pipeline arguments genkit sets itself: the parameter to use instead, or why.
_RESERVED_OPTIONS: Mapping[str, str] = {
    "prompt": "pass the prompt",
    "negative_prompt": "use negative_prompt",
    "height": "use size",
    "width": "use size",
    "num_inference_steps": "use steps",
    "guidance_scale": "use guidance",
    "num_images_per_prompt": "use n",
    "generator": "use seed",
    "image": "use edit(image, ...)",
    "mask_image": "use edit(..., mask=)",
    "output_type": "use output_format",
    "return_dict": "genkit reads the images itself",
    "callback_on_step_end": "genkit uses it to stop cancelled requests",
    "prompt_embeds": "pass the prompt",
    "negative_prompt_embeds": "use negative_prompt",
}

#: Images per pipeline call unless ``max_batch_size=`` says otherwise.
_BATCH = 8
_seeds = random.SystemRandom()


class DiffusersBackend(ImageBackend):
    """Local diffusion models through diffusers: ``huggingface:stabilityai/sd-turbo``."""

    provider = PROVIDER
    capabilities = CAPABILITIES
    load_options = frozenset({"device", "dtype", "max_batch_size"})

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        options = settings.options
        device = resolve_device(options)
        dtype = resolve_dtype(options, device)
        key = PipelineKey(
            source=model_source(model),
            device=str(device),
            dtype=str(dtype).removeprefix("torch."),
        )
        batch = _batch_size(options, _BATCH)
        #: The shared pipeline and facts about it.
        self.loaded: LoadedPipeline = load_pipeline(key, model)
        #: The shared engine thread that runs every call on this pipeline.
        self.engine: Engine = engine_for(self.loaded, batch)
        short = model.rstrip("/").rsplit("/", 1)[-1].lower()
        self._defaults = next(
            (found for pattern, found in MODEL_DEFAULTS if fnmatchcase(short, pattern)),
            StepDefaults(),
        )

    @property
    def device(self) -> Any:
        return self.loaded.device

    @property
    def dtype(self) -> Any:
        return self.loaded.dtype

    # ------------------------------------------------------------------ calls

    def generate(self, request: ImageRequest) -> ImageGeneration:
        job, seeds = self._job(request)
        self.engine.submit(job)
        try:
            if not job.completed.wait(request.timeout):
                raise _timeout(request.timeout)
        finally:
            job.cancel()  # a no-op once done; stops the work if the caller gave up
        return self._result(job, request, seeds)

    async def agenerate(self, request: ImageRequest) -> ImageGeneration:
        job, seeds = self._job(request)
        waker = _LoopWaker(asyncio.get_running_loop(), request.timeout)
        job.notify = waker
        deadline = _deadline(request.timeout)
        self.engine.submit(job)
        try:
            while not job.done:
                await waker.wait(deadline)
        finally:
            job.cancel()
        if job.error is not None:
            raise job.error
        # Encoding a large PNG takes tens of milliseconds: not on the event loop.
        return await asyncio.to_thread(self._result, job, request, seeds)

    def close(self) -> None:
        """Nothing to release: the pipeline stays loaded for other generators in this process."""

    # ------------------------------------------------------------------ requests

    def _job(self, request: ImageRequest) -> tuple[ImageJob, list[int]]:
        if not request.prompt.strip():
            raise InvalidParameterError("prompt", "is empty", provider=PROVIDER)
        if request.n < 1:
            raise InvalidParameterError("n", f"got {request.n}", provider=PROVIDER, allowed=">= 1")
        arguments: dict[str, Any] = {}
        mode = "text2img"
        image = mask = None
        size = request.size
        if size is not None:
            _check_size(size)
        if request.image is not None:
            mode = "inpaint" if request.mask is not None else "img2img"
            image = _pil(request.image, "image").convert("RGB")
            if size is None:
                size = (image.width // 8 * 8, image.height // 8 * 8)
                _check_size(size)
            if image.size != size:
                image = image.resize(size)
            if request.mask is not None:
                mask = _pil(request.mask, "mask").convert("L")
                if mask.size != size:
                    mask = mask.resize(size)
        elif request.mask is not None:
            raise InvalidParameterError(
                "mask",
                "a mask needs an image to edit",
                provider=PROVIDER,
                allowed="edit(image, prompt, mask=)",
            )
        if size is not None and mode != "img2img":  # img2img draws at the input image's size
            arguments["width"], arguments["height"] = size
        steps = request.steps if request.steps is not None else self._defaults.steps
        if steps is not None:
            if steps < 1:
                raise InvalidParameterError(
                    "steps", f"got {steps}", provider=PROVIDER, allowed=">= 1"
                )
            arguments["num_inference_steps"] = steps
        guidance = request.guidance if request.guidance is not None else self._defaults.guidance
        if guidance is not None:
            if guidance < 0:
                raise InvalidParameterError(
                    "guidance", f"got {guidance}", provider=PROVIDER, allowed=">= 0"
                )
            arguments["guidance_scale"] = float(guidance)
        if request.output_format is not None and request.output_format.lower() not in _FORMATS:
            raise InvalidParameterError(
                "output_format",
                f"got {request.output_format!r}",
                provider=PROVIDER,
                allowed="png, jpeg, webp",
            )
        for name in request.provider_options:
            why = _RESERVED_OPTIONS.get(name)
            if why is not None:
                raise InvalidParameterError(
                    f"provider_options[{name!r}]", f"set by genkit: {why}", provider=PROVIDER
                )
        arguments.update(request.provider_options)
        if request.seed is not None:
            seeds = [request.seed + k for k in range(request.n)]
        else:
            seeds = [_seeds.getrandbits(63) for _ in range(request.n)]
        progress = request.progress
        if progress is None:
            progress = sys.stderr.isatty()
        edit_size = image.size if image is not None else None
        job = ImageJob(
            mode=mode,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            seeds=seeds,
            arguments=arguments,
            batch_key=(mode, edit_size, freeze(arguments)),
            image=image,
            mask=mask,
            progress=bool(progress),
        )
        return job, seeds

    def _result(self, job: ImageJob, request: ImageRequest, seeds: list[int]) -> ImageGeneration:
        if job.error is not None:
            raise job.error
        fmt = (request.output_format or "png").lower()
        pil_format, media_type = _FORMATS[fmt]
        images = []
        for picture in job.images:
            buffer = io.BytesIO()
            picture.save(buffer, format=pil_format)
            images.append(Image(data=buffer.getvalue(), media_type=media_type))
        return ImageGeneration(
            images=images,
            model=self.model,
            provider=PROVIDER,
            raw={"seeds": seeds, "pipeline": type(self.loaded.pipeline(job.mode)).__name__},
        )


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width < 8 or height < 8 or width % 8 or height % 8:
        raise InvalidParameterError(
            "size",
            f"{width}x{height} is not a multiple of 8 on each side",
            provider=PROVIDER,
            allowed="WIDTHxHEIGHT with both sides multiples of 8, e.g. 512x512",
        )


def _pil(image: Any, parameter: str) -> Any:
    if not isinstance(image, Image) or image.data is None:
        raise InvalidParameterError(
            parameter,
            f"expected a genkit.Image with data, got {type(image).__name__}",
            provider=PROVIDER,
            allowed="genkit.Image(data=...) or genkit.Image.from_file(path)",
        )
    try:
        picture = PILImage.open(io.BytesIO(image.data))
        picture.load()
    except (OSError, ValueError) as exc:
        raise InvalidParameterError(
            parameter, f"Pillow cannot read it ({exc})", provider=PROVIDER
        ) from exc
    return picture


def _batch_size(options: Mapping[str, Any], default: int) -> int:
    value = options.get("max_batch_size")
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(
            "max_batch_size", f"got {value!r}", provider=PROVIDER, allowed="an integer >= 1"
        )
    return value
