"""Fan-out: one kling-v2-6 video per prompt with .partial().expand(), throttled by a pool.

Shows: dynamic task mapping over a list of prompts, a pool that counts deferred tasks so at
most N renders are in flight at APIMart (create it once:
``airflow pools set apimart 4 "APIMart renders in flight" --include-deferred``), one stored
video file per prompt in ``output_path``, and a mapped downstream task over the stored files.
Costs: one paid generation per prompt (5 here, std mode).
"""

from __future__ import annotations

from _common import OUTPUT_PATH, POLL_INTERVAL
from airflow.sdk import dag, task

from airflow_provider_apimart.operators.video import ApimartKlingV26Operator

PROMPTS = [
    "A paper boat drifting down a rainy street gutter",
    "A hot-air balloon rising over misty hills at dawn",
    "A fox trotting through fresh snow, low camera",
    "Neon signs flickering on in a quiet alley at dusk",
    "A kettle coming to the boil, steam curling up, macro shot",
]


@dag(schedule=None, tags=["apimart", "example", "fan-out"])
def example_apimart_fan_out() -> None:
    # [START howto_pattern_fan_out]
    clips = ApimartKlingV26Operator.partial(
        task_id="clip",
        mode="std",
        duration=5,
        aspect_ratio="9:16",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        pool="apimart",
        output_path=OUTPUT_PATH,
    ).expand(prompt=PROMPTS)
    # [END howto_pattern_fan_out]

    # [START howto_pattern_fan_out_publish]
    @task
    def publish(stored: list[str]) -> str:
        """Each mapped task returned its stored files (durable URIs, not expiring URLs)."""
        print(f"Ready to publish: {stored}")
        return stored[0]

    publish.expand(stored=clips.output)
    # [END howto_pattern_fan_out_publish]


example_apimart_fan_out()
