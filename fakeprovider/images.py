"""Image routes: OpenAI ``/v1/images/generations`` and ``/v1/images/edits``, Gemini image output.

OpenAI's image endpoints answer ``ImagesResponse`` JSON (always ``b64_json``) or, with
``stream=true``, ``image_generation.partial_image`` events then one
``image_generation.completed`` per image (``image_edit.*`` for edits).  Edits arrive as
``multipart/form-data``; :func:`parse_multipart` turns them into a dict like a JSON
body (files as ``{"filename", "content_type", "data"}``, numbers as ints) so the same
validation, scripting and recording apply.  Gemini draws through ``generateContent``:
a request whose ``responseModalities`` include ``IMAGE`` gets an ``inlineData`` PNG
part after the text (:func:`add_gemini_images`).

Scripted replies work on these routes as on chat: ``Reply.error`` renders OpenAI's
error body, the transport faults cut these bodies, and ``Reply.raw`` replays a
recorded body verbatim.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from .errors import ErrorSpec, openai_error_object
from .sse import SseEvent
from .textplan import TextPlan

IMAGE_PATHS = frozenset({"/v1/images/generations", "/v1/images/edits"})
EDIT_PATHS = frozenset({"/v1/images/edits"})
_INT_FIELDS = ("n", "partial_images", "output_compression")
_SIZES = frozenset({"auto", "1024x1024", "1536x1024", "1024x1536", "256x256", "512x512"})


def _png(width: int = 1, height: int = 1, rgb: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    """A valid PNG of one colour, built with the stdlib (no Pillow in the fake)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


#: The fake's picture: a 2x2 PNG, small enough to keep bodies readable.
PNG = _png(2, 2)
PNG_B64 = base64.b64encode(PNG).decode()
#: A blurrier preview, different bytes from the final image.
PREVIEW_B64 = base64.b64encode(_png(1, 1, (90, 90, 90))).decode()


def parse_multipart(content_type: str, raw: bytes) -> dict[str, Any] | None:
    """A ``multipart/form-data`` body as a dict; repeated names (``image[]``) become lists."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    if not message.is_multipart():
        return None
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        value: Any
        if filename is not None:
            value = {"filename": filename, "content_type": part.get_content_type(), "data": data}
        else:
            value = data.decode("utf-8", "replace")
        key = name[:-2] if name.endswith("[]") else name
        if key in fields:
            existing = fields[key]
            fields[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        elif name.endswith("[]"):
            fields[key] = [value]
        else:
            fields[key] = value
    for key in _INT_FIELDS:
        if isinstance(fields.get(key), str) and fields[key].lstrip("-").isdigit():
            fields[key] = int(fields[key])
    if isinstance(fields.get("stream"), str):
        fields["stream"] = fields["stream"] == "true"
    return fields


def _bad(message: str, param: str | None = None, code: str | None = None) -> ErrorSpec:
    return ErrorSpec(400, message, "invalid_request_error", param=param, code=code)


def validate_openai_images(body: dict[str, Any] | None, path: str) -> ErrorSpec | None:
    """The 400s OpenAI answers for image requests a buggy client would send."""
    if body is None:
        return _bad("We could not parse the body of your request.")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        return _bad("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    if not isinstance(body.get("model", "gpt-image-2"), str):
        return _bad("Invalid type for 'model'.", "model", "invalid_type")
    n = body.get("n", 1)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 10:
        return _bad(f"Invalid 'n': expected 1 to 10, got {n!r}.", "n", "invalid_value")
    if "response_format" in body:
        return _bad("Unknown parameter: 'response_format'.", "response_format", "unknown_parameter")
    size = body.get("size", "auto")
    if not isinstance(size, str) or (size not in _SIZES and "x" not in size):
        return _bad(f"Invalid size {size!r}.", "size", "invalid_value")
    if path in EDIT_PATHS:
        image = body.get("image")
        files = image if isinstance(image, list) else [image]
        if not files or not all(isinstance(f, dict) and f.get("data") for f in files):
            return _bad(
                "Missing required parameter: 'image'.", "image", "missing_required_parameter"
            )
        if "mask" in body and not isinstance(body["mask"], dict):
            return _bad("Invalid 'mask': expected a file.", "mask", "invalid_type")
    return None


def _usage(plan: TextPlan, n: int) -> dict[str, Any]:
    return {
        "input_tokens": plan.input_tokens,
        "input_tokens_details": {"image_tokens": 0, "text_tokens": plan.input_tokens},
        "output_tokens": 272 * n,
        "output_tokens_details": {"image_tokens": 272 * n, "text_tokens": 0},
        "total_tokens": plan.input_tokens + 272 * n,
    }


def _n(body: dict[str, Any] | None) -> int:
    n = (body or {}).get("n", 1)
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def render_images_json(plan: TextPlan, body: dict[str, Any] | None) -> dict[str, Any]:
    """``ImagesResponse``: ``n`` base64 PNGs and token usage, as GPT image models answer."""
    body = body or {}
    n = _n(body)
    return {
        "created": plan.created,
        "background": "opaque",
        "data": [{"b64_json": PNG_B64} for _ in range(n)],
        "output_format": body.get("output_format", "png"),
        "quality": body.get("quality", "medium"),
        "size": body.get("size", "1024x1024"),
        "usage": _usage(plan, n),
    }


def render_images_stream(
    plan: TextPlan, body: dict[str, Any] | None, cut: int | None, *, edit: bool
) -> list[SseEvent]:
    """``partial_images`` previews per image, then its completed event; ``cut`` keeps that
    many events and drops the rest."""
    body = body or {}
    prefix = "image_edit" if edit else "image_generation"
    partial = body.get("partial_images", 0)
    partial = partial if isinstance(partial, int) and 0 <= partial <= 3 else 0
    common = {
        "background": "opaque",
        "created_at": plan.created,
        "output_format": body.get("output_format", "png"),
        "quality": body.get("quality", "medium"),
        "size": body.get("size", "1024x1024"),
    }
    events: list[SseEvent] = []
    for _ in range(_n(body)):
        for index in range(partial):
            event = {
                "type": f"{prefix}.partial_image",
                "b64_json": PREVIEW_B64,
                "partial_image_index": index,
                **common,
            }
            events.append(SseEvent(json.dumps(event), event=event["type"]))
        done = {
            "type": f"{prefix}.completed",
            "b64_json": PNG_B64,
            "usage": _usage(plan, 1),
            **common,
        }
        events.append(SseEvent(json.dumps(done), event=done["type"]))
    return events if cut is None else events[:cut]


def images_stream_error_event(spec: ErrorSpec) -> SseEvent:
    return SseEvent(json.dumps({"type": "error", "error": openai_error_object(spec)}), "error")


def images_malformed_event() -> SseEvent:
    return SseEvent('{"type":"image_generation.partial_image","b64_json":"iVBO', None)


class ImagesRenderer:
    """The responder's renderer interface for OpenAI's image endpoints."""

    def __init__(self, body: dict[str, Any] | None, edit: bool) -> None:
        self.body = body
        self.edit = edit

    def render_json(self, plan: TextPlan) -> dict[str, Any]:
        return render_images_json(plan, self.body)

    def render_stream(
        self, plan: TextPlan, body: dict[str, Any] | None, cut: int | None
    ) -> list[SseEvent]:
        return render_images_stream(plan, body, cut, edit=self.edit)

    def stream_error_event(self, spec: ErrorSpec) -> SseEvent:
        return images_stream_error_event(spec)

    def malformed_event(self) -> SseEvent:
        return images_malformed_event()


# ---------------------------------------------------------------------- Gemini


def wants_gemini_image(body: dict[str, Any] | None) -> bool:
    config = (body or {}).get("generationConfig") or (body or {}).get("generation_config") or {}
    modalities = config.get("responseModalities") or config.get("response_modalities") or []
    return isinstance(modalities, list) and "IMAGE" in modalities


def add_gemini_images(doc: dict[str, Any]) -> dict[str, Any]:
    """Append an ``inlineData`` PNG part to every candidate, as the image models answer."""
    for candidate in doc.get("candidates") or []:
        content = candidate.setdefault("content", {"role": "model", "parts": []})
        content.setdefault("parts", []).append(
            {"inlineData": {"mimeType": "image/png", "data": PNG_B64}}
        )
    return doc
