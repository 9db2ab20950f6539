"""Result videos from the simulator over real loopback HTTP: size, Range, faults and signed URLs."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from airflow_provider_apimart.testing.media import SAMPLE_VIDEO

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_apimart.testing import ApimartSimulator

FIVE_MB = 5 * 1000 * 1000


@pytest.fixture
def api(apimart_simulator: ApimartSimulator) -> Iterator[httpx.Client]:
    """An API client for the simulator; renders finish at once."""
    apimart_simulator.config.render_seconds = 0
    headers = {"Authorization": f"Bearer {apimart_simulator.api_key}"}
    with httpx.Client(base_url=apimart_simulator.base_url, headers=headers) as client:
        yield client


def submit(api: httpx.Client) -> str:
    answer = api.post("/v1/videos/generations", json={"model": "wan2.7", "prompt": "a"})
    assert answer.status_code == 200, answer.text
    task_id: str = answer.json()["data"][0]["task_id"]
    return task_id


def video(api: httpx.Client, task_id: str) -> dict[str, Any]:
    """The task's ``result.videos[0]``: ``url`` (a one-URL list) and ``expires_at``."""
    data = api.get(f"/v1/tasks/{task_id}").json()["data"]
    assert data["status"] == "completed", data
    first: dict[str, Any] = data["result"]["videos"][0]
    return first


def video_url(api: httpx.Client) -> str:
    url: str = video(api, submit(api))["url"][0]
    return url


def resumed_download(url: str) -> tuple[bytes, int]:
    """Download with ``Range: bytes=N-`` after each cut, as a resuming client would; (bytes, cuts)."""
    received = bytearray()
    cuts = 0
    while True:
        headers = {"Range": f"bytes={len(received)}-"} if received else {}
        try:
            with httpx.stream("GET", url, headers=headers) as response:
                assert response.status_code == (206 if received else 200)
                for chunk in response.iter_bytes():
                    received += chunk
            return bytes(received), cuts
        except httpx.RemoteProtocolError:
            cuts += 1


def test_default_video_is_the_sample_mp4_with_range_support(api: httpx.Client) -> None:
    url = video_url(api)
    whole = httpx.get(url)
    assert whole.status_code == 200
    assert whole.content == SAMPLE_VIDEO
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(len(SAMPLE_VIDEO))
    part = httpx.get(url, headers={"Range": "bytes=4-7"})
    assert (part.status_code, part.content) == (206, b"ftyp")
    assert part.headers["content-range"] == f"bytes 4-7/{len(SAMPLE_VIDEO)}"


def test_a_configured_size_is_served_exactly_and_starts_as_a_real_mp4(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    apimart_simulator.config.media_bytes = FIVE_MB
    url = video_url(api)
    first, second = httpx.get(url), httpx.get(url)
    assert first.status_code == 200
    assert first.headers["content-type"] == "video/mp4"
    assert first.headers["content-length"] == str(FIVE_MB)
    assert len(first.content) == FIVE_MB
    assert first.content[: len(SAMPLE_VIDEO)] == SAMPLE_VIDEO
    assert first.content[4:8] == b"ftyp"
    assert first.content == second.content  # deterministic for the task
    other = httpx.get(video_url(api)).content
    assert other[: len(SAMPLE_VIDEO)] == SAMPLE_VIDEO
    assert other[len(SAMPLE_VIDEO) :] != first.content[len(SAMPLE_VIDEO) :]  # and per task


@pytest.mark.parametrize(
    ("range_header", "expected"),
    [
        ("bytes=1000000-", slice(1_000_000, None)),
        ("bytes=1048570-1048590", slice(1_048_570, 1_048_591)),  # across a chunk boundary
        ("bytes=4999990-9999999", slice(4_999_990, None)),  # an end past the file is clamped
        ("bytes=-100", slice(-100, None)),
    ],
)
def test_ranges_are_slices_of_the_whole_file(
    apimart_simulator: ApimartSimulator, api: httpx.Client, range_header: str, expected: slice
) -> None:
    apimart_simulator.config.media_bytes = FIVE_MB
    url = video_url(api)
    whole = httpx.get(url).content
    part = httpx.get(url, headers={"Range": range_header})
    assert part.status_code == 206
    assert part.content == whole[expected]
    start, stop, _ = expected.indices(FIVE_MB)
    assert part.headers["content-range"] == f"bytes {start}-{stop - 1}/{FIVE_MB}"
    assert part.headers["content-length"] == str(stop - start)


def test_unsatisfiable_range_is_416_and_an_invalid_one_is_ignored(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    apimart_simulator.config.media_bytes = 1000
    url = video_url(api)
    past_the_end = httpx.get(url, headers={"Range": "bytes=1000-"})
    assert past_the_end.status_code == 416
    assert past_the_end.headers["content-range"] == "bytes */1000"
    backwards = httpx.get(url, headers={"Range": "bytes=10-5"})
    assert (backwards.status_code, len(backwards.content)) == (200, 1000)


def test_head_gives_the_size_without_a_body_and_is_not_a_download(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    apimart_simulator.config.media_bytes = FIVE_MB
    head = httpx.head(video_url(api))
    assert (head.status_code, head.headers["content-length"], head.content) == (200, str(FIVE_MB), b"")
    assert [r.method for r in apimart_simulator.state.media_requests] == ["HEAD"]
    assert apimart_simulator.state.media_gets() == []


@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/html"])
def test_the_media_content_type_is_a_knob(
    apimart_simulator: ApimartSimulator, api: httpx.Client, content_type: str
) -> None:
    apimart_simulator.config.media_content_type = content_type
    assert httpx.get(video_url(api)).headers["content-type"].startswith(content_type)


def test_dropped_downloads_resume_with_range_to_the_exact_bytes(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    config = apimart_simulator.config
    config.media_bytes = FIVE_MB
    url = video_url(api)
    config.media_drop_after_bytes = 1_500_007
    config.media_drops_remaining = 2
    resumed, cuts = resumed_download(url)
    assert cuts == 2
    assert config.media_drops_remaining == 0
    assert resumed == httpx.get(url).content
    gets = apimart_simulator.state.media_gets()
    assert [(g.range, g.status, g.dropped) for g in gets] == [
        (None, 200, True),
        ("bytes=1500007-", 206, True),
        ("bytes=3000014-", 206, False),
        (None, 200, False),
    ]
    assert all(g.path == urlsplit(url).path for g in gets)


def test_a_drop_is_kept_for_an_answer_long_enough_to_cut(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    config = apimart_simulator.config
    config.media_bytes = 1000
    config.media_drop_after_bytes = 900
    config.media_drops_remaining = 1
    url = video_url(api)
    assert httpx.get(url, headers={"Range": "bytes=500-"}).status_code == 206  # 500 bytes: not cut
    assert config.media_drops_remaining == 1
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)
    assert config.media_drops_remaining == 0


def test_media_errors_answer_503_the_given_number_of_times(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    url = video_url(api)
    apimart_simulator.config.media_errors_remaining = 2
    assert [httpx.get(url).status_code for _ in range(3)] == [503, 503, 200]
    assert [g.status for g in apimart_simulator.state.media_gets()] == [503, 503, 200]
    assert not any(r.path.startswith("/media/") for r in apimart_simulator.state.requests)


def test_a_256_mib_video_streams_with_flat_memory(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("reads the resident set size from /proc")
    apimart_simulator.config.media_bytes = 256 * 1024 * 1024
    url = video_url(api)
    page = os.sysconf("SC_PAGE_SIZE")

    def resident() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * page

    baseline = peak = resident()
    received = 0
    with httpx.stream("GET", url) as response:
        for chunk in response.iter_bytes():
            received += len(chunk)
            peak = max(peak, resident())
    assert received == 256 * 1024 * 1024
    assert peak - baseline < 64 * 1024 * 1024  # the server (in this process) never held the file


def test_expired_url_is_403_and_a_re_read_keeps_it_by_default(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    task_id = submit(api)
    before = video(api, task_id)
    assert httpx.get(before["url"][0]).status_code == 200
    apimart_simulator.state.expire_media(task_id)
    refused = httpx.get(before["url"][0])
    assert (refused.status_code, refused.text) == (403, "Request has expired")
    assert refused.headers["content-type"].startswith("text/plain")
    after = video(api, task_id)
    assert after["url"] == before["url"]
    assert after["expires_at"] <= time.time()


def test_renew_expired_urls_gives_a_fresh_url_on_a_re_read(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    apimart_simulator.config.renew_expired_urls = True
    apimart_simulator.config.result_url_ttl = 600
    task_id = submit(api)
    old = video(api, task_id)
    assert video(api, task_id)["url"] == old["url"], "a valid URL is not renewed"
    apimart_simulator.state.expire_media()
    fresh = video(api, task_id)
    (old_url,), (fresh_url,) = old["url"], fresh["url"]
    assert fresh_url != old_url
    assert urlsplit(fresh_url).path == urlsplit(old_url).path
    assert fresh["expires_at"] == pytest.approx(time.time() + 600, abs=5)
    assert parse_qs(urlsplit(fresh_url).query)["expires"] == [str(fresh["expires_at"])]
    assert httpx.get(fresh_url).status_code == 200
    assert httpx.get(old_url).status_code == 403  # the old token is no longer the task's


def test_result_urls_are_signed_and_checked(apimart_simulator: ApimartSimulator, api: httpx.Client) -> None:
    url = video_url(api)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path.endswith(".mp4")
    assert set(query) == {"token", "expires"}
    bare = f"{parts.scheme}://{parts.netloc}{parts.path}"
    assert httpx.get(bare).status_code == 403
    assert httpx.get(f"{bare}?token=forged&expires={query['expires'][0]}").status_code == 403
    assert httpx.get(f"{parts.scheme}://{parts.netloc}/media/task_UNKNOWN.mp4?token=x").status_code == 404


def test_an_unfinished_render_has_no_video_yet(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    apimart_simulator.config.render_seconds = 30
    task_id = submit(api)
    task = apimart_simulator.state.task(task_id)
    assert task is not None
    url = task.media_url(apimart_simulator.base_url)
    assert httpx.get(url).status_code == 404


def test_expire_media_of_an_unknown_task_is_a_key_error(apimart_simulator: ApimartSimulator) -> None:
    with pytest.raises(KeyError):
        apimart_simulator.state.expire_media("task_UNKNOWN")
