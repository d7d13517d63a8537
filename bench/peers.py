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
import time
import venv
import warnings
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench._common import (
    KEYS,
    PROMPT,
    REPO_ROOT,
    BenchServer,
    LoadMonitor,
    Sample,
    atimed,
    clear_sdk_environment,
    cpu_layout,
    median,
    ms,
    pin_client,
    print_machine,
    print_table,
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


def setup() -> int:
    """Build ``bench/.venv-peers``: the peers, pinned to the project's shared versions."""
    print(f"creating {PEERS_VENV.relative_to(REPO_ROOT)} ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=False).create(PEERS_VENV)
    freeze = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    constraints = PEERS_VENV / "project-constraints.txt"
    # Pin what both venvs share to the project's versions (pip applies a constraint
    # only to packages that something requires).  Local-version pins (torch+cpu) and
    # references to files are left out: nothing the peers need.
    lines = [line for line in freeze.splitlines() if "==" in line and "+" not in line]
    constraints.write_text("\n".join(lines) + "\n")
    project = {line.split("==")[0].lower(): line for line in lines}
    wanted = [*PEER_PACKAGES, "tenacity", "openai", "httpx2"]
    command = [
        str(PEERS_PYTHON),
        "-m",
        "pip",
        "install",
        "--quiet",
        "-c",
        str(constraints),
        *wanted,
    ]
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        print("pip could not install the peers; see above", file=sys.stderr)
        return result.returncode
    # genkit from this checkout, without installing it (no build, no egg-info here).
    site = subprocess.run(
        [str(PEERS_PYTHON), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "genkit-checkout.pth").write_text(str(REPO_ROOT) + "\n")
    versions = subprocess.run(
        [str(PEERS_PYTHON), "-m", "pip", "freeze"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    shown = [
        v
        for v in versions
        if v.split("==")[0].lower() in {*PEER_PACKAGES, "openai", "httpx2", "pydantic"}
    ]
    print("installed: " + ", ".join(shown))
    differ = [
        v
        for v in versions
        if "==" in v
        and v.split("==")[0].lower() in project
        and project[v.split("==")[0].lower()] != v
    ]
    print(
        "shared packages at a different version than the project's venv: "
        + (", ".join(differ) or "none")
    )
    return 0


# --------------------------------------------------------------------------- the libraries


class Contender:
    """One library's way to make the benchmark's call."""

    name: str

    def call(self) -> str:
        raise NotImplementedError

    async def acall(self) -> str:
        raise NotImplementedError

    def stream(self) -> int:
        """Read a whole stream; return the number of text chunks."""
        raise NotImplementedError

    def fail(self) -> None:
        """One call to the 503 endpoint, errors swallowed."""
        raise NotImplementedError


class Genkit(Contender):
    name = "genkit"

    def __init__(self, base_url: str) -> None:
        import genkit

        self.gen = genkit.load(
            f"openai:{MODEL}", api_key=KEYS["openai"], base_url=base_url, max_retries=RETRIES
        )
        self.failing = genkit.load(
            "openai:bench-fail", api_key=KEYS["openai"], base_url=base_url, max_retries=RETRIES
        )

    def call(self) -> str:
        return self.gen.generate(PROMPT).text

    async def acall(self) -> str:
        return (await self.gen.agenerate(PROMPT)).text

    def stream(self) -> int:
        count = 0
        with self.gen.stream(PROMPT) as stream:
            for _chunk in stream:
                count += 1
            _ = stream.result.text
        return count

    def fail(self) -> None:
        with contextlib.suppress(Exception):
            self.failing.generate(PROMPT)


class RawOpenAI(Contender):
    name = "openai SDK (reference)"

    def __init__(self, base_url: str) -> None:
        import openai

        self.client = openai.OpenAI(api_key=KEYS["openai"], base_url=base_url, max_retries=RETRIES)
        self.aclient: Any = None
        self.base_url = base_url

    def call(self) -> str:
        response = self.client.chat.completions.create(model=MODEL, messages=MESSAGES)
        return str(response.choices[0].message.content)

    async def acall(self) -> str:
        if self.aclient is None:
            import openai

            self.aclient = openai.AsyncOpenAI(
                api_key=KEYS["openai"], base_url=self.base_url, max_retries=RETRIES
            )
        response = await self.aclient.chat.completions.create(model=MODEL, messages=MESSAGES)
        return str(response.choices[0].message.content)

    def stream(self) -> int:
        parts = []
        with self.client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        ) as stream:
            for chunk in stream:
                for choice in chunk.choices:
                    if choice.delta.content:
                        parts.append(choice.delta.content)
        "".join(parts)
        return len(parts)

    def fail(self) -> None:
        with contextlib.suppress(Exception):
            self.client.chat.completions.create(model="bench-fail", messages=MESSAGES)


class LiteLLM(Contender):
    name = "litellm"

    def __init__(self, base_url: str) -> None:
        import litellm

        litellm.telemetry = False
        litellm.suppress_debug_info = True
        self.litellm = litellm
        # max_retries reaches the OpenAI client.  num_retries stays unset: LiteLLM then
        # retries on its own on top (num_retries=2 sent 5 requests to a 503 here), and
        # num_retries=0 also zeroes the client's retries (1 request).
        self.args: dict[str, Any] = {
            "api_base": base_url,
            "api_key": KEYS["openai"],
            "max_retries": RETRIES,
        }

    def call(self) -> str:
        response = self.litellm.completion(model=f"openai/{MODEL}", messages=MESSAGES, **self.args)
        return str(response.choices[0].message.content)

    async def acall(self) -> str:
        response = await self.litellm.acompletion(
            model=f"openai/{MODEL}", messages=MESSAGES, **self.args
        )
        return str(response.choices[0].message.content)

    def stream(self) -> int:
        parts = []
        response = self.litellm.completion(
            model=f"openai/{MODEL}", messages=MESSAGES, stream=True, **self.args
        )
        for chunk in response:
            for choice in chunk.choices:
                if choice.delta.content:
                    parts.append(choice.delta.content)
        "".join(parts)
        return len(parts)

    def fail(self) -> None:
        with contextlib.suppress(Exception):
            self.litellm.completion(model="openai/bench-fail", messages=MESSAGES, **self.args)


class AISuite(Contender):
    name = "aisuite"

    def __init__(self, base_url: str) -> None:
        import aisuite

        self.client = aisuite.Client(
            provider_configs={
                "openai": {"api_key": KEYS["openai"], "base_url": base_url, "max_retries": RETRIES}
            }
        )

    def call(self) -> str:
        response = self.client.chat.completions.create(model=f"openai:{MODEL}", messages=MESSAGES)
        return str(response.choices[0].message.content)

    async def acall(self) -> str:
        response = await self.client.chat.completions.acreate(
            model=f"openai:{MODEL}", messages=MESSAGES
        )
        return str(response.choices[0].message.content)

    def stream(self) -> int:
        parts = []
        response = self.client.chat.completions.create(
            model=f"openai:{MODEL}", messages=MESSAGES, stream=True
        )
        for chunk in response:
            for choice in chunk.choices:
                if choice.delta.content:
                    parts.append(choice.delta.content)
        "".join(parts)
        return len(parts)

    def fail(self) -> None:
        with contextlib.suppress(Exception):
            self.client.chat.completions.create(model="openai:bench-fail", messages=MESSAGES)


# --------------------------------------------------------------------------- measurement


def rotate(names: list[str], index: int) -> list[str]:
    shift = index % len(names)
    order = names[shift:] + names[:shift]
    return order if index % 2 == 0 else list(reversed(order))


def per_call(
    contenders: dict[str, Callable[[], object]], calls: int, rounds: int
) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {name: [] for name in contenders}
    for call in contenders.values():  # warm-up
        for _ in range(20):
            call()
    for index in range(rounds):
        if index % 25 == 0:
            gc.collect()  # outside the timing, every 25 rounds
        for name in rotate(list(contenders), index):
            out[name] += timed(contenders[name], calls)
    return out


def per_acall(
    contenders: Mapping[str, Callable[[], Awaitable[object]]], calls: int, rounds: int
) -> dict[str, list[Sample]]:
    async def run() -> dict[str, list[Sample]]:
        out: dict[str, list[Sample]] = {name: [] for name in contenders}
        for call in contenders.values():
            for _ in range(20):
                await call()
        for index in range(rounds):
            if index % 25 == 0:
                gc.collect()
            for name in rotate(list(contenders), index):
                out[name] += await atimed(contenders[name], calls)
        return out

    return asyncio.run(run())


def streams(
    contenders: dict[str, Callable[[], int]], chunks: int, rounds: int
) -> dict[str, list[Sample]]:
    """Per stream: (wall s, CPU s); each checked to deliver every chunk."""
    out: dict[str, list[Sample]] = {name: [] for name in contenders}
    for name, run in contenders.items():
        got = run()
        if got != chunks:
            raise RuntimeError(f"{name} delivered {got} of {chunks} chunks")
    for index in range(rounds):
        for name in rotate(list(contenders), index):
            gc.collect()
            out[name] += timed(contenders[name], 1)
    return out


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
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # never fetch the cost map from the network
    env["BENCH_URL"] = base_url
    statements = {"bare": "pass", **{k: v for k, v in cases.items() if k in available}}
    walls: dict[str, list[float]] = {name: [] for name in statements}

    def once(statement: str) -> float:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", statement],
            cwd=REPO_ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start

    for statement in statements.values():
        once(statement)
    for index in range(reps):
        for name in rotate(list(statements), index):
            walls[name].append(once(statements[name]))
    bare = median(walls.pop("bare"))
    return {name: median(values) - bare for name, values in walls.items()}


def measure(args: argparse.Namespace) -> int:
    clear_sdk_environment()
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    warnings.simplefilter("ignore")
    client_core, server_core = cpu_layout(not args.no_pin)
    pin_client(client_core)
    print_machine(
        "Peers: genkit vs LiteLLM vs aisuite (same process, same server, same OpenAI SDK)",
        packages=("genkit-sdk", "litellm", "aisuite", "openai", "httpx2", "pydantic"),
        extra=[
            "fakeprovider/lean.py in its own process; "
            + (
                f"server on core {server_core}, benchmark on core {client_core}"
                if client_core is not None
                else "unpinned"
            ),
            f"per call: {args.rounds} rounds x {args.calls} calls, rotating order; streams: "
            f"{args.chunks} chunks, {args.stream_rounds} per library; imports: {args.reps} "
            "fresh processes each, wall minus bare interpreter",
            f"retries: every library allows {RETRIES} retries (genkit's policy; the OpenAI "
            "client's max_retries for LiteLLM and aisuite; LiteLLM's num_retries unset)",
        ],
    )
    monitor = LoadMonitor()
    with BenchServer(chunks=args.chunks, cpu=server_core) as server:
        monitor.watch(server.pid)
        base = server.base_url("openai")
        contenders: list[Contender] = [Genkit(base)]
        for cls in (LiteLLM, AISuite):
            try:
                contenders.append(cls(base))
            except ImportError as error:
                print(f"\n{cls.name} is not importable ({error}); run --setup")
        contenders.append(RawOpenAI(base))
        names = [c.name for c in contenders]

        # Requests per call, on success and on a 503 (where retries show).
        rows = []
        for contender in contenders:
            server.reset()
            contender.call()
            ok_requests = server.stats()["requests"]
            server.reset()
            start = time.perf_counter()
            contender.fail()
            failing = server.stats()["requests"]
            rows.append(
                [contender.name, ok_requests, failing, f"{time.perf_counter() - start:.2f}"]
            )
        print_table(
            "Requests the server saw for one call (retries configured alike)",
            ["library", "successful call", "call to a 503 endpoint", "503 call took s"],
            rows,
        )

        sync = per_call({c.name: c.call for c in contenders}, args.calls, args.rounds)
        async_contenders = {
            c.name: c.acall for c in contenders if type(c).acall is not Contender.acall
        }
        asynced = per_acall(async_contenders, args.calls, args.rounds)
        streamed = streams({c.name: c.stream for c in contenders}, args.chunks, args.stream_rounds)
        imports = import_times(args.reps, names, IMPORTS, base)
        cold = import_times(args.reps, names, COLD_STARTS, base)

    def figure(samples: dict[str, list[Sample]], name: str, cpu: bool) -> float:
        return median([s[1] if cpu else s[0] for s in samples[name]])

    rows = []
    faster_everywhere = True
    metrics: list[tuple[str, Callable[[str], float | None], Callable[[float], str]]] = [
        ("sync call, wall µs", lambda n: figure(sync, n, False), us),
        ("sync call, CPU µs", lambda n: figure(sync, n, True), us),
        ("async call, wall µs", lambda n: figure(asynced, n, False) if n in asynced else None, us),
        ("async call, CPU µs", lambda n: figure(asynced, n, True) if n in asynced else None, us),
        ("stream, wall µs per chunk", lambda n: figure(streamed, n, False) / args.chunks, us),
        ("stream, CPU µs per chunk", lambda n: figure(streamed, n, True) / args.chunks, us),
        ("import, ms (wall - bare interpreter)", lambda n: imports.get(n), ms),
        ("cold start to first answer, ms", lambda n: cold.get(n), ms),
    ]
    for label, get, fmt in metrics:
        mine = get("genkit")
        assert mine is not None
        cells = [label, fmt(mine)]
        for name in names[1:]:
            value = get(name)
            if value is None:
                cells.append("— (no async API)")
                continue
            ratio = value / mine
            cells.append(f"{fmt(value)} ({ratio:.2f}x)")
            if name in ("litellm", "aisuite"):
                faster_everywhere &= ratio > 1
        rows.append(cells)
    print_table(
        "Medians; (Nx) = that library's figure / genkit's: above 1 means genkit is faster",
        ["figure", "genkit", *names[1:]],
        rows,
        notes=[
            f"genkit faster than every installed peer on every figure: "
            f"{verdict(faster_everywhere)}",
            monitor.line(),
        ],
    )
    return 0 if faster_everywhere else 1


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
