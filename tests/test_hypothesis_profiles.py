"""The suite's hypothesis profiles are chosen by the environment as documented."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = (
    "from hypothesis import settings\n"
    "from tests import hypothesis_profiles as p\n"
    "name = p.load()\n"
    "d = settings.default\n"
    "print(name, d.derandomize, d.deadline, d.print_blob, p.examples(60))\n"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CI": "true"}, "ci True None True 60"),
        ({}, "local False None True 60"),
        ({"CI": "false"}, "local False None True 60"),
        ({"HYPOTHESIS_PROFILE": "thorough"}, "thorough False None True 1200"),
        ({"CI": "true", "HYPOTHESIS_PROFILE": "local"}, "local False None True 60"),
    ],
)
def test_the_environment_picks_the_profile(env: dict[str, str], expected: str) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    done = subprocess.run(
        [sys.executable, "-c", CODE],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == expected.split()
