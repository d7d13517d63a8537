"""Shared fixtures: the fake provider server and the tiny local GPT-2.

Nothing here reaches beyond 127.0.0.1; the hub is switched off for the whole
session so a test can never download a model by accident.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# A developer's own settings must not leak into the suite.
for _name in (
    "MODEL",
    "IMAGE_MODEL",
    "MAX_RETRIES",
    "TIMEOUT",
    "DEVICE",
    "DTYPE",
    "DROP_UNSUPPORTED",
):
    os.environ.pop(f"GENKIT_{_name}", None)

from tests import hypothesis_profiles  # noqa: E402

hypothesis_profiles.load()  # before any test module builds its settings

from fakeprovider.pytest_plugin import (  # noqa: E402, F401
    fake_provider_env,
    fake_server,
    fake_server_shared,
)
from tests.tiny_gpt2 import tiny_gpt2_path  # noqa: E402, F401
