"""The ``genkit`` command: one prompt in, the model's answer out, for shell scripts.

    genkit "Once upon a time"                       # streams with $GENKIT_MODEL
    genkit -m openai:gpt-4o -s "Be terse." --max-tokens 50 "Explain DNS"
    echo "Summarise: ..." | genkit --json           # the prompt from stdin, JSON out
    genkit providers                                 # what is installed, what to install
    genkit image "a lighthouse" -o lighthouse.png    # an image ($GENKIT_IMAGE_MODEL)

Exit status: 0 on success; 1 when the provider or the network failed (after genkit's
retries); 2 when the command cannot run as written - a bad flag or value, no prompt,
a malformed model string, an unknown provider, a missing API key or extra; 130 on
Ctrl-C; 141 when whoever reads stdout stopped reading (``| head``), as for any Unix
tool killed by SIGPIPE.  Errors are one line on stderr, never a traceback.

Only the standard library and ``genkit`` itself are imported here; a vendor SDK is
imported when a model of its provider is loaded, so ``genkit providers`` and
``genkit --help`` stay as fast as ``import genkit``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import IO, Any, NoReturn

from genkit import __version__
from genkit.errors import (
    ConfigurationError,
    GenkitError,
    InvalidParameterError,
    MissingAPIKeyError,
    UnsupportedParameterError,
)
from genkit.generator import Generator, load
from genkit.params import SHARED_PARAMETERS
from genkit.types import Generation

__all__ = ["EXIT_INTERRUPTED", "EXIT_PIPE", "EXIT_PROVIDER", "EXIT_USAGE", "main"]

EXIT_PROVIDER = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
EXIT_PIPE = 141  # 128 + SIGPIPE, what `yes | head` reports for `yes`

PROG = "genkit"

#: Subcommands are recognised only as the first argument; ``genkit -- providers``
#: sends the word as a prompt.
COMMANDS = ("providers", "image")

#: The call options (of ``genkit.params.CALL_OPTIONS``) that take a value on the command
#: line; ``drop_unsupported`` is a switch and ``provider_options`` a dict.
_VALUE_OPTIONS = ("timeout", "max_retries")

#: How each flag's text becomes a value.  genkit checks ranges itself (and names the
#: parameter when a value is out of range); argparse only parses the number.
#: A shared parameter missing here still gets a flag, parsed as a number.
_PARSE: dict[str, Any] = {
    "max_tokens": int,
    "top_k": int,
    "seed": int,
    "n": int,
    "max_retries": int,
    "stop": str,
    "reasoning": lambda text: int(text) if text.isdigit() else text,
}

#: One line of ``--help`` per parameter, the README's table in short.
_HELP: dict[str, str] = {
    "max_tokens": "most tokens to generate (>= 1)",
    "temperature": "sampling temperature (>= 0; 0 is greedy where supported)",
    "top_p": "nucleus sampling, in (0, 1]",
    "top_k": "sample from the k most likely tokens (>= 1)",
    "stop": "stop sequence, not included in the text; repeat for several",
    "seed": "seed for reproducible sampling",
    "n": "number of candidates (>= 1)",
    "presence_penalty": "OpenAI's presence penalty, -2 to 2",
    "frequency_penalty": "OpenAI's frequency penalty, -2 to 2",
    "reasoning": "reasoning effort: none, minimal, low, medium, high, or a token budget",
    "timeout": "seconds per attempt (default $GENKIT_TIMEOUT, else the SDK's)",
    "max_retries": "attempts after the first (default $GENKIT_MAX_RETRIES, else 2)",
}

#: What each built-in provider needs installed: the extra to name in ``pip install``
#: and the top-level modules that prove it is there (looked up, never imported).
_EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "openai": ("openai", ("openai", "httpx2")),
    "anthropic": ("anthropic", ("anthropic", "httpx2")),
    "gemini": ("gemini", ("google.genai", "httpx2")),
    "huggingface": ("local", ("transformers", "torch", "tokenizers")),
}


def flag(name: str) -> str:
    """A parameter's flag: ``max_tokens`` -> ``--max-tokens``, ``n`` -> ``-n``."""
    return f"-{name}" if len(name) == 1 else "--" + name.replace("_", "-")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr like every other genkit error."""

    def error(self, message: str) -> NoReturn:
        _say(f"{message} (see '{self.prog} --help')")
        raise SystemExit(EXIT_USAGE)


class _UsageError(Exception):
    """The command line is fine for argparse but cannot run (no prompt, say)."""


def build_parser() -> argparse.ArgumentParser:
    """The parser for ``genkit [options] PROMPT...``; one flag per shared parameter."""
    parser = _Parser(
        prog=PROG,
        description=(
            "Generate text with any model genkit supports. The answer streams to stdout; "
            "the prompt is the arguments, else stdin. "
            f"Other commands: '{PROG} providers' lists providers and what each needs; "
            f"'{PROG} image PROMPT -o FILE' draws an image; "
            f"'{PROG} -- providers' sends the word 'providers' as a prompt."
        ),
        epilog=(
            "exit status: 0 ok, 1 the provider or network failed, 2 usage or setup error "
            "(bad flag or value, missing key, unknown provider, missing extra), 130 Ctrl-C"
        ),
    )
    parser.add_argument(
        "prompt", nargs="*", help="the prompt (words are joined with spaces); default: stdin"
    )
    parser.add_argument(
        "-m", "--model", help="provider:model, e.g. openai:gpt-4o (default: $GENKIT_MODEL)"
    )
    parser.add_argument("-s", "--system", help="system prompt")
    parser.add_argument(
        "--no-stream", action="store_true", help="wait for the whole answer, then print it"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON object (text, finish_reason, usage, model, "
        "provider, warnings; texts when -n > 1); implies --no-stream",
    )
    parser.add_argument(
        "--drop-unsupported",
        action="store_true",
        help="drop parameters the model does not support (a warning on stderr) instead of failing",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log genkit's attempts and retries to stderr"
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")

    params = parser.add_argument_group("generation parameters (checked before any request)")
    for name in (*SHARED_PARAMETERS, *_VALUE_OPTIONS):
        parse = _PARSE.get(name, float)
        params.add_argument(
            flag(name),
            dest=name,
            type=parse,
            action="append" if name == "stop" else "store",
            metavar="TEXT" if parse is str else name.upper(),
            help=_HELP.get(name, name.replace("_", " ")),
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] == "providers":
            return _providers(args[1:])
        if args and args[0] == "image":
            from genkit._cli_image import image_command

            return image_command(args[1:], PROG, _Parser, _read_stdin)
        return _generate(build_parser().parse_args(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Whoever read stdout is gone.  Point stdout at /dev/null so the interpreter's
        # own flush at exit does not fail a second time and print a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE
    except _UsageError as error:
        _say(f"{error} (see '{PROG} --help')")
        return EXIT_USAGE
    except GenkitError as error:
        _say(_describe(error))
        return _status(error)
    except OSError as error:  # writing stdout failed (disk full, ...): not genkit's doing
        _say(str(error))
        return EXIT_PROVIDER


def _status(error: GenkitError) -> int:
    """2 when the command or its setup must change, 1 when the run itself failed."""
    if isinstance(error, ConfigurationError | InvalidParameterError):
        return EXIT_USAGE
    return EXIT_PROVIDER


def _describe(error: GenkitError) -> str:
    """The error's own message, reworded where the library's advice does not fit a shell."""
    if isinstance(error, MissingAPIKeyError):
        names = " or ".join(error.env_vars)
        return f"no API key for provider {error.provider!r}: set {names} in the environment"
    if isinstance(error, UnsupportedParameterError):
        return (
            f"{flag(error.parameter)}: not supported by {error.provider} model "
            f"{error.model!r} (add --drop-unsupported to drop it); supported: {error.allowed}"
        )
    if isinstance(error, InvalidParameterError) and error.parameter in _HELP:
        return f"{flag(error.parameter)}: {error}"
    return str(error)


def _say(message: str) -> None:
    """One line on stderr, whatever the provider put in its message."""
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- generate


def _generate(args: argparse.Namespace) -> int:
    prompt = " ".join(args.prompt) if args.prompt else _read_stdin()
    _configure_logging(args.verbose)
    params = {
        name: getattr(args, name)
        for name in (*SHARED_PARAMETERS, *_VALUE_OPTIONS)
        if getattr(args, name) is not None
    }

    gen = load(args.model, drop_unsupported=args.drop_unsupported)
    out = sys.stdout
    if args.json or args.no_stream:
        result = gen.generate(prompt, system=args.system, **params)
        if args.json:
            out.write(json.dumps(_as_json(result), ensure_ascii=False) + "\n")
        else:
            _write_candidates(out, result.texts, first_written=False)
        out.flush()
    else:
        result = _stream(gen, prompt, args.system, params, out)
    _warn(result.warnings)
    return 0


def _stream(
    gen: Generator, prompt: str, system: str | None, params: dict[str, Any], out: IO[str]
) -> Generation:
    """Print the first candidate as it arrives; any others (``-n``) once they are complete."""
    written = False
    ends_with_newline = False
    try:
        with gen.stream(prompt, system=system, **params) as stream:
            for chunk in stream:
                if chunk.index == 0:
                    out.write(chunk.text)
                    out.flush()
                    written = True
                    ends_with_newline = chunk.text.endswith("\n")
            result: Generation = stream.result
    except GenkitError:
        # Text already shown stays shown; end its line so the error starts on its own.
        if written and not ends_with_newline:
            out.write("\n")
            out.flush()
        raise
    _write_candidates(out, result.texts, first_written=True)
    out.flush()
    return result


def _write_candidates(out: IO[str], texts: Sequence[str], *, first_written: bool) -> None:
    """Each candidate ends with a newline (added unless it has one); a blank line between."""
    for i, text in enumerate(texts or [""]):
        if i > 0:
            out.write("\n")
        if i > 0 or not first_written:
            out.write(text)
        if not text.endswith("\n"):
            out.write("\n")


def _read_stdin() -> str:
    """The prompt from a pipe or file; a terminal would wait for input nobody announced."""
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        raise _UsageError("no prompt: give it as an argument or pipe it to stdin")
    text = stdin.read().rstrip("\r\n")
    if not text.strip():
        raise _UsageError("no prompt: stdin was empty")
    return text


def _as_json(result: Generation) -> dict[str, Any]:
    usage = {f.name: getattr(result.usage, f.name) for f in dataclasses.fields(result.usage)}
    usage["total_tokens"] = result.usage.total_tokens
    data: dict[str, Any] = {"text": result.text}
    if len(result.texts) > 1:
        data["texts"] = list(result.texts)
        data["finish_reasons"] = list(result.finish_reasons)
    data.update(
        finish_reason=result.finish_reason,
        usage=usage,
        model=result.model,
        provider=result.provider,
        warnings=list(result.warnings),
    )
    return data


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)


def _configure_logging(verbose: bool) -> None:
    """genkit's log lines go to stderr with ``-v`` only; what matters is in ``warnings``.

    Without a handler Python would print genkit's warnings itself, and the same
    warning would appear twice.
    """
    logger = logging.getLogger("genkit")
    if verbose:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
        logger.setLevel(logging.DEBUG)
    else:
        handler = logging.NullHandler()
    logger.addHandler(handler)


# --------------------------------------------------------------------------- providers


def _providers(args: Sequence[str]) -> int:
    parser = _Parser(
        prog=f"{PROG} providers",
        description="List the providers genkit knows, the extra each needs and whether "
        "it is installed (nothing is imported to find out).",
    )
    parser.parse_args(args)
    from importlib.util import find_spec

    from genkit.registry import _ALIASES, providers

    names = providers()
    width = max(len(name) for name in names)
    for name in names:
        target = _ALIASES.get(name)
        if target is not None:
            line = f"alias of {target}"
        elif name in _EXTRAS:
            extra, modules = _EXTRAS[name]
            installed = all(_module_found(module, find_spec) for module in modules)
            state = "installed" if installed else "not installed"
            line = f"pip install 'genkit-sdk[{extra}]'  ({state})"
        else:
            line = "nothing to install"
        print(f"{name.ljust(width)}  {line}")
    sys.stdout.flush()
    return 0


def _module_found(module: str, find_spec: Any) -> bool:
    """``find_spec`` without importing the module (a dotted name imports its parent only)."""
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False
