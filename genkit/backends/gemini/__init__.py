"""Google Gemini API (``gemini:<model>``, alias ``google:``) through ``google-genai``."""

from genkit.errors import MissingDependencyError

try:
    # Checked once here, for every module of this package.
    import httpx2  # noqa: F401
    import pydantic  # noqa: F401
    from google import genai  # noqa: F401
    from google.genai import _api_client, _common, errors, models, types  # noqa: F401

    # httpx2 comes with the SDK: a missing extra must not surface as its ImportError.
    import genkit.backends._transport  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by the missing-extra test
    raise MissingDependencyError("gemini", "google-genai", "gemini") from exc

from genkit.backends.gemini._backend import GeminiBackend

__all__ = ["GeminiBackend"]
