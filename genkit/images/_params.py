"""The generic checker for image calls: reads only capability rows, before anything runs.

Every rule here is data from an :class:`~genkit.images._spec.ImageModelCapabilities`
row, so a new model is a new row, never a new ``if``.  Bad input raises
:class:`genkit.InvalidParameterError` naming the parameter, the provider and what is
allowed; a parameter the model does not take raises
:class:`genkit.UnsupportedParameterError`, or is dropped with a warning under
``drop_unsupported``.  Nothing here is retried: none of it reaches a provider.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from genkit.errors import InvalidParameterError, UnsupportedParameterError
from genkit.images._spec import IMAGE_PARAMETERS, ImageModelCapabilities
from genkit.parts import Image

__all__ = ["IMAGE_PARAMETER_ORDER", "check_image", "check_image_parameters", "check_prompt"]

#: The image parameters in the order the signature lists them (for messages).
IMAGE_PARAMETER_ORDER: tuple[str, ...] = (
    "n",
    "size",
    "seed",
    "negative_prompt",
    "steps",
    "guidance",
    "quality",
    "output_format",
)
assert frozenset(IMAGE_PARAMETER_ORDER) == IMAGE_PARAMETERS

_WXH = re.compile(r"\s*(\d{1,6})\s*[xX\u00d7]\s*(\d{1,6})\s*")  # 1024x1024, or with U+00D7
_RATIO = re.compile(r"\d{1,3}:\d{1,3}")
_RESOLUTION = re.compile(r"\d[kK]")
_INT64 = 2**63


def _type_name(value: object) -> str:
    return type(value).__name__


def check_prompt(prompt: object, provider: str) -> str:
    """A non-empty string: an empty prompt costs a request and gets a 400 (or noise)."""
    if not isinstance(prompt, str):
        raise InvalidParameterError(
            "prompt", f"expected a string, got {_type_name(prompt)}", provider=provider
        )
    if not prompt.strip():
        raise InvalidParameterError(
            "prompt", "is empty", provider=provider, allowed="a description of the image"
        )
    return prompt


def check_image(name: str, value: object, provider: str) -> Image:
    """An inline :class:`genkit.Image` (the bytes are uploaded; a URL cannot be edited)."""
    if not isinstance(value, Image):
        raise InvalidParameterError(
            name,
            f"expected a genkit.Image, got {_type_name(value)}",
            provider=provider,
            allowed="genkit.Image.from_file(path) or genkit.Image(data=...)",
        )
    if value.data is None:
        raise InvalidParameterError(
            name,
            "an image given by URL cannot be uploaded",
            provider=provider,
            allowed="an image with data (genkit.Image.from_file(path))",
        )
    return value


def check_image_parameters(
    params: Mapping[str, Any],
    *,
    provider: str,
    model: str,
    caps: ImageModelCapabilities,
    drop_unsupported: bool,
    warnings: list[str],
) -> dict[str, Any]:
    """Checked, normalised values for the parameters given (``None`` values are left out).

    ``size`` comes back as one of ``("size", (w, h))``, ``("aspect_ratio", "16:9")`` and
    ``("resolution", "2K")`` entries, the :class:`ImageRequest` fields it fills.
    """
    checked: dict[str, Any] = {}
    supported = [p for p in IMAGE_PARAMETER_ORDER if p in caps.parameters]
    for name, value in params.items():
        if value is None:
            continue
        if name not in caps.parameters:
            if drop_unsupported:
                warnings.append(f"dropped {name!r}: not supported by {provider}:{model}")
                continue
            raise UnsupportedParameterError(name, provider, model, supported)
        if name == "size":
            checked.update(_size(value, provider, caps))
        else:
            checked[name] = _CHECKS[name](name, value, provider, caps)
    return checked


# ---------------------------------------------------------------------- one parameter each


def _integer(name: str, value: object, provider: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError(
            name,
            f"expected an integer, got {_type_name(value)}",
            provider=provider,
            allowed="an integer",
        )
    return value


def _n(name: str, value: object, provider: str, caps: ImageModelCapabilities) -> int:
    n = _integer(name, value, provider)
    if not 1 <= n <= caps.max_n:
        raise InvalidParameterError(
            name, f"got {n}", provider=provider, allowed=f"1 to {caps.max_n} images per call"
        )
    return n


def _seed(name: str, value: object, provider: str, caps: ImageModelCapabilities) -> int:
    seed = _integer(name, value, provider)
    if not -_INT64 <= seed < _INT64:
        raise InvalidParameterError(
            name, f"got {seed}", provider=provider, allowed="a 64-bit integer"
        )
    return seed


def _steps(name: str, value: object, provider: str, caps: ImageModelCapabilities) -> int:
    steps = _integer(name, value, provider)
    if steps < 1:
        raise InvalidParameterError(name, f"got {steps}", provider=provider, allowed=">= 1")
    return steps


def _guidance(name: str, value: object, provider: str, caps: ImageModelCapabilities) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(
            name,
            f"expected a number, got {_type_name(value)}",
            provider=provider,
            allowed="a finite number >= 0",
        )
    if not math.isfinite(value) or value < 0:
        raise InvalidParameterError(
            name, f"got {value!r}", provider=provider, allowed="a finite number >= 0"
        )
    return float(value)


def _negative_prompt(name: str, value: object, provider: str, caps: ImageModelCapabilities) -> str:
    if not isinstance(value, str):
        raise InvalidParameterError(
            name,
            f"expected a string, got {_type_name(value)}",
            provider=provider,
            allowed="text describing what the image must not show",
        )
    return value


def _choice(allowed: frozenset[str] | None) -> str:
    return ", ".join(sorted(allowed)) if allowed else "none"


def _quality(name: str, value: object, provider: str, caps: ImageModelCapabilities) -> str:
    if not isinstance(value, str) or not caps.qualities or value not in caps.qualities:
        shown = repr(value) if isinstance(value, str) else _type_name(value)
        raise InvalidParameterError(
            name, f"unknown quality {shown}", provider=provider, allowed=_choice(caps.qualities)
        )
    return value


def _output_format(name: str, value: object, provider: str, caps: ImageModelCapabilities) -> str:
    fmt = value.lower() if isinstance(value, str) else value
    if fmt == "jpg":
        fmt = "jpeg"
    if not isinstance(fmt, str) or fmt not in caps.output_formats:
        shown = repr(value) if isinstance(value, str) else _type_name(value)
        raise InvalidParameterError(
            name,
            f"unknown output format {shown}",
            provider=provider,
            allowed=_choice(caps.output_formats),
        )
    return fmt


_CHECKS = {
    "n": _n,
    "seed": _seed,
    "negative_prompt": _negative_prompt,
    "steps": _steps,
    "guidance": _guidance,
    "quality": _quality,
    "output_format": _output_format,
}


# ---------------------------------------------------------------------- size


def _size_rules(caps: ImageModelCapabilities) -> str:
    """What the row allows, in words, for the error message."""
    rules: list[str] = []
    if caps.fixed_sizes:
        rules.append(", ".join(f"{w}x{h}" for w, h in sorted(caps.fixed_sizes)))
    elif caps.size_multiple or caps.max_side or caps.max_pixels:
        words = ["'WIDTHxHEIGHT'"]
        if caps.size_multiple:
            words.append(f"both sides divisible by {caps.size_multiple}")
        if caps.max_side:
            words.append(f"sides at most {caps.max_side}")
        if caps.max_pixels:
            words.append(f"at most {caps.max_pixels} pixels")
        rules.append(", ".join(words))
    if caps.aspect_ratios:
        rules.append("an aspect ratio " + ", ".join(sorted(caps.aspect_ratios)))
    if caps.resolutions:
        rules.append("a resolution " + ", ".join(sorted(caps.resolutions)))
    if caps.aspect_ratios and caps.resolutions:
        rules.append("or both as 'RATIO@RESOLUTION' (e.g. '16:9@2K')")
    return "; ".join(rules) or "no size (the model picks it)"


def _takes_pixels(caps: ImageModelCapabilities) -> bool:
    return bool(caps.fixed_sizes or caps.size_multiple or caps.max_side or caps.max_pixels)


def _size(value: object, provider: str, caps: ImageModelCapabilities) -> dict[str, Any]:
    allowed = _size_rules(caps)
    if isinstance(value, tuple) and len(value) == 2:
        width = _integer("size", value[0], provider)
        height = _integer("size", value[1], provider)
        return {"size": _pixels(width, height, provider, caps, allowed)}
    if not isinstance(value, str):
        raise InvalidParameterError(
            "size",
            f"expected a string like '1024x1024' or a (width, height) tuple, got "
            f"{_type_name(value)}",
            provider=provider,
            allowed=allowed,
        )
    text = value.strip()
    if text.lower() == "auto":
        return {}
    match = _WXH.fullmatch(text)
    if match:
        width, height = int(match.group(1)), int(match.group(2))
        return {"size": _pixels(width, height, provider, caps, allowed)}
    found: dict[str, Any] = {}
    for piece in re.split(r"[@,\s]+", text):
        if _RATIO.fullmatch(piece) and caps.aspect_ratios and piece in caps.aspect_ratios:
            found.setdefault("aspect_ratio", piece)
        elif (
            _RESOLUTION.fullmatch(piece) and caps.resolutions and piece.upper() in caps.resolutions
        ):
            found.setdefault("resolution", piece.upper())
        else:
            found = {}
            break
    if not found:
        raise InvalidParameterError(
            "size",
            f"{value!r:.40} is not a size this model takes",
            provider=provider,
            allowed=allowed,
        )
    return found


def _pixels(
    width: int, height: int, provider: str, caps: ImageModelCapabilities, allowed: str
) -> tuple[int, int]:
    size = (width, height)
    problem = ""
    if not _takes_pixels(caps):
        problem = "this model takes no pixel size"
    elif width < 1 or height < 1:
        problem = "sides must be positive"
    elif caps.fixed_sizes is not None and size not in caps.fixed_sizes:
        problem = "not one of the sizes this model draws"
    elif caps.size_multiple and (width % caps.size_multiple or height % caps.size_multiple):
        problem = f"sides must be divisible by {caps.size_multiple}"
    elif caps.max_side and max(width, height) > caps.max_side:
        problem = f"a side is longer than {caps.max_side}"
    elif caps.max_pixels and width * height > caps.max_pixels:
        problem = f"more than {caps.max_pixels} pixels"
    if problem:
        raise InvalidParameterError(
            "size", f"{width}x{height}: {problem}", provider=provider, allowed=allowed
        )
    return size
