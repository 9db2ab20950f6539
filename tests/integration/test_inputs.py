"""Images from storage, end to end against the simulator over real loopback HTTP: checked, uploaded
with the hook, served back byte for byte, reused on a later try, and sent as URLs."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from airflow_provider_apimart.exceptions import ApimartRejectedError
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.inputs import (
    check_images,
    find_stored_images,
    fingerprint_body,
    upload_images,
    with_uploaded_urls,
)
from airflow_provider_apimart.models import build_request
from airflow_provider_apimart.operators.submission import fingerprint
from airflow_provider_apimart.wording import MiB
from tests.unit.inputs import images
from tests.unit.inputs.fakes import FakeStateStore

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_apimart.task_state import StateStore
    from airflow_provider_apimart.testing import ApimartSimulator
    from tests.object_store import S3Store

LOG = logging.getLogger("tests.integration.inputs")


def one_try(body: dict[str, Any], store: StateStore | None) -> tuple[str, str, bool]:
    """What the operator does on each try: check, upload (or reuse), submit under a content-based key.

    Returns the uploaded URL of the body's one image, the Idempotency-Key and whether the API
    replayed an earlier job.
    """
    wire = build_request(body).to_body()
    checked = check_images(find_stored_images(wire), wire["model"])
    with ApimartHook() as hook:
        urls = upload_images(hook, checked, store, LOG)
        key = "test-" + fingerprint(fingerprint_body(wire, checked))[:40]
        sent = with_uploaded_urls(wire, urls)
        answer = hook.submit_video(sent, idempotency_key=key)
    [url] = urls.values()
    return url, key, answer.replayed


def test_a_local_image_is_uploaded_served_back_and_sent_as_its_url(
    simulator: ApimartSimulator, tmp_path: Path
) -> None:
    content = images.png(640, 480)
    path = images.write(tmp_path / "cat.png", content)
    url, _, replayed = one_try({"model": "wan2.6-i2v-flash", "image_urls": [path], "prompt": "a cat"}, None)

    [upload] = simulator.state.uploads
    assert upload.sha256 == hashlib.sha256(content).hexdigest()
    assert (upload.filename, upload.content_type, upload.bytes) == ("cat.png", "image/png", len(content))
    assert httpx.get(url).content == content
    [submit] = simulator.state.requests_to("POST", "/v1/videos/generations")
    assert submit.body["image_urls"] == [url]
    assert not replayed


def test_the_bytes_decide_the_type_not_the_name(simulator: ApimartSimulator, tmp_path: Path) -> None:
    path = images.write(tmp_path / "frame.png", images.jpeg())
    one_try({"model": "wan2.7", "image_with_roles": [{"url": f"file://{path}"}]}, None)
    [upload] = simulator.state.uploads
    assert upload.content_type == "image/jpeg"


def test_a_retry_reuses_the_upload_and_replays_the_job(simulator: ApimartSimulator, tmp_path: Path) -> None:
    path = images.write(tmp_path / "cat.webp", images.webp())
    body = {"model": "kling-v2-6", "prompt": "a cat", "image_urls": [path]}
    store = FakeStateStore()

    first_url, first_key, _ = one_try(body, store)
    second_url, second_key, replayed = one_try(body, store)

    assert len(simulator.state.uploads) == 1  # one upload, then zero
    assert second_url == first_url
    assert second_key == first_key
    assert replayed
    assert simulator.state.paid_count() == 1


def test_the_key_stays_the_same_when_the_upload_url_changes(
    simulator: ApimartSimulator, tmp_path: Path
) -> None:
    # Without a state store (Airflow < 3.3) each try uploads again and gets another URL; the key,
    # made from the file's sha256, does not change with it.
    path = images.write(tmp_path / "cat.gif", images.gif())
    wire = build_request({"model": "wan2.7", "image_urls": [path]}).to_body()
    with ApimartHook() as hook:
        tries = []
        for _ in range(2):
            checked = check_images(find_stored_images(wire), "wan2.7")
            urls = upload_images(hook, checked, None, LOG)
            tries.append((urls[path], fingerprint(fingerprint_body(wire, checked))))
    (first_url, first_key), (second_url, second_key) = tries
    assert first_url != second_url
    assert first_key == second_key


def test_an_image_over_20_mb_is_refused_with_413(simulator: ApimartSimulator) -> None:
    with ApimartHook() as hook, pytest.raises(ApimartRejectedError) as caught:
        hook.upload_image(images.png(padding=25 * MiB), filename="big.png", content_type="image/png")
    assert caught.value.http_status == 413
    assert simulator.state.uploads == []


def test_an_image_in_object_storage(simulator: ApimartSimulator, s3_store: S3Store) -> None:
    content = images.jpeg(1280, 720)
    s3_store.client.put_object(Bucket=s3_store.bucket, Key="in/frame.jpg", Body=content)
    reference = f"s3://{s3_store.conn_id}@{s3_store.bucket}/in/frame.jpg"

    url, _, _ = one_try({"model": "wan2.6-i2v-flash", "image_urls": [reference]}, FakeStateStore())

    [upload] = simulator.state.uploads
    assert (upload.filename, upload.content_type) == ("frame.jpg", "image/jpeg")
    assert httpx.get(url).content == content
