"""Bad input never reaches a provider, and good input always makes a request it accepts.

Property tests generate shared parameters and prompts, valid and not, for every
hosted backend (and, per provider, a model whose capabilities differ: OpenAI's
reasoning models, Claude Opus 4.7).  For each one:

- an oracle written from the README's parameter table says whether the input is
  valid.  genkit must agree: valid input is accepted, invalid input raises
  ``InvalidParameterError``/``UnsupportedParameterError`` before any request
  (``server.requests == []``), naming one of the offending parameters, the provider
  and what is allowed;
- an accepted input's request passes the strict fake server's validation of the
  provider's own rules (``validation_error is None``), and every value arrives in
  the provider's field with the right JSON type;
- in drop mode (drawn too) only what no model takes is refused; unsupported
  parameters are left out and values beyond the model's limits arrive clamped, one
  warning each.

The oracles model every rule genkit enforces: ``genkit/params.py``,
``genkit/messages.py`` and each backend's ``check()``.  How many examples run, and
whether they are random, is the hypothesis profile's business (tests/hypothesis_profiles.py).

Configuration mistakes (unknown provider, malformed model string, missing key,
missing optional extra, bad ``GENKIT_*`` variables) each raise a
``ConfigurationError`` or ``InvalidParameterError`` that says how to fix them.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import genkit
from fakeprovider import FakeProviderServer, RecordedRequest
from tests.hosted import HOSTED, Hosted, point_sdks_at
from tests.hypothesis_profiles import examples

SETTINGS = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

#: Per provider: a model with the provider's full parameter set, and one whose
#: capability row differs.
MODELS: dict[str, tuple[str, ...]] = {
    "openai": ("gpt-4o", "o3-mini"),
    "anthropic": ("claude-sonnet-4-6", "claude-opus-4-7"),
    "gemini": ("gemini-2.5-flash",),
}

# --------------------------------------------------------------------------- the oracle

INT_PARAMS = frozenset({"max_tokens", "top_k", "seed", "n"})
SAMPLING = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty", "stop"})
UNSUPPORTED: dict[str, frozenset[str]] = {
    "openai": frozenset({"top_k"}),
    "anthropic": frozenset({"seed", "presence_penalty", "frequency_penalty"}),
    "gemini": frozenset(),
}


def unsupported(provider: str, model: str) -> frozenset[str]:
    """The README's table: what each provider (and model family) cannot honour."""
    names = UNSUPPORTED[provider]
    if provider == "openai" and model.startswith(("o1", "o3", "o4", "gpt-5")):
        names |= SAMPLING
    if provider == "anthropic" and model.startswith("claude-opus-4-7"):
        names |= {"temperature", "top_p", "top_k"}
    return names


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _int_in(value: object, low: float, high: float = math.inf) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _number_in(value: object, low: float, high: float, *, open_low: bool = False) -> bool:
    if not _is_number(value) or not isinstance(value, int | float):
        return False
    return (low < value if open_low else low <= value) and value <= high


def _stops(value: object) -> list[str] | None:
    if isinstance(value, str):
        items: list[object] = [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    if not all(isinstance(s, str) and s for s in items):
        return None
    return [str(s) for s in items]


def universal(name: str, value: object) -> bool:
    """Whether genkit takes ``value`` for ``name`` on some model: type and basic range."""
    if name in ("max_tokens", "top_k", "n"):
        return _int_in(value, 1)
    if name == "temperature":
        return _number_in(value, 0, math.inf)
    if name == "top_p":
        return _number_in(value, 0, 1, open_low=True)
    if name == "stop":
        return _stops(value) is not None
    if name == "seed":
        return _int_in(value, -(2**63), 2**63 - 1)
    if name in ("presence_penalty", "frequency_penalty"):
        return _is_number(value)
    raise AssertionError(name)


#: The README's per-provider limits: what drop mode clamps to instead of refusing.
LIMITS: dict[str, dict[str, tuple[float, float]]] = {
    "openai": {
        "temperature": (0, 2),
        "presence_penalty": (-2, 2),
        "frequency_penalty": (-2, 2),
        "n": (1, 128),
    },
    "anthropic": {"temperature": (0, 1), "n": (1, 8)},
    "gemini": {
        "temperature": (0, 2),
        "presence_penalty": (-2, 2),
        "frequency_penalty": (-2, 2),
        "seed": (-(2**31), 2**31 - 1),
        "n": (1, 8),
    },
}
MAX_STOP: dict[str, int | None] = {"openai": 4, "anthropic": None, "gemini": 5}


def within_limits(provider: str, name: str, value: Any) -> Any:
    """``value`` brought within the provider's limits: what drop mode sends (None: nothing)."""
    if name == "stop":
        stops = _stops(value)
        assert stops is not None
        if provider == "anthropic":  # whitespace-only ones dropped; none left: no stop
            kept = [s for s in stops if s.strip()]
            if stops and not kept:
                return None
            stops = kept
        most = MAX_STOP[provider]
        return stops if most is None else stops[:most]
    low, high = LIMITS[provider].get(name, (-math.inf, math.inf))
    return min(max(value, low), high)


def refused_by_provider(provider: str, name: str, value: object) -> bool:
    """What a backend's ``check()`` refuses in any mode: Anthropic's whitespace-only stops."""
    stops = _stops(value) if name == "stop" else None
    return provider == "anthropic" and stops is not None and not all(s.strip() for s in stops)


def valid(provider: str, name: str, value: object) -> bool:
    """Whether ``value`` is an allowed value of ``name`` for a model that supports it."""
    if not universal(name, value) or refused_by_provider(provider, name, value):
        return False
    return bool(
        within_limits(provider, name, value) == (_stops(value) if name == "stop" else value)
    )


def sent_in_drop_mode(
    provider: str, model: str, params: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """What accepted params put on the wire in drop mode, and how many warnings it gives."""
    sent, warnings = {}, 0
    for name, value in params.items():
        if value is None:
            continue
        if name in unsupported(provider, model):
            warnings += 1
            continue
        kept = within_limits(provider, name, value)
        if name == "stop":
            stops = _stops(value) or []
            # Anthropic's whitespace-only stops are removed, then a list is cut to the
            # provider's maximum: one warning for each.
            warnings += provider == "anthropic" and any(not s.strip() for s in stops)
            most = MAX_STOP[provider]
            warnings += most is not None and len(stops) > most
        else:
            warnings += kept != value
        if kept is not None:
            sent[name] = kept
    return sent, warnings


def offending(provider: str, model: str, params: dict[str, Any], drop: bool = False) -> set[str]:
    """Parameters the call must be refused for (``None`` means unset: never refused).

    In drop mode only what no model takes is refused (types are checked before support).
    """
    bad = set()
    for name, value in params.items():
        if value is None:
            continue
        if drop:
            if not universal(name, value):
                bad.add(name)
        elif name in unsupported(provider, model) or not valid(provider, name, value):
            bad.add(name)
    return bad


# --------------------------------------------------------------------------- strategies
# Each parameter draws a valid value about three times in four, so that a set of up
# to three parameters is often entirely valid and both branches get explored.

junk = st.one_of(
    st.text(max_size=4),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.binary(max_size=3),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)


def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> Any:
    """``valid`` seven draws in ten, else ``invalid`` (``one_of`` alone would favour junk)."""
    return st.integers(0, 9).flatmap(lambda k: valid if k < 7 else invalid)


def parameter(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> Any:
    return mostly(st.one_of(valid, st.none()), st.one_of(invalid, junk))


def unit_floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False)


stop_text = st.text(alphabet=st.sampled_from("ab \n\t"), max_size=4)
PARAMETERS: dict[str, st.SearchStrategy[Any]] = {
    "max_tokens": parameter(st.integers(1, 4096), st.one_of(st.integers(-2, 0), st.floats(0, 9))),
    "temperature": parameter(
        st.one_of(unit_floats(0, 1), st.integers(0, 1)),
        st.one_of(unit_floats(1, 2.5), unit_floats(-1, -0.001)),
    ),
    "top_p": parameter(unit_floats(0.001, 1), st.one_of(unit_floats(-1, 0), unit_floats(1.001, 2))),
    "top_k": parameter(st.integers(1, 100), st.one_of(st.integers(-2, 0), st.floats(1, 5))),
    "stop": parameter(
        st.one_of(
            st.text(alphabet="abc", min_size=1, max_size=4),
            st.lists(st.text(alphabet="abc", min_size=1, max_size=4), max_size=4),
        ),
        st.one_of(
            stop_text,
            st.lists(stop_text, max_size=7),
            st.tuples(stop_text, stop_text),
            st.lists(st.integers(), min_size=1, max_size=2),
        ),
    ),
    "seed": parameter(
        st.integers(-1000, 1000), st.integers(-(2**64), 2**64).filter(lambda v: abs(v) > 2**30)
    ),
    "n": parameter(st.integers(1, 3), st.sampled_from([-1, 0, 9, 128, 129])),
    "presence_penalty": parameter(unit_floats(-2, 2), unit_floats(2.001, 3)),
    "frequency_penalty": parameter(unit_floats(-2, 2), unit_floats(-3, -2.001)),
}


def parameter_sets(provider: str, model: str) -> st.SearchStrategy[dict[str, Any]]:
    """Up to three parameters, mostly ones the model supports (the rest: any of them)."""
    everything = sorted(PARAMETERS)
    supported = [name for name in everything if name not in unsupported(provider, model)]
    name = st.one_of(st.sampled_from(supported), st.sampled_from(everything))
    return st.lists(name, max_size=3, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({n: PARAMETERS[n] for n in names})
    )


# st.text() never draws a lone surrogate (category Cs), which genkit refuses in every text
# it sends (``check_text``): mix a few in, so that rule is exercised and the oracle's
# model of it is checked.
_chars = st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))


def texts(min_size: int = 0, max_size: int = 8) -> st.SearchStrategy[str]:
    return st.text(alphabet=_chars, min_size=min_size, max_size=max_size)


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


ROLES = ("system", "user", "assistant")
valid_messages = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(ROLES), "content": texts(1, 8)}),
    st.builds(genkit.Message, role=st.sampled_from(ROLES), content=texts(1, 8)),
)
invalid_messages = st.one_of(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["tool", "bot", "", "USER", "developer"]),
            "content": st.text(min_size=1, max_size=4),
        }
    ),
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(ROLES),
            "content": st.one_of(st.just(""), st.integers(), st.none()),
        }
    ),
    st.fixed_dictionaries({"role": st.sampled_from(ROLES)}),  # no content
    st.fixed_dictionaries({"content": st.text(min_size=1, max_size=4)}),  # no role
    st.builds(genkit.Message, role=st.just("bot"), content=st.text(min_size=1, max_size=4)),
    st.integers(),
    st.text(max_size=3),
)
messages = mostly(valid_messages, invalid_messages)
prompts = mostly(
    st.one_of(
        texts(1, 10),
        st.lists(messages, min_size=1, max_size=3),
        st.tuples(messages, messages),
    ),
    st.one_of(st.just(""), st.just([]), st.integers(), st.none(), st.binary(max_size=4)),
)
systems = mostly(st.one_of(st.none(), texts(1, 6)), st.one_of(st.just(""), st.integers()))


def as_message(item: object) -> genkit.Message | None:
    """The oracle's reading of one list item: a valid message, or None."""
    if isinstance(item, genkit.Message):
        role, text = item.role, item.content
    elif isinstance(item, dict) and "role" in item and "content" in item:
        role, text = item["role"], item["content"]
    else:
        return None
    if role not in ROLES or not isinstance(text, str) or not text or has_surrogate(text):
        return None
    return genkit.Message(role, text)


def expected_messages(prompt: object, system: object, provider: str) -> list[genkit.Message] | None:
    """The conversation a valid prompt means, or None if the prompt must be refused.

    Every rule genkit enforces is here: genkit's own (``genkit/messages.py``: non-empty
    text without lone surrogates) for every provider, and what a backend's ``check()``
    refuses before sending - for Anthropic, a turn made only of whitespace and a final
    assistant turn (a prefill) that ends in whitespace, both answered with a 400.
    """
    if system is not None and (not isinstance(system, str) or not system or has_surrogate(system)):
        return None
    head = [genkit.Message("system", system)] if isinstance(system, str) else []
    if isinstance(prompt, str):
        if not prompt or has_surrogate(prompt):
            return None
        turns: list[genkit.Message | None] = [genkit.Message("user", prompt)]
    elif isinstance(prompt, list | tuple):
        turns = [as_message(item) for item in prompt]
    else:
        return None
    if any(turn is None for turn in turns):
        return None
    checked = [turn for turn in turns if turn is not None]
    if not any(turn.role != "system" for turn in checked):
        return None
    if provider == "anthropic" and not anthropic_accepts(checked):
        return None
    return [*head, *checked]


def text_of(turn: genkit.Message) -> str:
    """A turn's content, which in the oracle is always text (``as_message`` keeps no other)."""
    assert isinstance(turn.content, str), turn
    return turn.content


def anthropic_accepts(turns: list[genkit.Message]) -> bool:
    """The Messages API's rules on turns (system turns are hoisted out of them)."""
    spoken = [turn for turn in turns if turn.role != "system"]
    if any(not text_of(turn).strip() for turn in spoken):
        return False
    last = spoken[-1]
    return last.role != "assistant" or text_of(last) == text_of(last).rstrip()


# --------------------------------------------------------------------------- server checks


def wire_messages(provider: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """The conversation as the provider received it, as (genkit role, text) pairs."""
    if provider == "openai":
        return [(m["role"], m["content"]) for m in body["messages"]]
    if provider == "anthropic":
        system = body.get("system")
        head = [("system", system)] if system is not None else []
        return head + [(m["role"], m["content"]) for m in body["messages"]]
    roles = {"user": "user", "model": "assistant"}
    instruction = body.get("systemInstruction") or body.get("system_instruction")
    head = [("system", instruction["parts"][0]["text"])] if instruction else []
    return head + [(roles[c["role"]], c["parts"][0]["text"]) for c in body["contents"]]


def conversation_sent(provider: str, turns: list[genkit.Message]) -> list[tuple[str, str]]:
    """What ``turns`` must look like on the wire: Anthropic and Gemini hoist system turns."""
    if provider == "openai":
        return [(t.role, text_of(t)) for t in turns]
    systems = [text_of(t) for t in turns if t.role == "system"]
    head = [("system", "\n\n".join(systems))] if systems else []
    return head + [(t.role, text_of(t)) for t in turns if t.role != "system"]


def check_wire(hosted: Hosted, request: RecordedRequest, params: dict[str, Any]) -> None:
    """Every value sent (``params``: each accepted value, clamped in drop mode) is in the
    provider's field, with the right JSON type."""
    body = request.body
    assert body is not None
    for name, value in params.items():
        if value is None or (name == "n" and hosted.provider == "anthropic"):
            continue
        sent = hosted.wire[name](body)
        if name == "stop":
            assert sent == list(value), (name, value, sent)
        elif name in INT_PARAMS:
            # google-genai types topK as a float: integral floats are what it sends.
            assert _is_int(sent) or (hosted.provider == "gemini" and sent == int(sent)), (
                name,
                value,
                sent,
            )
            assert sent == value, (name, value, sent)
        else:
            assert _is_number(sent), (name, value, sent)
            assert sent == value, (name, value, sent)
    if hosted.provider == "anthropic" and params.get("max_tokens") is None:
        assert body["max_tokens"] == 4096, "the API requires max_tokens: genkit sends one"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    return fake_server


class Generators:
    """One Generator per model for a whole hypothesis run: the examples share pools."""

    def __init__(self) -> None:
        self._gens: dict[str, genkit.Generator] = {}

    def get(self, provider: str, model: str) -> genkit.Generator:
        key = f"{provider}:{model}"
        if key not in self._gens:
            self._gens[key] = genkit.load(key, max_retries=0)
        return self._gens[key]

    def close(self) -> None:
        for gen in self._gens.values():
            gen.close()


@pytest.fixture
def gens(server: FakeProviderServer) -> Iterator[Generators]:
    cache = Generators()
    yield cache
    cache.close()


ALLOWED = re.compile(r"allowed: |expected |must |not supported|empty prompt")


def check_refusal(
    error: genkit.InvalidParameterError, provider: str, acceptable: set[str] | None = None
) -> None:
    """The refusal names the parameter, the provider and what would be accepted."""
    text = str(error)
    assert f"'{error.parameter}'" in text
    assert error.provider == provider
    assert f"'{provider}'" in text
    assert ALLOWED.search(text), f"says what is allowed: {text}"
    if acceptable is not None:
        assert error.parameter in acceptable, (error.parameter, acceptable, text)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
@SETTINGS
@given(data=st.data())
def test_shared_parameters(
    server: FakeProviderServer, gens: Generators, hosted: Hosted, data: st.DataObject
) -> None:
    server.reset()
    model = data.draw(st.sampled_from(MODELS[hosted.provider]), label="model")
    params = data.draw(parameter_sets(hosted.provider, model), label="params")
    drop = data.draw(st.booleans(), label="drop_unsupported")
    gen = gens.get(hosted.provider, model)
    bad = offending(hosted.provider, model, params, drop)
    refused: genkit.InvalidParameterError | None = None
    try:
        result = gen.generate("Once upon a time", drop_unsupported=drop, **params)
    except genkit.InvalidParameterError as error:
        refused = error
    event("refused" if refused is not None else "accepted")
    if refused is not None:
        assert bad, f"valid input refused: {refused}"
        check_refusal(refused, hosted.provider, bad)
        if isinstance(refused, genkit.UnsupportedParameterError):
            assert refused.parameter in unsupported(hosted.provider, model)
        assert server.requests == [], "refused input must not reach the provider"
        return
    assert not bad, f"{sorted(bad)} accepted: {params}"
    sent, warnings = (
        sent_in_drop_mode(hosted.provider, model, params)
        if drop
        else ({k: _stops(v) if k == "stop" else v for k, v in params.items() if v is not None}, 0)
    )
    requests = server.requests
    n = sent.get("n", 1)
    assert len(requests) == (n if hosted.provider == "anthropic" else 1)
    for request in requests:
        assert request.validation_error is None, (params, request.validation_error)
        check_wire(hosted, request, sent)
    assert len(result.texts) == n
    assert len(result.warnings) == warnings, (params, result.warnings)


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
@SETTINGS
@given(prompt=prompts, system=systems)
# What once failed by chance: whitespace Anthropic refuses, and the same turns elsewhere.
@example(prompt=" ", system=None)
@example(
    prompt=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "a "}], system=None
)
@example(prompt=[genkit.Message("user", "\t"), genkit.Message("assistant", "b")], system=" ")
def test_prompts_and_messages(
    server: FakeProviderServer, gens: Generators, hosted: Hosted, prompt: Any, system: Any
) -> None:
    server.reset()
    gen = gens.get(hosted.provider, hosted.model)
    turns = expected_messages(prompt, system, hosted.provider)
    refused: genkit.InvalidParameterError | None = None
    try:
        gen.generate(prompt, system=system)
    except genkit.InvalidParameterError as error:
        refused = error
    event("refused" if refused is not None else "accepted")
    if refused is not None:
        assert turns is None, f"valid prompt refused: {refused}"
        check_refusal(refused, hosted.provider)
        assert refused.parameter == "system" or refused.parameter.startswith("prompt")
        assert server.requests == []
        return
    assert turns is not None, f"invalid prompt accepted: {prompt!r}, system={system!r}"
    (request,) = server.requests
    assert request.validation_error is None, request.validation_error
    assert request.body is not None
    assert wire_messages(hosted.provider, request.body) == conversation_sent(hosted.provider, turns)


# --------------------------------------------------------------------------- named examples


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("temperature", "hot", "expected a number, got str"),
        ("temperature", math.inf, "finite"),
        ("temperature", True, "expected a number, got bool"),
        ("max_tokens", 2.5, "expected an integer"),
        ("max_tokens", 0, "allowed: an integer >= 1"),
        ("top_p", 0, "allowed: a number in (0, 1]"),
        ("stop", 5, "expected a string or a list of strings"),
        ("stop", ["ok", ""], "non-empty string"),
        ("seed", "7", "expected an integer"),
        ("n", 0, "allowed: an integer >= 1"),
        ("presence_penalty", "high", "expected a number"),
        ("timeout", -1, "allowed: > 0"),
        ("max_retries", -1, "allowed: an integer >= 0"),
        ("provider_options", 5, "expected a dict"),
        ("drop_unsupported", "yes", "expected True or False"),
        ("tempreature", 0.5, "use provider_options"),
    ],
)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_wrong_values_are_refused_before_any_request(
    server: FakeProviderServer, hosted: Hosted, name: str, value: Any, allowed: str
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    with pytest.raises(genkit.InvalidParameterError) as info:
        gen.generate("hi", **{name: value})
    assert info.value.parameter == name
    check_refusal(info.value, hosted.provider)
    assert allowed in str(info.value)
    assert server.requests == []
    with pytest.raises(genkit.InvalidParameterError):
        gen.stream("hi", **{name: value})  # streams refuse at the call, not on iteration
    assert server.requests == []


@pytest.mark.parametrize(
    ("provider", "model", "name", "value"),
    [
        ("openai", "gpt-4o", "top_k", 40),
        ("openai", "o3-mini", "temperature", 0.5),
        ("anthropic", "claude-sonnet-4-6", "seed", 1),
        ("anthropic", "claude-opus-4-7", "top_p", 0.9),
    ],
)
def test_unsupported_parameters_name_what_the_model_takes(
    server: FakeProviderServer, provider: str, model: str, name: str, value: Any
) -> None:
    gen = genkit.load(f"{provider}:{model}")
    with pytest.raises(genkit.UnsupportedParameterError) as info:
        gen.generate("hi", **{name: value})
    check_refusal(info.value, provider)
    assert "drop_unsupported=True" in str(info.value)
    assert "max_tokens" in info.value.supported
    assert server.requests == []
    # The documented way out: dropped with a warning, and the request is accepted.
    result = gen.generate("hi", drop_unsupported=True, **{name: value})
    assert any(name in warning for warning in result.warnings)
    (request,) = server.requests
    assert request.validation_error is None


@pytest.mark.parametrize(
    ("prompt", "system", "where", "says"),
    [
        ("", None, "prompt", "empty prompt"),
        ([], None, "prompt", "at least one user message"),
        (None, None, "prompt", "expected a string or a list of messages"),
        (b"bytes", None, "prompt", "expected a string or a list of messages"),
        ([{"role": "wizard", "content": "hi"}], None, "prompt[0].role", "system, user, assistant"),
        ([genkit.Message("bot", "hi")], None, "prompt[0].role", "system, user, assistant"),  # type: ignore[arg-type]
        ([{"role": "user", "content": 42}], None, "prompt[0].content", "non-empty text"),
        ([{"role": "user", "content": ""}], None, "prompt[0].content", "non-empty text"),
        ([{"role": "user"}], None, "prompt[0]", "'role' and 'content'"),
        (["just text"], None, "prompt[0]", "expected a message dict"),
        ([{"role": "system", "content": "rules"}], None, "prompt", "at least one user message"),
        ("hi", "", "system", "non-empty string"),
        ("hi", 5, "system", "non-empty string"),
    ],
)
@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_bad_prompts_are_refused_before_any_request(
    server: FakeProviderServer, hosted: Hosted, prompt: Any, system: Any, where: str, says: str
) -> None:
    gen = genkit.load(f"{hosted.provider}:{hosted.model}")
    with pytest.raises(genkit.InvalidParameterError) as info:
        gen.generate(prompt, system=system)
    assert info.value.parameter == where
    assert says in str(info.value)
    check_refusal(info.value, hosted.provider)
    assert server.requests == []


@pytest.mark.parametrize(
    "prompt",
    [
        "   ",
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "\n"}],
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Sure, "}],
    ],
    ids=["whitespace-prompt", "whitespace-turn", "prefill-trailing-space"],
)
def test_anthropic_refuses_what_its_api_refuses(server: FakeProviderServer, prompt: Any) -> None:
    gen = genkit.load("anthropic:claude-sonnet-4-6")
    with pytest.raises(genkit.InvalidParameterError):
        gen.generate(prompt)
    assert server.requests == []


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("model", ["openai", ":gpt-4o", "openai:", ":", "   ", " : ", "gpt-4o"])
def test_malformed_model_strings_say_how_to_write_one(model: str) -> None:
    with pytest.raises(genkit.ConfigurationError) as info:
        genkit.load(model)
    assert "'provider:model'" in str(info.value)
    assert "openai:gpt-4o" in str(info.value)


def test_a_model_that_is_not_a_string_is_a_configuration_error() -> None:
    with pytest.raises(genkit.ConfigurationError, match="must be a string"):
        genkit.load(42)  # type: ignore[arg-type]


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(genkit.UnknownProviderError) as info:
        genkit.load("mistral:large")
    text = str(info.value)
    assert "'mistral'" in text
    for known in ("openai", "anthropic", "gemini", "huggingface"):
        assert known in text
    assert "'provider:model'" in text


@pytest.mark.parametrize(
    ("hosted", "variables"),
    [
        (HOSTED[0], ("OPENAI_API_KEY",)),
        (HOSTED[1], ("ANTHROPIC_API_KEY",)),
        (HOSTED[2], ("GEMINI_API_KEY", "GOOGLE_API_KEY")),
    ],
    ids=str,
)
def test_missing_key_names_the_variable_to_set(
    monkeypatch: pytest.MonkeyPatch, hosted: Hosted, variables: tuple[str, ...]
) -> None:
    for name in (
        "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(genkit.MissingAPIKeyError) as info:
        genkit.load(f"{hosted.provider}:{hosted.model}")
    assert isinstance(info.value, genkit.ConfigurationError)
    for variable in variables:
        assert variable in str(info.value)
    assert "api_key=" in str(info.value)


@pytest.mark.parametrize(
    ("variable", "value"), [("GENKIT_TIMEOUT", "soon"), ("GENKIT_MAX_RETRIES", "many")]
)
def test_bad_genkit_variables_are_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-123")
    monkeypatch.setenv(variable, value)
    with pytest.raises(genkit.InvalidParameterError) as info:
        genkit.load("openai:gpt-4o")
    assert variable in str(info.value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    ("model", "hidden", "extra"),
    [
        ("openai:gpt-4o", "openai", "openai"),
        ("anthropic:claude-sonnet-4-6", "anthropic", "anthropic"),
        ("gemini:gemini-2.5-flash", "google.genai", "gemini"),
        ("huggingface:gpt2", "torch", "local"),
    ],
)
def test_missing_optional_extra_says_what_to_install(model: str, hidden: str, extra: str) -> None:
    """A fresh interpreter where the SDK cannot be imported, as if the extra were absent."""
    code = (
        "import sys\n"
        f"sys.modules[{hidden!r}] = None\n"
        "import genkit\n"
        "try:\n"
        f"    genkit.load({model!r}, api_key='sk-test-key-123')\n"
        "except genkit.MissingDependencyError as error:\n"
        "    assert isinstance(error, genkit.ConfigurationError)\n"
        "    print(error)\n"
        "else:\n"
        "    raise SystemExit('no MissingDependencyError')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert f"pip install 'genkit-sdk[{extra}]'" in done.stdout
