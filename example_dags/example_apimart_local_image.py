"""Image-to-video from a file the team already has: a local path or any storage URI.

Shows: ``image_urls`` holding a local file (or ``file://``, ``s3://conn@bucket/key.png`` ...)
instead of a public URL. Before the submit, on the worker, the operator checks the file (it
exists; JPEG, PNG, WebP or GIF by its bytes; within the model's size limit), uploads it with
APIMart's upload endpoint and sends the returned URL; a retry reuses that upload. A missing or
wrong file fails the task before any request, naming ``image_urls[0]``. Costs: 1 paid
generation (uploads are free).
"""

from __future__ import annotations

from pathlib import Path

from _common import OUTPUT_PATH, POLL_INTERVAL
from airflow.sdk import Param, dag

from airflow_provider_apimart.operators.video import ApimartWan26I2VFlashOperator

# [START howto_pattern_local_image]
#: A 320x240 PNG shipped beside the examples; pass any other path or storage URI as ``image``.
LIGHTHOUSE = Path(__file__).parent / "images" / "lighthouse.png"


@dag(
    schedule=None,
    tags=["apimart", "example", "inputs"],
    params={"image": Param(str(LIGHTHOUSE), type="string", description="A local path or storage URI")},
    default_args={"poll_interval": POLL_INTERVAL, "output_path": OUTPUT_PATH},
)
def example_apimart_local_image() -> None:
    ApimartWan26I2VFlashOperator(
        task_id="lighthouse",
        image_urls=["{{ params.image }}"],
        prompt="The lighthouse beam starts sweeping across the sea as dusk falls",
        resolution="720p",
        duration=5,
    )
    # [END howto_pattern_local_image]


example_apimart_local_image()
