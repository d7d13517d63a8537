"""The one place the local image backend imports torch, diffusers and Pillow.

Importing them here first turns a missing install into genkit's
:class:`~genkit.errors.MissingDependencyError` naming the ``pip install`` to run, instead of a
bare ``ImportError`` from inside diffusers.  torch and transformers come with the ``local``
extra (the text backend needs them too); diffusers and Pillow with ``images``.
"""

from __future__ import annotations

from genkit.errors import MissingDependencyError

PROVIDER = "huggingface"

try:
    import torch
    import transformers  # noqa: F401 - Stable Diffusion's text encoder and tokenizer
except ImportError as exc:  # pragma: no cover - exercised only without the extras installed
    raise MissingDependencyError(PROVIDER, exc.name or "torch", "images,local") from exc
try:
    import diffusers
    import PIL.Image as PILImage
except ImportError as exc:  # pragma: no cover - exercised only without the extra installed
    raise MissingDependencyError(PROVIDER, exc.name or "diffusers", "images") from exc

__all__ = ["PROVIDER", "PILImage", "diffusers", "torch"]
