"""Where a local model runs and in which precision: load option, then env var, then the hardware.

Read once per ``genkit.load()``.  The automatic choice favours what is fastest on each
device: bfloat16 on CUDA (float16 where the GPU lacks bf16), float16 on Apple MPS, and
float32 on CPU, where half precision is slower and less accurate.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from genkit.backends.huggingface._deps import PROVIDER, torch
from genkit.errors import ConfigurationError, InvalidParameterError

__all__ = ["DTYPE_NAMES", "resolve_device", "resolve_dtype"]

#: Spellings accepted for ``dtype=`` / ``GENKIT_DTYPE`` ("auto" picks per device).
DTYPE_NAMES: Mapping[str, Any] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


def _setting(options: Mapping[str, Any], name: str, env: str) -> Any:
    """The option, else the env var; names in any case ("CUDA", "Float16"), "auto" as None."""
    value = options.get(name)
    if value is None:
        value = os.environ.get(env)
    if isinstance(value, str):
        value = value.strip().lower() or None
    return None if value == "auto" else value


def resolve_device(options: Mapping[str, Any]) -> Any:
    """``device=`` or ``$GENKIT_DEVICE`` ("cpu", "cuda", "cuda:1", "mps"), else CUDA, MPS, CPU."""
    wanted = _setting(options, "device", "GENKIT_DEVICE")
    if wanted is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(wanted)
    except (RuntimeError, TypeError) as exc:
        raise InvalidParameterError(
            "device",
            f"not a torch device: {wanted!r}",
            provider=PROVIDER,
            allowed="'auto', 'cpu', 'cuda', 'cuda:N', 'mps' (or $GENKIT_DEVICE)",
        ) from exc
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index or 0) >= count:
            raise ConfigurationError(
                f"device {wanted!r} requested, but this torch ({torch.__version__}) sees "
                f"{count} CUDA GPU(s)"
            )
    if device.type == "mps" and not _mps_available():
        raise ConfigurationError(f"device {wanted!r} requested, but Apple MPS is not available")
    return device


def resolve_dtype(options: Mapping[str, Any], device: Any) -> Any:
    """``dtype=`` or ``$GENKIT_DTYPE`` (a torch dtype or a :data:`DTYPE_NAMES` name), else auto."""
    wanted = _setting(options, "dtype", "GENKIT_DTYPE")
    if wanted is None:
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device.type == "mps":
            return torch.float16
        return torch.float32
    if isinstance(wanted, torch.dtype) and wanted in DTYPE_NAMES.values():
        return wanted
    dtype = DTYPE_NAMES.get(str(wanted).lower().removeprefix("torch."))
    if dtype is None:
        raise InvalidParameterError(
            "dtype",
            f"unknown dtype {wanted!r}",
            provider=PROVIDER,
            allowed="'auto', 'float32', 'float16', 'bfloat16' (or $GENKIT_DTYPE)",
        )
    return dtype


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
