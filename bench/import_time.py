"""Import cost: ``import genkit``, and genkit + one backend, against the vendor SDK alone.

An import is paid once per process, so each sample is a new interpreter, timed two ways:
**wall - bare** (the child's whole life seen from the parent, minus the median of
``python -c pass`` in the same rounds: what a CLI user waits for beyond the interpreter) and
**in-process** (``perf_counter`` around the statement inside the child, a cross-check).
Variants run in rotating order (:func:`bench._common.abba`) after one unmeasured warm-up
each (bytecode and page caches).  Each backend row also checks that loading it imported no
other vendor SDK and no torch.  What genkit adds to a backend's load is timed directly: the
child imports the SDK first, then times ``import genkit; genkit.load(...)`` ("genkit's
share"); the difference of two whole loads is printed too, but it carries the SDK import's
own variance (tens of ms for anthropic), which a 30 ms budget cannot be judged against.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial

from bench import _common as h

#: Modules that must not appear after loading one backend (other SDKs, the local stack).
FOREIGN = ("openai", "anthropic", "google.genai", "torch", "transformers")
IMPORT_GENKIT_BUDGET = 0.030  # seconds
IMPORT_GENKIT_SHARE = 0.10  # of `import openai`
#: genkit's share of loading a backend (its own import + backend module + Generator).
BACKEND_EXTRA_BUDGET = 0.030


@dataclass(frozen=True)
class Variant:
    name: str
    statement: str
    sdk: str | None = None  # the SDK module this statement is allowed to import
    setup: str = ""  # run in the child before the clock starts
    share_of: str | None = None  # backend whose genkit share this variant measures
    total: str = ""  # for a share: the name of the whole load it is part of
    alone: str = ""  # for a share: the name of the SDK's import alone


def variants(backends: list[str]) -> list[Variant]:
    out = [
        Variant("bare interpreter (python -c pass)", "pass"),
        Variant("import genkit", "import genkit"),
    ]
    for name in backends:
        sdk = h.HOSTED[name]
        module = "from google import genai" if sdk == "google.genai" else f"import {sdk}"
        load = f'import genkit; genkit.load("{name}:{h.MODELS[name]}", api_key="{h.KEYS[name]}")'
        total = f'import genkit; genkit.load("{name}:{h.MODELS[name]}")'
        share = f"  genkit's share, {module} done first"  # the SDK imported before the clock
        out += [Variant(module, module, sdk), Variant(total, load, sdk)]
        out.append(Variant(share, load, sdk, module, name, total, module))
    return out


def sample(case: Variant, env: dict[str, str]) -> tuple[float, float, list[str]]:
    """(wall seconds, in-process seconds, foreign modules loaded) for one fresh process."""
    # The probe itself imports only `sys` and `time`, both loaded by every interpreter.
    code = (
        f"{case.setup}\nimport time as _t; _s = _t.perf_counter()\n{case.statement}\n"
        "_e = _t.perf_counter() - _s\nimport sys as _sys\n"
        f"_f = [m for m in {FOREIGN!r} if m in _sys.modules]\nprint(_e, ','.join(_f))\n"
    )
    wall, result = h.fresh(code, env=env)
    inner, _, foreign = result.stdout.strip().partition(" ")
    return wall, float(inner), [m for m in foreign.split(",") if m]


def main(argv: list[str] | None = None) -> int:
    args = h.parser(__doc__, server=False, reps=(12, "fresh processes per variant")).parse_args(
        argv
    )
    h.clear_sdk_environment()
    env = h.clean_env()
    wanted = args.backends or list(h.HOSTED)
    present = [b for b in wanted if h.backend_present(b)]
    absent = [b for b in wanted if b not in present]
    cases = variants(present)
    h.print_machine(
        "Import time",
        extra=[
            f"{args.reps} fresh `python -c` processes per variant, interleaved in rotating "
            "order after one warm-up each; medians",
            "wall - bare: child's wall time minus the median bare interpreter start "
            "(`python -c pass`) measured in the same rounds",
            "in-process: perf_counter around the statement inside the child",
            "children run without PYTHON* variables (this machine sets "
            "PYTHONDONTWRITEBYTECODE), so bytecode caches are used as on a user's machine",
            *([f"skipped (no genkit backend yet): {', '.join(absent)}"] if absent else []),
        ],
    )
    for case in cases:  # warm-up: bytecode caches, page cache
        sample(case, env)
    samples = h.abba({c.name: partial(sample, c, env) for c in cases}, args.reps)
    walls = {name: [s[0] for s in runs] for name, runs in samples.items()}
    inproc = {name: h.median([s[1] for s in runs]) for name, runs in samples.items()}
    foreign = {c.name: {m for s in samples[c.name] for m in s[2] if m != c.sdk} for c in cases}
    bare = h.median(walls[cases[0].name])
    net = {name: h.median(values) - bare for name, values in walls.items()}
    rows = []
    for case in cases:
        first, wall = case is cases[0], h.ms(h.median(walls[case.name]))
        figures = [wall, "—" if first or case.setup else h.ms(net[case.name])]
        figures.append("—" if first else h.ms(inproc[case.name]))
        rows.append([case.name, *figures, ", ".join(sorted(foreign[case.name])) or "none"])
    headers = ["variant", "wall", "wall - bare", "in-process", "other SDKs / torch loaded"]
    h.print_table("Import cost per fresh process (ms, medians)", headers, rows)

    genkit_net, genkit_in = net["import genkit"], inproc["import genkit"]
    ok = genkit_net < IMPORT_GENKIT_BUDGET and genkit_in < IMPORT_GENKIT_BUDGET
    measured = f"{h.ms(genkit_net)} ms (in-process {h.ms(genkit_in)} ms)"
    checks, failed = [["`import genkit` < 30 ms", measured, h.verdict(ok)]], not ok
    if "openai" in present:
        share, openai_net = genkit_net / net["import openai"], net["import openai"]
        measured = f"{h.pct(share)} ({h.ms(genkit_net)} / {h.ms(openai_net)} ms)"
        target = "`import genkit` < 10% of `import openai`"
        checks.append([target, measured, h.verdict(share < IMPORT_GENKIT_SHARE)])
        failed |= share >= IMPORT_GENKIT_SHARE
    for case in (c for c in cases if c.share_of is not None):
        share_in, others = inproc[case.name], ", ".join(sorted(foreign[case.total])) or "none"
        # For reference: the same as a difference of whole loads, paired per round (adjacent
        # processes); it inherits the SDK import's own variance.
        extra = h.median([a - b for a, b in zip(walls[case.total], walls[case.alone], strict=True)])
        ok = share_in < BACKEND_EXTRA_BUDGET and not foreign[case.total]
        failed |= not ok
        measured = (
            f"{h.ms(share_in)} ms in-process with the SDK loaded first (difference of whole "
            f"loads, paired: {h.ms(extra)} ms); other SDKs: {others}"
        )
        target = f"{case.share_of}: genkit adds < 30 ms to `{case.alone}`, loads no other SDK"
        checks.append([target, measured, h.verdict(ok)])
    h.print_table("Targets", ["target", "measured", "result"], checks)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
