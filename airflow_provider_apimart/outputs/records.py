"""Provenance records: what a stored video is, and when an earlier try's copy may be trusted.

``<stem>.json`` is written after its video, so a record present says its video was complete
when written. A retry trusts it only if the file it names still has the recorded size *and*
sha256: a same-size file with other bytes (a copy two writers once interleaved, a file replaced
by hand) is downloaded again and repaired. Re-hashing is the one check that cannot be fooled; it
reads the file once, at disk speed (benchmarks/verify_copy.py measures it on 1 GB).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.http_basics import public_url
from airflow_provider_apimart.outputs import naming

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

#: Bytes read per step while re-hashing a stored file.
HASH_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class StoredVideo:
    """One video kept in ``output_path``."""

    #: ``str()`` of the stored file's ObjectStoragePath (``file:///...`` for a local folder).
    uri: str
    sha256: str
    bytes: int
    content_type: str
    #: The result URL without its query string: a signed URL's query is its credential.
    source_url: str

    def to_xcom(self) -> dict[str, Any]:
        """What downstream tasks need; the source URL stays in the record (it expires anyway)."""
        return {
            "uri": self.uri,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "content_type": self.content_type,
        }


def sha256_of(path: ObjectStoragePath) -> tuple[str, int]:
    """The sha256 and size of a stored file, read in steps (memory stays flat)."""
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as file:  # type: ignore[no-untyped-call]
        while chunk := file.read(HASH_CHUNK_BYTES):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def earlier_copy(
    folder: ObjectStoragePath, stem: str, *, remote_task_id: str, url: str
) -> StoredVideo | None:
    """The video an earlier try stored under ``stem``, if its record is about this task and URL and
    the file it names still holds exactly the recorded bytes; else None (download again)."""
    try:
        record = json.loads((folder / naming.record_name(stem)).read_text())
    except (OSError, ValueError):  # missing, unreadable or not JSON
        return None
    if not isinstance(record, dict):
        return None
    sha256, size = record.get("sha256"), record.get("bytes")
    name = record.get("file") or _name_before_0_2(stem, url)
    if (
        record.get("remote_task_id") != remote_task_id
        or record.get("source_url") != public_url(url)
        or not isinstance(sha256, str)
        or not isinstance(size, int)
        or not isinstance(name, str)
        or not name.startswith(stem)
        or "/" in name
        or name == naming.record_name(stem)
    ):
        return None
    video = folder / name
    try:
        if (sha256, size) != sha256_of(video):
            return None
    except OSError:  # gone, or unreadable now
        return None
    return StoredVideo(str(video), sha256, size, str(record.get("content_type", "")), public_url(url))


def _name_before_0_2(stem: str, url: str) -> str:
    """Records written before ``file`` existed (provider 0.1) named the video after its URL's extension."""
    suffix = url.split("?", 1)[0].rsplit("/", 1)[-1]
    extension = suffix[suffix.rfind(".") :].lower() if "." in suffix else ""
    valid = 2 <= len(extension) <= 9 and extension[1:].isalnum()
    return stem + (extension if valid else naming.DEFAULT_EXTENSION)
