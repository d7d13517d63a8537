"""The ``genkit`` command, run as users run it: a child process against the fake server.

Every case starts ``python -m genkit`` with the environment pointing the vendor SDKs
at the in-process fake server, then checks stdout, stderr, the exit status and what
reached the wire.  Waiting is always on the child's own output or exit, never a sleep.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import genkit
from fakeprovider import FakeProviderServer, Reply
from genkit import cli
from tests.hosted import API_KEY, GEMINI, HOSTED, OPENAI, PARAM_VALUES, Hosted, point_sdks_at

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60
FIVE_STOPS = [arg for stop in "abcde" for arg in ("--stop", stop)]


@pytest.fixture
def server(fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    point_sdks_at(fake_server, monkeypatch)
    monkeypatch.setenv("GENKIT_MODEL", "openai:gpt-4o")
    return fake_server


def child_env(env: Mapping[str, str | None] | None = None) -> dict[str, str]:
    merged: dict[str, str | None] = {**os.environ, **(env or {})}
    return {k: v for k, v in merged.items() if v is not None}


def genkit_cmd(*args: str, site: bool = True) -> list[str]:
    return [sys.executable, *([] if site else ["-S"]), "-m", "genkit", *args]


def run(
    *args: str,
    stdin: str | None = None,
    env: Mapping[str, str | None] | None = None,
    site: bool = True,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        genkit_cmd(*args, site=site),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=child_env(env),
        timeout=TIMEOUT,
        check=False,
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """stderr is exactly one ``genkit: error:`` line: no traceback, no usage block."""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("genkit: error: "), proc.stderr
    return lines[0]


def last_user_text(body: Mapping[str, Any]) -> str:
    text = body["messages"][-1]["content"]
    assert isinstance(text, str)
    return text


# --------------------------------------------------------------------------- answers


def test_prompt_streams_to_stdout_with_the_environments_model(server: FakeProviderServer) -> None:
    proc = run("Once upon a time")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "echo: Once upon a time\n"
    assert proc.stderr == ""
    [request] = server.requests
    assert request.protocol == "openai"
    assert request.stream
    assert request.body is not None
    assert request.body["model"] == "gpt-4o"


def test_words_are_joined_and_model_flag_overrides_the_environment(
    server: FakeProviderServer,
) -> None:
    proc = run("-m", "anthropic:claude-sonnet-4-6", "Once", "upon", "a", "time")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "echo: Once upon a time\n"
    [request] = server.requests
    assert request.protocol == "anthropic"


def test_no_stream_sends_one_plain_request(server: FakeProviderServer) -> None:
    proc = run("--no-stream", "hello")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "echo: hello\n"
    [request] = server.requests
    assert not request.stream


def test_json_prints_the_generation_as_one_object(server: FakeProviderServer) -> None:
    server.script(Reply.text("Hi there.", usage=(5, 3), model="gpt-4o-2024-08-06"))
    proc = run("--json", "hello")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1
    data = json.loads(proc.stdout)
    assert data == {
        "text": "Hi there.",
        "finish_reason": "stop",
        "usage": {"input_tokens": 5, "output_tokens": 3, "reasoning_tokens": 0, "total_tokens": 8},
        "model": "gpt-4o-2024-08-06",
        "provider": "openai",
        "warnings": [],
    }
    [request] = server.requests
    assert not request.stream


def test_several_candidates(server: FakeProviderServer) -> None:
    server.script(Reply.text(candidates=["first", "second"]))
    proc = run("-n", "2", "--json", "hello")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["texts"] == ["first", "second"]
    assert data["text"] == "first"
    assert data["finish_reasons"] == ["stop", "stop"]

    server.script(Reply.text(candidates=["first", "second"]))
    streamed = run("-n", "2", "hello")
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout == "first\n\nsecond\n"
    assert server.requests[-1].stream


def test_prompt_from_stdin(server: FakeProviderServer) -> None:
    proc = run(stdin="Summarise this.\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "echo: Summarise this.\n"
    [request] = server.requests
    assert request.body is not None
    assert last_user_text(request.body) == "Summarise this."


def test_system_prompt(server: FakeProviderServer) -> None:
    proc = run("-s", "Be terse.", "hello")
    assert proc.returncode == 0, proc.stderr
    [request] = server.requests
    assert request.body is not None
    assert OPENAI.system(request.body) == "Be terse."
    assert last_user_text(request.body) == "hello"


def test_a_prompt_spelled_like_a_command_after_double_dash(server: FakeProviderServer) -> None:
    proc = run("--", "providers")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "echo: providers\n"


def parameter_flags(hosted: Hosted) -> list[str]:
    args: list[str] = []
    for name, value in PARAM_VALUES.items():
        if name in hosted.unsupported:
            continue
        for item in value if isinstance(value, list) else [value]:
            args += [cli.flag(name), str(item)]
    return args


@pytest.mark.parametrize("hosted", [OPENAI, GEMINI], ids=str)
def test_every_parameter_flag_reaches_the_wire(hosted: Hosted, server: FakeProviderServer) -> None:
    model = f"{hosted.provider}:{hosted.model}"
    proc = run("-m", model, *parameter_flags(hosted), "--timeout", "30", "hello")
    assert proc.returncode == 0, proc.stderr
    [request] = server.requests
    assert request.validation_error is None
    assert request.body is not None
    for name, read in hosted.wire.items():
        assert read(request.body) == pytest.approx(PARAM_VALUES[name]), name


def test_max_retries_flag_bounds_the_attempts(server: FakeProviderServer) -> None:
    server.script(Reply.error(500, retry_after=0).times(3))
    proc = run("--max-retries", "1", "hello")
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "openai 500" in line
    assert len(server.requests) == 2


def test_drop_unsupported_warns_once_on_stderr(server: FakeProviderServer) -> None:
    proc = run("--top-k", "5", "--drop-unsupported", "hello")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "echo: hello\n"
    assert proc.stderr.splitlines() == [
        "genkit: warning: dropped 'top_k': not supported by openai model 'gpt-4o'"
    ]
    [request] = server.requests
    assert request.body is not None
    assert "top_k" not in request.body


def test_verbose_logs_the_retry(server: FakeProviderServer) -> None:
    server.script(Reply.error(503, retry_after=0))
    proc = run("-v", "--max-retries", "1", "hello")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "echo: hello\n"
    assert "retrying" in proc.stderr
    assert len(server.requests) == 2


# --------------------------------------------------------------------------- providers


def test_providers_lists_each_with_its_extra(server: FakeProviderServer) -> None:
    proc = run("providers")
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()}
    # What a fresh interpreter knows: tests may register providers in this process.
    fresh = subprocess.run(
        [sys.executable, "-c", "import genkit; print(*genkit.providers())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert set(rows) == set(fresh.stdout.split())
    for name, extra in [
        ("openai", "openai"),
        ("anthropic", "anthropic"),
        ("gemini", "gemini"),
        ("huggingface", "local"),
    ]:
        assert f"pip install 'genkit-sdk[{extra}]'  (installed)" in rows[name]
    assert rows["google"].endswith("alias of gemini")
    assert server.requests == []


def test_providers_without_the_extras_says_not_installed() -> None:
    """``python -S`` hides site-packages: the state comes from a lookup, not a guess."""
    proc = run("providers", site=False, env={"PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert rows["openai"].endswith("pip install 'genkit-sdk[openai]'  (not installed)")
    assert rows["huggingface"].endswith("(not installed)")


def test_providers_imports_no_sdk() -> None:
    code = (
        "import sys\n"
        "from genkit.cli import main\n"
        "assert main(['providers']) == 0\n"
        "heavy = {'openai', 'anthropic', 'torch', 'transformers', 'httpx2', 'tenacity'}\n"
        "loaded = {m.split('.')[0] for m in sys.modules} & heavy\n"
        "loaded |= {'google.genai'} & set(sys.modules)\n"
        "print('LOADED', sorted(loaded))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout


def test_providers_takes_no_arguments() -> None:
    proc = run("providers", "openai")
    assert proc.returncode == 2
    assert "unrecognized arguments: openai" in one_error_line(proc)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_missing_key_names_its_variable(hosted: Hosted, server: FakeProviderServer) -> None:
    variable = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}.get(
        hosted.provider, "GEMINI_API_KEY"
    )
    env: dict[str, str | None] = {name: None for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")}
    env |= {"GEMINI_API_KEY": None, "GOOGLE_API_KEY": None}
    proc = run("-m", f"{hosted.provider}:{hosted.model}", "hello", env=env)
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert variable in line
    assert "api_key=" not in line  # the library's advice, not a shell user's
    assert proc.stdout == ""
    assert server.requests == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-m", "nope:model", "hi"], "unknown provider 'nope'"),
        (["-m", "gpt-4o", "hi"], "malformed model 'gpt-4o'"),
        (["--temperature", "-1", "hi"], "--temperature: invalid 'temperature'"),
        (["--max-tokens", "0", "hi"], "allowed: an integer >= 1"),
        (["--top-k", "5", "hi"], "--top-k: not supported by openai model 'gpt-4o'"),
        ([*FIVE_STOPS, "hi"], "at most 4"),
        (["--max-tokens", "ten", "hi"], "argument --max-tokens: invalid int value: 'ten'"),
        (["--no-such-flag", "hi"], "unrecognized arguments: --no-such-flag"),
        ([""], "empty prompt"),
    ],
    ids=[
        "unknown-provider",
        "malformed-model",
        "out-of-range",
        "below-minimum",
        "unsupported",
        "too-many-stops",
        "not-a-number",
        "unknown-flag",
        "empty-prompt",
    ],
)
def test_usage_errors_exit_2_before_any_request(
    args: list[str], expected: str, server: FakeProviderServer
) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert expected in one_error_line(proc)
    assert proc.stdout == ""
    assert server.requests == []


def test_empty_stdin_is_a_usage_error(server: FakeProviderServer) -> None:
    proc = run(stdin=" \n")
    assert proc.returncode == 2
    assert "no prompt: stdin was empty" in one_error_line(proc)
    assert server.requests == []


def test_no_prompt_on_a_terminal_is_a_usage_error(server: FakeProviderServer) -> None:
    """Reading a terminal would wait for input nobody was asked for."""
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            genkit_cmd(),
            stdin=terminal,
            capture_output=True,
            text=True,
            env=child_env(),
            timeout=TIMEOUT,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 2
    assert "no prompt" in one_error_line(proc)
    assert server.requests == []


@pytest.mark.parametrize("hosted", HOSTED, ids=str)
def test_missing_extra_names_the_pip_install(hosted: Hosted) -> None:
    """Without site-packages neither the SDK nor httpx2 is importable: one line, status 2."""
    model = f"{hosted.provider}:{hosted.model}"
    proc = run("-m", model, "hi", site=False, env={"PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2
    assert f"pip install 'genkit-sdk[{hosted.provider}]'" in one_error_line(proc)


def test_server_error_after_retries_exits_1(server: FakeProviderServer) -> None:
    server.script(Reply.error(500, retry_after=0).times(3))
    proc = run("hello", env={"GENKIT_MAX_RETRIES": "2"})
    assert proc.returncode == 1
    assert "openai 500" in one_error_line(proc)
    assert proc.stdout == ""
    assert len(server.requests) == 3


def test_rejected_key_exits_1_and_is_not_shown(server: FakeProviderServer) -> None:
    proc = run("hello", env={"OPENAI_API_KEY": "bad-key"})
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "openai 401" in line
    assert "bad-key" not in line
    assert len(server.requests) == 1


def test_timeout_exits_1(server: FakeProviderServer) -> None:
    server.script(Reply.stall())
    proc = run("--timeout", "0.3", "--max-retries", "0", "hello")
    assert proc.returncode == 1
    assert "time" in one_error_line(proc).lower()


def test_a_stream_broken_midway_keeps_its_text_and_exits_1(server: FakeProviderServer) -> None:
    server.script(Reply.stream_error(after_chunks=2))
    proc = run("hello")
    assert proc.returncode == 1
    assert proc.stdout == "part0 part1\n"
    assert "openai" in one_error_line(proc)
    assert API_KEY not in proc.stderr


# --------------------------------------------------------------------------- signals, pipes


def _default_sigint() -> None:
    """Ctrl-C as from a terminal, however the suite was started: a shell starts background
    jobs with SIGINT ignored, and a Python started so installs no handler for it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        genkit_cmd(*args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
        preexec_fn=_default_sigint,  # only signal state: safe between fork and exec
    )


def test_ctrl_c_exits_130_without_a_traceback(server: FakeProviderServer) -> None:
    server.script(Reply.stall(after_chunks=1))  # one chunk, then a model that never finishes
    child = start("hello")
    assert child.stdout is not None
    assert child.stderr is not None
    try:
        assert os.read(child.stdout.fileno(), 100) == b"part0"  # it is streaming now
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=TIMEOUT) == 130
        assert child.stderr.read() == b""
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()


def test_a_reader_that_stops_early_ends_it_quietly(server: FakeProviderServer) -> None:
    """``genkit ... | head -c 10``: 1 MiB of answer cannot fit in the pipe, so the child
    is still writing when the reader goes, whatever the scheduling."""
    server.script(Reply.text(chunks=["x" * 4096] * 256))
    child = start("hello")
    assert child.stdout is not None
    assert child.stderr is not None
    try:
        assert os.read(child.stdout.fileno(), 10)
        child.stdout.close()
        assert child.wait(timeout=TIMEOUT) == cli.EXIT_PIPE
        assert child.stderr.read() == b""
    finally:
        child.kill()
        child.wait()
        child.stderr.close()


# --------------------------------------------------------------------------- the command itself


def test_console_script_and_module_run_the_same_main() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"genkit": "genkit.cli:main"}
    via_entry_point = subprocess.run(
        [sys.executable, "-c", "import sys; from genkit.cli import main; sys.exit(main())", "-h"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    via_module = run("-h")
    assert via_entry_point.returncode == via_module.returncode == 0
    assert via_entry_point.stdout == via_module.stdout
    assert via_module.stdout.startswith("usage: genkit ")


def test_a_flag_for_every_shared_parameter() -> None:
    parser = cli.build_parser()
    dests = {action.dest: action for action in parser._actions}
    for name in (*genkit.SHARED_PARAMETERS, "timeout", "max_retries"):
        action = dests[name]
        assert action.option_strings == [cli.flag(name)]
        assert name in cli._HELP, f"no --help line for {name}"
    assert cli.flag("n") == "-n"
    args = parser.parse_args(["--stop", "a", "--stop", "b", "--seed", "3", "--top-p", "0.5", "x"])
    assert (args.stop, args.seed, args.top_p, args.prompt) == (["a", "b"], 3, 0.5, ["x"])
