"""Local causal language models with transformers + torch: ``huggingface:gpt2`` (alias ``hf:``).

The model is a hub id or a local ``save_pretrained`` directory.  It is loaded once per
process, on the best device (CUDA, then Apple MPS, then CPU) in the best dtype for it,
unless ``genkit.load(..., device=, dtype=)`` or ``$GENKIT_DEVICE`` / ``$GENKIT_DTYPE`` say
otherwise.  One engine thread per model runs every ``generate()`` on it, batching
concurrent requests together; callers (threads or asyncio tasks) only wait for results, so
the event loop is never blocked and closing a stream or cancelling a task stops generation
within one token.

``timeout`` bounds the whole answer for ``generate()``/``agenerate()``, and for
``stream()``/``astream()`` the wait for the first chunk and for each next one (a stream that
keeps producing runs as long as it needs).  At interpreter exit the engine thread is stopped
and joined (see :mod:`genkit.backends.huggingface._engine`).

Load options: ``device``, ``dtype``, ``max_batch_size`` (rows per batch; 64 on CUDA, 16
elsewhere), ``static_cache`` (static KV cache with bucketed shapes; default on CUDA only)
and ``compile`` (auto-compile the decoding forward on CUDA with the static cache; default
on, ``False`` opts out).  Generators naming the same model with the same options share one
copy.

Parameters left unset take the model's ``generation_config.json`` values, else those of
``transformers.pipeline("text-generation")``: sampling at temperature 0.7 with top_k 50
and at most 256 new tokens.  ``provider_options`` are extra ``generate()`` keyword
arguments (``repetition_penalty``, ``no_repeat_ngram_size``, ``suppress_tokens``, ...).

``tools=`` work where the checkpoint's chat template renders tools and its tokenizer ships a
``response_template`` to read the calls with (see :mod:`genkit.backends.huggingface._tools`).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from genkit.backends.base import Backend, BackendSettings
from genkit.backends.huggingface._deps import PROVIDER
from genkit.backends.huggingface._device import resolve_device, resolve_dtype
from genkit.backends.huggingface._engine import Engine, engine_for
from genkit.backends.huggingface._jobs import Job, freeze
from genkit.backends.huggingface._loading import LoadedModel, ModelKey, load_model
from genkit.backends.huggingface._loading import model_source as _model_source
from genkit.backends.huggingface._prompt import check_parts, prompt_ids
from genkit.backends.huggingface._results import JobReader, generation
from genkit.backends.huggingface._sampling import Sampling
from genkit.backends.huggingface._tools import (
    ToolParsing,
    ToolSupport,
    check_tools,
    hf_tools,
    tool_support,
    uses_tools,
)
from genkit.capabilities import CapabilityTable, ModelCapabilities
from genkit.errors import (
    BadRequestError,
    InvalidParameterError,
    ModelNotFoundError,
    TimeoutError,
)
from genkit.params import SHARED_PARAMETERS, Request
from genkit.types import Generation, StreamEvent

__all__ = ["CAPABILITIES", "HuggingFaceBackend", "ModelNotFoundError"]

#: Every shared parameter but ``reasoning`` works on every local model (a causal LM has no
#: reasoning switch); penalties use OpenAI's range.  ``schema=`` works by constrained decoding.
CAPABILITIES = CapabilityTable(
    [],
    default=ModelCapabilities(
        supported=frozenset(SHARED_PARAMETERS) - {"reasoning"},
        ranges={"presence_penalty": (-2.0, 2.0), "frequency_penalty": (-2.0, 2.0)},
        features=frozenset({"tools", "structured_output"}),  # tools where the checkpoint can
    ),
)

#: ``generate()`` arguments genkit sets itself: the shared parameter to use instead, or why.
_RESERVED_OPTIONS: Mapping[str, str] = {
    "max_new_tokens": "use max_tokens",
    "max_length": "use max_tokens",
    "do_sample": "use temperature (0 is greedy)",
    "temperature": "use temperature",
    "top_k": "use top_k",
    "top_p": "use top_p",
    "num_return_sequences": "use n",
    "stop_strings": "use stop",
    "seed": "use seed",
    "input_ids": "genkit builds the inputs",
    "inputs": "genkit builds the inputs",
    "attention_mask": "genkit builds the inputs",
    "generation_config": "pass single generate() arguments instead",
    "logits_processor": "genkit's own sampler must stay last",
    "stopping_criteria": "genkit tracks every candidate itself",
    "streamer": "use gen.stream()",
    "num_beams": "beam search is not supported",
    "num_beam_groups": "beam search is not supported",
    "penalty_alpha": "contrastive search is not supported",
    "assistant_model": "assisted generation is not supported",
    "prompt_lookup_num_tokens": "assisted generation is not supported",
    "return_dict_in_generate": "genkit reads the tokens itself",
}

_CUDA_BATCH = 64
_OTHER_BATCH = 16


class HuggingFaceBackend(Backend):
    provider = PROVIDER
    capabilities = CAPABILITIES
    load_options = frozenset({"device", "dtype", "max_batch_size", "static_cache", "compile"})

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        options = settings.options
        device = resolve_device(options)
        dtype = resolve_dtype(options, device)
        on_cuda = device.type == "cuda"
        key = ModelKey(
            source=_model_source(model),
            device=str(device),
            dtype=str(dtype).removeprefix("torch."),
            static_cache=_flag(options, "static_cache", default=on_cuda),
            compile=_flag(options, "compile", default=True) and on_cuda,  # checked off CUDA too
            max_batch_size=_batch_size(options, _CUDA_BATCH if on_cuda else _OTHER_BATCH),
        )
        #: The shared model, tokenizer and facts about them.
        self.loaded: LoadedModel = load_model(key, model)
        #: The shared engine thread that runs every generation on this model.
        self.engine: Engine = engine_for(self.loaded)
        self._tool_support: ToolSupport | None = None

    @property
    def device(self) -> Any:
        return self.loaded.device

    @property
    def dtype(self) -> Any:
        return self.loaded.dtype

    # ------------------------------------------------------------------ calls

    def check(self, request: Request) -> None:
        check_parts(request.messages, request.model, self.loaded.tokenizer)
        if uses_tools(request):
            check_tools(request, self._tools())
        if request.output is not None:  # compile now: a schema llguidance refuses fails here
            self._grammar(request)

    def _tools(self) -> ToolSupport:
        """What the checkpoint brings for tool calling, looked at on first use."""
        if self._tool_support is None:
            self._tool_support = tool_support(self.loaded.tokenizer, self.model)
        return self._tool_support

    def generate(self, request: Request) -> Generation:
        job, parsing = self._job(request, streaming=False)
        self.engine.submit(job)
        try:
            if not job.completed.wait(request.timeout):
                raise _timeout(request.timeout)
        finally:
            job.cancel()  # a no-op once done; stops the work if the caller gave up
        return generation(job, self.loaded.tokenizer, self.model, parsing)

    async def agenerate(self, request: Request) -> Generation:
        job, parsing = self._job(request, streaming=False)
        waker = _LoopWaker(asyncio.get_running_loop(), request.timeout)
        job.notify = waker
        deadline = _deadline(request.timeout)  # the whole answer, as for generate()
        self.engine.submit(job)
        try:
            while not job.done:
                await waker.wait(deadline)
        finally:
            job.cancel()
        return generation(job, self.loaded.tokenizer, self.model, parsing)

    def stream(self, request: Request) -> Iterator[StreamEvent]:
        job, parsing = self._job(request, streaming=True)
        wake = threading.Event()
        job.notify = wake.set
        reader = JobReader(job, self.loaded.tokenizer, self.model, parsing)
        deadline = _deadline(request.timeout)  # the first chunk, then each next one
        self.engine.submit(job)
        try:
            while not reader.finished:
                if not job.done:
                    if not wake.wait(_remaining(deadline)):
                        raise _timeout(request.timeout)
                    wake.clear()
                for event in reader.poll():
                    yield event
                    deadline = _deadline(request.timeout)
        finally:
            job.cancel()  # break, close() or garbage collection: free the device

    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        job, parsing = self._job(request, streaming=True)
        waker = _LoopWaker(asyncio.get_running_loop(), request.timeout)
        job.notify = waker
        reader = JobReader(job, self.loaded.tokenizer, self.model, parsing)
        deadline = _deadline(request.timeout)  # the first chunk, then each next one
        self.engine.submit(job)
        try:
            while not reader.finished:
                if not job.done:
                    await waker.wait(deadline)
                for event in reader.poll():
                    yield event
                    deadline = _deadline(request.timeout)
        finally:
            job.cancel()  # aclose() or task cancellation: free the device

    def close(self) -> None:
        """Nothing to release: the model stays loaded for other Generators in this process."""

    # ------------------------------------------------------------------ requests

    def _job(self, request: Request, *, streaming: bool) -> tuple[Job, ToolParsing | None]:
        """The job for the engine, and how to read its answer for tool calls (with tools)."""
        loaded = self.loaded
        params = request.params
        defaults = loaded.defaults
        tools = hf_tools(request.tools) if uses_tools(request) else None
        ids = prompt_ids(loaded.tokenizer, request.messages, tools)
        if not ids:
            raise BadRequestError("the prompt encodes to no tokens", provider=PROVIDER)
        max_new = int(params.get("max_tokens", defaults.max_new_tokens))
        if loaded.context_length is not None:
            room = loaded.context_length - len(ids)
            if room <= 0:
                raise BadRequestError(
                    f"the prompt is {len(ids)} tokens; model {self.model!r} reads at most "
                    f"{loaded.context_length} tokens",
                    provider=PROVIDER,
                )
            max_new = min(max_new, room)
        sampling = Sampling(
            temperature=float(params.get("temperature", defaults.temperature)),
            top_k=int(params.get("top_k", defaults.top_k)),
            top_p=float(params.get("top_p", defaults.top_p)),
            presence_penalty=float(params.get("presence_penalty", 0.0)),
            frequency_penalty=float(params.get("frequency_penalty", 0.0)),
            seed=params.get("seed"),
        )
        options = _generate_options(request.provider_options)
        stops = tuple(params.get("stop", ()))
        parsing = None
        if tools is not None:
            template = self._tools().response_template
            assert template is not None  # check() refused tools= without one
            parsing = ToolParsing(
                tokenizer=loaded.tokenizer,
                response_template=template,
                prefix=loaded.tokenizer.decode(ids, skip_special_tokens=False),
                tools=tools,
                eos_ids=loaded.eos_ids,
                stops=stops,
                model=self.model,
            )
        job = Job(
            prompt=ids,
            n=int(params.get("n", 1)),
            max_new_tokens=max_new,
            sampling=sampling,
            stops=stops,
            options=options,
            batch_key=freeze(options),
            streaming=streaming,
            grammar=None if request.output is None else self._grammar(request),
        )
        return job, parsing

    def _grammar(self, request: Request) -> Any:
        """The compiled grammar of ``schema=`` (cached per model and schema)."""
        from genkit.backends.huggingface._grammar import compile_schema

        assert request.output is not None
        return compile_schema(self.loaded, request.output.json_schema, self.model)


class _LoopWaker:
    """Wakes one asyncio task from the engine thread, at most one pending callback at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: float | None) -> None:
        self._loop = loop
        self._limit = limit
        self._event = asyncio.Event()
        self._scheduled = False

    def __call__(self) -> None:  # engine thread
        if self._scheduled:
            return
        self._scheduled = True
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._set)

    def _set(self) -> None:
        self._scheduled = False
        self._event.set()

    async def wait(self, deadline: float | None) -> None:
        """Until the engine reports progress; genkit's TimeoutError once ``deadline`` passes."""
        try:
            async with asyncio.timeout(_remaining(deadline)):
                await self._event.wait()
        except builtins.TimeoutError as exc:
            raise _timeout(self._limit) from exc
        self._event.clear()


def _deadline(timeout: float | None) -> float | None:
    """When a wait that starts now runs out (``time.monotonic()``); ``None`` is never."""
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _timeout(seconds: float | None) -> TimeoutError:
    # Not retried: a second attempt would take as long on the same device.
    return TimeoutError(
        f"local generation exceeded timeout={seconds} s (the whole answer for generate(); "
        "the first chunk and each next one for a stream)",
        provider=PROVIDER,
        retryable=False,
    )


def _generate_options(options: Mapping[str, Any]) -> dict[str, Any]:
    for name in options:
        why = _RESERVED_OPTIONS.get(name)
        if why is not None:
            raise InvalidParameterError(
                f"provider_options[{name!r}]", f"set by genkit: {why}", provider=PROVIDER
            )
    return dict(options)


def _flag(options: Mapping[str, Any], name: str, *, default: bool) -> bool:
    value = options.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidParameterError(
            name, f"expected True or False, got {value!r}", provider=PROVIDER
        )
    return value


def _batch_size(options: Mapping[str, Any], default: int) -> int:
    value = options.get("max_batch_size")
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(
            "max_batch_size", f"got {value!r}", provider=PROVIDER, allowed="an integer >= 1"
        )
    return value
