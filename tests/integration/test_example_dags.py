"""Every example DAG imports without errors and runs to success against the simulator (but one that
waits for a person, which its own test runs and answers)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_apimart.testing import ApimartSimulator

EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"
DAG_IDS = sorted(path.stem for path in EXAMPLE_DAGS.glob("example_*.py"))
#: Examples that wait for a person's decision in Airflow's UI: run unanswered they would wait for
#: ever, so each has a test of its own that gives the answers (listed here).
WAIT_FOR_A_PERSON = {"example_apimart_review": "tests/integration/test_review_dag.py"}
RUN_TO_SUCCESS = [dag_id for dag_id in DAG_IDS if dag_id not in WAIT_FOR_A_PERSON]
AIRFLOW = Path(sys.executable).parent / "airflow"


def airflow_env(home: Path, simulator: ApimartSimulator) -> dict[str, str]:
    return {
        **os.environ,
        **simulator.connection_env(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "APIMART_POLL_INTERVAL": "0.3",
        "AIRFLOW__APIMART__FIRST_POLL_DELAY": "0",
        "APIMART_VIDEO_STORE": (home / "videos").as_uri(),
    }


def run(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_there_is_an_example_per_model_and_per_pattern() -> None:
    assert {
        f"example_apimart_{name}" for name in ("wan26_i2v_flash", "wan27", "omni_flash_ext", "kling_v26")
    } < set(DAG_IDS)
    patterns = {"pipeline", "fan_out", "sensor", "local_image", "review"}
    assert {f"example_apimart_{name}" for name in patterns} < set(DAG_IDS)


def test_an_example_that_waits_for_a_person_is_run_by_a_test_of_its_own() -> None:
    for dag_id, test_file in WAIT_FOR_A_PERSON.items():
        assert dag_id in DAG_IDS
        assert f'DAG_ID = "{dag_id}"' in (EXAMPLE_DAGS.parent / test_file).read_text()


@pytest.mark.integration
def test_every_example_dag_runs_to_success_against_the_simulator(
    tmp_path: Path, apimart_simulator: ApimartSimulator
) -> None:
    apimart_simulator.config.render_seconds = 1.0
    env = airflow_env(tmp_path, apimart_simulator)
    run([str(AIRFLOW), "db", "migrate"], env)
    run(
        [str(AIRFLOW), "pools", "set", "apimart", "4", "APIMart renders in flight", "--include-deferred"], env
    )
    assert "No data found" in run([str(AIRFLOW), "dags", "list-import-errors"], env)
    output = run([sys.executable, str(Path(__file__).parent / "run_example_dags.py"), *RUN_TO_SUCCESS], env)
    results = [
        json.loads(line.removeprefix("EXAMPLE RESULT "))
        for line in output.splitlines()
        if line.startswith("EXAMPLE RESULT ")
    ]
    assert {result["dag_id"]: result["state"] for result in results} == dict.fromkeys(
        RUN_TO_SUCCESS, "success"
    )
    # Every paid video is kept by output_path, with its provenance record beside it.
    videos = list((tmp_path / "videos").rglob("*.mp4"))
    assert len(videos) == apimart_simulator.state.paid_count() == 35
    for video in videos:
        assert video.read_bytes()[4:8] == b"ftyp"
        record = json.loads(video.with_suffix(".json").read_text())
        assert record["sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()
    # Two images came from storage: the local-image example's file and the pipeline's last frame.
    assert len(apimart_simulator.state.uploads) == 2
    assert len(list((tmp_path / "videos").rglob("*-last-frame.png"))) == 1
