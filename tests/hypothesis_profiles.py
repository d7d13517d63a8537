"""Hypothesis settings profiles for the suite, chosen by environment variable.

- ``ci`` (loaded whenever ``CI=true``): derandomized, so the same commit draws the same
  examples on every run and a red build is never a roll of the dice; no example
  database (nothing to carry between CI runs).
- ``local`` (the default elsewhere): random draws with the example database, so a
  developer's runs keep exploring and replay what failed last time.
- ``thorough``: ``local`` with 20x the examples, for a deliberate hunt before a release
  (``HYPOTHESIS_PROFILE=thorough scripts/test.sh tests/test_bad_input.py``).

``HYPOTHESIS_PROFILE`` picks any of them explicitly (pytest's ``--hypothesis-profile``
works too).  Every profile has no deadline (the fake server and a loaded model make
timings meaningless on a shared machine) and prints the blob that reproduces a failure.

Tests that set their own ``max_examples`` use :func:`examples` so the profile's
multiplier reaches them as well.
"""

from __future__ import annotations

import os

from hypothesis import settings

__all__ = ["THOROUGH_FACTOR", "examples", "load"]

#: How many times more examples the ``thorough`` profile draws.
THOROUGH_FACTOR = 20
#: Hypothesis's own default ``max_examples``: the unit :func:`examples` scales against.
_BASE = 100

# derandomize=False explicitly: hypothesis derandomizes on its own when it sees a CI
# variable, and HYPOTHESIS_PROFILE=local must mean random draws wherever it runs.
settings.register_profile("local", deadline=None, print_blob=True, derandomize=False)
settings.register_profile(
    "ci", parent=settings.get_profile("local"), derandomize=True, database=None
)
settings.register_profile(
    "thorough", parent=settings.get_profile("local"), max_examples=_BASE * THOROUGH_FACTOR
)


def load() -> str:
    """Load the profile the environment asks for; return its name."""
    name = os.environ.get("HYPOTHESIS_PROFILE", "").strip()
    if not name:
        name = "ci" if os.environ.get("CI", "").strip().lower() in ("true", "1") else "local"
    settings.load_profile(name)
    return name


def examples(count: int) -> int:
    """``count`` examples, scaled like the loaded profile scales Hypothesis's default."""
    loaded = settings.default
    assert loaded is not None, "Hypothesis always has a current profile"
    return max(1, count * loaded.max_examples // _BASE)
