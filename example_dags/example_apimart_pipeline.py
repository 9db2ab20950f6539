"""Pipeline: a wan2.7 clip, continued from its own video, then a kling-v2-6 shot from its last frame.

The showcase that `make demo` runs. Shows: chaining generations (the continuation takes the
first clip's video URL from its ``apimart_task`` XCom; the closing shot starts from the last
frame of the continuation, taken from the stored file and uploaded by the operator), templated
prompts from DAG params, deferrable waits that hold no worker slot, durable files in
``output_path``, and a report of what was made and what the run cost. Costs: 3 paid generations.

Taking a frame needs PyAV, which bundles its own FFmpeg (no system ffmpeg):
``pip install "airflow-provider-apimart[frames]"``. Without it, or with ``params.image`` set,
the closing shot starts from that image instead.
"""

from __future__ import annotations

import json
from pathlib import Path

from _common import OUTPUT_PATH, POLL_INTERVAL
from airflow.sdk import ObjectStoragePath, Param, dag, task

from airflow_provider_apimart.operators.video import ApimartKlingV26Operator, ApimartWan27Operator

GENERATORS = ("opening", "continuation", "closing_shot")
#: Used when PyAV is not installed (and no ``params.image`` is given).
FALLBACK_IMAGE = Path(__file__).parent / "images" / "lighthouse.png"


# [START howto_pattern_pipeline_clips]
@dag(
    schedule=None,
    tags=["apimart", "example", "showcase"],
    params={
        "prompt": Param("A coastal road at sunset, slow camera push-in, cinematic", type="string"),
        "image": Param("", type="string", description="Start the closing shot from this image instead"),
    },
    default_args={"poll_interval": POLL_INTERVAL, "deferrable": True, "output_path": OUTPUT_PATH},
)
def example_apimart_pipeline() -> None:
    opening = ApimartWan27Operator(
        task_id="opening", prompt="{{ params.prompt }}", duration=5, resolution="720P"
    )
    continuation = ApimartWan27Operator(
        task_id="continuation",
        prompt="Continue along the road as night falls, camera follows",
        # The API continues a public URL, so take the source URL, not the stored file.
        video_urls="{{ ti.xcom_pull(task_ids='opening', key='apimart_task')['video_urls'] }}",
        duration=5,
        resolution="720P",
    )
    # [END howto_pattern_pipeline_clips]

    # [START howto_pattern_pipeline_last_frame]
    @task
    def last_frame(stored: list[str], params: dict[str, str] | None = None) -> str:
        """The last frame of the stored clip, as a PNG beside it (a storage URI the next task uploads)."""
        if params and params.get("image"):
            return params["image"]
        try:
            import av
        except ImportError:
            print(f"PyAV is not installed ([frames] extra): starting from {FALLBACK_IMAGE} instead.")
            return str(FALLBACK_IMAGE)
        clip = ObjectStoragePath(stored[0])
        with clip.open("rb") as video, av.open(video) as container:
            frame = None
            for frame in container.decode(video=0):  # noqa: B007 - the last one is kept
                pass
        if frame is None:
            raise ValueError(f"{clip} has no video frame")
        encoder = av.CodecContext.create("png", "w")
        encoder.width, encoder.height, encoder.pix_fmt = frame.width, frame.height, "rgb24"
        png = b"".join(bytes(packet) for packet in encoder.encode(frame.reformat(format="rgb24")))
        target = clip.parent / f"{clip.stem}-last-frame.png"
        target.write_bytes(png)
        return str(target)

    closing_shot = ApimartKlingV26Operator(
        task_id="closing_shot",
        prompt="From this frame, the camera rises over the road to reveal the sea at night",
        image_urls=[last_frame(continuation.output)],
        mode="pro",
        duration=5,
    )
    # [END howto_pattern_pipeline_last_frame]

    # [START howto_pattern_pipeline_report]
    @task
    def report(ti: object = None) -> dict[str, object]:
        """One line a person (or `make demo`) can read: every video, where it is kept, the total cost."""
        summaries = [ti.xcom_pull(task_ids=task_id, key="apimart_task") for task_id in GENERATORS]  # type: ignore[attr-defined]
        total_cost = sum(summary["cost"] or 0 for summary in summaries)
        result = {"videos": summaries, "total_cost": round(total_cost, 4)}
        print("APIMART DEMO RESULT " + json.dumps(result))
        return result

    opening >> continuation
    closing_shot >> report()
    # [END howto_pattern_pipeline_report]


example_apimart_pipeline()
