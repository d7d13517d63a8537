"""Which shared parameters and features each OpenAI model family accepts, and their limits.

Rows are data, first match wins (see :class:`~genkit.capabilities.CapabilityTable`).
Reasoning levels per family follow the SDK's ``ReasoningEffort`` literal as each
family's documentation narrows it (genkit's vocabulary has no ``xhigh``/``max``):
o1/o3/o4-mini take low..high, gpt-5 adds ``minimal``, gpt-5.1 and later have ``none``
instead of ``minimal``.  Chat models (gpt-4o, gpt-4.1) take no ``reasoning_effort``.
"""

from __future__ import annotations

from genkit.backends.openai._request import PARAMETER_NAMES
from genkit.capabilities import FEATURES, CapabilityTable, ModelCapabilities

__all__ = ["CAPABILITIES"]

_PENALTY = (-2.0, 2.0)
#: Everything a current chat model does.  Limits from OpenAI's docs: 20 MB per image,
#: 32 MB of PDFs per request (one inline document bounded by the same figure).
#: Every feature genkit knows: the row of a model that has them all.
_ALL = FEATURES
_CHAT = ModelCapabilities(
    supported=frozenset(PARAMETER_NAMES) - {"reasoning"},
    ranges={"temperature": (0.0, 2.0), "presence_penalty": _PENALTY, "frequency_penalty": _PENALTY},
    max_stop=4,
    max_n=128,
    features=_ALL,
    max_image_bytes=20_000_000,
    max_document_bytes=32_000_000,
)
#: Chat models from before strict structured output (gpt-4-turbo, gpt-4o-2024-05-13).
_VISION_NO_SCHEMA = ModelCapabilities(
    supported=_CHAT.supported,
    ranges=_CHAT.ranges,
    max_stop=4,
    max_n=128,
    features=frozenset({"tools", "parallel_tool_calls", "image_input"}),
    max_image_bytes=_CHAT.max_image_bytes,
)
#: ``chatgpt-4o-latest``: the ChatGPT model, without function calling or response_format.
_VISION_ONLY = ModelCapabilities(
    supported=_CHAT.supported,
    ranges=_CHAT.ranges,
    max_stop=4,
    max_n=128,
    features=frozenset({"image_input"}),
    max_image_bytes=_CHAT.max_image_bytes,
)
_TEXT_TOOLS = ModelCapabilities(
    supported=_CHAT.supported,
    ranges=_CHAT.ranges,
    max_stop=4,
    max_n=128,
    features=frozenset({"tools", "parallel_tool_calls"}),
)
#: Reasoning models fix their own sampling and reject the knobs outright.
_SAMPLING = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "stop")
_REASONING_PARAMS = frozenset(PARAMETER_NAMES) - set(_SAMPLING)


def _reasoning(levels: str, features: frozenset[str] = _ALL) -> ModelCapabilities:
    return ModelCapabilities(
        supported=_REASONING_PARAMS,
        max_n=128,
        features=features,
        reasoning_levels=frozenset(levels.split()),
        max_image_bytes=_CHAT.max_image_bytes if "image_input" in features else None,
        max_document_bytes=_CHAT.max_document_bytes if "pdf_input" in features else None,
    )


_O_SERIES = _reasoning("low medium high")
#: o1 and o3-mini refuse ``parallel_tool_calls``; o3-mini has no vision.
_O1 = _reasoning("low medium high", _ALL - {"parallel_tool_calls"})
_O3_MINI = _reasoning(
    "low medium high", frozenset({"tools", "structured_output", "structured_output_with_tools"})
)
#: o1-preview/o1-mini: no reasoning_effort, no tools, no images, no response_format.
_O1_PREVIEW = ModelCapabilities(supported=_REASONING_PARAMS, max_n=128)
_GPT5 = _reasoning("minimal low medium high")
_GPT51 = _reasoning("none low medium high")
#: ``gpt-5*-chat-latest``: the chat model behind ChatGPT, no reasoning_effort.
_GPT5_CHAT = ModelCapabilities(
    supported=_REASONING_PARAMS - {"reasoning"},
    max_n=128,
    features=_ALL,
    max_image_bytes=_CHAT.max_image_bytes,
    max_document_bytes=_CHAT.max_document_bytes,
)

CAPABILITIES = CapabilityTable(
    [
        ("o1-mini*", _O1_PREVIEW),
        ("o1-preview*", _O1_PREVIEW),
        ("o1*", _O1),
        ("o3-mini*", _O3_MINI),
        ("o3*", _O_SERIES),
        ("o4*", _O_SERIES),
        ("gpt-5*-chat*", _GPT5_CHAT),
        ("gpt-5", _GPT5),
        ("gpt-5-*", _GPT5),
        ("gpt-5.*", _GPT51),
        ("gpt-6*", _GPT51),
        ("gpt-4o-2024-05-13", _VISION_NO_SCHEMA),
        ("chatgpt-4o*", _VISION_ONLY),
        ("gpt-4-turbo*", _VISION_NO_SCHEMA),
        ("gpt-4-vision*", _VISION_NO_SCHEMA),
        ("gpt-4-*preview", _TEXT_TOOLS),
        ("gpt-4", _TEXT_TOOLS),
        ("gpt-4-0*", _TEXT_TOOLS),
        ("gpt-4-32k*", _TEXT_TOOLS),
        ("gpt-3.5*", _TEXT_TOOLS),
    ],
    default=_CHAT,
)
