"""store_videos around the download: where files go, what they are named, records, and retries."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from airflow_provider_apimart.exceptions import (
    ApimartConfigurationError,
    ApimartResponseError,
    ApimartVideoExpiredError,
)
from airflow_provider_apimart.outputs import StoredVideo, _writers, store_videos
from airflow_provider_apimart.outputs import store as store_module
from airflow_provider_apimart.outputs.store import output_folder
from tests.unit.outputs.helpers import CDN, MP4, PUBLIC, URL, completed, log, video

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@pytest.fixture
def cdn() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.get(url__startswith=CDN).mock(side_effect=lambda request: video())
        yield router


@pytest.mark.parametrize(
    ("output_path", "uri"),
    [
        ("/data/videos", "file:///data/videos"),
        ("/data/videos/", "file:///data/videos"),
        ("/data/../data/videos", "file:///data/videos"),
        ("file:///data/videos", "file:///data/videos"),
        ("file://localhost/data/videos", "file:///data/videos"),
        ("s3://aws_default@bucket/videos", "s3://aws_default@bucket/videos"),
    ],
)
def test_output_paths_become_object_storage_paths(output_path: str, uri: str) -> None:
    assert str(output_folder(output_path)) == uri


@pytest.mark.parametrize(
    "output_path", ["videos", "./videos", "~/videos", "file://videos", "file:videos", ""]
)
def test_a_relative_output_path_is_refused(output_path: str) -> None:
    with pytest.raises(ApimartConfigurationError, match="output_path") as raised:
        store_videos(output_path, completed(URL), provenance={}, log=log)
    assert repr(output_path) in str(raised.value)
    assert "absolute" in str(raised.value)


WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + bytes(200)


def test_each_video_gets_its_own_name_and_record(tmp_path: Path) -> None:
    urls = [URL, f"{CDN}/v/second.mp4?token=a", f"{CDN}/v/third?token=b"]
    with respx.mock() as router:
        router.get(f"{CDN}/v/second.mp4").mock(
            return_value=video(WEBM, content_type="application/octet-stream")
        )
        router.get(url__startswith=CDN).mock(side_effect=lambda request: video())
        stored = store_videos(str(tmp_path), completed(*urls), provenance={"dag_id": "d"}, log=log)

    # The extension is the content's: the second URL says .mp4 and serves a WebM.
    names = ["task_1.mp4", "task_1-2.webm", "task_1-3.mp4"]
    assert [video.uri for video in stored] == [f"file://{tmp_path}/{name}" for name in names]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [*names, "task_1.json", "task_1-2.json", "task_1-3.json"]
    )
    records = [
        json.loads((tmp_path / f"{stem}.json").read_text()) for stem in ("task_1", "task_1-2", "task_1-3")
    ]
    assert [record["index"] for record in records] == [1, 2, 3]
    assert [record["source_url"] for record in records] == [PUBLIC, f"{CDN}/v/second.mp4", f"{CDN}/v/third"]
    assert [record["file"] for record in records] == names
    assert all(record["dag_id"] == "d" for record in records)


@pytest.mark.parametrize("path", ["/v/task_1.json", "/v/clip.JSON", "/v/clip.json/", "/v/a.exe"])
def test_a_url_that_names_another_kind_of_file_cannot_overwrite_the_record(
    cdn: respx.MockRouter, tmp_path: Path, path: str
) -> None:
    # A result URL ending in .json once saved the video as <id>.json, then its record overwrote it.
    (stored,) = store_videos(str(tmp_path), completed(f"{CDN}{path}?token=a"), provenance={}, log=log)
    assert stored.uri == f"file://{tmp_path}/task_1.mp4"
    assert (tmp_path / "task_1.mp4").read_bytes() == MP4
    assert json.loads((tmp_path / "task_1.json").read_text())["sha256"] == stored.sha256


def test_to_xcom_is_exactly_what_downstream_tasks_need() -> None:
    stored = StoredVideo("file:///v/t.mp4", "ab", 3, "video/mp4", "https://cdn/t.mp4")
    assert stored.to_xcom() == {
        "uri": "file:///v/t.mp4",
        "sha256": "ab",
        "bytes": 3,
        "content_type": "video/mp4",
    }


def test_provenance_cannot_overwrite_what_was_measured(cdn: respx.MockRouter, tmp_path: Path) -> None:
    provenance = {"sha256": "forged", "bytes": 1, "source_url": URL, "run_id": "r"}
    (stored,) = store_videos(str(tmp_path), completed(URL), provenance=provenance, log=log)
    record = json.loads((tmp_path / "task_1.json").read_text())
    assert (record["sha256"], record["bytes"], record["source_url"]) == (stored.sha256, len(MP4), PUBLIC)
    assert record["run_id"] == "r"


def test_the_record_is_written_after_its_video_is_complete(
    cdn: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def record_after_video(target: Any, text: str) -> None:
        seen.append(sorted(path.name for path in tmp_path.iterdir()))
        _writers.write_text(target, text)

    monkeypatch.setattr(store_module, "write_text", record_after_video)
    store_videos(str(tmp_path), completed(URL), provenance={}, log=log)
    assert seen == [["task_1.mp4"]]  # whole, renamed from its .part, and no record yet


@pytest.mark.parametrize("task_id", ["../escape", "a/b", ".hidden", "task 1"])
def test_a_task_id_that_cannot_name_a_file_is_refused(
    cdn: respx.MockRouter, tmp_path: Path, task_id: str
) -> None:
    with pytest.raises(ApimartResponseError, match="cannot name a file"):
        store_videos(str(tmp_path), completed(URL, task_id=task_id), provenance={}, log=log)
    assert cdn.calls.call_count == 0


def test_a_status_without_videos_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ApimartResponseError, match="no video URL"):
        store_videos(str(tmp_path), completed(), provenance={}, log=log)


def _truncate_video(folder: Path) -> None:
    (folder / "task_1.mp4").write_bytes(MP4[:100])


def _other_task_in_record(folder: Path) -> None:
    record = json.loads((folder / "task_1.json").read_text())
    (folder / "task_1.json").write_text(json.dumps({**record, "remote_task_id": "task_2"}))


def _other_url_in_record(folder: Path) -> None:
    record = json.loads((folder / "task_1.json").read_text())
    (folder / "task_1.json").write_text(json.dumps({**record, "source_url": f"{CDN}/other.mp4"}))


def _broken_record(folder: Path) -> None:
    (folder / "task_1.json").write_text("{not json")


def _no_record(folder: Path) -> None:
    (folder / "task_1.json").unlink()


def _no_video(folder: Path) -> None:
    (folder / "task_1.mp4").unlink()


def _same_size_other_bytes(folder: Path) -> None:
    # What two writers sharing one .part once published: the right size, zero-filled gaps.
    (folder / "task_1.mp4").write_bytes(MP4[:4000] + bytes(len(MP4) - 4000))


def _record_names_the_record(folder: Path) -> None:
    record = json.loads((folder / "task_1.json").read_text())
    (folder / "task_1.json").write_text(json.dumps({**record, "file": "task_1.json"}))


@pytest.mark.parametrize(
    "spoil",
    [
        _truncate_video,
        _other_task_in_record,
        _other_url_in_record,
        _broken_record,
        _no_record,
        _no_video,
        _same_size_other_bytes,
        _record_names_the_record,
    ],
)
def test_an_earlier_copy_that_does_not_match_is_downloaded_again(
    cdn: respx.MockRouter, tmp_path: Path, spoil: Callable[[Path], None]
) -> None:
    (first,) = store_videos(str(tmp_path), completed(URL), provenance={}, log=log)
    spoil(tmp_path)

    (again,) = store_videos(str(tmp_path), completed(URL), provenance={}, log=log)

    assert cdn.calls.call_count == 2
    assert again == first
    assert (tmp_path / "task_1.mp4").read_bytes() == MP4


def test_a_fresh_signature_of_the_same_video_counts_as_stored(cdn: respx.MockRouter, tmp_path: Path) -> None:
    store_videos(str(tmp_path), completed(URL), provenance={}, log=log)
    resigned = f"{PUBLIC}?token=fresh&expires=1"
    (again,) = store_videos(str(tmp_path), completed(resigned), provenance={}, log=log)
    assert cdn.calls.call_count == 1
    assert again.source_url == PUBLIC


def test_a_failed_download_leaves_neither_part_nor_record(tmp_path: Path) -> None:
    with respx.mock() as router:
        router.get(URL).mock(return_value=httpx.Response(404))
        with pytest.raises(ApimartVideoExpiredError, match="HTTP 404"):
            store_videos(str(tmp_path / "out"), completed(URL), provenance={}, log=log)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_record_without_file_from_an_earlier_release_is_still_trusted(
    cdn: respx.MockRouter, tmp_path: Path
) -> None:
    store_videos(str(tmp_path), completed(URL), provenance={}, log=log)
    record = json.loads((tmp_path / "task_1.json").read_text())
    del record["file"]
    (tmp_path / "task_1.json").write_text(json.dumps(record))
    store_videos(str(tmp_path), completed(URL), provenance={}, log=log)
    assert cdn.calls.call_count == 1


def test_two_tries_storing_one_video_at_once_publish_it_whole(tmp_path: Path) -> None:
    import hashlib
    import threading

    body = MP4 * 50  # ~500 KB, sent in 50 pieces by each answer
    both_started = threading.Barrier(2)

    class Slow(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            both_started.wait(timeout=10)
            for start in range(0, len(body), len(MP4)):
                yield body[start : start + len(MP4)]

    with respx.mock() as router:
        router.get(url__startswith=CDN).mock(
            side_effect=lambda request: httpx.Response(
                200, headers={"Content-Type": "video/mp4"}, stream=Slow()
            )
        )
        results: list[StoredVideo] = []
        tries = [
            threading.Thread(
                target=lambda: results.extend(
                    store_videos(str(tmp_path), completed(URL), provenance={}, log=log)
                )
            )
            for _ in range(2)
        ]
        for thread in tries:
            thread.start()
        for thread in tries:
            thread.join(timeout=30)

    assert len(results) == 2
    assert (tmp_path / "task_1.mp4").read_bytes() == body
    record = json.loads((tmp_path / "task_1.json").read_text())
    assert record["sha256"] == hashlib.sha256(body).hexdigest() == results[0].sha256
    assert sorted(path.name for path in tmp_path.iterdir()) == ["task_1.json", "task_1.mp4"]
