"""kling-v2-6 rules, judged with mode's default (std) in mind:
https://docs.apimart.ai/en/api-reference/videos/kling-v2-6/generation
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.models.helpers import assert_body_round_trips, assert_rejected

DOCUMENTED_USE_CASES: dict[str, dict[str, Any]] = {
    "case 1 text-to-video std": {
        "model": "kling-v2-6",
        "prompt": "A golden cat running on a sunlit meadow, slow motion, cinematic quality",
        "mode": "std",
        "duration": 5,
        "aspect_ratio": "16:9",
    },
    "case 2 pro with negative prompt": {
        "model": "kling-v2-6",
        "prompt": (
            "Tokyo Shibuya crossing at night, neon lights reflected on wet ground, "
            "people walking with umbrellas"
        ),
        "negative_prompt": "blurry, low quality, distorted",
        "mode": "pro",
        "duration": 10,
        "aspect_ratio": "16:9",
    },
    "case 3 first frame": {
        "model": "kling-v2-6",
        "prompt": "The person in the frame turns and smiles",
        "image_urls": ["https://example.com/portrait.jpg"],
        "mode": "std",
        "duration": 5,
        "aspect_ratio": "16:9",
    },
    "case 4 first and last frame": {
        "model": "kling-v2-6",
        "prompt": "City timelapse transitioning from day to night",
        "image_urls": ["https://example.com/day-city.jpg", "https://example.com/night-city.jpg"],
        "mode": "pro",
        "duration": 5,
    },
    "case 5 pro with audio": {
        "model": "kling-v2-6",
        "prompt": "Waves crashing against rocks, seagulls circling in the sky, lighthouse in the distance",
        "mode": "pro",
        "duration": 10,
        "audio": True,
        "aspect_ratio": "16:9",
    },
}


@pytest.mark.parametrize("body", DOCUMENTED_USE_CASES.values(), ids=DOCUMENTED_USE_CASES.keys())
def test_documented_use_case_is_sent_exactly(body: dict[str, Any]) -> None:
    assert_body_round_trips(body)


PROMPT = {"model": "kling-v2-6", "prompt": "waves"}
TWO_IMAGES = ["https://example.com/first.jpg", "https://example.com/last.jpg"]


@pytest.mark.parametrize(
    ("body", "parameter", "fragment"),
    [
        pytest.param({"model": "kling-v2-6"}, "prompt", "Field required", id="prompt missing"),
        pytest.param(
            {"model": "kling-v2-6", "image_urls": ["https://a/1.jpg"]},
            "prompt",
            "Field required",
            id="i2v no prompt",
        ),
        pytest.param({**PROMPT, "prompt": "x" * 2501}, "prompt", "at most 2500", id="prompt too long"),
        pytest.param({**PROMPT, "duration": 8}, "duration", "5, 10", id="duration"),
        pytest.param({**PROMPT, "mode": "turbo"}, "mode", "'std' or 'pro'", id="mode value"),
        pytest.param(
            {**PROMPT, "aspect_ratio": "4:3"}, "aspect_ratio", "'16:9', '9:16' or '1:1'", id="ratio"
        ),
        pytest.param(
            {**PROMPT, "image_urls": [*TWO_IMAGES, "https://a/3.jpg"], "mode": "pro"},
            "image_urls",
            "at most 2",
            id="three images",
        ),
        pytest.param(
            {**PROMPT, "image_urls": TWO_IMAGES},
            "mode",
            "mode is 'std' by default",
            id="last frame, mode unset",
        ),
        pytest.param(
            {**PROMPT, "image_urls": TWO_IMAGES, "mode": "std"},
            "mode",
            "mode='pro' is required",
            id="last frame std",
        ),
        pytest.param({**PROMPT, "audio": True}, "audio", "'std' by default", id="audio, mode unset"),
        pytest.param({**PROMPT, "audio": True, "mode": "std"}, "audio", "needs mode='pro'", id="audio std"),
        pytest.param(
            {**PROMPT, "audio": True, "mode": "pro", "image_urls": TWO_IMAGES},
            "audio",
            "cannot be combined with 2 image_urls",
            id="audio and last frame",
        ),
        pytest.param(
            {**PROMPT, "resolution": "1080p"}, "resolution", "not a parameter", id="no resolution field"
        ),
    ],
)
def test_documented_rule_is_enforced(body: dict[str, Any], parameter: str, fragment: str) -> None:
    assert_rejected(body, parameter, fragment)


def test_audio_false_in_std_mode_is_accepted() -> None:
    assert_body_round_trips({**PROMPT, "audio": False})


def test_prompt_of_exactly_2500_characters_is_accepted() -> None:
    assert_body_round_trips({**PROMPT, "prompt": "x" * 2500})


def test_first_frame_with_audio_in_pro_mode_is_accepted() -> None:
    assert_body_round_trips({**PROMPT, "image_urls": ["https://a/1.jpg"], "mode": "pro", "audio": True})
