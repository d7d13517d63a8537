"""Where the suite finds real provider recordings: ``../shared/recordings`` beside the checkout.

The recordings (bodies the real OpenAI, Anthropic and Gemini APIs sent, collected from
other projects' public test cassettes; see the README there) are not the project's own
files, so the repository holds no copy of them.  They live in the ``shared/`` folder
next to the checkout; a checkout without it still runs the whole suite, and every test
that replays a recording is skipped with a reason that says where it looked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["RECORDINGS_DIR", "recording"]

#: ``<repository root>/../shared/recordings``.
RECORDINGS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "recordings"


def recording(name: str) -> Path:
    """The path of one recording; skips the calling test when it is not there."""
    path = RECORDINGS_DIR / name
    if not path.is_file():
        pytest.skip(
            f"provider recording {name!r} not found in {RECORDINGS_DIR} "
            "(the shared/recordings folder beside the checkout)"
        )
    return path
