"""A script using the local backend exits cleanly, however it stops while generating.

Python 3.11 ends daemon threads at shutdown with ``pthread_exit``; if the engine thread is
inside torch then, the process aborts ("terminate called without an active exception",
status 134).  Each case below is a small user script run as its own process, ten times,
all at once.  Every script leaves generation running when the interpreter starts to exit:

- ``break`` out of a stream, then the script ends;
- a ``TimeoutError`` from ``generate()``, then the script ends;
- a daemon thread in the middle of ``generate()`` or of a stream when the script ends;
- Ctrl-C (SIGINT) during ``generate()`` or a stream: a normal ``KeyboardInterrupt`` exit.

Forty-odd fresh interpreters importing torch and transformers would cost minutes of CPU, so
one helper process imports them once and ``fork()``s a child per run.  A child then runs
its case at the top level of the ``-c`` script, so it exits like any script does: through
``atexit`` and interpreter finalization, which is what is under test.  The model is loaded
in each child after the fork (nothing in the parent has started torch's thread pools).

"Generation is running" is known, not guessed: a ``prefix_allowed_tokens_fn`` hook (a plain
``generate()`` argument, called on the engine thread before each token; it allows every
token) signals the first step; EOS is suppressed so no row ends early.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

RUNS = 10
#: The same exits from a stream instead of ``generate()``: fewer runs, the CPU time is spent
#: above (each run costs ~0.7 s of CPU, most of it the interpreter's own teardown).
VARIANT_RUNS = 3
#: Children alive at once: more only adds contention on a small machine.
PARALLEL = 6

#: The parent of every run: imports once, forks a child per run, reports each as JSON.
#: argv: model directory, then case names.  A line "started" on a child's stdout makes the
#: parent send that child SIGINT if its case name starts with "sigint".
_HARNESS = r"""
import json, os, selectors, signal, sys
# Ctrl-C as in a script started from a terminal, however this suite was started: a shell
# starts background jobs with SIGINT ignored, and Python then installs no handler for it.
signal.signal(signal.SIGINT, signal.default_int_handler)
import genkit
import transformers
transformers.AutoTokenizer, transformers.AutoModelForCausalLM, transformers.GPT2LMHeadModel
transformers.PreTrainedTokenizerFast, transformers.generation.GenerationMixin
from genkit.backends import huggingface  # noqa: F401 - imported once, before forking
import gc
gc.freeze()  # what the parent imported is never garbage: children's final collections skip it

MODEL, PARALLEL, CASES = sys.argv[1], int(sys.argv[2]), sys.argv[3:]


class Child(Exception):
    pass


def fork(case, children):
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        for fd in (out_r, out_w, err_r, err_w):
            os.close(fd)
        for other in children.values():
            for fd in other["fds"]:
                os.close(fd)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        raise Child(case)
    os.close(out_w)
    os.close(err_w)
    children[pid] = {"case": case, "out": out_r, "err": err_r, "stdout": b"", "stderr": b"",
                     "fds": {out_r, err_r}}
    return pid


def run_all():
    pending, children, selector = list(CASES), {}, selectors.DefaultSelector()
    while pending or children:
        while pending and len(children) < PARALLEL:
            pid = fork(pending.pop(0), children)
            for name in ("out", "err"):
                selector.register(children[pid][name], selectors.EVENT_READ, (pid, name))
        for key, _ in selector.select():
            pid, name = key.data
            child = children[pid]
            data = os.read(key.fd, 65536)
            stream = "stdout" if name == "out" else "stderr"
            if data:
                seen = child[stream]
                child[stream] += data
                if (stream == "stdout" and child["case"].startswith("sigint")
                        and b"started" not in seen and b"started" in child[stream]):
                    os.kill(pid, signal.SIGINT)
                continue
            selector.unregister(key.fd)
            os.close(key.fd)
            child["fds"].discard(key.fd)
            if not child["fds"]:
                _, status = os.waitpid(pid, 0)
                del children[pid]
                print(json.dumps({
                    "case": child["case"],
                    "code": os.waitstatus_to_exitcode(status),
                    "stdout": child["stdout"].decode(errors="replace"),
                    "stderr": child["stderr"].decode(errors="replace"),
                }), flush=True)


try:
    run_all()
    sys.exit(0)
except Child as child:
    CASE = child.args[0]

# ---- a child: one user script, run at the top level so it exits like any script
import threading
import torch
gen = genkit.load(f"huggingface:{MODEL}")
eos = gen.backend.loaded.tokenizer.eos_token_id
vocab = list(range(len(gen.backend.loaded.tokenizer)))
first_step = threading.Event()
resume = threading.Event()
resume.set()
weights = torch.ones(256, 256)
# Objects of this script that its interpreter's teardown has to collect (see the docstring).
ballast = [[i] for i in range(300_000)]

def step(batch_id, ids):
    # A real model spends each step inside torch with the GIL released: do the same here.
    resume.wait()
    weights @ weights @ weights
    if not first_step.is_set():
        first_step.set()
        print("started", flush=True)
    return vocab

endless = {"max_tokens": 100000,
           "provider_options": {"suppress_tokens": [eos], "prefix_allowed_tokens_fn": step}}
"""

_CASES = {
    "break": """
        with gen.stream("Once upon a time", **endless) as stream:
            for chunk in stream:
                break
        print("broke out", flush=True)
    """,
    "timeout": """
        resume.clear()  # generation waits at its first step until the timeout has passed
        try:
            gen.generate("Once upon a time", **endless, timeout=0.2)
        except genkit.TimeoutError:
            print("timed out", flush=True)
        resume.set()
    """,
    "thread-generate": """
        threading.Thread(target=gen.generate, args=("Once upon a time",), kwargs=endless,
                         daemon=True).start()
        first_step.wait()
    """,
    "thread-stream": """
        def consume():
            for chunk in gen.stream("Once upon a time", **endless):
                pass
        threading.Thread(target=consume, daemon=True).start()
        first_step.wait()
    """,
    "sigint-generate": """
        gen.generate("Once upon a time", **endless)
    """,
    "sigint-stream": """
        for chunk in gen.stream("Once upon a time", **endless):
            pass
    """,
}

#: What each script prints on stdout when it got where it should before exiting.
_PRINTS = {
    "break": "broke out",
    "timeout": "timed out",
    "thread-generate": "started",
    "thread-stream": "started",
    "sigint-generate": "started",
    "sigint-stream": "started",
}


def _runs(case: str) -> int:
    return VARIANT_RUNS if case in ("thread-stream", "sigint-stream") else RUNS


def _script() -> str:
    branches = []
    for i, (name, code) in enumerate(_CASES.items()):
        body = textwrap.indent(textwrap.dedent(code).strip(), "    ")
        branches.append(f"{'if' if i == 0 else 'elif'} CASE == {name!r}:\n{body}")
    cases = "\n".join(branches)
    return _HARNESS + cases + "\n"


@pytest.fixture(scope="module")
def runs(tiny_gpt2_path: Path) -> dict[str, list[dict[str, object]]]:
    """Every case, :data:`RUNS` times, all run concurrently; results grouped by case."""
    cases = [name for name in _CASES for _ in range(_runs(name))]
    done = subprocess.run(
        [sys.executable, "-c", _script(), str(tiny_gpt2_path), str(PARALLEL), *cases],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    grouped: dict[str, list[dict[str, object]]] = {name: [] for name in _CASES}
    for line in done.stdout.splitlines():
        result = json.loads(line)
        grouped[result["case"]].append(result)
    return grouped


@pytest.mark.parametrize("case", list(_CASES))
def test_exit_is_clean(runs: dict[str, list[dict[str, object]]], case: str) -> None:
    results = runs[case]
    assert len(results) == _runs(case)
    interrupted = case.startswith("sigint")
    for result in results:
        stderr = str(result["stderr"])
        assert "terminate called" not in stderr
        assert "Abort" not in stderr
        assert _PRINTS[case] in str(result["stdout"])
        if interrupted:
            # Python's own exit for an unhandled Ctrl-C: killed by SIGINT (the shell's 130)
            assert result["code"] == -2, stderr
            assert stderr.rstrip().endswith("KeyboardInterrupt"), stderr
        else:
            assert result["code"] == 0, stderr
            assert "Traceback" not in stderr, stderr
