"""The DAGs of the system test (tests/system), copied into the test cluster's DAGs folder.

``apimart_system_load``: ``n`` wan2.7 renders with ``.partial().expand()``, deferrable, in the
``apimart`` pool (which counts deferred tasks), each followed by a mapped ``receive`` that checks
the URLs it was handed. ``apimart_system_single``: one render and its ``receive``, for the crash
scenarios. ``apimart_system_spend_redis`` and ``apimart_system_spend_postgres``: the load's renders
with a ``run_spend_limit`` worth 50 jobs, the ledger shared through a ``redis`` or a ``postgres``
connection. Every prompt starts with the run's ``tag``, so the test can tell the runs' submits
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
#: The spend DAGs' limit and price: 20.00 pays for 50 jobs of 0.40 (the simulator's cost_per_video).
RUN_SPEND_LIMIT = 20.0
SPEND_PRICES = {"wan2.7": 0.4}
#: The spend store of each spend DAG: an Airflow connection (tests/system/cluster.py makes them).
SPEND_STORES = {"redis": "apimart_spend_redis", "postgres": "apimart_spend_postgres"}


@task
def receive(urls: list[str]) -> list[str]:
    """A downstream task: it must be handed its render's video URLs."""
    if not urls or not all(url.startswith("http://127.0.0.1:") and "/media/task_" in url for url in urls):
        raise ValueError(f"expected the simulator's video URLs, got {urls!r}")
    return urls


@task
def prompts() -> list[str]:
    params = get_current_context()["params"]
    return [f"{params['tag']} #{index:03d}: a lighthouse at dusk" for index in range(int(params["n"]))]


with DAG(
    "apimart_system_load",
    schedule=None,
    params={"n": Param(20, type="integer", minimum=1), "tag": Param("load", type="string")},
    max_active_tasks=64,
    default_args=RETRIES,
    tags=["apimart", "system-test"],
):
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


for store, store_conn_id in SPEND_STORES.items():
    with DAG(
        f"apimart_system_spend_{store}",
        schedule=None,
        params={"n": Param(20, type="integer", minimum=1), "tag": Param(f"spend-{store}", type="string")},
        max_active_tasks=64,
        default_args=RETRIES,
        tags=["apimart", "system-test"],
    ):
        # No downstream task: the refused renders fail, and a mapped task that expands over them
        # would be upstream_failed as a whole.
        ApimartWan27Operator.partial(
            task_id="render",
            deferrable=True,
            poll_interval=POLL_INTERVAL,
            pool=POOL,
            run_spend_limit=RUN_SPEND_LIMIT,
            spend_prices=SPEND_PRICES,
            spend_store_conn_id=store_conn_id,
        ).expand(prompt=prompts())
