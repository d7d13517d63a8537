"""Anthropic Messages (``anthropic:<model>``) through the official ``anthropic`` SDK."""

from genkit.errors import MissingDependencyError

try:
    import anthropic  # noqa: F401 - checked once here, for every module of this package

    # httpx2 comes with the SDK: a missing extra must not surface as its ImportError.
    import genkit.backends._transport  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by the missing-extra test
    raise MissingDependencyError("anthropic", "anthropic", "anthropic") from exc

from genkit.backends.anthropic._backend import AnthropicBackend

__all__ = ["AnthropicBackend"]
