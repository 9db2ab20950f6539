"""store_videos into S3 (moto on 127.0.0.1, through Airflow's ObjectStoragePath and s3fs), fed by the
simulator over loopback HTTP: objects appear whole or not at all, and failed uploads are aborted."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING

import httpx
import pytest

from airflow_provider_apimart import backoff
from airflow_provider_apimart.exceptions import ApimartVideoExpiredError
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.outputs import store_videos
from airflow_provider_apimart.testing import media
from tests.conftest import submit_remote_task
from tests.object_store import PREFIX

if TYPE_CHECKING:
    from airflow_provider_apimart.models.responses import TaskStatus
    from airflow_provider_apimart.testing import ApimartSimulator
    from tests.conftest import SleepRecorder
    from tests.object_store import S3Store

#: Over one 8 MiB upload part, so the copy is a real multipart upload.
TWELVE_MB = 12_000_000
log = logging.getLogger("tests.outputs")


@pytest.fixture
def sim(apimart_simulator: ApimartSimulator) -> ApimartSimulator:
    apimart_simulator.config.render_seconds = 0
    apimart_simulator.config.media_bytes = TWELVE_MB
    return apimart_simulator


def completed_task() -> TaskStatus:
    remote_task_id = submit_remote_task()
    with ApimartHook() as hook:
        return hook.get_task(remote_task_id)


def test_videos_and_records_are_uploaded_and_a_retry_downloads_nothing(
    sim: ApimartSimulator, s3_store: S3Store
) -> None:
    status = completed_task()

    (stored,) = store_videos(s3_store.uri, status, provenance={"dag_id": "d"}, log=log)
    assert store_videos(s3_store.uri, status, provenance={"dag_id": "d"}, log=log) == [stored]
    assert len(sim.state.media_gets()) == 1  # the second call found the object and its record

    whole = httpx.get(status.video_urls[0]).content
    assert stored.uri == f"{s3_store.uri}/{status.id}.mp4"
    assert s3_store.keys() == [f"{PREFIX}/{status.id}.json", f"{PREFIX}/{status.id}.mp4"]
    assert s3_store.read(f"{PREFIX}/{status.id}.mp4") == whole
    record = json.loads(s3_store.read(f"{PREFIX}/{status.id}.json"))
    assert (record["sha256"], record["bytes"]) == (hashlib.sha256(whole).hexdigest(), TWELVE_MB)
    assert s3_store.multipart_uploads() == []


def test_an_upload_cut_short_by_an_expiry_is_aborted(
    sim: ApimartSimulator, s3_store: S3Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = completed_task()
    sim.config.media_drop_after_bytes = 9_000_000  # past the first part, which is then uploading
    sim.config.media_drops_remaining = 1
    uploading: list[list[str]] = []

    def expire_while_waiting(seconds: float) -> None:
        uploading.append(s3_store.multipart_uploads())
        sim.state.expire_media(status.id)

    monkeypatch.setattr(backoff, "sleep", expire_while_waiting)

    with pytest.raises(ApimartVideoExpiredError):
        store_videos(s3_store.uri, status, provenance={}, log=log)

    assert uploading == [[f"{PREFIX}/{status.id}.mp4"]]
    assert s3_store.multipart_uploads() == []
    assert s3_store.keys() == []


def test_a_restart_from_zero_discards_the_first_upload(
    sim: ApimartSimulator, s3_store: S3Store, monkeypatch: pytest.MonkeyPatch, recorded_sleeps: SleepRecorder
) -> None:
    monkeypatch.setattr(media, "requested_span", lambda header, size: None)  # Range is ignored
    status = completed_task()
    sim.config.media_drop_after_bytes = 9_000_000
    sim.config.media_drops_remaining = 1

    (stored,) = store_videos(s3_store.uri, status, provenance={}, log=log)

    assert [get.status for get in sim.state.media_gets()] == [200, 200]
    content = s3_store.read(f"{PREFIX}/{status.id}.mp4")
    assert content == httpx.get(status.video_urls[0]).content
    assert (stored.bytes, stored.sha256) == (TWELVE_MB, hashlib.sha256(content).hexdigest())
    assert s3_store.multipart_uploads() == []
