"""A first DAG: one wan2.7 clip a day, kept in durable storage, handed to a downstream task.

Shown on the documentation's home and quick-start pages; docs/examples/test_daily_clip.py tests it
against the APIMart simulator (tests/unit/test_docs.py runs that test).
"""

from __future__ import annotations

# [START first_dag]
from airflow.sdk import dag, task

from airflow_provider_apimart.operators.video import ApimartWan27Operator


@dag(schedule="@daily")
def daily_clip() -> None:
    clip = ApimartWan27Operator(
        task_id="clip",
        prompt="A coastal road at sunset, slow camera push-in, cinematic",
        deferrable=True,  # wait in the triggerer: no worker slot while APIMart renders
        # run_after always renders; {{ ds }} is empty for a run triggered without a logical date
        output_path="/data/clips/{{ dag_run.run_after | ds }}",  # or s3://aws_default@my-bucket/clips/...
        retries=2,  # a retry reattaches to the same render: no second charge
    )

    @task
    def publish(stored: list[str]) -> None:
        print(f"Ready to publish: {stored}")  # e.g. ['file:///data/clips/2026-11-21/task_01J....mp4']

    publish(clip.output)


daily_clip()
# [END first_dag]
