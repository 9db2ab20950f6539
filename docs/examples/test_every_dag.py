"""Every DAG in the DAGs folder runs to success against the APIMart simulator.

A sweep a DAG repository can keep beside its focused tests (docs: "Test your DAGs offline").
"""

from __future__ import annotations

# [START simulator_every_dag]
import runpy
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_apimart.testing import ApimartSimulator

DAG_FILES = sorted((Path(__file__).parent / "dags").glob("*.py"))


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.stem)
def test_the_dag_runs_to_success(path: Path, apimart_simulator: ApimartSimulator, tmp_path: Path) -> None:
    dag = runpy.run_path(str(path))[path.stem]()  # each file's @dag function is named as its file
    for task in dag.tasks:
        if getattr(task, "output_path", None):
            task.output_path = str(tmp_path / task.task_id)  # type: ignore[attr-defined]
        if hasattr(task, "poll_interval"):
            task.poll_interval = 0.2  # type: ignore[attr-defined]

    run = dag.test()

    assert run.state == "success"
    assert apimart_simulator.state.paid_count() >= 1


# [END simulator_every_dag]
