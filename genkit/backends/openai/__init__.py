"""OpenAI Chat Completions (``openai:<model>``, and any OpenAI-compatible server via
``OPENAI_BASE_URL``) through the official ``openai`` SDK."""

from genkit.errors import MissingDependencyError

try:
    import openai  # noqa: F401 - checked once here, for every module of this package

    # httpx2 comes with the SDK: a missing extra must not surface as its ImportError.
    import genkit.backends._transport  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by the missing-extra test
    raise MissingDependencyError("openai", "openai", "openai") from exc

from genkit.backends.openai._backend import OpenAIBackend

__all__ = ["OpenAIBackend"]
