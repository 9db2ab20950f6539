"""Real DAGs, run by Airflow's own dag.test() against the simulator over loopback HTTP."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airflow_provider_apimart.version_compat import AIRFLOW_V_3_3_PLUS

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from airflow_provider_apimart.testing import ApimartSimulator

DAGS_FOLDER = Path(__file__).parent / "dags"


@pytest.fixture(scope="session")
def metadata_db() -> None:
    """dag.test() records runs in Airflow's metadata DB: migrate the tests' throwaway one once."""
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run(  # noqa: S603 - our own venv's airflow, fixed arguments
        [str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy(), timeout=300
    )


def load_dag(dag_id: str) -> DAG:
    dag: DAG = runpy.run_path(str(DAGS_FOLDER / "apimart_test_dags.py"))[dag_id]
    return dag


@pytest.mark.parametrize("where", ["deferred", "on_worker"])
def test_each_model_operator_runs_to_success_and_feeds_a_downstream_task(
    metadata_db: None, apimart_simulator: ApimartSimulator, where: str
) -> None:
    apimart_simulator.config.render_seconds = 0.5
    run = load_dag(f"apimart_models_{where}").test()
    assert run.state == "success"
    paid = apimart_simulator.state.paid_submissions
    assert sorted(p.model for p in paid) == sorted(
        ["wan2.6-i2v-flash", "wan2.7", "Omni-Flash-Ext", "kling-v2-6", "veo3"]
    )
    wan26_body = next(
        r.body
        for r in apimart_simulator.state.requests
        if r.body and r.body.get("model") == "wan2.6-i2v-flash"
    )
    assert wan26_body["duration"] == 6  # rendered from params, sent as a number


@pytest.mark.parametrize("where", ["deferred", "on_worker"])
def test_a_retry_after_submit_reattaches_with_exactly_one_post(
    metadata_db: None, apimart_simulator: ApimartSimulator, where: str
) -> None:
    apimart_simulator.config.render_seconds = 2.0
    run = load_dag(f"apimart_retry_{where}").test()
    assert run.state == "success"
    (ti,) = run.get_task_instances()
    assert ti.try_number > 1, "the operator's timeout must have forced at least one retry"
    posts = apimart_simulator.state.requests_to("POST", "/v1/videos/generations")
    # 3.3+ reattaches from task_state_store; 3.1-3.2 POST again with the same key and get a replay.
    assert len(posts) == (1 if AIRFLOW_V_3_3_PLUS else ti.try_number)
    assert len({post.headers["idempotency-key"] for post in posts}) == 1
    assert apimart_simulator.state.paid_count() == 1


@pytest.mark.parametrize(
    "message",
    [
        "NSFW content detected",
        "Prohibited terms in prompt",
        "Blocked by policy",
        "内容审核未通过,包含敏感信息",
        "不適切なコンテンツが検出されました",
        "유해한 콘텐츠가 감지되었습니다",
    ],
)
def test_a_moderated_render_is_paid_once_whatever_words_refuse_it(
    metadata_db: None, apimart_simulator: ApimartSimulator, message: str
) -> None:
    apimart_simulator.config.render_seconds = 0.2
    apimart_simulator.config.moderation_message = message
    run = load_dag("apimart_moderated").test()
    assert run.state == "failed"
    (ti,) = run.get_task_instances()
    assert ti.try_number == 1, "a refusal no retry can pass must not spend the retries"
    assert apimart_simulator.state.paid_count() == 1
