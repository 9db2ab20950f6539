"""Omni-Flash-Ext: every scenario of its model page, one task each.

Shows: text-to-video, a single-image video, 3-reference-image fusion, and a 4k clip.
Costs: 4 paid generations (4k and longer durations cost more). A 2-image request never leaves
the DAG: the operator refuses it at parse time, as the API would with unsupported_image_count.
"""

from __future__ import annotations

from _common import OUTPUT_PATH, POLL_INTERVAL
from airflow.sdk import dag

from airflow_provider_apimart.operators.video import ApimartOmniFlashExtOperator


# [START howto_omni_dag]
@dag(
    schedule=None,
    tags=["apimart", "example", "Omni-Flash-Ext"],
    default_args={"poll_interval": POLL_INTERVAL, "output_path": OUTPUT_PATH},
)
def example_apimart_omni_flash_ext() -> None:
    # [END howto_omni_dag]
    # [START howto_omni_text_to_video]
    ApimartOmniFlashExtOperator(
        task_id="text_to_video",
        prompt="a beautiful sunset over the ocean with seagulls flying",
        duration=6,
        resolution="720p",
        aspect_ratio="16:9",
    )
    # [END howto_omni_text_to_video]
    # [START howto_omni_single_image]
    ApimartOmniFlashExtOperator(
        task_id="single_image",
        prompt="make the character smile and slowly turn around, cinematic camera motion",
        duration=6,
        resolution="1080p",
        aspect_ratio="9:16",
        image_urls=["https://example.com/character.jpg"],
    )
    # [END howto_omni_single_image]
    # [START howto_omni_three_image_fusion]
    ApimartOmniFlashExtOperator(
        task_id="three_image_fusion",
        prompt="a creative scene combining these elements with smooth camera motion",
        duration=10,
        resolution="1080p",
        aspect_ratio="9:16",
        image_urls=[
            "https://example.com/scene.jpg",
            "https://example.com/character.jpg",
            "https://example.com/product.jpg",
        ],
    )
    # [END howto_omni_three_image_fusion]
    # [START howto_omni_four_k]
    ApimartOmniFlashExtOperator(
        task_id="four_k",
        prompt="close-up of a hummingbird hovering in front of a red flower",
        duration=4,
        resolution="4k",
        aspect_ratio="16:9",
    )
    # [END howto_omni_four_k]


example_apimart_omni_flash_ext()
