"""The streaming copy against mocked CDN answers: retries, resume, restarts and content checks."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from airflow_provider_apimart.exceptions import (
    ApimartDownloadError,
    ApimartPermanentError,
    ApimartVideoExpiredError,
)
from airflow_provider_apimart.http_basics import USER_AGENT
from airflow_provider_apimart.outputs import DOWNLOAD_ATTEMPTS, StoredVideo, store_videos
from airflow_provider_apimart.outputs._content import sniff_video_type
from airflow_provider_apimart.outputs._download import new_client
from tests.unit.outputs.helpers import MP4, PUBLIC, URL, completed, cut_video, log, part, video

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import SleepRecorder


@pytest.fixture
def cdn() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def store(folder: Path, url: str = URL) -> StoredVideo:
    (stored,) = store_videos(str(folder), completed(url), provenance={}, log=log)
    return stored


def stored_bytes(folder: Path) -> bytes:
    return (folder / "task_1.mp4").read_bytes()


def assert_message_is_safe(error: BaseException) -> None:
    message = str(error)
    assert PUBLIC in message
    assert "task_1" in message
    assert "token" not in message
    assert "SECRET" not in message


def test_a_cut_body_is_resumed_from_where_it_stopped(
    cdn: respx.MockRouter, tmp_path: Path, recorded_sleeps: SleepRecorder
) -> None:
    route = cdn.get(URL).mock(side_effect=[cut_video(MP4, 4000), part(MP4, 4000)])

    stored = store(tmp_path)

    assert route.calls[0].request.headers.get("range") is None
    assert route.calls[1].request.headers["range"] == "bytes=4000-"
    assert stored_bytes(tmp_path) == MP4
    assert stored.sha256 == hashlib.sha256(MP4).hexdigest()
    assert len(recorded_sleeps.waits) == 1


def test_a_body_shorter_than_its_content_length_is_resumed(
    cdn: respx.MockRouter, tmp_path: Path, recorded_sleeps: SleepRecorder
) -> None:
    short = video(MP4[:3000], **{"Content-Length": str(len(MP4))})
    route = cdn.get(URL).mock(side_effect=[short, part(MP4, 3000)])

    assert store(tmp_path).bytes == len(MP4)

    assert route.calls[1].request.headers["range"] == "bytes=3000-"
    assert stored_bytes(tmp_path) == MP4


def test_a_200_to_a_range_request_restarts_from_zero(
    cdn: respx.MockRouter, tmp_path: Path, recorded_sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    route = cdn.get(URL).mock(side_effect=[cut_video(MP4, 4000), video(MP4)])

    with caplog.at_level(logging.INFO, logger=log.name):
        stored = store(tmp_path)

    assert route.calls[1].request.headers["range"] == "bytes=4000-"
    assert stored_bytes(tmp_path) == MP4  # not the first 4000 bytes twice
    assert (stored.bytes, stored.sha256) == (len(MP4), hashlib.sha256(MP4).hexdigest())
    assert "ignored the Range request (HTTP 200)" in caplog.text


def test_a_206_for_another_range_is_not_spliced_in(
    cdn: respx.MockRouter, tmp_path: Path, recorded_sleeps: SleepRecorder
) -> None:
    route = cdn.get(URL).mock(side_effect=[cut_video(MP4, 4000), part(MP4, 0), video(MP4)])

    store(tmp_path)

    assert [call.request.headers.get("range") for call in route.calls] == [None, "bytes=4000-", None]
    assert stored_bytes(tmp_path) == MP4


def test_429_waits_the_retry_after(
    cdn: respx.MockRouter, tmp_path: Path, recorded_sleeps: SleepRecorder
) -> None:
    cdn.get(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), video()])
    store(tmp_path)
    assert recorded_sleeps.waits == [7.0]


def test_a_retry_after_too_long_to_wait_is_left_to_airflow(
    cdn: respx.MockRouter, tmp_path: Path, recorded_sleeps: SleepRecorder
) -> None:
    route = cdn.get(URL).mock(return_value=httpx.Response(503, headers={"Retry-After": "3600"}))
    with pytest.raises(ApimartDownloadError, match=r"after 1 try \(HTTP 503, Retry-After 3600 s"):
        store(tmp_path)
    assert (route.call_count, recorded_sleeps.waits) == (1, [])


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(408),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("connection refused"),
    ],
    ids=["500", "502", "408", "read-timeout", "connect-error"],
)
def test_transient_failures_are_tried_download_attempts_times(
    cdn: respx.MockRouter, tmp_path: Path, recorded_sleeps: SleepRecorder, failure: httpx.Response | Exception
) -> None:
    route = cdn.get(URL).mock(side_effect=[failure] * DOWNLOAD_ATTEMPTS)

    with pytest.raises(ApimartDownloadError, match=f"after {DOWNLOAD_ATTEMPTS} tries") as raised:
        store(tmp_path)

    assert not isinstance(raised.value, ApimartPermanentError)  # an Airflow retry may succeed
    assert route.call_count == DOWNLOAD_ATTEMPTS
    assert len(recorded_sleeps.waits) == DOWNLOAD_ATTEMPTS - 1
    assert_message_is_safe(raised.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("status", [403, 404, 410])
def test_a_refused_url_is_expired_at_once(
    cdn: respx.MockRouter, tmp_path: Path, recorded_sleeps: SleepRecorder, status: int
) -> None:
    route = cdn.get(URL).mock(return_value=httpx.Response(status, text="Request has expired"))

    with pytest.raises(ApimartVideoExpiredError, match=f"HTTP {status}") as raised:
        store(tmp_path)

    assert (route.call_count, recorded_sleeps.waits) == (1, [])
    assert_message_is_safe(raised.value)
    assert "expires_at 2023-11-15 22:14 UTC" in str(raised.value)


@pytest.mark.parametrize("status", [400, 401, 204])
def test_other_answers_are_not_retried(cdn: respx.MockRouter, tmp_path: Path, status: int) -> None:
    route = cdn.get(URL).mock(return_value=httpx.Response(status))
    with pytest.raises(ApimartDownloadError) as raised:
        store(tmp_path)
    assert route.call_count == 1
    assert_message_is_safe(raised.value)


@pytest.mark.parametrize(
    ("content_type", "head", "stored_as"),
    [
        ("application/octet-stream", b"\x00\x00\x00\x18ftypisom", "video/mp4"),
        ("binary/octet-stream", b"\x00\x00\x00\x14ftypqt  ", "video/quicktime"),
        (None, b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "video/quicktime"),
        ("application/octet-stream", b"\x00\x00\x01\x00moov", "video/quicktime"),
        ("application/octet-stream", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        ("application/octet-stream", b"\x1a\x45\xdf\xa3\xa3\x42\x82\x88matroska", "video/x-matroska"),
        ("video/webm; codecs=vp9", b"anything at all", "video/webm"),
    ],
)
def test_a_generic_type_is_accepted_when_the_bytes_are_a_video(
    cdn: respx.MockRouter, tmp_path: Path, content_type: str | None, head: bytes, stored_as: str
) -> None:
    cdn.get(URL).mock(return_value=video(head + bytes(200), content_type=content_type))
    assert store(tmp_path).content_type == stored_as


def test_a_file_shorter_than_the_signature_window_is_still_judged(
    cdn: respx.MockRouter, tmp_path: Path
) -> None:
    tiny = b"\x00\x00\x00\x10ftypmp42"
    cdn.get(URL).mock(return_value=video(tiny, content_type="application/octet-stream"))
    assert (store(tmp_path).content_type, stored_bytes(tmp_path)) == ("video/mp4", tiny)


@pytest.mark.parametrize(
    ("content_type", "body", "says"),
    [
        ("application/octet-stream", b"<!doctype html><title>Access denied</title>" * 4, "no MP4/MOV"),
        ("text/html; charset=utf-8", MP4, "Content-Type 'text/html'"),
        ("application/json", b'{"error": "expired"}', "Content-Type 'application/json'"),
    ],
)
def test_what_is_not_a_video_is_refused_without_retries(
    cdn: respx.MockRouter, tmp_path: Path, content_type: str, body: bytes, says: str
) -> None:
    route = cdn.get(URL).mock(return_value=video(body, content_type=content_type))
    with pytest.raises(ApimartDownloadError, match="is not a video") as raised:
        store(tmp_path)
    assert says in str(raised.value)
    assert route.call_count == 1
    assert_message_is_safe(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_answer_is_refused(cdn: respx.MockRouter, tmp_path: Path) -> None:
    cdn.get(URL).mock(return_value=video(b""))
    with pytest.raises(ApimartDownloadError, match="is empty"):
        store(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_redirects_are_followed_and_no_request_carries_credentials(
    cdn: respx.MockRouter, tmp_path: Path
) -> None:
    edge = "https://edge.test/cache/clip.mp4?sig=EDGE-SECRET"
    cdn.get(URL).mock(return_value=httpx.Response(302, headers={"Location": edge}))
    cdn.get(edge).mock(return_value=video())

    store(tmp_path)

    requests = [call.request for call in cdn.calls]
    assert [str(request.url) for request in requests] == [URL, edge]
    for request in requests:
        assert "authorization" not in request.headers
        assert request.headers["user-agent"] == USER_AGENT
        assert request.headers["accept-encoding"] == "identity"


def test_the_default_client_has_no_auth_and_explicit_timeouts() -> None:
    with new_client() as client:
        assert client.auth is None
        assert client.follow_redirects is True
        assert (client.timeout.connect, client.timeout.read) == (10.0, 60.0)
        assert client.headers["user-agent"] == USER_AGENT


def test_a_client_passed_in_is_used_and_left_open(cdn: respx.MockRouter, tmp_path: Path) -> None:
    cdn.get(URL).mock(return_value=video())
    with httpx.Client() as client:
        store_videos(str(tmp_path), completed(URL), provenance={}, log=log, client=client)
        assert not client.is_closed


def test_sniffing_needs_a_box_or_an_ebml_header() -> None:
    assert sniff_video_type(MP4[:64]) == "video/mp4"
    assert sniff_video_type(b"GIF89a\x00\x00\x00\x00") is None
    assert sniff_video_type(b"") is None
