"""DAGs the integration tests run against the simulator (not examples: see example_dags/)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from airflow.sdk import DAG, task

from airflow_provider_apimart.operators.video import (
    ApimartKlingV26Operator,
    ApimartOmniFlashExtOperator,
    ApimartVideoGenerationOperator,
    ApimartWan26I2VFlashOperator,
    ApimartWan27Operator,
)

POLL = 0.1

for deferrable in (True, False):
    with DAG(f"apimart_models_{'deferred' if deferrable else 'on_worker'}", schedule=None) as dag:
        outputs: list[Any] = [
            ApimartWan26I2VFlashOperator(
                task_id="wan26",
                image_urls=["https://example.com/portrait.jpg"],
                prompt="The person turns around and smiles",
                duration="{{ params.duration }}",
                deferrable=deferrable,
                poll_interval=POLL,
            ).output,
            ApimartWan27Operator(
                task_id="wan27", prompt="A coastal road at sunset", deferrable=deferrable, poll_interval=POLL
            ).output,
            ApimartOmniFlashExtOperator(
                task_id="omni",
                prompt="a hummingbird",
                duration=4,
                resolution="4k",
                deferrable=deferrable,
                poll_interval=POLL,
            ).output,
            ApimartKlingV26Operator(
                task_id="kling",
                prompt="Waves crashing",
                mode="pro",
                audio=True,
                deferrable=deferrable,
                poll_interval=POLL,
            ).output,
            ApimartVideoGenerationOperator(
                task_id="generic",
                model="veo3",
                body={"prompt": "a fox"},
                deferrable=deferrable,
                poll_interval=POLL,
            ).output,
        ]
        dag.params["duration"] = 6

        @task
        def collect(*video_url_lists: list[str]) -> list[str]:
            urls = [url for urls in video_url_lists for url in urls]
            assert len(urls) == 5, urls
            assert all(urlsplit(url).path.endswith(".mp4") for url in urls), urls
            return urls

        collect(*outputs)

    globals()[dag.dag_id] = dag


for deferrable in (True, False):
    with DAG(f"apimart_retry_{'deferred' if deferrable else 'on_worker'}", schedule=None) as retry_dag:
        # Every try gives up after 0.5 s while the render takes longer: each retry must find the
        # same APIMart task again instead of paying for a new one.
        ApimartWan27Operator(
            task_id="slow_render",
            prompt="A long slow render",
            deferrable=deferrable,
            timeout=0.5,
            retries=6,
            retry_delay=timedelta(seconds=0),
            poll_interval=POLL,
        )
    globals()[retry_dag.dag_id] = retry_dag


with DAG("apimart_moderated", schedule=None) as moderated_dag:
    # A moderated render must fail for good: each retry would submit, and pay for, a new job.
    ApimartWan27Operator(
        task_id="refused",
        prompt="A clip APIMart refuses [simulate:moderated]",
        deferrable=True,
        retries=3,
        retry_delay=timedelta(seconds=0),
        poll_interval=POLL,
    )
globals()[moderated_dag.dag_id] = moderated_dag
