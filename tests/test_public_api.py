"""The public surface of ``genkit``, pinned.

A name added to or dropped from ``genkit.__all__`` is a change every user sees, so it
must be a deliberate one: this test fails until the list below is updated with it.
``import genkit`` must also stay cheap, which the last test checks in a fresh process.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import types

import pytest

import genkit

# If you change the public surface on purpose, update this list (kept sorted).
PUBLIC_NAMES = [
    "AllModelsFailedError",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "Chunk",
    "ConfigurationError",
    "ConnectionError",
    "Document",
    "Finish",
    "FinishReason",
    "Generation",
    "Generator",
    "GeneratorClosedError",
    "GenkitError",
    "Image",
    "ImageGeneration",
    "ImageGenerator",
    "InvalidParameterError",
    "InvalidResponseError",
    "Message",
    "MissingAPIKeyError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "NotFoundError",
    "OutputValidationError",
    "Part",
    "PermissionDeniedError",
    "ProviderData",
    "ProviderError",
    "ProviderPart",
    "RateLimitError",
    "ReasoningDelta",
    "RefusalDelta",
    "RefusalError",
    "ResponseMetadata",
    "RetryPolicy",
    "SHARED_PARAMETERS",
    "ServerError",
    "Stream",
    "StreamEvent",
    "StreamNotFinishedError",
    "StreamWarning",
    "Text",
    "TimeoutError",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "ToolResult",
    "UnknownProviderError",
    "UnsupportedParameterError",
    "Usage",
    "UsageUpdate",
    "load",
    "providers",
    "register",
]

#: Top-level packages ``import genkit`` must not load: vendor SDKs, the local stack and
#: every optional library, each loaded only when the feature that needs it is first used.
HEAVY_PACKAGES = [
    "anthropic",
    "genai_prices",
    "google.genai",
    "httpx",
    "httpx2",
    "jiter",
    "jsonschema",
    "openai",
    "opentelemetry",
    "pydantic",
    "pydantic_core",
    "tenacity",
    "tokenizers",
    "torch",
    "transformers",
]


def test_all_is_pinned() -> None:
    assert sorted(genkit.__all__) == PUBLIC_NAMES
    assert len(set(genkit.__all__)) == len(genkit.__all__), "duplicate names in __all__"


def test_every_name_in_all_is_importable() -> None:
    for name in genkit.__all__:
        assert getattr(genkit, name, None) is not None, name
    namespace: dict[str, object] = {}
    exec("from genkit import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(genkit.__all__)


def test_nothing_public_is_left_out_of_all() -> None:
    """A public-looking attribute is either in ``__all__`` or one of genkit's submodules."""
    missing = []
    for name in dir(genkit):
        if name.startswith("_") or name in genkit.__all__:
            continue
        value = getattr(genkit, name)
        if isinstance(value, types.ModuleType) and value.__name__ == f"genkit.{name}":
            continue  # genkit.errors, genkit.types, ...: reachable, but not star-exported
        missing.append(name)
    assert missing == []


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (what ``import genkit`` loads depends on it)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )


def test_import_genkit_loads_no_heavy_package() -> None:
    code = (
        "import json, sys; import genkit; "
        f"heavy = {HEAVY_PACKAGES!r}; "
        "print(json.dumps(sorted(h for h in heavy if h in sys.modules)))"
    )
    out = _python(code)
    assert json.loads(out.stdout) == []


def test_import_genkit_leaves_tools_and_schemas_for_the_calls_that_use_them() -> None:
    """Plain text calls, nearly all of them, never load the tools or schema machinery."""
    code = (
        "import sys; import genkit; "
        "gen = genkit.load('test:echo'); gen.generate('hi'); list(gen.stream('hi')); "
        "lazy = ['genkit.tools', 'genkit._tooling', 'genkit.structured']; "
        "print(' '.join(m for m in lazy if m in sys.modules) or '-')"
    )
    out = _python(code)
    assert out.stdout.split() == ["-"]


def test_import_genkit_defers_parts_streams_and_logging_to_their_first_use() -> None:
    """Issue 10: ``import genkit`` builds only what a plain call needs.

    The part and stream-event dataclasses (each compiles its generated methods when
    made), the streams, the capability tables and ``logging`` load on first use.
    """
    code = (
        "import sys; import genkit; "
        "deferred = ['genkit.parts', 'genkit._events', 'genkit.streaming', "
        "'genkit.capabilities', 'logging']; "
        "print(' '.join(m for m in deferred if m in sys.modules) or '-'); "
        "genkit.Chunk, genkit.Text; "
        "print(' '.join(m for m in deferred[:3] if m in sys.modules)); "
        # Submodules that import genkit used to load stay reachable as attributes.
        "print(genkit.streaming.Stream is genkit.Stream, genkit.capabilities.__name__)"
    )
    out = _python(code)
    assert out.stdout.splitlines() == [
        "-",
        "genkit.parts genkit._events",
        "True genkit.capabilities",
    ]


def test_names_loaded_on_first_use_are_the_same_objects_everywhere() -> None:
    from genkit import _events, _partcheck, messages, parts, streaming

    assert genkit.Chunk is genkit.types.Chunk is _events.Chunk
    assert genkit.StreamEvent is genkit.types.StreamEvent is _events.StreamEvent
    assert genkit.Text is genkit.types.Text is parts.Text
    assert genkit.Part is genkit.types.Part is parts.Part
    assert genkit.Stream is streaming.Stream
    assert messages.text_only is _partcheck.text_only
    # Kept in the module after the first look-up: later ones are plain attributes.
    assert vars(genkit)["Chunk"] is genkit.Chunk
    assert vars(genkit.types)["Text"] is genkit.Text
    assert set(genkit.__all__) <= set(dir(genkit))
    for module in (genkit, genkit.types, messages):
        with pytest.raises(AttributeError, match="no_such_name"):
            getattr(module, "no_such_name")  # noqa: B009
    event = genkit.Chunk("hi", index=1)
    assert pickle.loads(pickle.dumps(event)) == event
    assert pickle.loads(pickle.dumps(genkit.Text("hi"))) == genkit.Text("hi")
