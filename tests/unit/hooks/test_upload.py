"""ApimartHook.upload_image against a mocked APIMart (respx): multipart, lenient answer, typed errors."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import respx

from airflow_provider_apimart.exceptions import (
    ApimartBadRequestError,
    ApimartRateLimitError,
    ApimartRejectedError,
    ApimartResponseError,
    ApimartValidationError,
)
from airflow_provider_apimart.hooks.apimart import UPLOAD_PATH, ApimartHook
from airflow_provider_apimart.models import UploadedImage
from tests.conftest import SECRET_API_KEY
from tests.unit.inputs import images

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import SleepRecorder

ANSWER = {
    "url": "https://upload.apimart.ai/f/7d1c.png",
    "filename": "cat.png",
    "content_type": "image/png",
    "bytes": 2072,
    "created_at": 1767225600,
}
PNG = images.png()


@pytest.fixture
def hook() -> Iterator[ApimartHook]:
    with ApimartHook() as apimart_hook:
        yield apimart_hook


def test_upload_posts_the_file_as_multipart_with_the_bearer_key(
    api: respx.MockRouter, hook: ApimartHook
) -> None:
    route = api.post(UPLOAD_PATH).respond(json=ANSWER)
    uploaded = hook.upload_image(PNG, filename="cat.png", content_type="image/png")
    assert uploaded == UploadedImage.model_validate(ANSWER)
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {SECRET_API_KEY}"
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    body = request.content
    assert b'Content-Disposition: form-data; name="file"; filename="cat.png"' in body
    assert b"Content-Type: image/png" in body
    assert PNG in body
    boundary = content_type.split("boundary=")[1].encode()
    assert body.count(b"--" + boundary) == 2  # one part, then the closing boundary


def test_the_answer_is_read_leniently(api: respx.MockRouter, hook: ApimartHook) -> None:
    api.post(UPLOAD_PATH).respond(json={"url": "https://upload.apimart.ai/x.gif", "width": 10})
    uploaded = hook.upload_image(PNG, filename="x.gif", content_type="image/gif")
    assert uploaded.url == "https://upload.apimart.ai/x.gif"
    assert uploaded.created_at is None
    assert uploaded.model_extra == {"width": 10}


def test_an_answer_without_a_url_is_unreadable(api: respx.MockRouter, hook: ApimartHook) -> None:
    api.post(UPLOAD_PATH).respond(json={"filename": "cat.png"})
    with pytest.raises(ApimartResponseError, match="upload answer does not have the documented shape: url"):
        hook.upload_image(PNG, filename="cat.png", content_type="image/png")


@pytest.mark.parametrize("url", ["", "uploads/7d1c.png", "ftp://upload.apimart.ai/7d1c.png"])
def test_an_answer_whose_url_is_not_a_web_url_is_unreadable(
    api: respx.MockRouter, hook: ApimartHook, url: str
) -> None:
    # The operator sends this URL in the paid body as it is: anything else must stop here.
    api.post(UPLOAD_PATH).respond(json={**ANSWER, "url": url})
    with pytest.raises(ApimartResponseError, match="upload answer does not have the documented shape: url"):
        hook.upload_image(PNG, filename="cat.png", content_type="image/png")


def test_too_large_is_a_rejection_with_its_status(api: respx.MockRouter, hook: ApimartHook) -> None:
    route = api.post(UPLOAD_PATH).respond(
        413, json={"error": {"message": "File too large", "type": "file_too_large"}}
    )
    with pytest.raises(ApimartRejectedError) as caught:
        hook.upload_image(PNG, filename="big.png", content_type="image/png")
    assert caught.value.http_status == 413
    assert caught.value.path == UPLOAD_PATH
    assert "File too large" in str(caught.value)
    assert route.call_count == 1  # not retried


def test_unsupported_format_is_a_bad_request(api: respx.MockRouter, hook: ApimartHook) -> None:
    api.post(UPLOAD_PATH).respond(400, json={"error": {"message": "Unsupported file type"}})
    with pytest.raises(ApimartBadRequestError, match="Unsupported file type"):
        hook.upload_image(b"BM", filename="a.bmp", content_type="image/bmp")


def test_a_busy_api_is_retried_with_the_same_file(
    api: respx.MockRouter, hook: ApimartHook, recorded_sleeps: SleepRecorder
) -> None:
    route = api.post(UPLOAD_PATH)
    route.side_effect = [
        respx.MockResponse(429, headers={"Retry-After": "2"}, json={"error": {"message": "slow down"}}),
        respx.MockResponse(200, json=ANSWER),
    ]
    assert hook.upload_image(PNG, filename="cat.png", content_type="image/png").url == ANSWER["url"]
    assert recorded_sleeps.waits == [2.0]
    first, second = (call.request.content for call in route.calls)
    assert PNG in first
    assert PNG in second


def test_a_rate_limit_that_lasts_raises_its_typed_error(
    api: respx.MockRouter, hook: ApimartHook, recorded_sleeps: SleepRecorder
) -> None:
    api.post(UPLOAD_PATH).respond(429, json={"error": {"message": "slow down"}})
    with pytest.raises(ApimartRateLimitError):
        hook.upload_image(PNG, filename="cat.png", content_type="image/png")


def test_submit_refuses_a_body_that_still_names_a_stored_file(
    api: respx.MockRouter, hook: ApimartHook
) -> None:
    route = api.post("/v1/videos/generations").respond(json={"code": 200, "data": [{"task_id": "t"}]})
    with pytest.raises(ApimartValidationError) as caught:
        hook.submit_video({"model": "wan2.6-i2v-flash", "image_urls": ["/data/in/cat.png"]})
    assert caught.value.problems == [
        ("image_urls[0]", "/data/in/cat.png is a stored file; upload it first and send its URL")
    ]
    assert not route.called
    hook.submit_video({"model": "wan2.6-i2v-flash", "image_urls": [ANSWER["url"]]})
    assert json.loads(route.calls.last.request.content)["image_urls"] == [ANSWER["url"]]
