"""Load a causal LM once per process and share it, whichever thread asks first.

A GPT-2 load costs seconds and hundreds of megabytes, and every Generator naming the same
model, device, dtype and engine settings can use one copy: the weights are read-only and
one engine thread owns all generation on them.  A per-key lock makes eight racing
``genkit.load()`` calls do one load, while different models still load in parallel.
Hub failures become :class:`ModelNotFoundError` (or another configuration error) that says
what to do, instead of a stack of hub internals.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from genkit.backends.huggingface._deps import torch, transformers
from genkit.errors import ConfigurationError, ModelNotFoundError

__all__ = ["LoadedModel", "ModelKey", "SamplingDefaults", "load_model"]

logger = logging.getLogger("genkit")

#: The pipeline's defaults for what neither the caller nor the model's generation_config sets.
PIPELINE_MAX_NEW_TOKENS = 256
PIPELINE_TEMPERATURE = 0.7
HF_TOP_K = 50


#: Seconds the hub gets to answer one HEAD request before genkit calls it unreachable.
HUB_PROBE_TIMEOUT = 3.0


def _hub_miss(model: str, detail: str) -> ModelNotFoundError:
    return ModelNotFoundError(
        model,
        f"it is not a local directory, and the Hugging Face hub could not provide it ({detail}). "
        "Check the name, or pass the directory of a save_pretrained checkpoint",
    )


def _check_hub(
    name: str, filename: str = "config.json", kind: str = "a transformers model"
) -> None:
    """Fail at once, with one clear message, when a hub model that is not cached cannot come.

    ``from_pretrained`` on a machine without network retries each file for ~25 s (twice,
    tokenizer and model) and ends in a page of hub internals.  So, unless the model is in the
    hub cache already, one HEAD request without retries, bounded by
    :data:`HUB_PROBE_TIMEOUT`, asks the hub first; ``from_pretrained`` then downloads as usual.
    """
    import huggingface_hub
    from huggingface_hub import errors as hub_errors

    try:
        cached = huggingface_hub.try_to_load_from_cache(name, filename)
    except (ValueError, hub_errors.HFValidationError):
        raise ModelNotFoundError(
            name, "it is neither a local directory nor a valid Hugging Face hub id"
        ) from None
    if isinstance(cached, str):
        return
    if huggingface_hub.constants.HF_HUB_OFFLINE:
        raise ModelNotFoundError(
            name,
            "it is not a local directory and not in the Hugging Face cache "
            f"({huggingface_hub.constants.HF_HUB_CACHE}), and HF_HUB_OFFLINE is set, so it "
            "cannot be downloaded. Unset HF_HUB_OFFLINE on a machine with network access to "
            "download it once, or pass the directory of a save_pretrained checkpoint",
        )
    endpoint = huggingface_hub.constants.ENDPOINT
    try:
        huggingface_hub.get_hf_file_metadata(
            huggingface_hub.hf_hub_url(name, filename), timeout=HUB_PROBE_TIMEOUT
        )
    except hub_errors.GatedRepoError:
        raise ModelNotFoundError(
            name,
            "it is a gated model on the Hugging Face hub: accept its terms on the model page "
            "and set HF_TOKEN",
        ) from None
    except hub_errors.RepositoryNotFoundError:
        raise ModelNotFoundError(
            name,
            f"the Hugging Face hub ({endpoint}) has no such model (or it is private: set "
            "HF_TOKEN). Check the name, or pass the directory of a save_pretrained checkpoint",
        ) from None
    except hub_errors.EntryNotFoundError:
        raise ModelNotFoundError(
            name, f"the hub repository has no {filename}: it is not {kind}"
        ) from None
    except hub_errors.HfHubHTTPError as exc:
        raise ModelNotFoundError(
            name, f"the Hugging Face hub ({endpoint}) refused it ({_first_line(exc)})"
        ) from None
    except Exception as exc:  # no network: DNS, refused, timeout, proxy, TLS
        raise ModelNotFoundError(
            name,
            "it is not a local directory and not in the Hugging Face cache, and the hub "
            f"({endpoint}) cannot be reached ({type(exc).__name__}: {_first_line(exc)}). "
            "Connect once to download it (later runs use the cache), or pass the directory "
            "of a save_pretrained checkpoint",
        ) from None


@dataclass(frozen=True, slots=True)
class ModelKey:
    """What makes two loads the same model: source, placement and engine settings."""

    source: str
    device: str
    dtype: str
    static_cache: bool
    compile: bool
    max_batch_size: int


@dataclass(frozen=True, slots=True)
class SamplingDefaults:
    """What a call gets for parameters it leaves unset, as ``pipeline('text-generation')`` does.

    The model's ``generation_config.json`` wins; otherwise the pipeline's defaults apply
    (sampling at temperature 0.7 with top_k 50, 256 new tokens).  A config that sets
    ``do_sample=False`` makes greedy decoding (temperature 0) the default.
    """

    max_new_tokens: int
    temperature: float
    top_k: int
    top_p: float

    @classmethod
    def from_config(cls, config: Any) -> SamplingDefaults:
        def get(name: str, fallback: Any) -> Any:
            value = getattr(config, name, None)
            return fallback if value is None else value

        temperature = float(get("temperature", PIPELINE_TEMPERATURE))
        if getattr(config, "do_sample", None) is False:
            temperature = 0.0
        return cls(
            max_new_tokens=int(get("max_new_tokens", PIPELINE_MAX_NEW_TOKENS)),
            temperature=temperature,
            top_k=int(get("top_k", HF_TOP_K)),
            top_p=float(get("top_p", 1.0)),
        )


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model ready to generate, with the facts about it every request needs."""

    key: ModelKey
    model: Any
    tokenizer: Any
    device: Any
    dtype: Any
    eos_ids: frozenset[int]
    pad_id: int
    context_length: int | None
    defaults: SamplingDefaults


_cache: dict[ModelKey, LoadedModel] = {}
_key_locks: dict[ModelKey, threading.Lock] = {}
_cache_lock = threading.Lock()


def load_model(key: ModelKey, name: str) -> LoadedModel:
    """The shared model for ``key``; loads it at most once per process."""
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
        if not os.path.isfile(os.path.join(expanded, "config.json")):
            raise ModelNotFoundError(name, "the directory holds no save_pretrained checkpoint")
        return os.path.realpath(expanded)
    if name.startswith(("/", "./", "../", "~", "\\")) or os.path.isabs(name):
        raise ModelNotFoundError(name, "no such directory")
    return name


def _load(key: ModelKey, name: str) -> LoadedModel:
    logger.info("loading %s on %s as %s", key.source, key.device, key.dtype)
    local = os.path.isdir(key.source)
    dtype = getattr(torch, key.dtype)
    if not local:
        _check_hub(key.source)
    tokenizer = _from_hub(
        name, "tokenizer", local, lambda: transformers.AutoTokenizer.from_pretrained(key.source)
    )
    if not getattr(tokenizer, "vocab_size", 1):  # transformers builds an empty one from nothing
        raise ConfigurationError(f"{name!r} has no tokenizer files next to the model")
    with _progress_bars_on_a_terminal():
        model = _from_hub(
            name,
            "model",
            local,
            lambda: transformers.AutoModelForCausalLM.from_pretrained(key.source, dtype=dtype),
        )
    model = model.to(torch.device(key.device)).eval()
    config = model.generation_config
    eos = config.eos_token_id
    eos_ids = frozenset([] if eos is None else [eos] if isinstance(eos, int) else eos)
    pad = config.pad_token_id
    if pad is None:
        pad = tokenizer.pad_token_id
    if pad is None:
        pad = min(eos_ids) if eos_ids else 0
    context = getattr(model.config, "max_position_embeddings", None)
    return LoadedModel(
        key=key,
        model=model,
        tokenizer=tokenizer,
        device=torch.device(key.device),
        dtype=dtype,
        eos_ids=eos_ids,
        pad_id=int(pad),
        context_length=int(context) if context else None,
        defaults=SamplingDefaults.from_config(config),
    )


_bars_lock = threading.Lock()
_bars_hidden = 0


@contextlib.contextmanager
def _progress_bars_on_a_terminal() -> Iterator[None]:
    """Hide transformers' progress bars ("Loading weights") unless stderr is a terminal.

    In a log file or a pipe a bar is only noise.  transformers has one global switch, so it
    is turned off while any load runs and back on after the last one, if it was on before.
    """
    global _bars_hidden
    bars = transformers.utils.logging
    hide = not _isatty(sys.stderr)
    with _bars_lock:
        if hide and bars.is_progress_bar_enabled():
            bars.disable_progress_bar()
            _bars_hidden += 1
        elif hide and _bars_hidden:
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


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # None, or a closed stream
        return False


def _from_hub(name: str, part: str, local: bool, loader: Callable[[], Any]) -> Any:
    """Run a ``from_pretrained``; hub and checkpoint failures become configuration errors."""
    try:
        return loader()
    except OSError as exc:
        if not local:
            raise _hub_miss(name, _first_line(exc)) from exc
        raise ConfigurationError(f"cannot load the {part} of {name!r}: {exc}") from exc
    except ValueError as exc:
        text = str(exc)
        if not local and "repo" in text.lower() and "id" in text.lower():
            raise _hub_miss(name, _first_line(exc)) from exc  # a name the hub refuses outright
        what = "a causal language model" if part == "model" else "its tokenizer"
        raise ConfigurationError(f"cannot load {name!r} as {what}: {text}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__
