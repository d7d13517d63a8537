"""Draw, edit and stream images with whichever model $GENKIT_IMAGE_MODEL names.

    GENKIT_IMAGE_MODEL=openai:gpt-image-2 python examples/images.py out/
    GENKIT_IMAGE_MODEL=gemini:gemini-2.5-flash-image python examples/images.py out/
    python examples/images.py out/          # the local default, huggingface:stabilityai/sd-turbo

The same code runs on every image backend: what a model can do (edit, previews) is
read from its capabilities, not from its name.
"""

import asyncio
import sys
from pathlib import Path

import genkit.images
from genkit.images import ImagePreview


async def main(out: Path) -> None:
    ig = genkit.images.load()
    print(f"model: {ig.provider}:{ig.model}")

    result = ig.generate("a lighthouse on a cliff at dusk, oil painting")
    result.image.save(out / "lighthouse.png")
    print(
        f"generate: {len(result.images)} image(s), {result.image.media_type}, usage={result.usage}"
    )
    if result.text:
        print(f"  the model said: {result.text.strip()}")

    if ig.capabilities.edit:
        edited = await ig.aedit(result.image, "add a full moon in the sky")
        edited.image.save(out / "lighthouse-moon.png")
        print(f"aedit: {edited.image.media_type}")

    previews = 0
    for item in ig.stream("a red fox in the snow"):
        if isinstance(item, ImagePreview):
            previews += 1
        else:
            item.image.save(out / "fox.png")
            print(f"stream: {previews} preview(s), then the final image")
    ig.close()


OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "genkit-images")
OUT.mkdir(parents=True, exist_ok=True)
asyncio.run(main(OUT))
