"""Omni-Flash-Ext rules, from the model page with the error table:
https://docs.apimart.ai/en/api-reference/videos/omni-flash-ext/generation
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_apimart.exceptions import ApimartRequestWarning
from airflow_provider_apimart.models import OmniFlashExtRequest
from tests.unit.models.helpers import assert_body_round_trips, assert_rejected

DOCUMENTED_USE_CASES: dict[str, dict[str, Any]] = {
    "scenario 1 text-to-video": {
        "model": "Omni-Flash-Ext",
        "prompt": "a beautiful sunset over the ocean with seagulls flying",
        "duration": 6,
        "resolution": "720p",
        "aspect_ratio": "16:9",
    },
    "scenario 2 single image": {
        "model": "Omni-Flash-Ext",
        "prompt": "make the character smile and slowly turn around, cinematic camera motion",
        "duration": 6,
        "resolution": "1080p",
        "aspect_ratio": "9:16",
        "image_urls": ["https://example.com/character.jpg"],
    },
    "scenario 3 three-image fusion": {
        "model": "Omni-Flash-Ext",
        "prompt": "a creative scene combining these elements with smooth camera motion",
        "duration": 10,
        "resolution": "1080p",
        "aspect_ratio": "9:16",
        "image_urls": [
            "https://example.com/scene.jpg",
            "https://example.com/character.jpg",
            "https://example.com/product.jpg",
        ],
    },
    "scenario 4 4k": {
        "model": "Omni-Flash-Ext",
        "prompt": "close-up of a hummingbird hovering in front of a red flower",
        "duration": 4,
        "resolution": "4k",
        "aspect_ratio": "16:9",
    },
    "reference video (published page)": {
        "model": "Omni-Flash-Ext",
        "prompt": "the character dances like the reference",
        "image_urls": ["https://example.com/character.jpg"],
        "video_urls": ["https://example.com/dance.mp4"],
    },
    "empty image list is text-to-video": {"model": "Omni-Flash-Ext", "prompt": "a", "image_urls": []},
}


@pytest.mark.parametrize("body", DOCUMENTED_USE_CASES.values(), ids=DOCUMENTED_USE_CASES.keys())
def test_documented_use_case_is_sent_exactly(body: dict[str, Any]) -> None:
    assert_body_round_trips(body)


@pytest.mark.parametrize("resolution", ["720P", "1080P", "4K", "4k", "1080p"])
def test_resolution_is_case_insensitive_and_sent_as_written(resolution: str) -> None:
    assert_body_round_trips({"model": "Omni-Flash-Ext", "prompt": "a", "resolution": resolution})


@pytest.mark.parametrize("duration", [4, 6, 8, 10])
def test_each_supported_duration_is_accepted(duration: int) -> None:
    assert_body_round_trips({"model": "Omni-Flash-Ext", "prompt": "a", "duration": duration})


PROMPT = {"model": "Omni-Flash-Ext", "prompt": "a girl dancing"}
IMAGE = "https://example.com/a.jpg"


@pytest.mark.parametrize(
    ("body", "parameter", "fragment"),
    [
        # Each row is a line of the page's error table.
        pytest.param({"model": "Omni-Flash-Ext"}, "prompt", "Field required", id="prompt missing"),
        pytest.param({**PROMPT, "prompt": ""}, "prompt", "at least 1", id="prompt empty"),
        pytest.param({**PROMPT, "duration": 5}, "duration", "4, 6, 8, 10", id="duration 5"),
        pytest.param({**PROMPT, "duration": 7}, "duration", "invalid_duration", id="duration 7"),
        pytest.param({**PROMPT, "resolution": "480p"}, "resolution", "invalid_resolution", id="resolution"),
        pytest.param(
            {**PROMPT, "image_urls": [IMAGE, IMAGE]}, "image_urls", "use 0, 1 or 3", id="two images"
        ),
        # Not in the table, but not documented parameters of this model either.
        pytest.param(
            {**PROMPT, "negative_prompt": "blur"}, "negative_prompt", "not a parameter", id="negative"
        ),
        pytest.param({**PROMPT, "seed": 1}, "seed", "not a parameter", id="seed"),
        pytest.param({**PROMPT, "aspect_ratio": "wide"}, "aspect_ratio", "ratio like", id="ratio shape"),
        pytest.param(
            {**PROMPT, "aspect_ratio": "16:9", "size": "9:16"}, "size", "must match it", id="size contradicts"
        ),
        pytest.param(
            {**PROMPT, "video_urls": ["https://a/1.mp4", "https://a/2.mp4"]},
            "video_urls",
            "at most 1",
            id="2 videos",
        ),
    ],
)
def test_documented_rule_is_enforced(body: dict[str, Any], parameter: str, fragment: str) -> None:
    assert_rejected(body, parameter, fragment)


def test_size_alias_agreeing_with_aspect_ratio_is_accepted() -> None:
    assert_body_round_trips({**PROMPT, "aspect_ratio": "9:16", "size": "9:16"})


def test_four_images_are_sent_with_a_warning() -> None:
    with pytest.warns(ApimartRequestWarning, match="not fully verified"):
        request = OmniFlashExtRequest.validated({"prompt": "a", "image_urls": [IMAGE] * 4})
    assert len(request.to_body()["image_urls"]) == 4


def test_uncommon_aspect_ratio_is_sent_with_a_warning() -> None:
    with pytest.warns(ApimartRequestWarning, match="common values"):
        request = OmniFlashExtRequest.validated({"prompt": "a", "aspect_ratio": "1:1"})
    assert request.to_body()["aspect_ratio"] == "1:1"
