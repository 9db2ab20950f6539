"""Pipeline: a wan2.7 clip, continued through video_urls, then a kling-v2-6 shot from an image.

The showcase that `make demo` runs. Shows: chaining generations through XCom (the first clip's
URLs feed the continuation's ``video_urls``), templated prompts from DAG params, deferrable
waits that hold no worker slot, keeping the videos before their URLs expire, and a report of
what was generated and what it cost. Costs: 3 paid generations.
"""

from __future__ import annotations

import json

from _common import POLL_INTERVAL, keep_videos
from airflow.sdk import Param, dag, task

from airflow_provider_apimart.operators.video import ApimartKlingV26Operator, ApimartWan27Operator

GENERATORS = ("opening", "continuation", "closing_shot")


@dag(
    schedule=None,
    tags=["apimart", "example", "showcase"],
    params={
        "prompt": Param("A coastal road at sunset, slow camera push-in, cinematic", type="string"),
        "image_url": Param("https://example.com/lighthouse.jpg", type="string"),
    },
    default_args={"poll_interval": POLL_INTERVAL, "deferrable": True},
)
def example_apimart_pipeline() -> None:
    opening = ApimartWan27Operator(
        task_id="opening", prompt="{{ params.prompt }}", duration=5, resolution="720P"
    )
    continuation = ApimartWan27Operator(
        task_id="continuation",
        prompt="Continue along the road as night falls, camera follows",
        video_urls=opening.output,
        duration=5,
        resolution="720P",
    )
    closing_shot = ApimartKlingV26Operator(
        task_id="closing_shot",
        prompt="The lighthouse beam sweeps across the sea",
        image_urls=["{{ params.image_url }}"],
        mode="pro",
        duration=5,
    )

    @task
    def report(ti: object = None) -> dict[str, object]:
        """One line a person (or `make demo`) can read: every video, its cost and expiry."""
        summaries = [ti.xcom_pull(task_ids=task_id, key="apimart_task") for task_id in GENERATORS]  # type: ignore[attr-defined]
        total_cost = sum(summary["cost"] or 0 for summary in summaries)
        result = {"videos": summaries, "total_cost": round(total_cost, 4)}
        print("APIMART DEMO RESULT " + json.dumps(result))
        return result

    kept = [
        keep_videos.override(task_id=f"keep_{op.task_id}")(op.output)
        for op in (opening, continuation, closing_shot)
    ]
    continuation >> closing_shot
    kept >> report()


example_apimart_pipeline()
