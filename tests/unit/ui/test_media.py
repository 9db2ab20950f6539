"""HTTP Range as the media endpoint reads it, and a record that must vouch for the file."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_apimart.ui.generations import Generation, Outcome, TaskKey
from airflow_provider_apimart.ui.media import (
    STREAM_CHUNK_BYTES,
    MediaNotFoundError,
    RangeNotSatisfiableError,
    byte_range,
    read_range,
    recorded_video,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tests.object_store import S3Store

KEY = TaskKey("dag", "run", "clip", 2)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-10", (990, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=900-5000", (900, 999)),
        ("bytes = 5 - 9", (5, 9)),
    ],
)
def test_a_single_byte_range_is_read_as_rfc_9110_says(header: str, expected: tuple[int, int]) -> None:
    wanted = byte_range(header, 1000)
    assert wanted is not None
    assert (wanted.start, wanted.end) == expected
    assert wanted.content_range() == f"bytes {expected[0]}-{expected[1]}/1000"


@pytest.mark.parametrize("header", [None, "", "bytes=0-1,5-9", "items=0-5", "bytes=-", "nonsense"])
def test_no_several_or_unknown_ranges_send_the_whole_file(header: str | None) -> None:
    assert byte_range(header, 1000) is None


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1500-1600", "bytes=9-3", "bytes=-0"])
def test_a_range_outside_the_file_is_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        byte_range(header, 1000)


def test_a_range_is_read_in_bounded_chunks(tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    data = bytes(range(256)) * (STREAM_CHUNK_BYTES // 128)  # two chunks and a bit
    (tmp_path / "v.mp4").write_bytes(data)
    chunks = list(read_range(ObjectStoragePath(f"file://{tmp_path}/v.mp4"), 10, len(data) - 20))
    assert b"".join(chunks) == data[10:-10]
    assert max(len(chunk) for chunk in chunks) <= STREAM_CHUNK_BYTES


def stored(tmp_path: Path, **record_changes: Any) -> Generation:
    """A generation whose video is on disk with the record the provider writes beside it."""
    data = b"\x00\x00\x00\x18ftypmp42" + b"x" * 500
    video = tmp_path / "task_abc-2.mp4"
    video.write_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    record = {
        "dag_id": KEY.dag_id,
        "run_id": KEY.run_id,
        "task_id": KEY.task_id,
        "map_index": KEY.map_index,
        "remote_task_id": "task_abc",
        "file": video.name,
        "sha256": sha256,
        "bytes": len(data),
        **record_changes,
    }
    (tmp_path / "task_abc-2.json").write_text(json.dumps(record))
    outputs = [
        {"uri": f"file://{tmp_path}/other.mp4", "sha256": "0", "bytes": 1, "content_type": "video/mp4"},
        {"uri": f"file://{video}", "sha256": sha256, "bytes": len(data), "content_type": "video/mp4"},
    ]
    moment = datetime(2026, 12, 7, tzinfo=timezone.utc)
    return Generation(KEY, "task_abc", Outcome.COMPLETED, "success", 1, moment, {"outputs": outputs})


def test_a_video_its_record_vouches_for_is_served(tmp_path: Path) -> None:
    video = recorded_video(stored(tmp_path), 2)
    assert (video.size, video.content_type, video.file_name) == (512, "video/mp4", "task_abc-2.mp4")


@pytest.mark.parametrize(
    "change",
    [
        {"file": "../../etc/passwd"},
        {"sha256": "f" * 64},
        {"dag_id": "another_dag"},
        {"run_id": "another_run"},
        {"task_id": "another_task"},
        {"map_index": 0},
        {"remote_task_id": "task_other"},
    ],
)
def test_a_record_that_names_anything_else_refuses_the_file(tmp_path: Path, change: dict[str, Any]) -> None:
    with pytest.raises(MediaNotFoundError, match="does not vouch"):
        recorded_video(stored(tmp_path, **change), 2)


def test_a_file_changed_since_it_was_stored_is_refused(tmp_path: Path) -> None:
    generation = stored(tmp_path)
    (tmp_path / "task_abc-2.mp4").write_bytes(b"shorter")
    with pytest.raises(MediaNotFoundError, match="changed since it was stored"):
        recorded_video(generation, 2)


def test_no_record_no_video(tmp_path: Path) -> None:
    generation = stored(tmp_path)
    (tmp_path / "task_abc-2.json").unlink()
    with pytest.raises(MediaNotFoundError, match="no readable provenance record"):
        recorded_video(generation, 2)


@pytest.mark.parametrize("number", [0, 3])
def test_a_video_number_beyond_the_outputs_is_not_found(tmp_path: Path, number: int) -> None:
    with pytest.raises(MediaNotFoundError):
        recorded_video(stored(tmp_path), number)


def test_a_video_stored_on_s3_is_vouched_for_and_read_by_range(
    s3_store: S3Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record beside the video on a real object store (moto on 127.0.0.1), read through Airflow."""
    data = bytes(range(256)) * (STREAM_CHUNK_BYTES // 64)  # four chunks
    sha256 = hashlib.sha256(data).hexdigest()
    prefix = "videos/run"
    record = {
        "dag_id": KEY.dag_id, "run_id": KEY.run_id, "task_id": KEY.task_id, "map_index": KEY.map_index,
        "remote_task_id": "task_abc", "file": "task_abc.mp4", "sha256": sha256, "bytes": len(data),
    }  # fmt: skip
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=f"{prefix}/task_abc.mp4", Body=data)
    s3_store.client.put_object(
        Bucket=s3_store.bucket, Key=f"{prefix}/task_abc.json", Body=json.dumps(record).encode()
    )
    uri = f"s3://{s3_store.conn_id}@{s3_store.bucket}/{prefix}/task_abc.mp4"
    outputs = [{"uri": uri, "sha256": sha256, "bytes": len(data), "content_type": "video/mp4"}]
    moment = datetime(2026, 12, 7, tzinfo=timezone.utc)
    generation = Generation(KEY, "task_abc", Outcome.COMPLETED, "success", 1, moment, {"outputs": outputs})

    video = recorded_video(generation, 1)
    wanted = byte_range(f"bytes={STREAM_CHUNK_BYTES + 5}-", video.size)
    assert wanted is not None
    filesystem, opened = video.path.fs, []
    real_open = filesystem._open

    def spy(*args: Any, **kwargs: Any) -> Any:
        opened.append(real_open(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(filesystem, "_open", spy)
    chunks = list(read_range(video.path, wanted.start, wanted.length))
    assert b"".join(chunks) == data[STREAM_CHUNK_BYTES + 5 :]
    assert max(len(chunk) for chunk in chunks) <= STREAM_CHUNK_BYTES
    # s3fs fetches whole blocks (50 MiB by default): one chunk each keeps a stream's memory flat.
    assert [file.blocksize for file in opened] == [STREAM_CHUNK_BYTES]

    s3_store.client.put_object(Bucket=s3_store.bucket, Key=f"{prefix}/task_abc.mp4", Body=data[:-1])
    with pytest.raises(MediaNotFoundError, match="changed since it was stored"):
        recorded_video(generation, 1)
