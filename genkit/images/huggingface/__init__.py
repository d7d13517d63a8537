"""Local image generation with diffusers: ``huggingface:stabilityai/sd-turbo`` (alias ``hf:``).

The model is a hub id or a local diffusers directory (``save_pretrained`` output), loaded
through ``AutoPipelineForText2Image.from_pretrained`` once per process, per device and
dtype, with the text backend's rules: the best device (CUDA, then Apple MPS, then CPU) in
the best dtype for it (float32 on CPU), unless ``device=``/``dtype=`` or
``$GENKIT_DEVICE``/``$GENKIT_DTYPE`` say otherwise.  ``edit()`` runs the image-to-image
pipeline, or the inpainting one when a mask is given, both built from the same weights.

One engine thread per pipeline runs every call, batching concurrent requests of the same
size, steps and guidance into one pipeline call; each image still gets its own
``torch.Generator``, so ``seed=s`` gives the same picture alone or in a batch, on one device
(image ``k`` of a request uses seed ``s + k``; unseeded requests get random seeds, listed in
``result.raw["seeds"]``).  Unset steps and guidance take the pipeline's defaults, except for
distilled "turbo" models (1 step, no guidance).  A progress bar is drawn only on a terminal,
unless ``progress=True``/``False`` says otherwise.

Load options: ``device``, ``dtype``, ``max_batch_size`` (images per pipeline call, 8),
and ``progress`` (per call too).  ``provider_options`` are extra pipeline arguments
(``strength`` for edits, ``eta``, ``clip_skip``, ...).
Needs ``pip install 'genkit-sdk[images,local]'``.
"""

from __future__ import annotations

from genkit.images.huggingface._backend import CAPABILITIES, MODEL_DEFAULTS, DiffusersBackend

__all__ = ["CAPABILITIES", "MODEL_DEFAULTS", "DiffusersBackend"]
