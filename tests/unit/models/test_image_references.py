"""Image inputs may name stored files (absolute paths, file:// and other storage URIs), checked at
DAG parse without being read and sent on as written; audio and video stay http(s) only."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_apimart.models import build_request
from airflow_provider_apimart.models.images import is_stored_file
from tests.unit.models.helpers import assert_body_round_trips, assert_rejected

STORED = [
    "/data/in/cat.png",
    "file:///data/in/cat.png",
    "s3://aws_conn@bucket/in/cat.png",
    "gs://bucket/cat.webp",
]

#: One image-taking body per model; "IMAGE" marks where the image goes.
BODIES: dict[str, dict[str, Any]] = {
    "wan2.6-i2v-flash": {"model": "wan2.6-i2v-flash", "image_urls": ["IMAGE"]},
    "wan2.7 image_urls": {"model": "wan2.7", "image_urls": ["IMAGE"]},
    "wan2.7 image_with_roles": {
        "model": "wan2.7",
        "image_with_roles": [{"url": "IMAGE", "role": "first_frame"}],
    },
    "Omni-Flash-Ext": {"model": "Omni-Flash-Ext", "prompt": "a cat", "image_urls": ["IMAGE"]},
    "kling-v2-6": {"model": "kling-v2-6", "prompt": "a cat", "image_urls": ["IMAGE"]},
    "generic": {"model": "veo3", "image_urls": ["IMAGE"]},
}


def with_image(body: dict[str, Any], image: str) -> dict[str, Any]:
    if "image_with_roles" in body:
        return {**body, "image_with_roles": [{**body["image_with_roles"][0], "url": image}]}
    return {**body, "image_urls": [image]}


def parameter_of(body: dict[str, Any]) -> str:
    return "image_with_roles.0.url" if "image_with_roles" in body else "image_urls.0"


@pytest.mark.parametrize("image", STORED)
@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_stored_file_is_accepted_and_kept_as_written(body: dict[str, Any], image: str) -> None:
    assert_body_round_trips(with_image(body, image))


@pytest.mark.parametrize("image", ["cat.png", "in/cat.png", "./cat.png", "~/cat.png", "C:\\in\\cat.png"])
@pytest.mark.parametrize(
    "body", [b for name, b in BODIES.items() if name != "generic"], ids=list(BODIES)[:-1]
)
def test_relative_path_is_refused_with_a_clear_message(body: dict[str, Any], image: str) -> None:
    assert_rejected(
        with_image(body, image), parameter_of(body), "relative path", "absolute path (/data/in/cat.png)"
    )


@pytest.mark.parametrize(
    ("image", "fragment"),
    [
        pytest.param("file://data/in/cat.png", "file:// URI needs an absolute path", id="relative file uri"),
        pytest.param("s3://bucket/in/", "names a folder", id="folder"),
        pytest.param("s3://", "names a folder", id="no path"),
        pytest.param("HTTPS://example.com/cat.png", "http:// or https://", id="upper-case web scheme"),
    ],
)
def test_malformed_stored_file_is_refused(image: str, fragment: str) -> None:
    assert_rejected({"model": "wan2.7", "image_urls": [image]}, "image_urls.0", fragment)


def test_image_with_roles_still_takes_no_base64() -> None:
    body = {"model": "wan2.7", "image_with_roles": [{"url": "data:image/png;base64,AA"}]}
    assert_rejected(body, "image_with_roles.0.url", "http:// or https://")


@pytest.mark.parametrize("image", ["https://cdn.example.com/cat.png", "data:image/png;base64,iVBORw0KGgo="])
def test_urls_and_data_uris_are_not_stored_files(image: str) -> None:
    assert not is_stored_file(image)


@pytest.mark.parametrize("image", STORED)
def test_storage_references_are_stored_files(image: str) -> None:
    assert is_stored_file(image)


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        pytest.param(
            {"model": "wan2.7", "prompt": "a", "video_urls": ["/data/in/clip.mp4"]},
            "video_urls.0",
            id="wan2.7 video",
        ),
        pytest.param(
            {"model": "wan2.7", "prompt": "a", "audio_url": "s3://c@b/a.mp3"}, "audio_url", id="wan2.7 audio"
        ),
        pytest.param(
            {"model": "wan2.6-i2v-flash", "image_urls": ["/i.png"], "audio_url": "file:///a.mp3"},
            "audio_url",
            id="wan2.6 audio",
        ),
        pytest.param(
            {"model": "Omni-Flash-Ext", "prompt": "a", "video_urls": ["gs://b/clip.mp4"]},
            "video_urls.0",
            id="omni video",
        ),
    ],
)
def test_audio_and_video_stay_web_urls(body: dict[str, Any], parameter: str) -> None:
    assert_rejected(body, parameter, "http:// or https://")


def test_storage_reference_counts_as_an_image_for_the_model_rules() -> None:
    # Two stored images on Omni-Flash-Ext break the 0/1/3 rule just as two URLs do.
    assert_rejected(
        {"model": "Omni-Flash-Ext", "prompt": "a", "image_urls": ["/a.png", "s3://c@b/b.png"]},
        "image_urls",
        "2 images are not supported",
    )
    assert build_request({"model": "wan2.7", "image_urls": ["/a.png"]}).to_body()["image_urls"] == ["/a.png"]
