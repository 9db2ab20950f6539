"""The run the UI tests look at: three stored renders (mapped), one kept only as its source URL,
and one refused by moderation, all under a run spend limit (the local ledger in AIRFLOW_HOME).
``APIMART_UI_OUTPUT`` is the folder the stored copies go to."""

from __future__ import annotations

import os

from airflow.sdk import DAG

from airflow_provider_apimart.operators.video import ApimartWan27Operator

POLL = 0.1
PROMPTS = ["A red kite over the dunes", "Rain on a tin roof, close up", "A lighthouse at dawn"]

#: Worth 25 jobs: the run stays under it, and the page shows what it spent of it.
SPEND_LIMITS = {"run_spend_limit": 10.0, "spend_prices": {"wan2.7": 0.4}}

with DAG("apimart_ui_showcase", schedule=None, tags=["apimart"], default_args=SPEND_LIMITS) as dag:
    ApimartWan27Operator.partial(
        task_id="clips",
        output_path=os.environ.get("APIMART_UI_OUTPUT", "/tmp/apimart-ui-showcase"),  # noqa: S108 - tests set it
        resolution="720P",
        deferrable=True,
        poll_interval=POLL,
    ).expand(prompt=PROMPTS)
    ApimartWan27Operator(
        task_id="unstored", prompt="A paper boat in a gutter stream", deferrable=True, poll_interval=POLL
    )
    ApimartWan27Operator(
        task_id="refused",
        prompt="A clip APIMart refuses [simulate:moderated]",
        deferrable=True,
        poll_interval=POLL,
    )
