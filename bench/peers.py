"""Peers: genkit against LiteLLM and aisuite on the same calls, same server, same process.

    python -m bench.peers --setup      # once: builds bench/.venv-peers (needs PyPI)
    python -m bench.peers [--calls 50] [--rounds 10] [--chunks 2000] [--reps 7]

Why it is measured this way:

- the peers are installed into their own virtual environment, ``bench/.venv-peers``
  (git-ignored), built by ``--setup`` with every package the project's venv also has
  pinned to the project's version (openai, httpx2, pydantic, ...), so the project's
  venv stays clean and all three libraries drive the *same* OpenAI SDK build.  genkit
  is not installed there: a ``.pth`` file points at this checkout;
- when run from the project's venv the command re-executes itself with the peers'
  interpreter, so genkit, LiteLLM, aisuite and the raw OpenAI SDK run in one process,
  against one bench server, interleaved in rotating order (drift lands on all alike);
- every library is pointed at the same fake OpenAI endpoint (LiteLLM: model
  ``openai/gpt-4o`` with ``api_base``; aisuite: ``openai:gpt-4o`` with ``base_url`` in
  its provider config; genkit: ``openai:gpt-4o`` with ``base_url``) and configured for
  the same retry budget, 2 retries: genkit's default policy, LiteLLM and aisuite through
  the OpenAI client's ``max_retries=2`` (LiteLLM's own ``num_retries`` left unset: set,
  it retries on top of the client).  The "requests per call" table proves it on a 503
  endpoint;
- reported for each: per-call median (wall and CPU), streaming chunks/s, import time;
  ratios are peer / genkit (above 1 = genkit faster).  The raw SDK is a reference row.

Target: genkit faster than both peers on every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import subprocess
import sys
import venv
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import genkit
from bench._backends import RawOpenAI, genkit_acall, genkit_call, genkit_stream, load_generator
from bench._common import (
    KEYS,
    PROMPT,
    REPO_ROOT,
    BenchServer,
    Interleaved,
    Sample,
    abba,
    ainterleave,
    atimed,
    begin,
    clean_env,
    fresh,
    interleave,
    measured,
    median,
    ms,
    timed,
    us,
    verdict,
)

if TYPE_CHECKING:
    # Type-only: the peers are imported lazily, one per measured subprocess.
    from openai.types.chat import ChatCompletionUserMessageParam

PEERS_VENV = REPO_ROOT / "bench" / ".venv-peers"
PEERS_PYTHON = PEERS_VENV / "bin" / "python"
PEER_PACKAGES = ("litellm", "aisuite")
MODEL = "gpt-4o"
RETRIES = 2
MESSAGES: list[ChatCompletionUserMessageParam] = [{"role": "user", "content": PROMPT}]


# --------------------------------------------------------------------------- setup


def _output(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def setup() -> int:
    """Build ``bench/.venv-peers``: the peers, pinned to the project's shared versions."""
    print(f"creating {PEERS_VENV.relative_to(REPO_ROOT)} ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=False).create(PEERS_VENV)
    freeze = _output(sys.executable, "-m", "pip", "freeze", "--exclude-editable")
    constraints = PEERS_VENV / "project-constraints.txt"
    # Pin what both venvs share to the project's versions (pip applies a constraint
    # only to packages that something requires).  Local-version pins (torch+cpu) and
    # references to files are left out: nothing the peers need.
    lines = [line for line in freeze.splitlines() if "==" in line and "+" not in line]
    constraints.write_text("\n".join(lines) + "\n")
    project = {line.split("==")[0].lower(): line for line in lines}
    command = [str(PEERS_PYTHON), "-m", "pip", "install", "--quiet", "-c", str(constraints)]
    command += [*PEER_PACKAGES, "tenacity", "openai", "httpx2"]
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        print("pip could not install the peers; see above", file=sys.stderr)
        return result.returncode
    # genkit from this checkout, without installing it (no build, no egg-info here).
    site = _output(
        str(PEERS_PYTHON), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    )
    (Path(site.strip()) / "genkit-checkout.pth").write_text(str(REPO_ROOT) + "\n")
    versions = _output(str(PEERS_PYTHON), "-m", "pip", "freeze").splitlines()
    names = {v: v.split("==")[0].lower() for v in versions}
    shown = [v for v in versions if names[v] in {*PEER_PACKAGES, "openai", "httpx2", "pydantic"}]
    print("installed: " + ", ".join(shown))
    differ = [v for v in versions if "==" in v and project.get(names[v], v) != v]
    differ_text = ", ".join(differ) or "none"
    print(f"shared packages at a different version than the project's venv: {differ_text}")
    return 0


# --------------------------------------------------------------------------- the libraries


@dataclass
class Contender:
    """One library's way to make the benchmark's calls."""

    name: str
    call: Callable[[], object]
    acall: Callable[[], Awaitable[object]] | None
    #: reads a whole stream, returns the number of text chunks
    stream: Callable[[], int]
    #: one call to the 503 endpoint
    failing: Callable[[], object]

    def fail(self) -> None:
        """The call to the 503 endpoint, its error swallowed."""
        with contextlib.suppress(Exception):
            self.failing()


def count_chunks(response: Iterable[Any]) -> int:
    """Read an OpenAI-shaped stream the way the raw reference does: texts, joined."""
    parts = [c.delta.content for chunk in response for c in chunk.choices if c.delta.content]
    "".join(parts)
    return len(parts)


def genkit_contender(server: BenchServer) -> Contender:
    gen = load_generator("openai", server, max_retries=RETRIES)
    failing = genkit.load(
        "openai:bench-fail",
        api_key=KEYS["openai"],
        base_url=server.base_url("openai"),
        max_retries=RETRIES,
    )
    stream = genkit_stream(gen)
    return Contender(
        "genkit",
        genkit_call(gen),
        genkit_acall(gen),
        lambda: stream()[1],
        lambda: failing.generate(PROMPT),
    )


def raw_contender(server: BenchServer) -> Contender:
    raw = RawOpenAI(server, retries=RETRIES)
    fail = partial(raw.sync.chat.completions.create, model="bench-fail", messages=MESSAGES)
    return Contender(
        "openai SDK (reference)", raw.caller(), raw.acaller(), lambda: raw.stream()[1], fail
    )


def openai_shaped(
    name: str, create: Callable[..., Any], acreate: Callable[..., Any], prefix: str, **extra: Any
) -> Contender:
    """A peer whose answers and stream chunks are shaped like the OpenAI SDK's."""
    call = partial(create, model=f"{prefix}{MODEL}", messages=MESSAGES, **extra)

    async def acall() -> str:
        response = await acreate(model=f"{prefix}{MODEL}", messages=MESSAGES, **extra)
        return str(response.choices[0].message.content)

    return Contender(
        name,
        lambda: str(call().choices[0].message.content),
        acall,
        lambda: count_chunks(call(stream=True)),
        partial(create, model=f"{prefix}bench-fail", messages=MESSAGES, **extra),
    )


def litellm_contender(server: BenchServer) -> Contender:
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    # max_retries reaches the OpenAI client.  num_retries stays unset: LiteLLM then
    # retries on its own on top (num_retries=2 sent 5 requests to a 503 here), and
    # num_retries=0 also zeroes the client's retries (1 request).
    extra = {
        "api_base": server.base_url("openai"),
        "api_key": KEYS["openai"],
        "max_retries": RETRIES,
    }
    return openai_shaped("litellm", litellm.completion, litellm.acompletion, "openai/", **extra)


def aisuite_contender(server: BenchServer) -> Contender:
    import aisuite

    config = {
        "api_key": KEYS["openai"],
        "base_url": server.base_url("openai"),
        "max_retries": RETRIES,
    }
    completions = aisuite.Client(provider_configs={"openai": config}).chat.completions
    return openai_shaped("aisuite", completions.create, completions.acreate, "openai:")


# --------------------------------------------------------------------------- measurement


def streams(contenders: list[Contender], chunks: int, rounds: int) -> dict[str, list[Sample]]:
    """Per stream: (wall s, CPU s), after a gc.collect(); each checked to deliver every chunk."""
    for contender in contenders:
        if (got := contender.stream()) != chunks:
            raise RuntimeError(f"{contender.name} delivered {got} of {chunks} chunks")

    def one(stream: Callable[[], int]) -> Callable[[], Sample]:
        def run() -> Sample:
            gc.collect()
            return timed(stream, 1)[0]

        return run

    return abba({c.name: one(c.stream) for c in contenders}, rounds)


def per_call(
    contenders: list[Contender], calls: int, rounds: int
) -> tuple[Interleaved, Interleaved]:
    """(sync, async) per-call samples: 20 warm-up calls each, then rotating blocks of ``calls``."""

    def block(call: Callable[[], object]) -> Callable[[], list[Sample]]:
        for _ in range(20):
            call()
        return lambda: timed(call, calls)

    sync = interleave({c.name: block(c.call) for c in contenders}, rounds, gc_every=25)

    async def run() -> Interleaved:
        variants = {}
        for contender in contenders:
            if (acall := contender.acall) is not None:
                for _ in range(20):
                    await acall()
                variants[contender.name] = partial(atimed, acall, calls)
        return await ainterleave(variants, rounds, gc_every=25)

    return sync, asyncio.run(run())


#: "import": the library alone.  "cold start": a fresh process until the first answer
#: (import, client, one call): aisuite imports the OpenAI SDK only on its first call and
#: genkit at ``load()``, so only this figure compares like with like.
IMPORTS = {
    "genkit": "import genkit",
    "litellm": "import litellm",
    "aisuite": "import aisuite",
    "openai SDK (reference)": "import openai",
}
COLD_STARTS = {
    "genkit": (
        "import genkit, os; genkit.load('openai:gpt-4o', api_key='sk-bench', "
        "base_url=os.environ['BENCH_URL']).generate('Say hello.')"
    ),
    "litellm": (
        "import litellm, os; litellm.completion(model='openai/gpt-4o', api_key='sk-bench', "
        "api_base=os.environ['BENCH_URL'], messages=[{'role': 'user', 'content': 'Say hello.'}])"
    ),
    "aisuite": (
        "import aisuite, os; aisuite.Client(provider_configs={'openai': {'api_key': 'sk-bench', "
        "'base_url': os.environ['BENCH_URL']}}).chat.completions.create(model='openai:gpt-4o', "
        "messages=[{'role': 'user', 'content': 'Say hello.'}])"
    ),
    "openai SDK (reference)": (
        "import openai, os; openai.OpenAI(api_key='sk-bench', base_url=os.environ['BENCH_URL'])"
        ".chat.completions.create(model='gpt-4o', messages=[{'role': 'user', "
        "'content': 'Say hello.'}])"
    ),
}


def import_times(
    reps: int, available: list[str], cases: dict[str, str], base_url: str
) -> dict[str, float]:
    """Median wall time of a fresh peers-venv process running each statement, minus bare."""
    # LiteLLM must never fetch its cost map from the network.
    env = clean_env(LITELLM_LOCAL_MODEL_COST_MAP="True", BENCH_URL=base_url)
    statements = {"bare": "pass", **{k: v for k, v in cases.items() if k in available}}

    def once(statement: str) -> float:
        return fresh(statement, env=env)[0]

    for statement in statements.values():
        once(statement)
    walls = abba({name: partial(once, statement) for name, statement in statements.items()}, reps)
    bare = median(walls.pop("bare"))
    return {name: median(values) - bare for name, values in walls.items()}


def measure(args: argparse.Namespace) -> int:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    warnings.simplefilter("ignore")
    run = begin(
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
        contenders = [genkit_contender(server)]
        for name, make in (("litellm", litellm_contender), ("aisuite", aisuite_contender)):
            try:
                contenders.append(make(server))
            except ImportError as error:
                print(f"\n{name} is not importable ({error}); run --setup")
        contenders.append(raw_contender(server))
        names = [c.name for c in contenders]

        # Requests per call, on success and on a 503 (where retries show).
        rows = []
        for contender in contenders:
            server.reset()
            contender.call()
            ok_requests = server.stats()["requests"]
            server.reset()
            _, took, _ = measured(contender.fail)
            rows.append([contender.name, ok_requests, server.stats()["requests"], f"{took:.2f}"])
        run.table(
            "Requests the server saw for one call (retries configured alike)",
            ["library", "successful call", "call to a 503 endpoint", "503 call took s"],
            rows,
        )
        sync, asynced = per_call(contenders, args.calls, args.rounds)
        streamed = streams(contenders, args.chunks, args.stream_rounds)
        imports = import_times(args.reps, names, IMPORTS, server.base_url("openai"))
        cold = import_times(args.reps, names, COLD_STARTS, server.base_url("openai"))

    chunks: int = args.chunks

    def figure(samples: Interleaved, name: str, cpu: bool) -> float | None:
        values = (samples.cpu if cpu else samples.wall).get(name)
        return None if values is None else median(values)

    def per_chunk(name: str, cpu: bool) -> float:
        return median([s[1] if cpu else s[0] for s in streamed[name]]) / chunks

    metrics: list[tuple[str, Callable[[str], float | None], Callable[[float], str]]] = [
        ("sync call, wall µs", lambda n: figure(sync, n, False), us),
        ("sync call, CPU µs", lambda n: figure(sync, n, True), us),
        ("async call, wall µs", lambda n: figure(asynced, n, False), us),
        ("async call, CPU µs", lambda n: figure(asynced, n, True), us),
        ("stream, wall µs per chunk", lambda n: per_chunk(n, False), us),
        ("stream, CPU µs per chunk", lambda n: per_chunk(n, True), us),
        ("import, ms (wall - bare interpreter)", imports.get, ms),
        ("cold start to first answer, ms", cold.get, ms),
    ]
    rows = []
    for label, get, fmt in metrics:
        mine = get("genkit")
        assert mine is not None
        cells = [label, fmt(mine)]
        for name in names[1:]:
            value = get(name)
            if value is None:
                cells.append("— (no async API)")
                continue
            cells.append(f"{fmt(value)} ({value / mine:.2f}x)")
            if name in ("litellm", "aisuite"):
                run.check(value / mine > 1)
        rows.append(cells)
    run.table(
        "Medians; (Nx) = that library's figure / genkit's: above 1 means genkit is faster",
        ["figure", "genkit", *names[1:]],
        rows,
        notes=[
            f"genkit faster than every installed peer on every figure: {verdict(not run.failed)}"
        ],
        footer=True,
    )
    return run.status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", action="store_true", help="build bench/.venv-peers and exit")
    parser.add_argument("--calls", type=int, default=5, help="calls per block (short: drift)")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--stream-rounds", type=int, default=6)
    parser.add_argument("--reps", type=int, default=7, help="fresh processes per import")
    parser.add_argument("--no-pin", action="store_true")
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
        os.chdir(REPO_ROOT)
        os.execv(
            str(PEERS_PYTHON),
            [str(PEERS_PYTHON), "-m", "bench.peers", *(argv if argv is not None else sys.argv[1:])],
        )
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
