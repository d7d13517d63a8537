"""Map an HTTP request line to a protocol, model and stream flag.

The SDKs are pointed at one base URL, so the path alone must say which
provider is being spoken to:

* OpenAI:    ``POST /v1/chat/completions``
* Anthropic: ``POST /v1/messages``
* OpenAI images: ``POST /v1/images/generations`` and ``/v1/images/edits`` (endpoint "images")
* Gemini:    ``POST /{v1,v1beta,v1alpha}/models/{model}:{generateContent,streamGenerateContent}``
  (google-genai 3.x calls ``/v1/`` by default, older code ``/v1beta/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from .images import IMAGE_PATHS
from .recorded import Protocol

_GEMINI_PATH = re.compile(
    r"^/(?:v1|v1beta|v1alpha)/(?P<model>(?:models|tunedModels)/[^:]+)"
    r":(?P<method>generateContent|streamGenerateContent)$"
)

OPENAI_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
ANTHROPIC_PATHS = frozenset({"/v1/messages"})


@dataclass(frozen=True)
class Route:
    """Where a request goes; ``protocol`` is None for paths nobody serves."""

    protocol: Protocol | None
    path: str
    query: dict[str, str]
    gemini_model: str = ""
    gemini_stream: bool = False
    #: "chat" for the text routes, "images" for OpenAI's image endpoints.
    endpoint: str = "chat"

    @property
    def gemini_sse(self) -> bool:
        """``alt=sse`` → SSE; otherwise Gemini streams a JSON array."""
        return self.query.get("alt", "") == "sse"


def route(target: str, method: str = "POST") -> Route:
    """Classify a request target such as ``/v1/models/x:streamGenerateContent?alt=sse``.

    Only POST is served; any other method routes nowhere (404).
    """
    split = urlsplit(target)
    path = split.path
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    if method != "POST":
        return Route(None, path, query)
    if path in OPENAI_PATHS:
        return Route("openai", path, query)
    if path in IMAGE_PATHS:
        return Route("openai", path, query, endpoint="images")
    if path in ANTHROPIC_PATHS:
        return Route("anthropic", path, query)
    match = _GEMINI_PATH.match(unquote(path))
    if match:
        full = match.group("model")
        model = full.split("/", 1)[1] if full.startswith("models/") else full
        return Route(
            "gemini",
            path,
            query,
            gemini_model=model,
            gemini_stream=match.group("method") == "streamGenerateContent",
        )
    return Route(None, path, query)
