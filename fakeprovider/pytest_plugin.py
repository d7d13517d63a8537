"""pytest fixtures for the fake provider.

One server per test session (``fake_server_shared``) keeps function-scoped
use cheap: ``fake_server`` only drops leftover connections and ``reset()``s it.
Import into a conftest with::

    from fakeprovider.pytest_plugin import (  # noqa: F401
        fake_provider_env,
        fake_server,
        fake_server_shared,
    )

(PYTEST_DONT_REWRITE: no asserts here, and tests may import this module
before pytest registers it as a plugin, which would otherwise warn.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeProviderServer

TEST_KEYS = {
    "OPENAI_API_KEY": "sk-fake-openai",
    "ANTHROPIC_API_KEY": "sk-ant-fake",
    "GOOGLE_API_KEY": "AIza-fake-gemini",
    "GEMINI_API_KEY": "AIza-fake-gemini",
}


@pytest.fixture(scope="session")
def fake_server_shared() -> Iterator[FakeProviderServer]:
    """The session's single server; prefer ``fake_server``, which resets it."""
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def fake_server(fake_server_shared: FakeProviderServer) -> Iterator[FakeProviderServer]:
    """A clean server for each test: no connections, scripts, records or counters.

    Fails the test at teardown if the fake itself crashed while serving it, so
    bugs in the fake are never mistaken for client bugs.
    """
    server = fake_server_shared
    if server.connections_open:
        server.close_connections()
        server.wait_until(lambda s: s.connections_open == 0, timeout=2.0)
    server.reset()
    yield server
    errors = server.errors
    if errors:
        pytest.fail("fake provider crashed while serving this test:\n" + errors[0])


@pytest.fixture
def fake_provider_env(
    fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> FakeProviderServer:
    """``fake_server`` plus the env vars that point every SDK at it (with test keys)."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server.openai_base_url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_server.anthropic_base_url)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_server.gemini_base_url)
    for name, value in TEST_KEYS.items():
        monkeypatch.setenv(name, value)
    for name in (
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_GENAI_USE_ENTERPRISE",
        "ANTHROPIC_AUTH_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    return fake_server
