"""wan2.6-i2v-flash: every use case of its model page, one task each.

Shows: the minimal request, full parameters (multi-shot), a custom soundtrack, a silent video,
an effect template, and a base64 image. Costs: 6 paid generations (1080p costs more than 720p).
"""

from __future__ import annotations

from _common import OUTPUT_PATH, POLL_INTERVAL
from airflow.sdk import dag

from airflow_provider_apimart.operators.video import ApimartWan26I2VFlashOperator

IMAGE = "https://example.com/image.jpg"
#: A 1x1 PNG, inline as the page's base64 case shows.
TINY_PNG = "data:image/png;base64," + (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


# [START howto_wan26_dag]
@dag(
    schedule=None,
    tags=["apimart", "example", "wan2.6-i2v-flash"],
    default_args={"poll_interval": POLL_INTERVAL, "output_path": OUTPUT_PATH},
)
def example_apimart_wan26_i2v_flash() -> None:
    # [END howto_wan26_dag]
    # [START howto_wan26_minimal]
    ApimartWan26I2VFlashOperator(task_id="minimal", image_urls=[IMAGE])
    # [END howto_wan26_minimal]
    # [START howto_wan26_full_parameters]
    ApimartWan26I2VFlashOperator(
        task_id="full_parameters",
        prompt="The person in the image smiles and waves, camera slowly zooms in",
        image_urls=[IMAGE],
        negative_prompt="blurry, low quality, distorted",
        resolution="1080p",
        duration=10,
        seed=12345,
        prompt_extend=True,
        shot_type="multi",
        audio=True,
        watermark=False,
    )
    # [END howto_wan26_full_parameters]
    # [START howto_wan26_custom_audio]
    ApimartWan26I2VFlashOperator(
        task_id="custom_audio",
        prompt="Person dancing to the music",
        image_urls=["https://example.com/dancer.jpg"],
        audio_url="https://example.com/music.mp3",
        resolution="1080p",
        duration=10,
    )
    # [END howto_wan26_custom_audio]
    # [START howto_wan26_silent]
    ApimartWan26I2VFlashOperator(
        task_id="silent",
        prompt="Flower slowly blooming",
        image_urls=["https://example.com/flower.jpg"],
        audio=False,
        resolution="720p",
        duration=5,
    )
    # [END howto_wan26_silent]
    # [START howto_wan26_effect_template]
    ApimartWan26I2VFlashOperator(
        task_id="effect_template",
        image_urls=["https://example.com/person.jpg"],
        template="flying",
        resolution="720p",
    )
    # [END howto_wan26_effect_template]
    # [START howto_wan26_base64_image]
    ApimartWan26I2VFlashOperator(
        task_id="base64_image", prompt="Make the cat stand up and walk", image_urls=[TINY_PNG], duration=5
    )
    # [END howto_wan26_base64_image]


example_apimart_wan26_i2v_flash()
