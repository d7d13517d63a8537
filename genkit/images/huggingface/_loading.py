"""Load a diffusers pipeline once per process and derive its editing pipelines from it.

A Stable Diffusion checkpoint costs seconds and gigabytes, and every ImageGenerator naming
the same model, device and dtype can share one copy: the weights are read-only and one
engine thread runs everything on them.  The text-to-image pipeline is loaded through
``AutoPipelineForText2Image.from_pretrained`` (a hub id and a local ``save_pretrained``
directory take the same path); the image-to-image and inpainting pipelines are built from
its components with ``from_pipe`` the first time an edit needs them, so they share the
weights instead of loading them again.  Hub failures become :class:`ModelNotFoundError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from genkit.backends.huggingface._loading import (
    _check_hub,
    _first_line,
    _hub_miss,
    _isatty,
    _progress_bars_on_a_terminal,
)
from genkit.errors import ConfigurationError, ModelNotFoundError
from genkit.images.huggingface._deps import diffusers, torch

__all__ = ["LoadedPipeline", "PipelineKey", "load_pipeline", "model_source"]

logger = logging.getLogger("genkit")


@dataclass(frozen=True, slots=True)
class PipelineKey:
    """What makes two loads the same pipeline: source and placement."""

    source: str
    device: str
    dtype: str


@dataclass(eq=False, slots=True)
class LoadedPipeline:
    """The text-to-image pipeline plus the editing pipelines derived from it on demand."""

    key: PipelineKey
    name: str
    text2img: Any
    device: Any
    dtype: Any
    _derived: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def pipeline(self, mode: str) -> Any:
        """``"text2img"``, ``"img2img"`` or ``"inpaint"``: the pipeline for that kind of call."""
        if mode == "text2img":
            return self.text2img
        with self._lock:
            pipe = self._derived.get(mode)
            if pipe is None:
                auto = (
                    diffusers.AutoPipelineForImage2Image
                    if mode == "img2img"
                    else diffusers.AutoPipelineForInpainting
                )
                try:
                    pipe = auto.from_pipe(self.text2img)
                except ValueError as exc:
                    raise ConfigurationError(
                        f"{self.name!r} has no {mode} pipeline in diffusers: {exc}"
                    ) from exc
                self._derived[mode] = pipe
            return pipe


_cache: dict[PipelineKey, LoadedPipeline] = {}
_key_locks: dict[PipelineKey, threading.Lock] = {}
_cache_lock = threading.Lock()


def load_pipeline(key: PipelineKey, name: str) -> LoadedPipeline:
    """The shared pipeline for ``key``; loads it at most once per process."""
    found = _cache.get(key)
    if found is not None:
        return found
    with _cache_lock:
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        found = _cache.get(key)
        if found is None:
            found = _cache[key] = _load(key, name)
    return found


def model_source(name: str) -> str:
    """A local directory by its real path (two spellings share one copy); a hub id as written."""
    expanded = os.path.expanduser(name)
    if os.path.isdir(expanded):
        if not os.path.isfile(os.path.join(expanded, "model_index.json")):
            raise ModelNotFoundError(
                name, "the directory holds no diffusers pipeline (no model_index.json)"
            )
        return os.path.realpath(expanded)
    if name.startswith(("/", "./", "../", "~", "\\")) or os.path.isabs(name):
        raise ModelNotFoundError(name, "no such directory")
    return name


_bars_lock = threading.Lock()
_bars_hidden = 0


@contextlib.contextmanager
def _diffusers_bars_on_a_terminal() -> Iterator[None]:
    """Hide diffusers' "Loading pipeline components" bar unless stderr is a terminal.

    The same rule as the text backend applies to transformers' bars (which the text encoder
    load draws); diffusers has its own global switch, off while any load runs.
    """
    global _bars_hidden
    bars = diffusers.utils.logging
    hide = not _isatty(sys.stderr)
    with _bars_lock:
        if hide and (_bars_hidden or bars.is_progress_bar_enabled()):
            if not _bars_hidden:
                bars.disable_progress_bar()
            _bars_hidden += 1
        else:
            hide = False
    try:
        yield
    finally:
        if hide:
            with _bars_lock:
                _bars_hidden -= 1
                if not _bars_hidden:
                    bars.enable_progress_bar()


def _load(key: PipelineKey, name: str) -> LoadedPipeline:
    logger.info("loading image pipeline %s on %s as %s", key.source, key.device, key.dtype)
    local = os.path.isdir(key.source)
    dtype = getattr(torch, key.dtype)
    if not local:
        _check_hub(key.source, "model_index.json", "a diffusers pipeline")
    try:
        auto: Any = diffusers.AutoPipelineForText2Image  # diffusers is untyped
        with _progress_bars_on_a_terminal(), _diffusers_bars_on_a_terminal():
            pipe = auto.from_pretrained(key.source, dtype=dtype)
    except OSError as exc:
        if not local:
            raise _hub_miss(name, _first_line(exc)) from exc
        raise ConfigurationError(f"cannot load the pipeline in {name!r}: {exc}") from exc
    except ValueError as exc:
        text = str(exc)
        if not local and "repo" in text.lower() and "id" in text.lower():
            raise _hub_miss(name, _first_line(exc)) from exc
        raise ConfigurationError(
            f"cannot load {name!r} as a text-to-image pipeline: {text}"
        ) from exc
    device = torch.device(key.device)
    pipe = pipe.to(device)
    return LoadedPipeline(key=key, name=name, text2img=pipe, device=device, dtype=dtype)
