"""A deferrable operator under a real scheduler, triggerer and worker (`airflow standalone`).

Run it alone with ``pytest -m scheduler``. It starts Airflow in its own process group (setsid),
triggers a DAG whose render takes several seconds at the simulator, and reads Airflow's own
records (the metadata database and the triggerer's log) to show that the task was deferred,
that its trigger ran in the triggerer process, and that no task was running on a worker while
the simulator rendered.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airflow_provider_apimart.testing import ApimartSimulator, SimulatorConfig

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.scheduler

DAG_ID = "apimart_real_scheduler"
CONSUMER_DAG_ID = "apimart_asset_consumer"
RENDER_SECONDS = 20.0
#: What the simulator says the render takes: a little short of it, as the trigger's first read
#: comes by the estimated end (in the later half of the wait until then), so it sees the render
#: still running and logs it from the triggerer.
ESTIMATED_SECONDS = 14.0
DAG_FILE = f'''
import json, os
from airflow.sdk import DAG, Asset, task
from airflow_provider_apimart.operators.video import ApimartWan27Operator

VIDEOS = Asset("apimart_rendered_videos")

with DAG("{DAG_ID}", schedule=None):
    ApimartWan27Operator(
        task_id="render",
        prompt="A coastal road",
        deferrable=True,
        poll_interval=1,
        output_path=os.environ["APIMART_TEST_OUTPUT"],
        outlets=[VIDEOS],
    )

with DAG("{CONSUMER_DAG_ID}", schedule=[VIDEOS]):

    @task
    def receive(triggering_asset_events=None):
        (event,) = triggering_asset_events[VIDEOS]
        with open(os.environ["APIMART_TEST_OUTPUT"] + "/received.json", "w") as file:
            json.dump(event.extra, file)

    receive()
'''
BIN = Path(sys.executable).parent


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def airflow_cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - the venv's own airflow, fixed arguments
        [str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout


def query(home: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(f"file:{home / 'airflow.db'}?mode=ro", uri=True, timeout=10)) as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture
def airflow_standalone(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, ApimartSimulator]]:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / f"{DAG_ID}.py").write_text(DAG_FILE)
    simulator = ApimartSimulator(
        SimulatorConfig(render_seconds=RENDER_SECONDS, estimated_time=ESTIMATED_SECONDS)
    ).start()
    api_port = free_port()
    env = {
        **os.environ,
        **simulator.connection_env(),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__PORT": str(api_port),
        # Workers report to the api-server's Execution API: it must follow the port.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "APIMART_TEST_OUTPUT": str(tmp_path / "videos"),
    }
    # The production default, not the tests' 0: the trigger's first poll waits the settle delay.
    env.pop("AIRFLOW__APIMART__FIRST_POLL_DELAY", None)
    airflow_cli(env, "db", "migrate")
    with (tmp_path / "standalone.log").open("w") as log:
        standalone = subprocess.Popen(  # noqa: S603
            [str(BIN / "airflow"), "standalone"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield env, tmp_path, simulator
    finally:
        os.killpg(standalone.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            standalone.wait(timeout=60)
        # standalone can exit while its scheduler still waits on an idle executor worker: end the
        # whole process group, or it outlives the test run.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(standalone.pid, signal.SIGKILL)
        standalone.wait(timeout=30)
        simulator.stop()


def wait_for(condition: object, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_the_trigger_runs_in_the_triggerer_while_no_worker_holds_the_task(
    airflow_standalone: tuple[dict[str, str], Path, ApimartSimulator],
) -> None:
    env, home, simulator = airflow_standalone
    started = time.monotonic()
    wait_for(
        lambda: CONSUMER_DAG_ID in airflow_cli(env, "dags", "list", "-o", "plain"), "the DAGs to be parsed"
    )
    airflow_cli(env, "dags", "unpause", DAG_ID)
    airflow_cli(env, "dags", "unpause", CONSUMER_DAG_ID)
    run_id = "real_scheduler_proof"
    airflow_cli(env, "dags", "trigger", DAG_ID, "--run-id", run_id)

    states: list[str] = []

    def task_state() -> str:
        rows = query(home, "SELECT state FROM task_instance WHERE dag_id=? AND run_id=?", DAG_ID, run_id)
        state = str(rows[0][0]) if rows else "none"
        if not states or states[-1] != state:
            states.append(state)
        return state

    wait_for(lambda: task_state() == "deferred", "the task to defer")
    deferred_at = time.monotonic()
    # While the simulator renders: the task is deferred, and no task instance is running anywhere.
    render = simulator.state.paid_submissions[0]
    samples = 0
    trigger_owners: set[tuple[object, ...]] = set()
    while (task := simulator.state.task(render.task_id)) is not None and not task.is_finished(
        time.monotonic()
    ):
        assert task_state() == "deferred"
        running = query(home, "SELECT count(*) FROM task_instance WHERE state='running'")[0][0]
        assert running == 0, "a worker held a task while the simulator rendered"
        # Which job runs the deferred task's trigger (the row is deleted once the trigger fires).
        trigger_owners |= set(
            query(
                home,
                "SELECT t.classpath, j.job_type FROM task_instance ti JOIN trigger t ON t.id = ti.trigger_id "
                "JOIN job j ON j.id = t.triggerer_id WHERE ti.dag_id = ? AND ti.run_id = ?",
                DAG_ID,
                run_id,
            )
        )
        samples += 1
        time.sleep(0.5)
    assert samples >= 5, "the render must have been observed while deferred"
    wait_for(lambda: task_state() == "success", "the task to succeed after resuming")

    # The trigger was picked up by the triggerer job, and its log was written by the triggerer.
    assert trigger_owners == {("airflow_provider_apimart.triggers.task.ApimartTaskTrigger", "TriggererJob")}
    trigger_logs = list((home / "logs").rglob("*.log.trigger.*.log"))
    assert trigger_logs
    assert "is rendering" in "".join(path.read_text() for path in trigger_logs)
    assert states[-1] == "success"
    assert "deferred" in states
    assert len(simulator.state.requests_to("POST", "/v1/videos/generations")) == 1

    # The stored video's asset event reached the DAG scheduled on the asset, with its outputs.
    received = home / "videos" / "received.json"
    wait_for(received.exists, "the downstream DAG to receive the asset event")
    extra = json.loads(received.read_text())
    (output,) = extra["outputs"]
    assert extra["remote_task_id"] == render.task_id
    assert output["uri"] == (home / "videos" / f"{render.task_id}.mp4").as_uri()
    assert Path(output["uri"].removeprefix("file://")).stat().st_size == output["bytes"]
    print(
        f"\nreal scheduler: states {states}; deferred for {time.monotonic() - deferred_at:.1f} s "
        f"({samples} samples, 0 running task instances); trigger log {trigger_logs[0].name}; "
        f"total {time.monotonic() - started:.1f} s"
    )
