"""Did you mean ...? for misspelt parameter names, provider names and model strings.

A typo should cost the user one glance at the error, not a trip to the docs, so every
name genkit refuses is compared (with :mod:`difflib`, in the standard library) with the
names it would have accepted.  Model strings get a look at their shape too:
``openai/gpt-4o`` is the right words with the wrong separator, and a bare ``gpt-4o``
names a model family whose provider genkit can guess.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

__all__ = ["closest", "model_hint"]

#: Model-name families -> the provider that serves them, to complete a bare model name.
#: Data, like the capability tables: a new family is a row.
FAMILIES: tuple[tuple[str, str], ...] = (
    ("gpt-*", "openai"),
    ("chatgpt-*", "openai"),
    ("o[1-9]*", "openai"),
    ("claude*", "anthropic"),
    ("gemini*", "gemini"),
)
#: Providers' own names for genkit's shared parameters: a user coming from one SDK
#: writes its name, which no spelling distance leads back to genkit's.
NATIVE_NAMES: dict[str, str] = {
    "stop_sequences": "stop",
    "max_completion_tokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "max_new_tokens": "max_tokens",
    "candidate_count": "n",
    "num_return_sequences": "n",
    "system_instruction": "system",
}
#: What people put between provider and model instead of the colon.
_SEPARATORS = re.compile(r"[/\s]+")


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` most likely misspells, or None when none is close."""
    choices = list(dict.fromkeys(candidates))
    native = NATIVE_NAMES.get(word.lower())
    if native in choices:
        return native
    lowered = {choice.lower(): choice for choice in choices}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[found[0]] if found else None


def model_hint(spec: str, providers: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` for a model string without ``provider:``, or ``""``."""
    known = list(providers)
    head, sep, tail = _split(spec)
    if sep:
        exact = head.lower() in known
        provider = head.lower() if exact else closest(head, known)
        if provider is not None:
            guesses = [f"{provider}:{tail}"]
            if exact and sep == "/":  # also a valid Hugging Face hub id ("openai/gpt-oss-20b")
                guesses.append(f"huggingface:{spec.strip()}")
            return "did you mean " + " or ".join(repr(g) for g in guesses) + "?"
    name = spec.strip()
    for pattern, provider in FAMILIES:
        if fnmatchcase(name.lower(), pattern):
            return f"did you mean {provider + ':' + name!r}?"
    if "/" in name:  # an "org/model" hub id
        return f"did you mean {'huggingface:' + name!r}?"
    return ""


def _split(spec: str) -> tuple[str, str, str]:
    match = _SEPARATORS.search(spec.strip())
    if match is None or match.start() == 0:
        return spec, "", ""
    text = spec.strip()
    sep = "/" if "/" in match.group() else " "
    return text[: match.start()], sep, text[match.end() :]
