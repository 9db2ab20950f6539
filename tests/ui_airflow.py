"""A real Airflow API server with the APIMart plugin, two users and a run of recorded videos.

What the UI tests (HTTP and browser) stand on: a throwaway AIRFLOW_HOME in multi-team mode whose
one DAG bundle belongs to team ``media``; the simple auth manager with ``reviewer`` (viewer, in
team ``media``) and ``outsider`` (viewer, no team: Airflow lets them read no DAG of the bundle);
the showcase DAG run once by ``airflow dags test`` against the simulator; then ``airflow
api-server`` on a free loopback port. Multi-team mode needs Airflow 3.2 or newer: on 3.1 the
bundle has no team, both users read every DAG, and :data:`TEAMS` is False.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from airflow_provider_apimart.version_compat import AIRFLOW_V_3_2_PLUS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_apimart.testing import ApimartSimulator

UI_DAGS = Path(__file__).parent / "integration" / "ui_dags"
SHOWCASE_DAG = "apimart_ui_showcase"
TEAM = "media"
USERS = {"reviewer": "reviewer-password", "outsider": "outsider-password"}
#: The mapped renders of the showcase DAG, each priced by the simulator.
SHOWCASE_PROMPTS = ["A red kite over the dunes", "Rain on a tin roof, close up", "A lighthouse at dawn"]
#: Every generation of the showcase run: three mapped clips, one unstored, one refused.
SHOWCASE_TASKS = [("clips", 0), ("clips", 1), ("clips", 2), ("unstored", -1), ("refused", -1)]
STARTUP_SECONDS = 120
#: Whether the running Airflow can keep a DAG from a user (multi-team mode, Airflow 3.2+).
TEAMS = AIRFLOW_V_3_2_PLUS


@dataclass
class UiAirflow:
    """The running API server, who may sign in, and where the run's files are."""

    home: Path
    base_url: str
    env: dict[str, str]
    outputs: Path
    run_id: str = ""
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, user: str | None) -> httpx.Client:
        """An HTTP client signed in as ``user`` (a bearer token), or anonymous for None."""
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own venv's airflow, fixed arguments
            [str(Path(sys.executable).parent / "airflow"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def summary(self, task_id: str, map_index: int = -1) -> dict[str, Any]:
        """A task's ``apimart_task`` XCom, as Airflow's public REST API returns it."""
        task = f"/api/v2/dags/{SHOWCASE_DAG}/dagRuns/{self.run_id}/taskInstances/{task_id}"
        path = f"{task}/xcomEntries/apimart_task"
        with self.client("reviewer") as client:
            answer = client.get(path, params={"map_index": map_index, "deserialize": True})
        answer.raise_for_status()
        value: Any = answer.json()["value"]
        return value if isinstance(value, dict) else json.loads(value)

    def total_cost(self) -> float:
        """What the showcase run's tasks cost, summed from their XComs."""
        return float(sum(self.summary(task, index).get("cost") or 0 for task, index in SHOWCASE_TASKS))


@pytest.fixture(scope="module")
def ui_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiAirflow]:
    """The world, once per test module (it takes about 30 s to set up)."""
    from airflow_provider_apimart.testing import ApimartSimulator

    with ApimartSimulator() as simulator:
        simulator.config.render_seconds = 0.2
        yield from start(tmp_path_factory.mktemp("ui-airflow"), simulator)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def airflow_env(home: Path, outputs: Path, simulator: ApimartSimulator, port: int) -> dict[str, str]:
    bundles = [
        {
            "name": "media",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(UI_DAGS)},
            **({"team_name": TEAM} if TEAMS else {}),
        }
    ]
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    env.update(simulator.connection_env())
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(UI_DAGS),
            "AIRFLOW__CORE__MULTI_TEAM": str(TEAMS),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": (
                f"reviewer:viewer:{TEAM},outsider:viewer" if TEAMS else "reviewer:viewer,outsider:viewer"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__API_AUTH__JWT_SECRET": "ui-tests-jwt-secret",
            "AIRFLOW__API__SECRET_KEY": "ui-tests-secret-key",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__APIMART__FIRST_POLL_DELAY": "0",
            "APIMART_UI_OUTPUT": str(outputs),
        }
    )
    return env


def start(home: Path, simulator: ApimartSimulator) -> Iterator[UiAirflow]:
    """Set up the world, run the showcase DAG, serve it; stop the server when done."""
    outputs = home / "videos"
    outputs.mkdir(parents=True)
    (home / "passwords.json").write_text(json.dumps(USERS))
    port = free_port()
    world = UiAirflow(home, f"http://127.0.0.1:{port}", airflow_env(home, outputs, simulator, port), outputs)
    steps = [
        ("db", "migrate"),
        *([("teams", "create", TEAM)] if TEAMS else []),
        ("dags", "test", SHOWCASE_DAG),
    ]
    for step in steps:
        done = world.airflow(*step)
        if step[0] == "dags":
            world.run_id = _run_id(done.stdout + done.stderr)
        elif done.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(step)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
    server = subprocess.Popen(  # noqa: S603 - our own venv's airflow, fixed arguments
        [str(Path(sys.executable).parent / "airflow"), "api-server", "--port", str(port)],
        env=world.env,
        stdout=(home / "api-server.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_up(world, server)
        world.tokens = {user: _token(world, user, password) for user, password in USERS.items()}
        yield world
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def _run_id(output: str) -> str:
    marker = "run_id="
    for line in output.splitlines():
        if "DagRun Finished" in line and marker in line:
            return line.split(marker, 1)[1].split(",", 1)[0]
    raise RuntimeError(f"airflow dags test {SHOWCASE_DAG} did not finish a run:\n{output[-4000:]}")


def _wait_until_up(world: UiAirflow, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError((world.home / "api-server.log").read_text()[-4000:])
        try:
            if httpx.get(f"{world.base_url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the API server did not answer within {STARTUP_SECONDS} s")


def _token(world: UiAirflow, user: str, password: str) -> str:
    answer = httpx.post(
        f"{world.base_url}/auth/token", json={"username": user, "password": password}, timeout=30
    )
    answer.raise_for_status()
    token: Any = answer.json()["access_token"]
    return str(token)
