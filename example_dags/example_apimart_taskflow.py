"""TaskFlow: ``@task.apimart_video``, where a Python function returns the request.

Shows: a function that builds a wan2.7 request (a dict of API parameters) from its argument and
the run's params, ``.expand()`` over subjects that an upstream task computes, a function that
returns only a prompt string, and a downstream task that receives the stored files. The requests
are checked by their model's rules on the worker, before anything is sent or paid; a retry calls
the function again and, for the same request, reattaches to the same render.
Costs: 3 paid generations (two wan2.7 clips, one kling-v2-6 clip).
"""

from __future__ import annotations

from typing import Any

from _common import OUTPUT_PATH, POLL_INTERVAL
from airflow.sdk import Param, dag, task


@dag(
    schedule=None,
    tags=["apimart", "example", "taskflow"],
    params={
        "style": Param("golden hour, slow dolly-in, cinematic", type="string"),
        "seed": Param(None, type=["null", "integer"], description="Fix the seed to repeat a render"),
    },
)
def example_apimart_taskflow() -> None:
    @task
    def subjects() -> list[str]:
        """Anything Python can compute: a query, a file, a feed. Two subjects here."""
        return ["A lighthouse on a cliff above a stormy sea", "A tram crossing an old stone bridge"]

    # [START howto_taskflow_dict]
    @task.apimart_video(
        model="wan2.7",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        output_path=OUTPUT_PATH,
        retries=2,
    )
    def clip(subject: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The request as the API takes it; a None value (no seed) is left out, like an unset argument."""
        params = params or {}
        return {
            "prompt": f"{subject}, {params['style']}" if params.get("style") else subject,
            "duration": 5,
            "resolution": "720P",
            "size": "16:9",
            "seed": params.get("seed"),
        }

    clips = clip.expand(subject=subjects())
    # [END howto_taskflow_dict]

    # [START howto_taskflow_prompt]
    @task.apimart_video(
        model="kling-v2-6",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        output_path=OUTPUT_PATH,
        retries=2,
    )
    def teaser() -> str:
        """A string is the prompt: the model's defaults apply to everything else."""
        return "A paper plane gliding over a sleeping city at dawn"

    # [END howto_taskflow_prompt]

    # [START howto_taskflow_publish]
    @task
    def publish(clip_files: list[list[str]], teaser_files: list[str]) -> list[str]:
        """Each video task returned its stored files (durable URIs, not expiring URLs)."""
        files = [uri for stored in clip_files for uri in stored] + list(teaser_files)
        print(f"Ready to publish {len(files)} videos: {files}")
        return files

    publish(clips, teaser())  # type: ignore[arg-type]  # XComArgs, resolved at run time
    # [END howto_taskflow_publish]


example_apimart_taskflow()
