"""Image generation: one :class:`ImageGenerator` over OpenAI, Gemini and local diffusers.

    import genkit.images
    ig = genkit.images.load("openai:gpt-image-2", size="1024x1024")
    ig.generate("a lighthouse at dusk").image.save("lighthouse.png")

The model comes from ``$GENKIT_IMAGE_MODEL`` when not given, else the small local
default ``huggingface:stabilityai/sd-turbo``.  Backends and their SDKs are imported
when a model of that provider is loaded, never with genkit.
"""

from genkit.images._generator import DEFAULT_IMAGE_MODEL, ImageGenerator, load
from genkit.images._spec import ImageGeneration, ImagePreview, ImageRequest
from genkit.parts import Image

__all__ = [
    "DEFAULT_IMAGE_MODEL",
    "Image",
    "ImageGeneration",
    "ImageGenerator",
    "ImagePreview",
    "ImageRequest",
    "load",
]
