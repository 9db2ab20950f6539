"""A stored video, streamed to a browser from its recorded copy, with HTTP Range so players seek.

The request names a task instance and a video number, never a path: the path comes from the
task's ``apimart_task`` XCom, and is served only when the provenance record written beside the file
names that very file, task instance, APIMart task and sha256, and the file still has the recorded
size. So nothing but a video the provider stored and recorded can be read here, whatever the XCom
says. Reads go through ObjectStoragePath (local folders, S3, any fsspec store) in bounded chunks:
memory stays flat for any size (benchmarks/media_stream.py measures a 1 GB file).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.outputs import naming

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow.sdk import ObjectStoragePath

    from airflow_provider_apimart.ui.generations import Generation

#: Bytes read from the store per step while streaming.
STREAM_CHUNK_BYTES = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class MediaNotFoundError(LookupError):
    """No recorded video answers this identifier (the message says why, for the server log)."""


@dataclass(frozen=True)
class RecordedVideo:
    """A stored video whose record vouches for it."""

    path: ObjectStoragePath
    size: int
    content_type: str
    sha256: str

    @property
    def file_name(self) -> str:
        return str(self.path.name)


def recorded_video(generation: Generation, number: int) -> RecordedVideo:
    """Video ``number`` (from 1) of ``generation``, checked against its provenance record.

    :raises MediaNotFoundError: no such video, or its record does not vouch for the file.
    """
    from airflow.sdk import ObjectStoragePath

    outputs = generation.outputs
    if not 1 <= number <= len(outputs) or generation.remote_task_id is None:
        raise MediaNotFoundError(f"{generation.key} has no stored video {number}")
    output = outputs[number - 1]
    uri, sha256, size = output.get("uri"), output.get("sha256"), output.get("bytes")
    content_type = str(output.get("content_type") or "")
    if not isinstance(uri, str) or not isinstance(sha256, str) or not isinstance(size, int):
        raise MediaNotFoundError(f"{generation.key} video {number} has no complete output entry")
    if not content_type.startswith("video/"):
        raise MediaNotFoundError(f"{generation.key} video {number} is {content_type!r}, not a video")
    path = ObjectStoragePath(uri)
    record = _read_record(path.parent / naming.record_name(naming.stem(generation.remote_task_id, number)))
    key = generation.key
    vouched = {
        "file": path.name,
        "sha256": sha256,
        "bytes": size,
        "remote_task_id": generation.remote_task_id,
        "dag_id": key.dag_id,
        "run_id": key.run_id,
        "task_id": key.task_id,
        "map_index": key.map_index,
    }
    mismatched = sorted(name for name, value in vouched.items() if record.get(name) != value)
    if mismatched:
        raise MediaNotFoundError(f"the record beside {uri} does not vouch for it ({', '.join(mismatched)})")
    try:
        actual = int(path.stat().st_size)
    except OSError as error:
        raise MediaNotFoundError(f"{uri} cannot be read: {error}") from error
    if actual != size:
        raise MediaNotFoundError(
            f"{uri} holds {actual} bytes, its record {size}: it changed since it was stored"
        )
    return RecordedVideo(path, size, content_type, sha256)


def _read_record(record_path: ObjectStoragePath) -> dict[str, Any]:
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError) as error:
        raise MediaNotFoundError(f"no readable provenance record at {record_path}: {error}") from error
    if not isinstance(record, dict):
        raise MediaNotFoundError(f"the provenance record at {record_path} is not an object")
    return record


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range of a file of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


class RangeNotSatisfiableError(ValueError):
    """The Range header asks for bytes the file does not have (HTTP 416)."""


def byte_range(header: str | None, size: int) -> ByteRange | None:
    """The range a ``Range`` header asks for; None to send the whole file (no header, several
    ranges or another unit: RFC 9110 lets a server answer those with a 200).

    :raises RangeNotSatisfiableError: a single byte range that starts past the end, or is empty.
    """
    if not header or size == 0:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # a suffix: the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiableError(header)
        return ByteRange(max(0, size - suffix), size - 1, size)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiableError(header)
    return ByteRange(start, end, size)


def read_range(path: ObjectStoragePath, start: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of ``path`` from ``start``, a chunk at a time.

    ``block_size`` keeps an object store's reads to one chunk too (s3fs would fetch 50 MiB blocks);
    a local file ignores it.
    """
    with path.open("rb", block_size=STREAM_CHUNK_BYTES) as file:  # type: ignore[no-untyped-call]
        file.seek(start)
        remaining = length
        while remaining > 0:
            chunk = file.read(min(STREAM_CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
