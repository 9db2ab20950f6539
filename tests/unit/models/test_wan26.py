"""wan2.6-i2v-flash rules, from https://docs.apimart.ai/en/api-reference/videos/wan2.6/i2v-flash-generation."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from airflow_provider_apimart.exceptions import ApimartRequestWarning
from airflow_provider_apimart.models import Wan26I2VFlashRequest
from tests.unit.models.helpers import assert_body_round_trips, assert_rejected

IMAGE = "https://example.com/image.jpg"

DOCUMENTED_USE_CASES: dict[str, dict[str, Any]] = {
    "request example": {
        "model": "wan2.6-i2v-flash",
        "prompt": "The person turns around and smiles",
        "image_urls": ["https://example.com/portrait.jpg"],
        "resolution": "1080p",
        "duration": 5,
    },
    "case 1 minimal": {"model": "wan2.6-i2v-flash", "image_urls": [IMAGE]},
    "case 2 full parameters": {
        "model": "wan2.6-i2v-flash",
        "prompt": "The person in the image smiles and waves, camera slowly zooms in",
        "image_urls": [IMAGE],
        "negative_prompt": "blurry, low quality, distorted",
        "resolution": "1080p",
        "duration": 10,
        "seed": 12345,
        "prompt_extend": True,
        "shot_type": "multi",
        "audio": True,
        "watermark": False,
    },
    "case 3 custom audio": {
        "model": "wan2.6-i2v-flash",
        "prompt": "Person dancing to the music",
        "image_urls": ["https://example.com/dancer.jpg"],
        "audio_url": "https://example.com/music.mp3",
        "resolution": "1080p",
        "duration": 10,
    },
    "case 4 silent": {
        "model": "wan2.6-i2v-flash",
        "prompt": "Flower slowly blooming",
        "image_urls": ["https://example.com/flower.jpg"],
        "audio": False,
        "resolution": "720p",
        "duration": 5,
    },
    "case 5 effect template": {
        "model": "wan2.6-i2v-flash",
        "image_urls": ["https://example.com/person.jpg"],
        "template": "flying",
        "resolution": "720p",
    },
    "case 6 base64 image": {
        "model": "wan2.6-i2v-flash",
        "prompt": "Make the cat stand up and walk",
        "image_urls": ["data:image/png;base64,iVBORw0KGgo..."],
        "duration": 5,
    },
}


@pytest.mark.parametrize("body", DOCUMENTED_USE_CASES.values(), ids=DOCUMENTED_USE_CASES.keys())
def test_documented_use_case_is_sent_exactly(body: dict[str, Any]) -> None:
    assert_body_round_trips(body)


def test_body_is_model_plus_only_the_fields_set() -> None:
    request = Wan26I2VFlashRequest.validated({"image_urls": [IMAGE], "duration": 3})
    assert request.to_body() == {"model": "wan2.6-i2v-flash", "image_urls": [IMAGE], "duration": 3}


@pytest.mark.parametrize(
    ("changes", "parameter", "fragment"),
    [
        pytest.param({"image_urls": None}, "image_urls", "", id="image missing"),
        pytest.param({"image_urls": []}, "image_urls", "at least 1", id="no image"),
        pytest.param({"image_urls": [IMAGE, IMAGE]}, "image_urls", "at most 1", id="two images"),
        pytest.param({"image_urls": ["images/a.jpg"]}, "image_urls.0", "relative path", id="relative path"),
        pytest.param(
            {"image_urls": ["data:text/plain;base64,AA"]}, "image_urls.0", "data:image", id="bad data uri"
        ),
        pytest.param({"duration": 1}, "duration", "greater than or equal to 2", id="duration too short"),
        pytest.param({"duration": 16}, "duration", "less than or equal to 15", id="duration too long"),
        pytest.param({"duration": 5.5}, "duration", "", id="fractional duration"),
        pytest.param({"duration": True}, "duration", "boolean", id="boolean duration"),
        pytest.param({"negative_prompt": "x" * 501}, "negative_prompt", "at most 500", id="negative prompt"),
        pytest.param({"resolution": "4k"}, "resolution", "'720p' or '1080p'", id="resolution"),
        pytest.param({"shot_type": "triple"}, "shot_type", "'single' or 'multi'", id="shot type value"),
        pytest.param({"seed": -1}, "seed", "greater than or equal to 0", id="negative seed"),
        pytest.param({"audio_url": "ftp://x/a.mp3"}, "audio_url", "http", id="audio url scheme"),
        pytest.param({"size": "16:9"}, "size", "not a parameter", id="undocumented parameter"),
    ],
)
def test_documented_limit_is_enforced(changes: dict[str, Any], parameter: str, fragment: str) -> None:
    body = {"model": "wan2.6-i2v-flash", "image_urls": [IMAGE], **changes}
    if changes.get("image_urls", ...) is None:
        del body["image_urls"]
    assert_rejected(body, parameter, fragment)


def test_shot_type_needs_prompt_extend() -> None:
    body = {"model": "wan2.6-i2v-flash", "image_urls": [IMAGE], "shot_type": "multi", "prompt_extend": False}
    assert_rejected(body, "shot_type", "requires prompt_extend=true")


def test_shot_type_alone_relies_on_prompt_extend_default_true() -> None:
    assert_body_round_trips({"model": "wan2.6-i2v-flash", "image_urls": [IMAGE], "shot_type": "single"})


def test_negative_prompt_of_exactly_500_characters_is_accepted() -> None:
    assert_body_round_trips(
        {"model": "wan2.6-i2v-flash", "image_urls": [IMAGE], "negative_prompt": "x" * 500}
    )


@pytest.mark.parametrize("duration", [2, 15])
def test_duration_bounds_are_inclusive(duration: int) -> None:
    assert_body_round_trips({"model": "wan2.6-i2v-flash", "image_urls": [IMAGE], "duration": duration})


def test_rendered_template_strings_are_coerced_to_wire_types() -> None:
    body = {"image_urls": [IMAGE], "duration": "7", "audio": "false", "seed": "42"}
    assert Wan26I2VFlashRequest.validated(body).to_body() == {
        "model": "wan2.6-i2v-flash",
        "image_urls": [IMAGE],
        "duration": 7,
        "audio": False,
        "seed": 42,
    }


def test_unknown_template_is_sent_with_a_warning() -> None:
    with pytest.warns(ApimartRequestWarning, match="not a known effect template"):
        request = Wan26I2VFlashRequest.validated({"image_urls": [IMAGE], "template": "space-walk"})
    assert request.to_body()["template"] == "space-walk"


def test_audio_false_with_audio_url_is_accepted_and_explained() -> None:
    with pytest.warns(ApimartRequestWarning, match="silent"):
        Wan26I2VFlashRequest.validated(
            {"image_urls": [IMAGE], "audio": False, "audio_url": "https://a/b.mp3"}
        )


def test_base64_image_is_accepted_with_a_warning() -> None:
    with pytest.warns(ApimartRequestWarning, match="upload the image first"):
        Wan26I2VFlashRequest.validated({"image_urls": ["data:image/png;base64,iVBORw0KGgo"]})


def test_long_inputs_are_shortened_in_the_error() -> None:
    error = assert_rejected(
        {"model": "wan2.6-i2v-flash", "image_urls": ["data:text/plain;base64," + "A" * 5000]}, "image_urls.0"
    )
    assert len(str(error)) < 400


def test_a_request_warning_is_shown_once_per_process_and_can_be_filtered() -> None:
    body = {"image_urls": [IMAGE], "template": "space-walk"}
    with pytest.warns(ApimartRequestWarning):
        Wan26I2VFlashRequest.validated(body)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        Wan26I2VFlashRequest.validated(body)
    assert issubclass(ApimartRequestWarning, UserWarning)
