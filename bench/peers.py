"""Peers: genkit against LiteLLM and aisuite on the same calls, same server, same process.

    python -m bench.peers --setup      # once: builds bench/.venv-peers (needs PyPI)
    python -m bench.peers [--calls 50] [--rounds 10] [--chunks 2000] [--reps 7]

The peers live in ``bench/.venv-peers`` (git-ignored), built by ``--setup`` with every package
the project's venv also has pinned to its version, so all drive the same OpenAI SDK build;
genkit comes from this checkout through a ``.pth`` file.  Run from the project's venv, the
command re-executes itself with that interpreter.  Every library hits the same fake OpenAI
endpoint with 2 retries (genkit's policy; the OpenAI client's ``max_retries=2`` for the peers,
LiteLLM's ``num_retries`` unset: set, it retries on top), as the first table proves on a 503.
Reported: per call (wall, CPU), per streamed chunk, import and cold start, in rotating order;
ratios are peer / genkit (above 1 = genkit faster); the raw SDK is a reference row.

Target: genkit faster than both peers on every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import subprocess
import sys
import venv
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import genkit
from bench import _common as h
from bench._backends import RawOpenAI, genkit_call, genkit_stream, load_generator

PEERS_VENV = h.REPO_ROOT / "bench" / ".venv-peers"
PEERS_PYTHON = PEERS_VENV / "bin" / "python"
PEER_PACKAGES = ("litellm", "aisuite")
MODEL, RETRIES = "gpt-4o", 2
MESSAGES: Any = [{"role": "user", "content": h.PROMPT}]
RAW = "openai SDK (reference)"


def _output(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def setup() -> int:
    """Build ``bench/.venv-peers``: the peers, pinned to the project's shared versions."""
    print(f"creating {PEERS_VENV.relative_to(h.REPO_ROOT)} ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=False).create(PEERS_VENV)
    freeze = _output(sys.executable, "-m", "pip", "freeze", "--exclude-editable")
    constraints = PEERS_VENV / "project-constraints.txt"
    # Pin what both venvs share to the project's versions (pip applies a constraint only to
    # packages that something requires); local-version pins (torch+cpu) are left out.
    lines = [line for line in freeze.splitlines() if "==" in line and "+" not in line]
    constraints.write_text("\n".join(lines) + "\n")
    project = {line.split("==")[0].lower(): line for line in lines}
    command = [str(PEERS_PYTHON), "-m", "pip", "install", "--quiet", "-c", str(constraints)]
    command += [*PEER_PACKAGES, "tenacity", "openai", "httpx2"]
    print("$ " + " ".join(command), flush=True)
    if (result := subprocess.run(command, check=False)).returncode != 0:
        print("pip could not install the peers; see above", file=sys.stderr)
        return result.returncode
    # genkit from this checkout, without installing it (no build, no egg-info here).
    site = _output(
        str(PEERS_PYTHON), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    )
    (Path(site.strip()) / "genkit-checkout.pth").write_text(str(h.REPO_ROOT) + "\n")
    versions = _output(str(PEERS_PYTHON), "-m", "pip", "freeze").splitlines()
    names = {v: v.split("==")[0].lower() for v in versions}
    shown = [v for v in versions if names[v] in {*PEER_PACKAGES, "openai", "httpx2", "pydantic"}]
    print("installed: " + ", ".join(shown))
    differ = [v for v in versions if "==" in v and project.get(names[v], v) != v]
    differ_text = ", ".join(differ) or "none"
    print(f"shared packages at a different version than the project's venv: {differ_text}")
    return 0


@dataclass
class Contender:
    """One library's way to make the benchmark's calls: a call, its async twin, a whole stream
    (returns the number of text chunks) and one call to the 503 endpoint."""

    name: str
    call: Callable[[], object]
    acall: Callable[[], Any]
    stream: Callable[[], int]
    failing: Callable[[], object]


def swallowed(call: Callable[[], object]) -> None:
    """The call to the 503 endpoint, its error swallowed."""
    with contextlib.suppress(Exception):
        call()


def count_chunks(response: Iterable[Any]) -> int:
    """Read an OpenAI-shaped stream the way the raw reference does: texts, joined."""
    parts = [c.delta.content for chunk in response for c in chunk.choices if c.delta.content]
    "".join(parts)
    return len(parts)


def contenders(server: h.BenchServer) -> list[Contender]:
    url = server.base_url("openai")
    gen = load_generator("openai", server, max_retries=RETRIES)
    failing = genkit.load(
        "openai:bench-fail", api_key=h.KEYS["openai"], base_url=url, max_retries=RETRIES
    )
    stream, fail = genkit_stream(gen), lambda: failing.generate(h.PROMPT)
    out = [
        Contender("genkit", genkit_call(gen), genkit_call(gen, "async"), lambda: stream()[1], fail)
    ]

    def openai_shaped(name: str, create: Any, acreate: Any, prefix: str, **extra: Any) -> Contender:
        """A peer whose answers and stream chunks are shaped like the OpenAI SDK's."""
        call = partial(create, model=f"{prefix}{MODEL}", messages=MESSAGES, **extra)

        async def acall() -> str:
            response = await acreate(model=f"{prefix}{MODEL}", messages=MESSAGES, **extra)
            return str(response.choices[0].message.content)

        def text() -> str:
            return str(call().choices[0].message.content)

        fail = partial(create, model=f"{prefix}bench-fail", messages=MESSAGES, **extra)
        return Contender(name, text, acall, lambda: count_chunks(call(stream=True)), fail)

    try:
        import litellm

        litellm.telemetry, litellm.suppress_debug_info = False, True
        # max_retries reaches the OpenAI client.  num_retries stays unset: LiteLLM then retries
        # on its own on top (num_retries=2 sent 5 requests to a 503 here), and num_retries=0
        # also zeroes the client's retries (1 request).
        extra = {"api_base": url, "api_key": h.KEYS["openai"], "max_retries": RETRIES}
        out.append(
            openai_shaped("litellm", litellm.completion, litellm.acompletion, "openai/", **extra)
        )
    except ImportError as error:
        print(f"\nlitellm is not importable ({error}); run --setup")
    try:
        import aisuite

        config = {"api_key": h.KEYS["openai"], "base_url": url, "max_retries": RETRIES}
        completions = aisuite.Client(provider_configs={"openai": config}).chat.completions
        out.append(openai_shaped("aisuite", completions.create, completions.acreate, "openai:"))
    except ImportError as error:
        print(f"\naisuite is not importable ({error}); run --setup")
    raw = RawOpenAI(server, retries=RETRIES)
    fail = partial(raw.sync.chat.completions.create, model="bench-fail", messages=MESSAGES)
    out.append(Contender(RAW, raw.caller(), raw.caller("async"), lambda: raw.stream()()[1], fail))
    return out


#: "import": the library alone.  "cold start": a fresh process until the first answer
#: (import, client, one call): aisuite imports the OpenAI SDK only on its first call and
#: genkit at ``load()``, so only this figure compares like with like.
IMPORTS = {
    "genkit": "import genkit",
    "litellm": "import litellm",
    "aisuite": "import aisuite",
    RAW: "import openai",
}
HELLO = "messages=[{'role': 'user', 'content': 'Say hello.'}]"
COLD_STARTS = {
    "genkit": (
        "import genkit, os; genkit.load('openai:gpt-4o', api_key='sk-bench', "
        "base_url=os.environ['BENCH_URL']).generate('Say hello.')"
    ),
    "litellm": (
        "import litellm, os; litellm.completion(model='openai/gpt-4o', api_key='sk-bench', "
        f"api_base=os.environ['BENCH_URL'], {HELLO})"
    ),
    "aisuite": (
        "import aisuite, os; aisuite.Client(provider_configs={'openai': {'api_key': 'sk-bench', "
        "'base_url': os.environ['BENCH_URL']}}).chat.completions.create(model='openai:gpt-4o', "
        f"{HELLO})"
    ),
    RAW: (
        "import openai, os; openai.OpenAI(api_key='sk-bench', base_url=os.environ['BENCH_URL'])"
        f".chat.completions.create(model='gpt-4o', {HELLO})"
    ),
}


def import_times(
    reps: int, available: list[str], cases: dict[str, str], base_url: str
) -> dict[str, float]:
    """Median wall time of a fresh peers-venv process running each statement, minus bare."""
    # LiteLLM must never fetch its cost map from the network.
    env = h.clean_env(LITELLM_LOCAL_MODEL_COST_MAP="True", BENCH_URL=base_url)
    statements = {"bare": "pass", **{k: v for k, v in cases.items() if k in available}}

    def wall(statement: str) -> float:
        return h.fresh(statement, env=env)[0]

    for statement in statements.values():
        wall(statement)
    walls = h.abba({name: partial(wall, statement) for name, statement in statements.items()}, reps)
    bare = h.median(walls.pop("bare"))
    return {name: h.median(values) - bare for name, values in walls.items()}


def measure(args: argparse.Namespace) -> int:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    warnings.simplefilter("ignore")
    run = h.begin(
        "Peers: genkit vs LiteLLM vs aisuite (same process, same server, same OpenAI SDK)",
        args,
        f"per call: {args.rounds} rounds x {args.calls} calls, rotating order; streams: "
        f"{args.chunks} chunks, {args.stream_rounds} per library; imports: {args.reps} "
        "fresh processes each, wall minus bare interpreter",
        f"retries: every library allows {RETRIES} retries (genkit's policy; the OpenAI "
        "client's max_retries for LiteLLM and aisuite; LiteLLM's num_retries unset)",
        packages=("genkit-sdk", "litellm", "aisuite", "openai", "httpx2", "pydantic"),
    )
    with run.server(chunks=args.chunks) as server:
        libraries = contenders(server)
        names = [c.name for c in libraries]
        rows = []  # requests per call, on success and on a 503 (where retries show)
        for library in libraries:
            server.reset()
            library.call()
            ok_requests = server.stats()["requests"]
            server.reset()
            took = h.measured(partial(swallowed, library.failing))[1]
            rows.append([library.name, ok_requests, server.stats()["requests"], f"{took:.2f}"])
        run.table(
            "Requests the server saw for one call (retries configured alike)",
            ["library", "successful call", "call to a 503 endpoint", "503 call took s"],
            rows,
        )
        # 20 warm-up calls each, then rotating blocks of --calls, no request count
        calls = {c.name: c.call for c in libraries}
        sync = h.compare_calls(None, calls, args.calls, args.rounds, warm_up=20)
        with h.runner("async") as loop:
            acalls = {c.name: c.acall for c in libraries}
            asynced = h.compare_calls(None, acalls, args.calls, args.rounds, loop, warm_up=20)
        for library in libraries:
            if (got := library.stream()) != args.chunks:
                raise RuntimeError(f"{library.name} delivered {got} of {args.chunks} chunks")

        def one(stream: Callable[[], int]) -> h.Sample:
            gc.collect()
            return h.timed(stream, 1)[0]

        streamed = h.abba({c.name: partial(one, c.stream) for c in libraries}, args.stream_rounds)
        imports = import_times(args.reps, names, IMPORTS, server.base_url("openai"))
        cold = import_times(args.reps, names, COLD_STARTS, server.base_url("openai"))

    def per_call(samples: h.Interleaved, cpu: bool) -> Callable[[str], float]:
        return lambda name: h.median((samples.cpu if cpu else samples.wall)[name])

    def per_chunk(cpu: bool) -> Callable[[str], float]:
        return lambda name: h.median([s[1 if cpu else 0] for s in streamed[name]]) / args.chunks

    metrics: list[tuple[str, Callable[[str], float | None], Callable[[float], str]]] = [
        ("sync call, wall µs", per_call(sync, False), h.us),
        ("sync call, CPU µs", per_call(sync, True), h.us),
        ("async call, wall µs", per_call(asynced, False), h.us),
        ("async call, CPU µs", per_call(asynced, True), h.us),
        ("stream, wall µs per chunk", per_chunk(False), h.us),
        ("stream, CPU µs per chunk", per_chunk(True), h.us),
        ("import, ms (wall - bare interpreter)", imports.get, h.ms),
        ("cold start to first answer, ms", cold.get, h.ms),
    ]
    rows = []
    for label, get, fmt in metrics:
        mine, values = get("genkit"), {name: get(name) for name in names[1:]}
        assert mine is not None
        cells = [label, fmt(mine)]
        for name, value in values.items():
            assert value is not None
            cells.append(f"{fmt(value)} ({value / mine:.2f}x)")
            run.check(name not in PEER_PACKAGES or value / mine > 1)
        rows.append(cells)
    run.table(
        "Medians; (Nx) = that library's figure / genkit's: above 1 means genkit is faster",
        ["figure", "genkit", *names[1:]],
        rows,
        notes=[
            f"genkit faster than every installed peer on every figure: {h.verdict(not run.failed)}"
        ],
        footer=True,
    )
    return run.status


def main(argv: list[str] | None = None) -> int:
    calls = (5, "calls per block (short: drift)")
    reps = (7, "fresh processes per import")
    parser = h.parser(
        __doc__, backends=False, calls=calls, rounds=100, chunks=2000, stream_rounds=6, reps=reps
    )
    parser.add_argument("--setup", action="store_true", help="build bench/.venv-peers and exit")
    args = parser.parse_args(argv)
    if args.setup:
        return setup()
    if Path(sys.prefix).resolve() != PEERS_VENV.resolve():
        if not PEERS_PYTHON.exists():
            print(
                "bench/.venv-peers does not exist: run `python -m bench.peers --setup` "
                "first (it installs litellm and aisuite from PyPI into that venv only)",
                file=sys.stderr,
            )
            return 2
        os.chdir(h.REPO_ROOT)
        argv = argv if argv is not None else sys.argv[1:]
        os.execv(str(PEERS_PYTHON), [str(PEERS_PYTHON), "-m", "bench.peers", *argv])
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
