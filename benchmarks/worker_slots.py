"""Benchmark: worker-slot seconds per generation on a real scheduler, deferrable against not.

Starts ``airflow standalone`` (scheduler, DAG processor, triggerer, API server; SQLite) in its own
process group on free ports, and the APIMart simulator's CLI in a subprocess per render time.
For each render time it runs one DAG of K generations with ``deferrable=True``, then the same
DAG with ``deferrable=False`` (the operator waits on the worker), one after the other. Then it
reads Airflow's own record of each task instance's state changes (the ``log`` table: a
``running`` row when a worker starts or resumes the task, a ``deferred``/``success``/... row when
it hands it back) and sums the time spent ``running``: the seconds a worker slot was held. It
stops every process it started at the end. It is a benchmark, not a test. See
benchmarks/README.md.

    python benchmarks/worker_slots.py           # K=4 generations, renders of 20 s
    python benchmarks/worker_slots.py --full    # renders of 20 s and 90 s: is the deferrable figure flat?
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing, suppress
from datetime import datetime
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BIN, free_port, median, verdict

SLOT_GOAL = 2.0
API_KEY = "bench-simulator-key"
ENDS = ("deferred", "success", "failed", "up_for_retry", "up_for_reschedule", "upstream_failed", "skipped")
#: One file per DAG, as a DAG folder usually has: a task process parses only its own DAG's file.
DAG_FILE = """
from airflow.sdk import DAG
from airflow_provider_apimart.operators.video import ApimartWan27Operator

with DAG("{dag_id}", schedule=None):
    for number in range({generations}):
        ApimartWan27Operator(
            task_id=f"generation_{{number}}",
            prompt=f"benchmark generation {{number}}",
            apimart_conn_id="apimart_r{render}",
            deferrable={deferrable},
        )
"""
#: Run first, so that no measured DAG pays for a cold API server, executor or page cache.
WARM_UP_FILE = """
from airflow.sdk import DAG, task

import airflow_provider_apimart.operators.video


@task
def warm():
    pass


with DAG("bench_slots_warm_up", schedule=None):
    for number in range({generations}):
        warm.override(task_id=f"warm_{{number}}")()
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--generations", type=int, default=4, help="generations per DAG (default: %(default)s)"
    )
    parser.add_argument(
        "--renders",
        default=None,
        help="render times in seconds, comma-separated (default: 20; --full: 20,90)",
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs of each DAG, taking turns (default 1; --full 2)"
    )
    parser.add_argument("--full", action="store_true", help="two render times, 20 s and 90 s; 2 runs each")
    parser.add_argument(
        "--keep", action="store_true", help="keep the Airflow home (logs, database) at the end"
    )
    parser.add_argument("--timeout", type=float, default=900, help="give up after this many seconds")
    args = parser.parse_args()
    text = args.renders or ("20,90" if args.full else "20")
    renders = [int(float(value)) for value in text.split(",") if value.strip()]
    repeat = max(1, args.repeat or (2 if args.full else 1))
    return run(renders, args.generations, repeat, args.keep, args.timeout)


def run(renders: list[int], generations: int, repeat: int, keep: bool, timeout: float) -> int:
    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="apimart-bench-slots-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        env = prepare(home, renders, generations, processes)
        print(
            f"airflow standalone in {home}; {os.cpu_count()} CPUs, machine load {os.getloadavg()[0]:.1f}; "
            f"{generations} generations per DAG, renders of {', '.join(f'{r} s' for r in renders)} at the "
            "simulator; operator defaults (poll_interval 10 s, first_poll_delay 5 s, max_poll_interval "
            f"60 s); the deferrable DAG runs first, then the same DAG waiting on the worker; {repeat} "
            "run(s) of each.",
            flush=True,
        )
        deadline = time.monotonic() + timeout
        dag_ids = [
            f"bench_slots_{mode}_{render}s" for render in renders for mode in ("deferrable", "on_worker")
        ]
        wait_for(
            lambda: parsed(home, [*dag_ids, "bench_slots_warm_up"]), "the DAGs to be parsed", deadline, home
        )
        airflow_cli(env, "dags", "trigger", "bench_slots_warm_up", "--run-id", "warm_up")
        wait_for(
            lambda: run_state(home, "bench_slots_warm_up", "warm_up") in {"success", "failed"},
            "the warm-up",
            deadline,
            home,
        )
        print(
            f"  Airflow up, the DAGs parsed and warmed up after {time.monotonic() - started:.0f} s.",
            flush=True,
        )
        merged: dict[str, dict[str, Any]] = {}
        for turn in range(1, repeat + 1):
            for dag_id in dag_ids:
                run_id = f"bench_{turn}"
                run_started = time.monotonic()
                airflow_cli(env, "dags", "trigger", dag_id, "--run-id", run_id)
                wait_for(
                    lambda dag_id=dag_id, run_id=run_id: (
                        run_state(home, dag_id, run_id) in {"success", "failed"}
                    ),
                    f"{dag_id} {run_id}",
                    deadline,
                    home,
                )
                result = slot_seconds(home, dag_id, run_id)
                result["wall_s"] = [time.monotonic() - run_started]
                result["states"] = [run_state(home, dag_id, run_id)]
                print(
                    f"  {dag_id} {run_id}: {result['states'][0]} in {result['wall_s'][0]:.0f} s; "
                    f"slot seconds per generation {', '.join(f'{s:.2f}' for s in result['slots'])}",
                    flush=True,
                )
                if dag_id in merged:
                    for key, value in result.items():
                        if isinstance(value, list):
                            merged[dag_id][key] += value
                else:
                    merged[dag_id] = result
        report(list(merged.values()), renders, generations * repeat, time.monotonic() - started)
        return 0
    finally:
        stop(processes)
        if keep:
            print(f"Kept {home}.")
        else:
            shutil.rmtree(home, ignore_errors=True)


def prepare(
    home: Path, renders: list[int], generations: int, processes: list[subprocess.Popen[bytes]]
) -> dict[str, str]:
    """Simulators, the DAG file, the database, and ``airflow standalone`` started in the background."""
    dags = home / "dags"
    dags.mkdir()
    (dags / "bench_slots_warm_up.py").write_text(WARM_UP_FILE.format(generations=generations))
    for render in renders:
        for mode in ("deferrable", "on_worker"):
            dag_id = f"bench_slots_{mode}_{render}s"
            (dags / f"{dag_id}.py").write_text(
                DAG_FILE.format(
                    dag_id=dag_id, generations=generations, render=render, deferrable=mode == "deferrable"
                )
            )
    api_port = free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": str(max(4, generations)),
        "AIRFLOW__API__PORT": str(api_port),
        # Workers report to the API server's Execution API: it must follow the port.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
    }
    # The production waiting settings, not a test's shortcuts.
    env.pop("AIRFLOW__APIMART__FIRST_POLL_DELAY", None)
    for render in renders:
        port = free_port()
        simulator = subprocess.Popen(  # noqa: S603 - the venv's own interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "airflow_provider_apimart.testing",
                "--port",
                str(port),
                "--api-key",
                API_KEY,
                "--render-seconds",
                str(render),
                "--unlimited-quota",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(simulator)
        assert simulator.stdout is not None
        line = simulator.stdout.readline().decode()
        if "listening" not in line:
            raise SystemExit(f"the simulator did not start: {line!r}")
        conn = {"conn_type": "apimart", "password": API_KEY, "host": f"http://127.0.0.1:{port}"}
        env[f"AIRFLOW_CONN_APIMART_R{render}"] = json.dumps(conn)
    airflow_cli(env, "db", "migrate")
    log: IO[bytes] = (home / "standalone.log").open("wb")
    processes.append(
        subprocess.Popen(  # noqa: S603 - the venv's own airflow
            [str(BIN / "airflow"), "standalone"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    )
    return env


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group we started, then SIGKILL what is left after 60 s."""
    for process in processes:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        # The group's other members (scheduler, triggerer, ...) may outlive its leader.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def airflow_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - the venv's own airflow, fixed arguments
        [str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"airflow {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def query(home: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    database = home / "airflow.db"
    if not database.exists():
        return []
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)) as db:
        try:
            return db.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # a table not made yet, or the database busy
            return []


def parsed(home: Path, dag_ids: list[str]) -> bool:
    rows = query(home, "SELECT dag_id FROM dag WHERE is_stale = 0")
    return set(dag_ids) <= {row[0] for row in rows}


def run_state(home: Path, dag_id: str, run_id: str) -> str:
    rows = query(home, "SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", dag_id, run_id)
    return str(rows[0][0]) if rows else "none"


def wait_for(condition: Any, what: str, deadline: float, home: Path) -> None:
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    tail = (home / "standalone.log").read_text(errors="replace")[-3000:]
    raise SystemExit(f"timed out waiting for {what}; the end of standalone.log:\n{tail}")


def slot_seconds(home: Path, dag_id: str, run_id: str) -> dict[str, Any]:
    """Per task instance: seconds in ``running`` (summed over its stretches) and their count,
    from the ``log`` table's state-change rows; and start to end (the TI's own duration)."""
    rows = [
        row
        for row in query(
            home,
            "SELECT task_id, event, dttm FROM log WHERE dag_id = ? AND run_id = ? ORDER BY task_id, dttm, id",
            dag_id,
            run_id,
        )
        if row[1] == "running" or row[1] in ENDS
    ]
    stretches: dict[str, list[float]] = {}
    bounds: dict[str, list[tuple[datetime, datetime]]] = {}
    began: dict[str, datetime] = {}
    for task_id, event, dttm in rows:
        at = utc(str(dttm))
        if event == "running":
            began[task_id] = at
        elif task_id in began:
            start = began.pop(task_id)
            stretches.setdefault(task_id, []).append((at - start).total_seconds())
            bounds.setdefault(task_id, []).append((start, at))
    durations = {
        str(task_id): float(duration or 0)
        for task_id, duration in query(
            home,
            "SELECT task_id, duration FROM task_instance WHERE dag_id = ? AND run_id = ?",
            dag_id,
            run_id,
        )
    }
    tasks = sorted(durations)
    phases = {task: task_phases(home, dag_id, run_id, task, bounds.get(task, [])) for task in tasks}
    return {
        "phases": [phases[task] for task in tasks],
        "process": [sum(stretch["process"] for stretch in phases[task]) for task in tasks],
        "dag_id": dag_id,
        "slots": [sum(stretches.get(task, [float("nan")])) for task in tasks],
        "stretches": [len(stretches.get(task, [])) for task in tasks],
        "first": [stretches.get(task, [float("nan")])[0] for task in tasks],
        "later": [sum(stretches.get(task, [])[1:]) for task in tasks],
        "durations": [durations[task] for task in tasks],
        "open": sorted(began),
    }


def utc(text: str) -> datetime:
    """A naive UTC datetime from the database's (naive) or a log line's (``...Z``) timestamp."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


#: The phases of one stretch of a task process, from its log lines and the ``log`` table:
#: name, (from, to). A stretch starts when the task process logs its first line.
PHASES = (
    ("start-up", ("process", "running")),
    ("DAG parse", ("running", "parsed")),
    ("pre-execute", ("parsed", "execute")),
    ("operator", ("execute", "post")),
    ("hand back", ("post", "ended")),
)


def task_phases(
    home: Path, dag_id: str, run_id: str, task_id: str, bounds: list[tuple[datetime, datetime]]
) -> list[dict[str, float]]:
    """Per stretch, seconds in each of :data:`PHASES` and from the process's first log line to
    its state change (``process``), read from the task's log file."""
    path = home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}" / "attempt=1.log"
    marks: list[dict[str, datetime]] = []
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        try:
            record = json.loads(line)
            at, event = utc(record["timestamp"]), str(record.get("event", ""))
        except (ValueError, KeyError, TypeError):
            continue
        if event == "::group::Pre Execute":
            marks.append({"process": at})
        elif not marks:
            continue
        elif event == "Worker startup parse complete":
            marks[-1].setdefault("parsed", at)
        elif event == "::endgroup::" and "parsed" in marks[-1]:
            marks[-1].setdefault("execute", at)
        elif event == "::group::Post Execute":
            marks[-1].setdefault("post", at)
    stretches = []
    for mark, (running, ended) in zip(marks, bounds, strict=False):
        times = {**mark, "running": running, "ended": ended}
        if not {"parsed", "execute", "post"} <= set(times):
            continue
        stretch = {name: (times[end] - times[start]).total_seconds() for name, (start, end) in PHASES}
        stretch["process"] = (ended - times["process"]).total_seconds()
        stretches.append(stretch)
    return stretches


def report(results: list[dict[str, Any]], renders: list[int], generations: int, wall: float) -> None:
    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

    print()
    print(
        f"{'DAG':<28} | {'state':<7} | {'slot s/gen':>10} | {'median':>6} | {'max':>6} | {'stretches':>9} | "
        f"{'1st / later s':>13} | {'process s/gen':>13} | {'TI start-to-end s':>17} | {'DAG run s':>9}"
    )
    print("-" * 145)
    for result in results:
        state = "success" if set(result["states"]) == {"success"} else "/".join(result["states"])
        print(
            f"{result['dag_id']:<28} | {state:<7} | {mean(result['slots']):>10.2f} | "
            f"{median(result['slots']):>6.2f} | {max(result['slots']):>6.2f} | "
            f"{median([float(s) for s in result['stretches']]):>9.0f} | "
            f"{median(result['first']):>5.2f} / {median(result['later']):<5.2f} | "
            f"{mean(result['process']):>13.2f} | {median(result['durations']):>17.1f} | "
            f"{median(result['wall_s']):>9.0f}"
        )
    print()
    print(
        f"slot s/gen: the time a task instance spent in `running` (from the `log` table's state-change "
        f"rows), summed over its stretches (2 for a deferred task: submit and defer, then resume; '1st / "
        f"later' splits them, medians), the mean of the {generations} generations of each DAG; median and "
        "max beside it. process s/gen: from each stretch's first task log line (its process has started) "
        "to its state change, mean: closer to how long the slot is really held."
    )
    print()
    print("Where each stretch's time goes, median seconds (task log lines and the `log` table):")
    print(f"{'DAG':<28} | {'stretch':>7} | " + " | ".join(f"{name:>11}" for name, _ in PHASES) + " |   total")
    print("-" * 111)
    for result in results:
        for index in range(max((len(phases) for phases in result["phases"]), default=0)):
            stretches = [phases[index] for phases in result["phases"] if len(phases) > index]
            print(
                f"{result['dag_id']:<28} | {index + 1:>7} | "
                + " | ".join(f"{median([s[name] for s in stretches]):>11.2f}" for name, _ in PHASES)
                + f" | {median([s['process'] for s in stretches]):>7.2f}"
            )
    print(
        "start-up: the task process's first log line to `running` (the supervisor's start call to the API "
        "server); DAG parse; pre-execute: Airflow's, up to the operator; operator: `execute` (submit, "
        "first read, defer) or, resumed, `execute_complete` (read the task, return the URLs); hand back: "
        "to the state change."
    )
    print()
    deferred_means = []
    for render in renders:
        deferred, waited = (
            next(result for result in results if result["dag_id"] == f"bench_slots_{mode}_{render}s")
            for mode in ("deferrable", "on_worker")
        )
        deferred_means.append(mean(deferred["slots"]))
        print(
            f"Render {render} s: deferrable holds a worker {mean(deferred['slots']):.2f} s per generation "
            f"({mean(deferred['process']):.2f} s of task process), waiting on the worker "
            f"{mean(waited['slots']):.2f} s ({mean(waited['slots']) / mean(deferred['slots']):.0f}x)."
        )
    failures = [
        result["dag_id"] for result in results if set(result["states"]) != {"success"} or result["open"]
    ]
    if failures:
        print(f"WARNING: not every task ended in success: {', '.join(failures)}.")
    worst = max(max(result["slots"]) for result in results if "_deferrable_" in result["dag_id"])
    print(
        f"Deferrable worker-slot seconds per generation, worst render time: {max(deferred_means):.2f} s "
        f"(goal <= {SLOT_GOAL:g} s whatever the render time): {verdict(max(deferred_means) <= SLOT_GOAL)}. "
        f"Worst single generation: {worst:.2f} s."
    )
    print(f"Wall time {wall:.0f} s.")


if __name__ == "__main__":
    sys.exit(main())
