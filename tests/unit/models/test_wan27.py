"""wan2.7 rules, from https://docs.apimart.ai/en/api-reference/videos/wan2.7/generation."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_apimart.exceptions import ApimartRequestWarning
from airflow_provider_apimart.models import Wan27Request
from tests.unit.models.helpers import assert_body_round_trips, assert_rejected

DOCUMENTED_USE_CASES: dict[str, dict[str, Any]] = {
    "case 1 text-to-video": {
        "model": "wan2.7",
        "prompt": "A coastal road at sunset, slow-motion camera push-in, cinematic feel",
    },
    "case 2 text-to-video full": {
        "model": "wan2.7",
        "prompt": "A cat chasing butterflies on the grass, bright sunshine, slow motion",
        "negative_prompt": "blurry, distorted, low quality",
        "resolution": "1080P",
        "duration": 8,
        "size": "16:9",
        "audio_url": "https://cdn.example.com/bgm.mp3",
        "prompt_extend": True,
        "watermark": False,
        "seed": 42,
    },
    "case 3 first frame": {
        "model": "wan2.7",
        "prompt": "The character slowly stands up and walks toward the camera",
        "image_urls": ["https://cdn.example.com/person.jpg"],
        "resolution": "1080P",
        "duration": 8,
    },
    "case 4 first and last frame": {
        "model": "wan2.7",
        "prompt": "The camera pans slowly from the beach to the mountaintop",
        "image_urls": ["https://cdn.example.com/beach.jpg", "https://cdn.example.com/mountain.jpg"],
        "resolution": "1080P",
        "duration": 10,
    },
    "case 5 continuation": {
        "model": "wan2.7",
        "prompt": "Continue walking forward, camera follows",
        "video_urls": ["https://cdn.example.com/clip.mp4"],
        "resolution": "1080P",
        "duration": 8,
    },
    "case 6 image and driving audio": {
        "model": "wan2.7",
        "prompt": "The character moves to the rhythm of the music",
        "image_urls": ["https://cdn.example.com/dancer.jpg"],
        "audio_url": "https://cdn.example.com/beat.mp3",
        "resolution": "1080P",
        "duration": 8,
    },
    "image_with_roles example": {
        "model": "wan2.7",
        "image_with_roles": [
            {"url": "https://cdn.example.com/start.jpg", "role": "first_frame"},
            {"url": "https://cdn.example.com/end.jpg", "role": "last_frame"},
        ],
    },
}


@pytest.mark.parametrize("body", DOCUMENTED_USE_CASES.values(), ids=DOCUMENTED_USE_CASES.keys())
def test_documented_use_case_is_sent_exactly(body: dict[str, Any]) -> None:
    assert_body_round_trips(body)


def test_role_left_unset_is_not_sent() -> None:
    body = {"model": "wan2.7", "image_with_roles": [{"url": "https://cdn.example.com/start.jpg"}]}
    assert_body_round_trips(body)


PROMPT = {"model": "wan2.7", "prompt": "a cat"}


@pytest.mark.parametrize(
    ("body", "parameter", "fragment"),
    [
        pytest.param(
            {"model": "wan2.7"}, "prompt", "required for text-to-video", id="text-to-video without prompt"
        ),
        pytest.param(
            {"model": "wan2.7", "prompt": ""}, "prompt", "required for text-to-video", id="empty prompt"
        ),
        pytest.param(
            {"model": "wan2.7", "image_urls": []},
            "prompt",
            "required for text-to-video",
            id="empty image list",
        ),
        pytest.param({**PROMPT, "prompt": "x" * 5001}, "prompt", "at most 5000", id="prompt too long"),
        pytest.param(
            {**PROMPT, "image_urls": ["https://a/1.jpg"], "image_with_roles": [{"url": "https://a/2.jpg"}]},
            "image_with_roles",
            "cannot be combined with image_urls",
            id="both image inputs",
        ),
        pytest.param(
            {**PROMPT, "image_with_roles": [{"url": "https://a/1.jpg", "role": "middle_frame"}]},
            "image_with_roles.0.role",
            "'first_frame' or 'last_frame'",
            id="unknown role",
        ),
        pytest.param(
            {**PROMPT, "image_with_roles": [{"url": "https://a/1.jpg", "weight": 1}]},
            "image_with_roles.0.weight",
            "not a parameter",
            id="unknown role field",
        ),
        pytest.param(
            {**PROMPT, "resolution": "4K"}, "resolution", "'720P' or '1080P'", id="resolution value"
        ),
        pytest.param(
            {**PROMPT, "resolution": "720p"}, "resolution", "'720P' or '1080P'", id="resolution case"
        ),
        pytest.param({**PROMPT, "duration": 1}, "duration", "greater than or equal to 2", id="duration low"),
        pytest.param({**PROMPT, "duration": 16}, "duration", "less than or equal to 15", id="duration high"),
        pytest.param({**PROMPT, "size": "21:9"}, "size", "'16:9'", id="size"),
        pytest.param(
            {**PROMPT, "negative_prompt": "x" * 501}, "negative_prompt", "at most 500", id="negative"
        ),
        pytest.param({**PROMPT, "seed": -5}, "seed", "greater than or equal to 0", id="seed"),
        pytest.param(
            {**PROMPT, "video_urls": ["https://a/clip.mp4"], "audio_url": "https://a/x.mp3"},
            "audio_url",
            "cannot be combined with video_urls",
            id="continuation with audio",
        ),
        pytest.param(
            {**PROMPT, "video_urls": ["data:video/mp4;base64,AA"]}, "video_urls.0", "http", id="video url"
        ),
        pytest.param({**PROMPT, "audio": False}, "audio", "not a parameter", id="no audio flag on wan2.7"),
    ],
)
def test_documented_rule_is_enforced(body: dict[str, Any], parameter: str, fragment: str) -> None:
    assert_rejected(body, parameter, fragment)


def test_image_to_video_needs_no_prompt() -> None:
    assert_body_round_trips({"model": "wan2.7", "image_urls": ["https://a/1.jpg"]})


def test_continuation_needs_no_prompt() -> None:
    assert_body_round_trips({"model": "wan2.7", "video_urls": ["https://a/clip.mp4"]})


def test_prompt_of_exactly_5000_characters_is_accepted() -> None:
    assert_body_round_trips({"model": "wan2.7", "prompt": "x" * 5000})


def test_more_than_two_images_is_left_to_the_api() -> None:
    # The page documents 1 and 2 images and is silent on more: permissive.
    assert_body_round_trips(
        {"model": "wan2.7", "image_urls": ["https://a/1.jpg", "https://a/2.jpg", "https://a/3.jpg"]}
    )


def test_size_in_image_to_video_is_sent_with_a_warning() -> None:
    with pytest.warns(ApimartRequestWarning, match="ignored in image-to-video"):
        request = Wan27Request.validated({"image_urls": ["https://a/1.jpg"], "size": "9:16"})
    assert request.to_body()["size"] == "9:16"


def test_mode_follows_the_inputs() -> None:
    assert Wan27Request.validated({"prompt": "a"}).is_text_to_video
    assert not Wan27Request.validated({"video_urls": ["https://a/c.mp4"]}).is_text_to_video
