"""upload_images: one upload per distinct file, reused by a later try while its URL stays valid."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from airflow_provider_apimart.exceptions import ApimartRejectedError
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.inputs import CheckedImage, ImageInput, check_images, upload_images
from airflow_provider_apimart.inputs.upload import REUSE_MARGIN_SECONDS, UPLOAD_LIFETIME_SECONDS
from airflow_provider_apimart.task_state import UPLOADS_STATE_KEY
from tests.conftest import BASE_URL
from tests.unit.inputs import images
from tests.unit.inputs.fakes import FakeStateStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

LOG = logging.getLogger("tests.inputs.upload")


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        counter = iter(range(1, 100))

        def answer(request: httpx.Request) -> httpx.Response:
            number = next(counter)
            return httpx.Response(
                200,
                json={
                    "url": f"https://upload.apimart.ai/f/{number}.png",
                    "filename": "cat.png",
                    "content_type": "image/png",
                    "bytes": 2072,
                    "created_at": int(time.time()),
                },
            )

        router.post("/v1/uploads/images").mock(side_effect=answer)
        yield router


@pytest.fixture
def hook() -> Iterator[ApimartHook]:
    with ApimartHook() as apimart_hook:
        yield apimart_hook


@pytest.fixture
def cat(tmp_path: Path) -> list[CheckedImage]:
    path = images.write(tmp_path / "cat.png", images.png())
    return check_images([ImageInput("image_urls[0]", path)], "wan2.7")


def uploads(api: respx.MockRouter) -> int:
    return int(api.routes[0].call_count)


def test_uploads_and_logs_each_image(
    api: respx.MockRouter, hook: ApimartHook, cat: list[CheckedImage], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOG.name)
    urls = upload_images(hook, cat, None, LOG)
    assert urls == {cat[0].reference: "https://upload.apimart.ai/f/1.png"}
    assert uploads(api) == 1
    assert (
        f"Uploaded image_urls[0] ({cat[0].reference}, 2.0 KiB) to APIMart: https://upload.apimart.ai/f/1.png"
        in (caplog.messages)
    )


def test_a_second_try_reuses_the_first_tries_upload(
    api: respx.MockRouter, hook: ApimartHook, cat: list[CheckedImage], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOG.name)
    store = FakeStateStore()
    first = upload_images(hook, cat, store, LOG)
    assert uploads(api) == 1
    kept = store.get(UPLOADS_STATE_KEY)
    assert list(kept) == [cat[0].sha256]
    assert kept[cat[0].sha256]["url"] == "https://upload.apimart.ai/f/1.png"
    assert kept[cat[0].sha256]["expires_at"] == pytest.approx(time.time() + UPLOAD_LIFETIME_SECONDS, abs=5)

    second = upload_images(hook, cat, store, LOG)
    assert uploads(api) == 1  # no second upload
    assert second == first
    assert caplog.messages[-1] == (
        f"Reusing the upload of image_urls[0] ({cat[0].reference}, 2.0 KiB) from an earlier try: "
        "https://upload.apimart.ai/f/1.png"
    )


def test_without_a_state_store_every_try_uploads(
    api: respx.MockRouter, hook: ApimartHook, cat: list[CheckedImage]
) -> None:
    upload_images(hook, cat, None, LOG)
    upload_images(hook, cat, None, LOG)
    assert uploads(api) == 2


@pytest.mark.parametrize(
    "expires_in", [REUSE_MARGIN_SECONDS - 60, -60], ids=["within an hour of expiry", "expired"]
)
def test_a_url_about_to_expire_is_uploaded_again(
    api: respx.MockRouter, hook: ApimartHook, cat: list[CheckedImage], expires_in: float
) -> None:
    store = FakeStateStore()
    store.set(
        UPLOADS_STATE_KEY,
        {cat[0].sha256: {"url": "https://upload.apimart.ai/old.png", "expires_at": time.time() + expires_in}},
    )
    assert upload_images(hook, cat, store, LOG) == {cat[0].reference: "https://upload.apimart.ai/f/1.png"}
    assert uploads(api) == 1
    assert store.get(UPLOADS_STATE_KEY)[cat[0].sha256]["url"] == "https://upload.apimart.ai/f/1.png"


def test_an_unreadable_record_is_ignored(
    api: respx.MockRouter, hook: ApimartHook, cat: list[CheckedImage]
) -> None:
    store = FakeStateStore()
    store.set(UPLOADS_STATE_KEY, {cat[0].sha256: {"url": 5}, "other": "junk"})
    upload_images(hook, cat, store, LOG)
    assert uploads(api) == 1
    assert list(store.get(UPLOADS_STATE_KEY)) == [cat[0].sha256]


def test_the_same_file_under_two_names_is_uploaded_once(
    api: respx.MockRouter, hook: ApimartHook, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOG.name)
    first = images.write(tmp_path / "first.png", images.png())
    copy = images.write(tmp_path / "copy.png", images.png())
    checked = check_images(
        [ImageInput("image_urls[0]", first), ImageInput("image_urls[1]", copy)], "kling-v2-6"
    )
    urls = upload_images(hook, checked, FakeStateStore(), LOG)
    assert urls == {first: "https://upload.apimart.ai/f/1.png", copy: "https://upload.apimart.ai/f/1.png"}
    assert uploads(api) == 1
    assert "from an earlier image of this try" in caplog.messages[-1]


def test_different_files_are_uploaded_and_kept_each(
    api: respx.MockRouter, hook: ApimartHook, tmp_path: Path
) -> None:
    a = images.write(tmp_path / "a.png", images.png())
    b = images.write(tmp_path / "b.jpg", images.jpeg())
    store = FakeStateStore()
    checked = check_images([ImageInput("image_urls[0]", a), ImageInput("image_urls[1]", b)], "wan2.7")
    assert upload_images(hook, checked, store, LOG) == {
        a: "https://upload.apimart.ai/f/1.png",
        b: "https://upload.apimart.ai/f/2.png",
    }
    assert len(store.get(UPLOADS_STATE_KEY)) == 2
    upload_images(hook, checked, store, LOG)
    assert uploads(api) == 2


def test_an_upload_the_api_refuses_raises_its_typed_error(hook: ApimartHook, cat: list[CheckedImage]) -> None:
    with respx.mock(base_url=BASE_URL) as router:
        router.post("/v1/uploads/images").respond(413, json={"error": {"message": "File too large"}})
        with pytest.raises(ApimartRejectedError) as caught:
            upload_images(hook, cat, FakeStateStore(), LOG)
    assert caught.value.http_status == 413
