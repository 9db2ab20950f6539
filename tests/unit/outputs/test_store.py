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


def test_each_video_gets_its_own_name_and_record(cdn: respx.MockRouter, tmp_path: Path) -> None:
    urls = [URL, f"{CDN}/v/second.webm?token=a", f"{CDN}/v/third?token=b"]

    stored = store_videos(str(tmp_path), completed(*urls), provenance={"dag_id": "d"}, log=log)

    names = ["task_1.mp4", "task_1-2.webm", "task_1-3.mp4"]
    assert [video.uri for video in stored] == [f"file://{tmp_path}/{name}" for name in names]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [*names, "task_1.json", "task_1-2.json", "task_1-3.json"]
    )
    records = [
        json.loads((tmp_path / f"{stem}.json").read_text()) for stem in ("task_1", "task_1-2", "task_1-3")
    ]
    assert [record["index"] for record in records] == [1, 2, 3]
    assert [record["source_url"] for record in records] == [PUBLIC, f"{CDN}/v/second.webm", f"{CDN}/v/third"]
    assert all(record["dag_id"] == "d" for record in records)


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


@pytest.mark.parametrize(
    "spoil",
    [_truncate_video, _other_task_in_record, _other_url_in_record, _broken_record, _no_record, _no_video],
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
    assert list((tmp_path / "out").iterdir()) == []
