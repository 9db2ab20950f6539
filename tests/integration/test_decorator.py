"""``@task.apimart_video`` in real DAG runs: Airflow's dag.test() against the simulator.

dag.test() only runs a DAG that its DAGs folder also defines, so each test points Airflow's
DAGs folder at a temporary one holding a three-line file that builds the same DAGs from
:func:`taskflow_dags`; the test then runs its own instance of them, whose functions record
their calls.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from airflow import settings
from airflow.sdk import DAG, task

from airflow_provider_apimart.version_compat import AIRFLOW_V_3_3_PLUS
from tests.integration.test_dags import metadata_db  # noqa: F401 - the session's migrated DB

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_apimart.testing import ApimartSimulator

pytestmark = pytest.mark.usefixtures("metadata_db")

POLL = 0.1
PROMPTS = ["a paper boat in the rain", "a kite over the dunes", "a fox in fresh snow"]
#: The file in the DAGs folder (Airflow parses only files that mention "airflow" and "dag").
DAG_FILE = (
    "# Airflow DAGs of tests/integration/test_decorator.py\n"
    "from tests.integration.test_decorator import taskflow_dags\n"
    "globals().update(taskflow_dags())\n"
)


def taskflow_dags(calls: list[str] | None = None, received: list[Any] | None = None) -> dict[str, DAG]:
    """The DAGs under test; their task functions add to ``calls`` and ``received``."""
    calls = [] if calls is None else calls
    received = [] if received is None else received
    dags: dict[str, DAG] = {}

    with DAG("apimart_taskflow_fan_out", schedule=None, params={"store": ""}) as dags["fan_out"]:

        @task.apimart_video(
            model="wan2.7", deferrable=True, poll_interval=POLL, output_path="{{ params.store }}"
        )
        def clip(prompt: str) -> dict[str, Any]:
            calls.append(prompt)
            return {"prompt": prompt, "duration": 5, "resolution": "720P"}

        @task
        def publish(stored: list[list[str]]) -> None:
            received.extend(stored)

        clips: Any = clip.expand(prompt=PROMPTS)  # an XComArg: the list of each task's files
        publish(clips)

    for deferrable in (True, False):
        where = "deferred" if deferrable else "on_worker"
        with DAG(f"apimart_taskflow_retry_{where}", schedule=None) as dags[f"retry_{where}"]:
            # Every try gives up after 0.5 s while the render takes 2 s: each retry calls the
            # function again, gets the same request, and must find the same APIMart task.
            @task.apimart_video(
                model="kling-v2-6",
                deferrable=deferrable,
                timeout=0.5,
                retries=6,
                retry_delay=timedelta(seconds=0),
                poll_interval=POLL,
            )
            def slow_render() -> str:
                calls.append("slow_render")
                return "A long slow render of waves"

            slow_render()

    return {dag.dag_id: dag for dag in dags.values()}


@pytest.fixture
def dags_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "apimart_taskflow_dags.py").write_text(DAG_FILE)
    monkeypatch.setattr(settings, "DAGS_FOLDER", str(folder))
    return folder


def test_expand_over_three_prompts_pays_three_jobs_and_feeds_the_files_downstream(
    dags_folder: Path, apimart_simulator: ApimartSimulator, tmp_path: Path
) -> None:
    apimart_simulator.config.render_seconds = 0.5
    calls: list[str] = []
    received: list[Any] = []
    store = tmp_path / "videos"
    run = taskflow_dags(calls, received)["apimart_taskflow_fan_out"].test(run_conf={"store": str(store)})
    assert run.state == "success"
    assert sorted(calls) == sorted(PROMPTS)  # once each: a resumed task does not call it again
    paid = apimart_simulator.state.paid_submissions
    assert len(paid) == apimart_simulator.state.paid_count() == 3
    bodies = [post.body for post in apimart_simulator.state.requests_to("POST", "/v1/videos/generations")]
    assert sorted(bodies, key=str) == sorted(
        ({"model": "wan2.7", "prompt": prompt, "duration": 5, "resolution": "720P"} for prompt in PROMPTS),
        key=str,
    )
    # The downstream task got each mapped task's stored files, in map order.
    assert len(received) == 3
    for stored, prompt in zip(received, PROMPTS, strict=True):
        (uri,) = stored
        video = store / uri.rsplit("/", 1)[-1]
        assert uri == video.as_uri()
        assert video.read_bytes()[4:8] == b"ftyp"
        # The record written after the deferral holds the request the function returned. dag.test()
        # drops a deferral's kwargs (apache/airflow#69942): only 3.3's state store keeps it here.
        record = json.loads(video.with_suffix(".json").read_text())
        if AIRFLOW_V_3_3_PLUS:
            assert record["request"]["prompt"] == prompt


@pytest.mark.parametrize("where", ["deferred", "on_worker"])
def test_a_forced_retry_calls_the_function_again_and_pays_once(
    dags_folder: Path, apimart_simulator: ApimartSimulator, where: str
) -> None:
    apimart_simulator.config.render_seconds = 2.0
    calls: list[str] = []
    run = taskflow_dags(calls)[f"apimart_taskflow_retry_{where}"].test()
    assert run.state == "success"
    (ti,) = run.get_task_instances()
    assert ti.try_number > 1, "the timeout must have forced at least one retry"
    assert len(calls) == ti.try_number  # once per try, never when a deferred try resumes
    posts = apimart_simulator.state.requests_to("POST", "/v1/videos/generations")
    # 3.3+ reattaches from task_state_store; 3.1-3.2 POST again with the same key and get a replay.
    assert len(posts) == (1 if AIRFLOW_V_3_3_PLUS else ti.try_number)
    assert apimart_simulator.state.paid_count() == 1
