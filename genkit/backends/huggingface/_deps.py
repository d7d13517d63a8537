"""The one place the local backend imports torch and transformers.

Every module of this package imports them from here, so whichever module loads first turns a
missing install into genkit's :class:`~genkit.errors.MissingDependencyError` (naming the
``pip install`` to run) instead of a bare ``ImportError`` from deep inside a helper.
"""

from __future__ import annotations

from genkit.errors import MissingDependencyError

try:
    import torch
    import transformers
except ImportError as exc:  # pragma: no cover - exercised only without the extra installed
    missing = "torch" if exc.name == "torch" else "transformers"
    raise MissingDependencyError("huggingface", missing, "local") from exc

__all__ = ["PROVIDER", "torch", "transformers"]

PROVIDER = "huggingface"
