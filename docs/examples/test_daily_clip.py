"""Test daily_clip.py against the APIMart simulator: no key, no internet, no cost.

Runs with ``pytest docs/examples`` once Airflow's metadata database exists (``airflow db migrate``);
tests/unit/test_docs.py runs it so that the documentation's testing page stays true.
"""

from __future__ import annotations

# [START simulator_test]
from typing import TYPE_CHECKING

from daily_clip import daily_clip

from airflow_provider_apimart.testing import Outcome

if TYPE_CHECKING:
    from pathlib import Path

    from airflow.sdk import DAG

    from airflow_provider_apimart.testing import ApimartSimulator


def dag_for_tests(tmp_path: Path) -> DAG:
    """The DAG as deployed, storing into a temporary folder and polling the fast simulator often."""
    dag = daily_clip()
    clip = dag.get_task("clip")
    clip.output_path = str(tmp_path / "clips")  # type: ignore[attr-defined]
    clip.poll_interval = 0.2  # type: ignore[attr-defined]
    return dag


def test_the_clip_is_paid_once_and_kept(apimart_simulator: ApimartSimulator, tmp_path: Path) -> None:
    run = dag_for_tests(tmp_path).test()

    assert run.state == "success"
    assert apimart_simulator.state.paid_count() == 1  # one job, one charge
    (video,) = (tmp_path / "clips").rglob("*.mp4")  # kept, with its provenance record beside it
    assert video.with_suffix(".json").exists()


def test_a_moderated_prompt_fails_without_spending_retries(
    apimart_simulator: ApimartSimulator, tmp_path: Path
) -> None:
    apimart_simulator.config.default_outcome = Outcome.MODERATED

    run = dag_for_tests(tmp_path).test()

    assert run.state == "failed"
    (clip,) = [ti for ti in run.get_task_instances() if ti.task_id == "clip"]
    assert clip.try_number == 1  # ApimartTaskRejectedError is permanent: retries=2 is not used
    assert apimart_simulator.state.paid_count() == 1  # the failed render was refunded


# [END simulator_test]


def test_the_deployed_output_path_renders_for_a_run_without_a_logical_date(
    apimart_simulator: ApimartSimulator, tmp_path: Path
) -> None:
    # A run triggered from the CLI or the REST API without a logical date (Airflow 3): the
    # deployed template, only its root moved to a temporary folder, must still render.
    dag = daily_clip()
    clip = dag.get_task("clip")
    clip.output_path = clip.output_path.replace("/data/clips", str(tmp_path / "clips"))  # type: ignore[attr-defined]
    clip.poll_interval = 0.2  # type: ignore[attr-defined]

    run = dag.test(logical_date=None)

    assert run.state == "success"
    assert run.logical_date is None
    (video,) = (tmp_path / "clips").rglob("*.mp4")
    assert video.parent.name == run.run_after.strftime("%Y-%m-%d")
