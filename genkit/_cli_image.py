"""``genkit image PROMPT -o FILE``: draw (or edit) an image from the shell.

    genkit image "a lighthouse at dusk" -o lighthouse.png
    genkit image -m openai:gpt-image-2 --size 1536x1024 -n 2 "a fox" -o fox.png  # + fox-2.png
    genkit image --edit photo.png --mask mask.png "add a hat" -o hat.png

Kept apart from :mod:`genkit.cli` so the text command stays as it was; errors, exit
status and the one-line messages are the same (``genkit.cli.main`` handles them).
The paths written go to stdout, one per line (or one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["image_command", "output_paths"]


def build_image_parser(
    prog: str, parser_cls: type[argparse.ArgumentParser]
) -> argparse.ArgumentParser:
    parser = parser_cls(
        prog=f"{prog} image",
        description="Generate an image with any image model genkit supports and save it. "
        "The prompt is the arguments, else stdin.",
    )
    parser.add_argument("prompt", nargs="*", help="what to draw; default: stdin")
    parser.add_argument(
        "-o", "--output", required=True, help="file to write (n > 1: FILE, FILE-2, ...)"
    )
    parser.add_argument(
        "-m",
        "--model",
        help="provider:model, e.g. openai:gpt-image-2 (default: $GENKIT_IMAGE_MODEL, "
        "else huggingface:stabilityai/sd-turbo)",
    )
    parser.add_argument("--edit", metavar="IMAGE", help="edit this image file instead")
    parser.add_argument("--mask", metavar="MASK", help="with --edit: where to change")
    parser.add_argument("-n", type=int, help="number of images")
    parser.add_argument("--size", help="WIDTHxHEIGHT, or for Gemini a ratio and/or 1K/2K/4K")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--negative-prompt", help="what the image must not show (local)")
    parser.add_argument("--steps", type=int, help="denoising steps (local)")
    parser.add_argument("--guidance", type=float, help="guidance scale (local)")
    parser.add_argument("--quality", help="e.g. low, medium, high (OpenAI)")
    parser.add_argument("--output-format", help="png, jpeg or webp where the model offers them")
    parser.add_argument("--timeout", type=float, help="seconds per attempt")
    parser.add_argument("--max-retries", type=int, help="retries after the first attempt")
    parser.add_argument(
        "--drop-unsupported",
        action="store_true",
        help="drop parameters the model does not take (a warning on stderr) instead of failing",
    )
    parser.add_argument("--json", action="store_true", help="print files, usage, model as JSON")
    return parser


def output_paths(output: str, count: int) -> list[Path]:
    """``out.png`` for one image; ``out.png, out-2.png, ...`` for several."""
    first = Path(output)
    return [first] + [
        first.with_name(f"{first.stem}-{i}{first.suffix}") for i in range(2, count + 1)
    ]


def image_command(
    args: Sequence[str], prog: str, parser_cls: type[argparse.ArgumentParser], read_stdin: Any
) -> int:
    options = build_image_parser(prog, parser_cls).parse_args(args)
    prompt = " ".join(options.prompt) if options.prompt else read_stdin()
    import genkit.images
    from genkit.parts import Image

    params: dict[str, Any] = {
        name: getattr(options, name)
        for name in (
            "n",
            "size",
            "seed",
            "negative_prompt",
            "steps",
            "guidance",
            "quality",
            "output_format",
            "timeout",
            "max_retries",
        )
        if getattr(options, name) is not None
    }
    if options.mask and not options.edit:
        parser_cls(prog=f"{prog} image").error("--mask needs --edit IMAGE")
    with genkit.images.load(
        options.model, drop_unsupported=options.drop_unsupported or None
    ) as generator:
        if options.edit:
            mask = Image.from_file(options.mask) if options.mask else None
            result = generator.edit(Image.from_file(options.edit), prompt, mask, **params)
        else:
            result = generator.generate(prompt, **params)
    for warning in result.warnings:
        print(f"{prog}: warning: {warning}", file=sys.stderr)
    paths = output_paths(options.output, len(result.images))
    for path, picture in zip(paths, result.images, strict=True):
        picture.save(path)
    if options.json:
        doc = {
            "files": [str(p) for p in paths],
            "media_types": [p.media_type for p in result.images],
            "text": result.text,
            "usage": {
                "input_tokens": result.usage.input_tokens,
                "output_tokens": result.usage.output_tokens,
            },
            "model": result.model,
            "provider": result.provider,
            "warnings": result.warnings,
        }
        print(json.dumps(doc))
    else:
        for path in paths:
            print(path)
    sys.stdout.flush()
    return 0
