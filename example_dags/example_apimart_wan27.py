"""wan2.7: every use case of its model page, one task each.

Shows: text-to-video (simplest and full), first frame, first and last frame (as image_urls and as
image_with_roles), video continuation, and an image moved by driving audio.
Costs: 7 paid generations, billed the same for text- and image-to-video.
"""

from __future__ import annotations

from _common import OUTPUT_PATH, POLL_INTERVAL
from airflow.sdk import dag

from airflow_provider_apimart.operators.video import ApimartWan27Operator


# [START howto_wan27_dag]
@dag(
    schedule=None,
    tags=["apimart", "example", "wan2.7"],
    default_args={"poll_interval": POLL_INTERVAL, "output_path": OUTPUT_PATH},
)
def example_apimart_wan27() -> None:
    # [END howto_wan27_dag]
    # [START howto_wan27_text_to_video]
    ApimartWan27Operator(
        task_id="text_to_video", prompt="A coastal road at sunset, slow-motion camera push-in, cinematic feel"
    )
    # [END howto_wan27_text_to_video]
    # [START howto_wan27_text_to_video_full]
    ApimartWan27Operator(
        task_id="text_to_video_full",
        prompt="A cat chasing butterflies on the grass, bright sunshine, slow motion",
        negative_prompt="blurry, distorted, low quality",
        resolution="1080P",
        duration=8,
        size="16:9",
        audio_url="https://cdn.example.com/bgm.mp3",
        prompt_extend=True,
        watermark=False,
        seed=42,
    )
    # [END howto_wan27_text_to_video_full]
    # [START howto_wan27_first_frame]
    ApimartWan27Operator(
        task_id="first_frame",
        prompt="The character slowly stands up and walks toward the camera",
        image_urls=["https://cdn.example.com/person.jpg"],
        resolution="1080P",
        duration=8,
    )
    # [END howto_wan27_first_frame]
    # [START howto_wan27_first_and_last_frame]
    ApimartWan27Operator(
        task_id="first_and_last_frame",
        prompt="The camera pans slowly from the beach to the mountaintop",
        image_urls=["https://cdn.example.com/beach.jpg", "https://cdn.example.com/mountain.jpg"],
        resolution="1080P",
        duration=10,
    )
    # [END howto_wan27_first_and_last_frame]
    # [START howto_wan27_image_with_roles]
    ApimartWan27Operator(
        task_id="image_with_roles",
        prompt="Morning turns into night over the same street",
        image_with_roles=[
            {"url": "https://cdn.example.com/start.jpg", "role": "first_frame"},
            {"url": "https://cdn.example.com/end.jpg", "role": "last_frame"},
        ],
    )
    # [END howto_wan27_image_with_roles]
    # [START howto_wan27_continuation]
    ApimartWan27Operator(
        task_id="continuation",
        prompt="Continue walking forward, camera follows",
        video_urls=["https://cdn.example.com/clip.mp4"],
        resolution="1080P",
        duration=8,
    )
    # [END howto_wan27_continuation]
    # [START howto_wan27_driving_audio]
    ApimartWan27Operator(
        task_id="driving_audio",
        prompt="The character moves to the rhythm of the music",
        image_urls=["https://cdn.example.com/dancer.jpg"],
        audio_url="https://cdn.example.com/beat.mp3",
        resolution="1080P",
        duration=8,
    )
    # [END howto_wan27_driving_audio]


example_apimart_wan27()
