"""Answers from outside are bounded: size, decoding, URL schemes; storage that cannot work is not retried."""

from __future__ import annotations

import gzip
import os
import zlib
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from airflow_provider_apimart.exceptions import (
    ApimartDownloadError,
    ApimartDownloadRefusedError,
    ApimartStorageError,
    ApimartStorageUnusableError,
)
from airflow_provider_apimart.outputs import store_videos
from airflow_provider_apimart.outputs._content import MAX_INFLATED_PIECE
from airflow_provider_apimart.outputs._download import CHUNK_BYTES, Source, download, new_client
from airflow_provider_apimart.version_compat import AirflowFailException
from tests.unit.outputs.helpers import CDN, MP4, URL, completed, log, video

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

MiB = 1024 * 1024


@pytest.fixture
def cdn() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def limit(monkeypatch: pytest.MonkeyPatch, max_bytes: int) -> None:
    monkeypatch.setenv("AIRFLOW__APIMART__MAX_VIDEO_BYTES", str(max_bytes))


class EndlessBody(httpx.SyncByteStream):
    """A media answer that never ends: an MP4 header, then zeros for ever."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        yield MP4[:64]
        while True:
            self.sent += 64 * 1024
            yield bytes(64 * 1024)


def parts_left(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob("*")) if folder.exists() else []


def test_a_video_larger_than_the_limit_by_its_headers_is_refused_before_its_body(
    cdn: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit(monkeypatch, 5 * MiB)
    body = EndlessBody()
    cdn.get(URL).mock(
        return_value=httpx.Response(
            200, headers={"Content-Type": "video/mp4", "Content-Length": str(6 * MiB)}, stream=body
        )
    )
    with pytest.raises(
        ApimartDownloadRefusedError, match=r"6\.0 MiB by its headers, over the limit of 5\.0 MiB"
    ):
        store_videos(str(tmp_path), completed(URL), provenance={}, log=log)
    assert body.sent == 0
    assert parts_left(tmp_path) == []


def test_a_media_answer_that_never_ends_stops_at_the_limit_and_leaves_nothing(
    cdn: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit(monkeypatch, 3 * MiB)
    body = EndlessBody()
    cdn.get(URL).mock(return_value=httpx.Response(200, headers={"Content-Type": "video/mp4"}, stream=body))
    with pytest.raises(ApimartDownloadRefusedError, match="max_video_bytes") as raised:
        store_videos(str(tmp_path), completed(URL), provenance={}, log=log)
    assert isinstance(raised.value, AirflowFailException)  # the same answer on every try
    assert body.sent < 3 * MiB + 128 * 1024
    assert parts_left(tmp_path) == []


class PieceSizes:
    """A writer that keeps only the size of the biggest piece it was handed."""

    def __init__(self) -> None:
        self.biggest = 0
        self.total = 0

    def start(self, content_type: str) -> None:
        pass

    def write(self, pieces: Sequence[bytes]) -> None:
        for piece in pieces:
            self.biggest = max(self.biggest, len(piece))
            self.total += len(piece)

    def restart(self) -> None:
        self.total = 0


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_body_is_inflated_in_bounded_pieces(cdn: respx.MockRouter, encoding: str) -> None:
    # 64 MiB of zeros compress to about 64 KB: httpx's decoder would hand it over in one piece.
    raw = MP4[:64] + bytes(64 * MiB)
    packed = gzip.compress(raw) if encoding == "gzip" else zlib.compress(raw)
    assert len(packed) < MiB
    headers = {"Content-Type": "video/mp4", "Content-Encoding": encoding}
    cdn.get(URL).mock(return_value=httpx.Response(200, headers=headers, content=packed))
    writer = PieceSizes()
    with new_client() as client:
        got = download(client, Source(URL, "task_1", "video 1"), writer, log=log, max_bytes=128 * MiB)
    assert got.bytes == writer.total == len(raw)
    assert writer.biggest <= max(MAX_INFLATED_PIECE, CHUNK_BYTES)


def test_a_compressed_bomb_is_stopped_at_the_size_limit(cdn: respx.MockRouter) -> None:
    packed = gzip.compress(MP4[:64] + bytes(256 * MiB))
    headers = {"Content-Type": "video/mp4", "Content-Encoding": "gzip"}
    cdn.get(URL).mock(return_value=httpx.Response(200, headers=headers, content=packed))
    with new_client() as client, pytest.raises(ApimartDownloadRefusedError, match="more than"):
        download(client, Source(URL, "task_1", "video 1"), PieceSizes(), log=log, max_bytes=8 * MiB)


def test_an_encoding_that_cannot_be_inflated_in_bounded_steps_is_refused(cdn: respx.MockRouter) -> None:
    headers = {"Content-Type": "video/mp4", "Content-Encoding": "br"}
    cdn.get(URL).mock(return_value=httpx.Response(200, headers=headers, content=b"\x0b\x00\x80"))
    with new_client() as client, pytest.raises(ApimartDownloadRefusedError, match="'br'-encoded"):
        download(client, Source(URL, "task_1", "video 1"), PieceSizes(), log=log, max_bytes=MiB)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://cdn.test/v.mp4", "data:video/mp4;base64,AAAA", "gopher://x/"]
)
def test_a_result_url_that_is_not_http_is_refused_at_once(
    cdn: respx.MockRouter, tmp_path: Path, url: str
) -> None:
    with pytest.raises(ApimartDownloadRefusedError, match="not http") as raised:
        store_videos(str(tmp_path), completed(url), provenance={}, log=log)
    assert isinstance(raised.value, AirflowFailException)
    assert not cdn.calls
    assert parts_left(tmp_path) == []


def test_a_redirect_to_a_file_url_is_refused_without_retries(cdn: respx.MockRouter, tmp_path: Path) -> None:
    cdn.get(URL).mock(return_value=httpx.Response(302, headers={"Location": "file:///etc/passwd"}))
    with pytest.raises(ApimartDownloadRefusedError, match="redirects to a URL that is not http"):
        store_videos(str(tmp_path), completed(URL), provenance={}, log=log)
    assert [str(call.request.url) for call in cdn.calls] == [URL]


# ---------------------------------------------------------------- storage that cannot work


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission bits")
def test_a_read_only_output_folder_after_the_render_is_not_retried(
    cdn: respx.MockRouter, tmp_path: Path
) -> None:
    cdn.get(URL).mock(side_effect=lambda request: video())
    folder = tmp_path / "out"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ApimartStorageUnusableError, match="Not retried") as raised:
            store_videos(str(folder), completed(URL), provenance={"task_id": "clip"}, log=log)
    finally:
        folder.chmod(0o755)
    assert isinstance(raised.value, AirflowFailException)


def test_a_read_only_filesystem_after_the_render_is_not_retried(
    cdn: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from airflow_provider_apimart.outputs import _writers

    cdn.get(URL).mock(side_effect=lambda request: video())

    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path))

    monkeypatch.setattr(_writers, "part_name", read_only)
    with pytest.raises(ApimartStorageUnusableError, match="Read-only file system") as raised:
        store_videos(str(tmp_path), completed(URL), provenance={"task_id": "clip"}, log=log)
    assert isinstance(raised.value, AirflowFailException)
    assert "task_1" in str(raised.value)
    assert "'clip'" in str(raised.value)


def test_a_full_disk_after_the_render_is_retried_as_a_storage_error(
    cdn: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from airflow_provider_apimart.outputs import _writers

    cdn.get(URL).mock(side_effect=lambda request: video())

    def disk_full(descriptor: int, pieces: Sequence[bytes]) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_writers, "_write_all", disk_full)
    with pytest.raises(ApimartStorageError) as raised:
        store_videos(str(tmp_path), completed(URL), provenance={"task_id": "clip"}, log=log)
    assert not isinstance(raised.value, AirflowFailException)  # space may be freed: a retry only downloads
    assert parts_left(tmp_path) == []


def test_an_output_path_scheme_with_no_filesystem_is_not_retried_and_downloads_nothing(
    cdn: respx.MockRouter,
) -> None:
    route = cdn.get(f"{CDN}/v/task_1.mp4").mock(return_value=video(MP4))
    with pytest.raises(ApimartStorageUnusableError) as raised:
        store_videos("nosuchfs://bucket/clips", completed(URL), provenance={"task_id": "clip"}, log=log)
    assert "nosuchfs://bucket/clips" in str(raised.value)
    assert route.call_count == 0


def test_a_non_video_answer_is_still_a_retryable_download_error(
    cdn: respx.MockRouter, tmp_path: Path
) -> None:
    cdn.get(f"{CDN}/v/task_1.mp4").mock(return_value=video(b"<html>", content_type="text/html"))
    with pytest.raises(ApimartDownloadError) as raised:
        store_videos(str(tmp_path), completed(URL), provenance={}, log=log)
    assert not isinstance(raised.value, ApimartDownloadRefusedError)
