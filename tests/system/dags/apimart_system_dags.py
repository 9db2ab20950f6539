"""The DAGs of the system test (tests/system), copied into the test cluster's DAGs folder.

``apimart_system_load``: ``n`` wan2.7 renders with ``.partial().expand()``, deferrable, in the
``apimart`` pool (which counts deferred tasks), each followed by a mapped ``receive`` that checks
the URLs it was handed. ``apimart_system_single``: one render and its ``receive``, for the crash
scenarios. Every prompt starts with the run's ``tag``, so the test can tell the runs' submits
apart in the simulator's records.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, get_current_context, task

from airflow_provider_apimart.operators.video import ApimartWan27Operator

POOL = "apimart"
POLL_INTERVAL = 2
#: A retry reattaches to the same render and costs nothing (README: "Retries, clears ...").
RETRIES: dict[str, Any] = {"retries": 3, "retry_delay": timedelta(seconds=5)}


@task
def receive(urls: list[str]) -> list[str]:
    """A downstream task: it must be handed its render's video URLs."""
    if not urls or not all(url.startswith("http://127.0.0.1:") and "/media/task_" in url for url in urls):
        raise ValueError(f"expected the simulator's video URLs, got {urls!r}")
    return urls


with DAG(
    "apimart_system_load",
    schedule=None,
    params={"n": Param(20, type="integer", minimum=1), "tag": Param("load", type="string")},
    max_active_tasks=64,
    default_args=RETRIES,
    tags=["apimart", "system-test"],
):

    @task
    def prompts() -> list[str]:
        params = get_current_context()["params"]
        return [f"{params['tag']} #{index:03d}: a lighthouse at dusk" for index in range(int(params["n"]))]

    renders = ApimartWan27Operator.partial(
        task_id="render",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        pool=POOL,
    ).expand(prompt=prompts())
    receive.expand(urls=renders.output)


with DAG(
    "apimart_system_single",
    schedule=None,
    params={"prompt": Param("single: a lighthouse at dusk", type="string")},
    default_args=RETRIES,
    tags=["apimart", "system-test"],
):
    render = ApimartWan27Operator(
        task_id="render",
        prompt="{{ params.prompt }}",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        pool=POOL,
    )
    receive(render.output)  # type: ignore[arg-type]  # an XComArg: the URLs, at run time
