"""The ``s3_store`` fixture (tests/object_store.py) and what the durable-output code relies on.

Everything goes through Airflow's own ``ObjectStoragePath("s3://moto_s3@<bucket>/videos")``: the
Amazon provider's s3fs filesystem talking HTTP to moto's server on 127.0.0.1. boto3 checks the
result behind Airflow's and s3fs's back.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.object_store import MOTO_CONN_ID, PREFIX, S3Store, open_file

MiB = 2**20
#: s3fs's smallest part: what makes a 12 MiB video a three-part multipart upload (5 + 5 + 2 MiB).
PART = 5 * MiB


def write_in_chunks(file: Any, data: bytes, chunk: int = MiB) -> None:
    for start in range(0, len(data), chunk):
        file.write(data[start : start + chunk])


def test_the_store_is_moto_on_localhost(s3_store: S3Store) -> None:
    path = s3_store.path("a.bin")

    assert str(path) == f"s3://{MOTO_CONN_ID}@{s3_store.bucket}/{PREFIX}/a.bin"
    assert s3_store.endpoint.startswith("http://127.0.0.1:")
    assert path.fs.endpoint_url == s3_store.endpoint
    assert s3_store.keys() == []


def test_a_boto_client_that_names_no_endpoint_still_reaches_moto(s3_store: S3Store) -> None:
    import boto3

    buckets = boto3.client("s3").list_buckets()["Buckets"]

    assert s3_store.bucket in {bucket["Name"] for bucket in buckets}


def test_a_multipart_upload_round_trips_and_appears_only_on_close(s3_store: S3Store) -> None:
    video = os.urandom(12 * MiB)
    path = s3_store.path("a.bin")
    key = f"{PREFIX}/a.bin"

    file = open_file(path, "wb", block_size=PART)
    write_in_chunks(file, video[: 6 * MiB])
    # One 5 MiB part is on the server, in an upload nobody can see yet.
    assert s3_store.multipart_uploads() == [key]
    assert not path.exists()
    assert s3_store.keys() == []
    write_in_chunks(file, video[6 * MiB :])
    file.close()

    assert s3_store.multipart_uploads() == []
    assert s3_store.keys() == [key]
    assert path.exists()
    assert path.is_file()
    assert path.stat().st_size == len(video)
    assert path.size() == len(video)
    assert s3_store.client.head_object(Bucket=s3_store.bucket, Key=key)["ETag"].endswith('-3"')
    assert s3_store.read(key) == video
    read_back = bytearray()
    with open_file(path, "rb") as source:
        while chunk := source.read(3 * MiB):
            read_back += chunk
    assert read_back == video


def test_a_small_object_is_one_put_on_close(s3_store: S3Store) -> None:
    path = s3_store.path("small.bin")

    with open_file(path, "wb") as file:
        file.write(b"tiny video")
        assert not path.exists()
        assert s3_store.multipart_uploads() == []

    assert path.exists()
    assert path.read_bytes() == b"tiny video"
    assert s3_store.keys() == [f"{PREFIX}/small.bin"]


def test_the_default_part_size_is_50_mib(s3_store: S3Store) -> None:
    # Without block_size s3fs holds up to 50 MiB of a video in memory before the first part goes out.
    file = open_file(s3_store.path("a.bin"), "wb")
    assert file.blocksize == 50 * MiB
    file.close()


def test_listing_sees_objects_written_since_the_last_listing(s3_store: S3Store) -> None:
    base = s3_store.path()
    (base / "a.bin").write_bytes(b"a")
    (base / "nested" / "c.bin").write_bytes(b"c")
    assert sorted(child.name for child in base.iterdir()) == ["a.bin", "nested"]

    (base / "b.bin").write_bytes(b"b")

    assert sorted(child.name for child in base.iterdir()) == ["a.bin", "b.bin", "nested"]
    assert (base / "nested").is_dir()
    assert sorted(found.key for found in base.rglob("*.bin")) == [
        f"{PREFIX}/a.bin",
        f"{PREFIX}/b.bin",
        f"{PREFIX}/nested/c.bin",
    ]
    assert s3_store.keys() == [f"{PREFIX}/a.bin", f"{PREFIX}/b.bin", f"{PREFIX}/nested/c.bin"]


@pytest.mark.parametrize(
    ("written", "uploading"),
    [
        pytest.param(6 * MiB, True, id="after-a-part-went-out"),
        pytest.param(1024, False, id="before-the-first-part"),
    ],
)
def test_discard_aborts_the_upload_and_creates_nothing(
    s3_store: S3Store, written: int, uploading: bool
) -> None:
    path = s3_store.path("a.bin")
    file = open_file(path, "wb", block_size=PART)
    write_in_chunks(file, os.urandom(written))
    assert s3_store.multipart_uploads() == ([f"{PREFIX}/a.bin"] if uploading else [])

    file.discard()

    assert s3_store.multipart_uploads() == []
    assert s3_store.keys() == []
    assert not path.exists()
    # s3fs's discard() drops the buffer but leaves the file open, and close() (so leaving a `with`
    # block) then fails on the missing buffer. It still marks the file closed, so nothing is
    # written and garbage collection does not retry: callers close inside suppress(AttributeError).
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'tell'"):
        file.close()
    assert file.closed
    assert s3_store.keys() == []
