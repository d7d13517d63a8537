"""Property tests: accepted input makes a request the provider accepts; the rest fails first.

Random shared parameters and messages, valid and not, go to every hosted backend.
The fake server validates bodies like the real APIs, so "accepted" is checked
against the provider's rules, not genkit's own.
"""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genkit
from tests.fakeprovider import FakeProviderServer
from tests.hosted import HOSTED, Hosted, point_sdks_at

numbers = st.one_of(
    st.floats(min_value=-3, max_value=3, allow_nan=False),
    st.integers(min_value=-3, max_value=3),
)
junk = st.one_of(
    st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2), st.just(float("nan"))
)
PARAMETERS: dict[str, st.SearchStrategy[Any]] = {
    "max_tokens": st.one_of(st.integers(min_value=-2, max_value=4096), st.floats(0, 10), junk),
    "temperature": st.one_of(numbers, junk),
    "top_p": st.one_of(numbers, junk),
    "top_k": st.one_of(st.integers(min_value=-2, max_value=100), junk),
    "stop": st.one_of(
        st.text(max_size=6),
        st.lists(st.text(max_size=6), max_size=7),
        st.integers(),
        st.lists(st.integers(), min_size=1, max_size=2),
    ),
    "seed": st.one_of(st.integers(min_value=-(2**33), max_value=2**33), junk),
    "n": st.one_of(st.integers(min_value=-1, max_value=10), junk),
    "presence_penalty": st.one_of(numbers, junk),
    "frequency_penalty": st.one_of(numbers, junk),
}
parameter_sets = st.dictionaries(
    st.sampled_from(sorted(PARAMETERS)), st.nothing(), max_size=4
).flatmap(lambda keys: st.fixed_dictionaries({k: PARAMETERS[k] for k in keys}))

message = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["system", "user", "assistant", "tool", "bot", ""]),
        "content": st.one_of(st.text(max_size=8), st.none(), st.integers()),
    }
)
prompts = st.one_of(st.text(max_size=10), st.lists(message, max_size=4), st.integers(), st.none())

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


def _attempt(
    server: FakeProviderServer, hosted: Hosted, prompt: Any, params: dict[str, Any]
) -> None:
    server.reset()
    gen = genkit.load(f"{hosted.provider}:{hosted.model}", max_retries=0)
    refused: genkit.InvalidParameterError | None = None
    try:
        gen.generate(prompt, **params)
    except genkit.InvalidParameterError as error:
        refused = error
    if refused is not None:
        assert server.requests == [], "rejected input must not reach the provider"
        assert refused.parameter in str(refused)
        assert hosted.provider in str(refused)
        return
    requests = server.requests
    assert len(requests) >= 1
    for request in requests:
        assert request.validation_error is None, (params, request.validation_error)


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
@SETTINGS
@given(params=parameter_sets)
def test_shared_parameters(
    server: FakeProviderServer, hosted: Hosted, params: dict[str, Any]
) -> None:
    _attempt(server, hosted, "Once upon a time", params)


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
@SETTINGS
@given(prompt=prompts)
def test_prompts_and_messages(server: FakeProviderServer, hosted: Hosted, prompt: Any) -> None:
    _attempt(server, hosted, prompt, {})


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("temperature", "hot", "number"),
        ("max_tokens", 2.5, "integer"),
        ("stop", 5, "string"),
        ("top_p", 0, "(0, 1]"),
        ("n", 0, ">= 1"),
        ("temperature", math.inf, "finite"),
    ],
)
def test_messages_name_the_parameter_and_what_is_allowed(
    server: FakeProviderServer, name: str, value: Any, allowed: str
) -> None:
    with pytest.raises(genkit.InvalidParameterError) as info:
        genkit.load("openai:gpt-4o").generate("hi", **{name: value})
    assert info.value.parameter == name
    assert name in str(info.value)
    assert allowed in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize(
    ("prompt", "where"),
    [
        ("", "prompt"),
        ([{"role": "wizard", "content": "hi"}], "prompt[0].role"),
        ([{"role": "user", "content": 42}], "prompt[0].content"),
        ([{"role": "user"}], "prompt[0]"),
        ([{"role": "system", "content": "only a system turn"}], "prompt"),
        (b"bytes", "prompt"),
    ],
)
def test_bad_prompts_fail_before_any_request(
    server: FakeProviderServer, prompt: Any, where: str
) -> None:
    with pytest.raises(genkit.InvalidParameterError) as info:
        genkit.load("anthropic:claude-sonnet-4-6").generate(prompt)
    assert info.value.parameter == where
    assert server.requests == []


@pytest.mark.parametrize(
    ("provider", "module", "extra"),
    [("openai", "openai", "openai"), ("anthropic", "anthropic", "anthropic")],
)
def test_missing_optional_extra_says_what_to_install(
    provider: str, module: str, extra: str
) -> None:
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "import genkit\n"
        "try:\n"
        f"    genkit.load('{provider}:some-model', api_key='k')\n"
        "except genkit.MissingDependencyError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert f"pip install 'genkit-sdk[{extra}]'" in out
