"""Which entries of a wire body are stored files, and the body with them replaced."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.inputs import (
    CheckedImage,
    ImageInput,
    find_stored_images,
    fingerprint_body,
    require_uploaded,
    with_uploaded_urls,
)
from airflow_provider_apimart.models import build_request

WEB = "https://cdn.example.com/b.png"
DATA = "data:image/png;base64,iVBORw0KGgo="

IMAGE_URLS = build_request(
    {"model": "veo3", "prompt": "a", "image_urls": ["/data/in/a.png", WEB, "s3://aws@bucket/c.png", DATA]}
).to_body()
ROLES = build_request(
    {
        "model": "wan2.7",
        "image_with_roles": [
            {"url": WEB, "role": "first_frame"},
            {"url": "file:///data/in/end.png", "role": "last_frame"},
        ],
        "resolution": "720P",
    }
).to_body()


def checked(reference: str, sha256: str) -> CheckedImage:
    return CheckedImage("image_urls[0]", reference, "a.png", "image/png", sha256, b"")


def test_finds_stored_files_in_image_urls_with_their_parameter() -> None:
    assert find_stored_images(IMAGE_URLS) == [
        ImageInput("image_urls[0]", "/data/in/a.png"),
        ImageInput("image_urls[2]", "s3://aws@bucket/c.png"),
    ]


def test_finds_stored_files_in_image_with_roles() -> None:
    assert find_stored_images(ROLES) == [ImageInput("image_with_roles[1].url", "file:///data/in/end.png")]


@pytest.mark.parametrize(
    "body",
    [
        {"model": "wan2.7", "prompt": "a"},
        {"model": "wan2.7", "image_urls": [WEB, DATA]},
        {"model": "wan2.7", "image_urls": "['/a.png']"},  # not validated yet: no list, no images
        {"model": "wan2.7", "prompt": "/data/in/a.png", "video_urls": ["https://a/clip.mp4"]},
    ],
    ids=["no images", "urls only", "unvalidated text", "only images count"],
)
def test_nothing_to_upload(body: dict[str, Any]) -> None:
    assert find_stored_images(body) == []


def test_with_uploaded_urls_replaces_each_file_and_keeps_the_rest() -> None:
    urls = {
        "/data/in/a.png": "https://upload.apimart.ai/1.png",
        "s3://aws@bucket/c.png": "https://upload.apimart.ai/3.png",
    }
    sent = with_uploaded_urls(IMAGE_URLS, urls)
    assert sent == {
        **IMAGE_URLS,
        "image_urls": ["https://upload.apimart.ai/1.png", WEB, "https://upload.apimart.ai/3.png", DATA],
    }
    assert IMAGE_URLS["image_urls"][0] == "/data/in/a.png"  # the original body is not changed
    assert find_stored_images(sent) == []


def test_with_uploaded_urls_in_image_with_roles() -> None:
    sent = with_uploaded_urls(ROLES, {"file:///data/in/end.png": "https://upload.apimart.ai/end.png"})
    assert sent["image_with_roles"] == [
        {"url": WEB, "role": "first_frame"},
        {"url": "https://upload.apimart.ai/end.png", "role": "last_frame"},
    ]
    assert sent["resolution"] == "720P"


def test_a_file_without_an_uploaded_url_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match=r"image_urls\[2\] \(s3://aws@bucket/c.png\) has no uploaded URL"):
        with_uploaded_urls(IMAGE_URLS, {"/data/in/a.png": "https://upload.apimart.ai/1.png"})


def test_fingerprint_body_names_files_by_their_content() -> None:
    digests = [checked("/data/in/a.png", "aa" * 32), checked("s3://aws@bucket/c.png", "cc" * 32)]
    assert fingerprint_body(IMAGE_URLS, digests)["image_urls"] == [
        f"sha256:{'aa' * 32}",
        WEB,
        f"sha256:{'cc' * 32}",
        DATA,
    ]


def test_fingerprint_is_the_same_whatever_the_upload_urls() -> None:
    digests = [checked("file:///data/in/end.png", "ee" * 32)]
    first_try = fingerprint_body(ROLES, digests)
    assert first_try == fingerprint_body(dict(ROLES), digests)
    assert first_try["image_with_roles"][1] == {"url": f"sha256:{'ee' * 32}", "role": "last_frame"}


def test_require_uploaded_refuses_a_body_that_still_names_files() -> None:
    with pytest.raises(ApimartValidationError) as caught:
        require_uploaded("wan2.7", ROLES)
    assert caught.value.problems == [
        (
            "image_with_roles[1].url",
            "file:///data/in/end.png is a stored file; upload it first and send its URL",
        )
    ]
    require_uploaded("wan2.7", with_uploaded_urls(ROLES, {"file:///data/in/end.png": "https://u/e.png"}))
