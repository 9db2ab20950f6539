"""store_videos into a local folder, against the simulator over real loopback HTTP."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from airflow_provider_apimart import __version__
from airflow_provider_apimart.exceptions import ApimartDownloadError, ApimartVideoExpiredError
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.outputs import DOWNLOAD_ATTEMPTS, store_videos
from airflow_provider_apimart.testing import media
from airflow_provider_apimart.testing.media import SAMPLE_VIDEO
from tests.conftest import submit_remote_task

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_apimart.models.responses import TaskStatus
    from airflow_provider_apimart.testing import ApimartSimulator
    from tests.conftest import SleepRecorder

THREE_MB = 3_000_000
PROVENANCE = {
    "model": "wan2.7",
    "request": {"model": "wan2.7", "prompt": "a cat"},
    "dag_id": "videos",
    "run_id": "manual__1",
    "task_id": "clip",
    "map_index": -1,
    "try_number": 1,
}
log = logging.getLogger("tests.outputs")


@pytest.fixture
def sim(apimart_simulator: ApimartSimulator) -> ApimartSimulator:
    """The simulator with renders that finish at once."""
    apimart_simulator.config.render_seconds = 0
    return apimart_simulator


def completed_task() -> TaskStatus:
    remote_task_id = submit_remote_task()
    with ApimartHook() as hook:
        status = hook.get_task(remote_task_id)
    assert status.status == "completed", status
    return status


def store(folder: Path | str, status: TaskStatus) -> list[Any]:
    return store_videos(str(folder), status, provenance=PROVENANCE, log=log)


def whole_video(status: TaskStatus) -> bytes:
    return httpx.get(status.video_urls[0]).content


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob("*.part")) if folder.exists() else []


def test_a_completed_tasks_video_and_its_record_are_stored(sim: ApimartSimulator, tmp_path: Path) -> None:
    status = completed_task()
    (stored,) = store(tmp_path / "videos", status)

    video = tmp_path / "videos" / f"{status.id}.mp4"
    assert stored.uri == f"file://{video}"
    content = video.read_bytes()
    assert content == SAMPLE_VIDEO
    digest = hashlib.sha256(content).hexdigest()
    assert stored.to_xcom() == {
        "uri": stored.uri,
        "sha256": digest,
        "bytes": len(content),
        "content_type": "video/mp4",
    }
    assert stored.source_url == status.video_urls[0].split("?")[0]

    record_text = (tmp_path / "videos" / f"{status.id}.json").read_text()
    record = json.loads(record_text)
    assert {key: record[key] for key in PROVENANCE} == PROVENANCE
    assert record["remote_task_id"] == status.id
    assert record["index"] == 1
    assert record["source_url"] == stored.source_url
    assert (record["sha256"], record["bytes"], record["content_type"]) == (digest, len(content), "video/mp4")
    assert (record["cost"], record["created"], record["completed"], record["expires_at"]) == (
        status.cost,
        status.created,
        status.completed,
        status.expires_at,
    )
    assert record["stored_at"].endswith("+00:00")
    assert record["provider_version"] == __version__
    # Nothing secret: no key, no Authorization, no signed query.
    assert sim.api_key not in record_text
    assert "authorization" not in record_text.lower()
    assert "token=" not in record_text
    assert sorted(path.name for path in (tmp_path / "videos").iterdir()) == [
        f"{status.id}.json",
        f"{status.id}.mp4",
    ]


def test_downloads_send_no_authorization_header(sim: ApimartSimulator, tmp_path: Path) -> None:
    store(tmp_path, completed_task())
    (get,) = sim.state.media_gets()
    assert (get.status, get.had_auth_header) == (200, False)


def test_a_retry_finds_the_stored_video_and_downloads_nothing(
    sim: ApimartSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    status = completed_task()
    first = store(tmp_path, status)
    assert len(sim.state.media_gets()) == 1

    with caplog.at_level(logging.INFO, logger=log.name):
        again = store(f"file://{tmp_path}", status)

    assert again == first
    assert len(sim.state.media_gets()) == 1
    assert "from an earlier try (sha256 checked): not downloaded again" in caplog.text


def test_a_dropped_connection_resumes_with_range_and_the_file_is_identical(
    sim: ApimartSimulator, tmp_path: Path, recorded_sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    sim.config.media_bytes = THREE_MB
    status = completed_task()
    sim.config.media_drop_after_bytes = 1_000_000
    sim.config.media_drops_remaining = 1

    with caplog.at_level(logging.INFO, logger=log.name):
        (stored,) = store(tmp_path, status)

    cut, resumed = sim.state.media_gets()
    assert (cut.status, cut.range, cut.dropped) == (200, None, True)
    assert (resumed.status, resumed.range) == (206, "bytes=1000000-")
    content = (tmp_path / f"{status.id}.mp4").read_bytes()
    assert content == whole_video(status)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.bytes == THREE_MB
    assert len(recorded_sleeps.waits) == 1
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "resuming at byte 1000000" in warning.getMessage()
    assert leftovers(tmp_path) == []


def test_503s_are_retried_then_the_video_is_stored(
    sim: ApimartSimulator, tmp_path: Path, recorded_sleeps: SleepRecorder
) -> None:
    status = completed_task()
    sim.config.media_errors_remaining = 2

    (stored,) = store(tmp_path, status)

    assert [get.status for get in sim.state.media_gets()] == [503, 503, 200]
    assert len(recorded_sleeps.waits) == 2
    assert stored.bytes == len(SAMPLE_VIDEO)


def test_a_server_without_range_support_makes_the_download_start_again(
    sim: ApimartSimulator,
    tmp_path: Path,
    recorded_sleeps: SleepRecorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(media, "requested_span", lambda header, size: None)  # Range is ignored
    sim.config.media_bytes = THREE_MB
    status = completed_task()
    sim.config.media_drop_after_bytes = 1_000_000
    sim.config.media_drops_remaining = 1

    with caplog.at_level(logging.INFO, logger=log.name):
        (stored,) = store(tmp_path, status)

    cut, again = sim.state.media_gets()
    assert (cut.dropped, again.range, again.status) == (True, "bytes=1000000-", 200)
    content = (tmp_path / f"{status.id}.mp4").read_bytes()
    assert content == whole_video(status)
    assert (stored.bytes, stored.sha256) == (THREE_MB, hashlib.sha256(content).hexdigest())
    assert "ignored the Range request (HTTP 200)" in caplog.text


def test_an_expired_url_raises_at_once_and_leaves_nothing(
    sim: ApimartSimulator, tmp_path: Path, recorded_sleeps: SleepRecorder
) -> None:
    status = completed_task()
    sim.state.expire_media(status.id)

    with pytest.raises(ApimartVideoExpiredError, match="HTTP 403") as raised:
        store(tmp_path, status)

    assert [get.status for get in sim.state.media_gets()] == [403]
    assert recorded_sleeps.waits == []
    message = str(raised.value)
    assert status.id in message
    assert status.video_urls[0].split("?")[0] in message
    assert "token=" not in message
    assert list(tmp_path.iterdir()) == []


def test_fresh_urls_after_an_expiry_are_stored(sim: ApimartSimulator, tmp_path: Path) -> None:
    sim.config.renew_expired_urls = True
    status = completed_task()
    sim.state.expire_media(status.id)
    with pytest.raises(ApimartVideoExpiredError):
        store(tmp_path, status)

    with ApimartHook() as hook:
        fresh = hook.get_task(status.id)  # what the operator does once
    assert fresh.video_urls != status.video_urls
    (stored,) = store(tmp_path, fresh)

    assert stored.source_url == status.video_urls[0].split("?")[0]
    assert [get.status for get in sim.state.media_gets()] == [403, 200]


def test_an_html_answer_is_not_stored(sim: ApimartSimulator, tmp_path: Path) -> None:
    status = completed_task()
    sim.config.media_content_type = "text/html"

    with pytest.raises(ApimartDownloadError, match="is not a video") as raised:
        store(tmp_path, status)

    message = str(raised.value)
    assert "'text/html'" in message
    assert status.id in message
    assert status.video_urls[0].split("?")[0] in message
    assert "token=" not in message
    assert len(sim.state.media_gets()) == 1  # not retried: the same answer would come again
    assert list(tmp_path.iterdir()) == []


def test_octet_stream_with_an_mp4_signature_is_a_video(sim: ApimartSimulator, tmp_path: Path) -> None:
    status = completed_task()
    sim.config.media_content_type = "application/octet-stream"

    (stored,) = store(tmp_path, status)

    assert stored.content_type == "video/mp4"  # what its ftyp box says
    assert (tmp_path / f"{status.id}.mp4").read_bytes() == SAMPLE_VIDEO


def test_after_the_last_attempt_the_error_is_retryable_and_nothing_is_left(
    sim: ApimartSimulator, tmp_path: Path, recorded_sleeps: SleepRecorder
) -> None:
    sim.config.media_bytes = THREE_MB
    status = completed_task()
    sim.config.media_drop_after_bytes = 500_000
    sim.config.media_drops_remaining = DOWNLOAD_ATTEMPTS

    with pytest.raises(ApimartDownloadError, match=f"after {DOWNLOAD_ATTEMPTS} tries") as raised:
        store(tmp_path, status)

    assert not isinstance(raised.value, ApimartVideoExpiredError)
    ranges = [get.range for get in sim.state.media_gets()]
    assert ranges == [None, "bytes=500000-", "bytes=1000000-", "bytes=1500000-"]
    assert len(recorded_sleeps.waits) == DOWNLOAD_ATTEMPTS - 1
    assert list(tmp_path.iterdir()) == []


def test_the_signed_query_stays_out_of_httpx_log_lines(
    sim: ApimartSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    status = completed_task()
    with caplog.at_level(logging.INFO, logger="httpx"):
        store(tmp_path, status)

    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any(f"/media/{status.id}.mp4" in line for line in requests)
    assert "token=" not in caplog.text
