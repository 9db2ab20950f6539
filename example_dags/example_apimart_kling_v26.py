"""kling-v2-6: every use case of its model page, one task each.

Shows: standard text-to-video, pro mode with a negative prompt, first-frame image-to-video,
first and last frame (pro only), and pro mode with generated audio.
Costs: 5 paid generations; pro (1080P) costs more than std (720P, silent).
"""

from __future__ import annotations

from _common import OUTPUT_PATH, POLL_INTERVAL
from airflow.sdk import dag

from airflow_provider_apimart.operators.video import ApimartKlingV26Operator


# [START howto_kling_dag]
@dag(
    schedule=None,
    tags=["apimart", "example", "kling-v2-6"],
    default_args={"poll_interval": POLL_INTERVAL, "output_path": OUTPUT_PATH},
)
def example_apimart_kling_v26() -> None:
    # [END howto_kling_dag]
    # [START howto_kling_text_to_video_std]
    ApimartKlingV26Operator(
        task_id="text_to_video_std",
        prompt="A golden cat running on a sunlit meadow, slow motion, cinematic quality",
        mode="std",
        duration=5,
        aspect_ratio="16:9",
    )
    # [END howto_kling_text_to_video_std]
    # [START howto_kling_text_to_video_pro]
    ApimartKlingV26Operator(
        task_id="text_to_video_pro",
        prompt=(
            "Tokyo Shibuya crossing at night, neon lights reflected on wet ground, "
            "people walking with umbrellas"
        ),
        negative_prompt="blurry, low quality, distorted",
        mode="pro",
        duration=10,
        aspect_ratio="16:9",
    )
    # [END howto_kling_text_to_video_pro]
    # [START howto_kling_first_frame]
    ApimartKlingV26Operator(
        task_id="first_frame",
        prompt="The person in the frame turns and smiles",
        image_urls=["https://example.com/portrait.jpg"],
        mode="std",
        duration=5,
        aspect_ratio="16:9",
    )
    # [END howto_kling_first_frame]
    # [START howto_kling_first_and_last_frame]
    ApimartKlingV26Operator(
        task_id="first_and_last_frame",
        prompt="City timelapse transitioning from day to night",
        image_urls=["https://example.com/day-city.jpg", "https://example.com/night-city.jpg"],
        mode="pro",
        duration=5,
    )
    # [END howto_kling_first_and_last_frame]
    # [START howto_kling_pro_with_audio]
    ApimartKlingV26Operator(
        task_id="pro_with_audio",
        prompt="Waves crashing against rocks, seagulls circling in the sky, lighthouse in the distance",
        mode="pro",
        duration=10,
        audio=True,
        aspect_ratio="16:9",
    )
    # [END howto_kling_pro_with_audio]


example_apimart_kling_v26()
