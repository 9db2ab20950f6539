"""Benchmark: what importing the provider's operator modules adds to ``import airflow.sdk``.

A DAG file that uses an operator pays for its imports at every parse. Each run is a fresh
interpreter that imports ``airflow.sdk`` (the baseline, which every DAG file pays anyway) and then
one or all of the provider modules a DAG file imports, timing both steps. The variants take
turns, so a slow spell of the machine hits them all. It then lists what the provider's imports
load beyond ``airflow.sdk``, and which of them take longest (``python -X importtime``). It is a
benchmark, not a test. See benchmarks/README.md.

    python benchmarks/imports.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import airflow_env, median, verdict

OVERHEAD_GOAL = 0.05
VARIANTS = {
    "operators.video": ["airflow_provider_apimart.operators.video"],
    "sensors.task": ["airflow_provider_apimart.sensors.task"],
    "triggers.task": ["airflow_provider_apimart.triggers.task"],
    "all three": [
        "airflow_provider_apimart.operators.video",
        "airflow_provider_apimart.sensors.task",
        "airflow_provider_apimart.triggers.task",
    ],
}
#: Modules a DAG parse must not load (test server, media libraries), and big ones worth naming.
MUST_NOT_LOAD = (
    "starlette",
    "uvicorn",
    "multipart",
    "airflow_provider_apimart.testing",
    "PIL",
    "av",
    "numpy",
)
WORTH_NAMING = ("httpx", "pydantic", "tenacity", "fsspec", "upath", "airflow.sdk.io", "boto3", "s3fs")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs per variant (default: %(default)s)")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="apimart-bench-") as home:
        env = airflow_env(Path(home))
        measure("airflow.sdk", env)  # Airflow writes its config on a first start
        print(
            f"{os.cpu_count()} CPUs; {args.repeat} fresh interpreters per variant, variants taking turns; "
            f"Python {sys.version.split()[0]}.",
            flush=True,
        )
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in ["airflow.sdk", *VARIANTS]}
        for _ in range(max(1, args.repeat)):
            runs["airflow.sdk"].append(measure("airflow.sdk", env))
            for name, modules in VARIANTS.items():
                runs[name].append(measure(",".join(modules), env))
        slowest = importtime(VARIANTS["all three"], env)
    report(runs, slowest, args.repeat, time.monotonic() - started)
    return 0


def report(
    runs: dict[str, list[dict[str, Any]]], slowest: list[tuple[int, int, str]], repeat: int, wall: float
) -> None:
    def med(name: str, key: str) -> float:
        return median([float(run[key]) for run in runs[name]])

    base_cpu, base_wall = med("airflow.sdk", "sdk_cpu"), med("airflow.sdk", "sdk_wall")
    print()
    print(
        f"{'import airflow.sdk, then':<22} | {'CPU ms':>7} | {'+ CPU ms':>8} | {'overhead':>8} | "
        f"{'wall ms':>7} | {'+ wall ms':>9} | {'overhead':>8} | modules added"
    )
    print("-" * 104)
    print(
        f"{'(nothing: baseline)':<22} | {base_cpu * 1000:>7.0f} | {'':>8} | {'':>8} | "
        f"{base_wall * 1000:>7.0f} | {'':>9} | {'':>8} | "
        f"{med('airflow.sdk', 'modules_before'):.0f} after airflow.sdk"
    )
    overheads: dict[str, float] = {}
    for name in VARIANTS:
        cpu, wall_ms = med(name, "provider_cpu"), med(name, "provider_wall")
        overheads[name] = cpu / base_cpu
        print(
            f"{name:<22} | {(base_cpu + cpu) * 1000:>7.0f} | {cpu * 1000:>8.1f} | {cpu / base_cpu:>8.1%} | "
            f"{(base_wall + wall_ms) * 1000:>7.0f} | {wall_ms * 1000:>9.1f} | {wall_ms / base_wall:>8.1%} | "
            f"{med(name, 'modules_added'):.0f}"
        )
    print()
    print(
        f"Medians of {repeat} runs. '+' is the time the provider's modules took right after "
        "`import airflow.sdk` in the same interpreter; 'overhead' divides it by the baseline's "
        "`import airflow.sdk`. CPU time is the figure to read on a shared machine (wall time also "
        "waits for the CPU)."
    )
    last = runs["all three"][-1]
    loaded, already = last["watch_loaded"], last["watch_before"]
    named = [
        f"{name} ({'already loaded by airflow.sdk' if name in already else 'loaded by the provider'})"
        for name in WORTH_NAMING
        if name in loaded
    ]
    print(f"Loaded after importing all three: {', '.join(named) or 'none of ' + ', '.join(WORTH_NAMING)}.")
    print(
        f"The provider's imports add {last['added_own']} of its own modules and "
        f"{len(last['added_foreign'])} others: {', '.join(last['added_foreign'])}."
    )
    groups: dict[str, int] = {}
    for own, _, module in slowest:
        groups[group_of(module)] = groups.get(group_of(module), 0) + own
    print(
        "Where the provider's import time goes (python -X importtime, one run, self times summed): "
        + ", ".join(
            f"{name} {micros / 1000:.1f} ms" for name, micros in sorted(groups.items(), key=lambda g: -g[1])
        )
        + "."
    )
    print("Slowest modules it adds (self / cumulative):")
    for own, cumulative, module in slowest[:8]:
        print(f"  {own / 1000:>7.1f} ms / {cumulative / 1000:>7.1f} ms  {module}")
    forbidden = [name for name in MUST_NOT_LOAD if name in loaded]
    print(
        f"Modules a DAG parse must not load ({', '.join(MUST_NOT_LOAD)}): "
        f"{', '.join(forbidden) if forbidden else 'none loaded'}: {verdict(not forbidden)}."
    )
    worst = max(overheads, key=overheads.__getitem__)
    print(
        f"Import overhead, CPU, worst variant ({worst}): {overheads[worst]:.1%} of `import airflow.sdk` "
        f"(goal <= {OVERHEAD_GOAL:.0%}): {verdict(overheads[worst] <= OVERHEAD_GOAL)}."
    )
    print(f"Wall time {wall:.0f} s.")


def group_of(module: str) -> str:
    if module.startswith("airflow_provider_apimart.models"):
        return "the provider's request and answer models"
    if module.startswith("airflow_provider_apimart"):
        return "the provider's other modules"
    if module.startswith(("airflow.", "pydantic")):
        return f"{module.split('.')[0]}'s modules"
    return "others"


def importtime(modules: list[str], env: dict[str, str]) -> list[tuple[int, int, str]]:
    """Every module the provider's imports add, slowest first by self time (``-X importtime``)."""
    code = f"import airflow.sdk, sys; print('MARK', file=sys.stderr, flush=True); import {', '.join(modules)}"
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    after = done.stderr.split("MARK", 1)[1]
    rows: list[tuple[int, int, str]] = []
    for line in after.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, module = (part.strip() for part in line.removeprefix("import time:").split("|"))
        rows.append((int(own), int(cumulative), module))
    return sorted(rows, reverse=True)


# ---------------------------------------------------------------- the child: one fresh interpreter

#: Run with ``python -c``: nothing but ``time`` and ``sys`` is imported before ``airflow.sdk``.
CHILD = """
import sys, time
wall0, cpu0 = time.perf_counter(), time.process_time()
import airflow.sdk
wall1, cpu1 = time.perf_counter(), time.process_time()
before = set(sys.modules)
for module in sys.argv[1].split(",") if sys.argv[1] != "airflow.sdk" else []:
    __import__(module)
wall2, cpu2 = time.perf_counter(), time.process_time()
added = set(sys.modules) - before
watch = sys.argv[2].split(",")
import json
print(json.dumps({
    "sdk_wall": wall1 - wall0, "sdk_cpu": cpu1 - cpu0,
    "provider_wall": wall2 - wall1, "provider_cpu": cpu2 - cpu1,
    "modules_before": len(before), "modules_added": len(added),
    "added_packages": sorted({name.split(".")[0] for name in added}),
    "added_foreign": sorted(name for name in added if not name.startswith("airflow_provider_apimart")),
    "added_own": len([name for name in added if name.startswith("airflow_provider_apimart")]),
    "watch_loaded": [name for name in watch if name in sys.modules],
    "watch_before": [name for name in watch if name in before],
}))
"""


def measure(what: str, env: dict[str, str]) -> dict[str, Any]:
    """One fresh interpreter: ``import airflow.sdk``, then ``what`` (comma-separated modules)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", CHILD, what, ",".join((*MUST_NOT_LOAD, *WORTH_NAMING))],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"importing {what} failed:\n{done.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


if __name__ == "__main__":
    sys.exit(main())
