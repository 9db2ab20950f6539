"""Durable outputs: copy a completed task's videos into ``output_path``, each with a provenance record.

Result URLs expire (about 24 h after the render), so an operator calls :func:`store_videos` on the
worker once a render completes; never in the triggerer, whose event loop it would block. For each
video, ``<remote_task_id>[-N]<ext>`` appears whole or not at all, then ``<remote_task_id>[-N].json``
beside it says what made it: a record present means its video is complete. A retry finds both
and downloads nothing again.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_apimart import __version__
from airflow_provider_apimart.exceptions import (
    ApimartConfigurationError,
    ApimartError,
    ApimartResponseError,
    ApimartStorageError,
)
from airflow_provider_apimart.outputs._download import (
    DOWNLOAD_ATTEMPTS,
    Source,
    download,
    human_size,
    new_client,
    public_url,
)
from airflow_provider_apimart.outputs._writers import atomic_writer, is_local, write_text
from airflow_provider_apimart.outputs.paths import relative_path_problem

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_apimart.models.responses import TaskStatus

__all__ = ["DOWNLOAD_ATTEMPTS", "StoredVideo", "output_folder", "store_videos"]

#: Used when a result URL's path has no usable suffix.
DEFAULT_EXTENSION = ".mp4"
_EXTENSION = re.compile(r"\.[a-z0-9]{1,8}")
#: The remote task id names the files, so it must not be able to climb out of ``output_path``.
_SAFE_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


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


def store_videos(
    output_path: str,
    status: TaskStatus,
    *,
    provenance: Mapping[str, Any],
    log: Any,
    client: httpx.Client | None = None,
) -> list[StoredVideo]:
    """Stream every video of a completed ``status`` into ``output_path``, in result order.

    :param output_path: an absolute local path, a ``file://`` URI or any ObjectStoragePath URI
        (``s3://conn_id@bucket/prefix``).
    :param provenance: what made the videos (model, request, dag_id, run_id, ...), copied into each
        record. Never pass a secret: records are meant to be read.
    :param log: the task's logger.
    :param client: an httpx client to download with (tests, benchmarks); it must carry no
        credentials. By default a fresh client with no auth is opened and closed here.
    :raises ApimartConfigurationError: ``output_path`` is relative.
    :raises ApimartVideoExpiredError: a result URL answered 403, 404 or 410: read the task again
        for fresh URLs and call this again (videos stored so far are not downloaded again).
    :raises ApimartDownloadError: a video could not be copied within ``DOWNLOAD_ATTEMPTS`` tries,
        or what was received is not a video.
    """
    folder = output_folder(output_path)
    urls = status.video_urls
    if not urls:
        raise ApimartResponseError(f"APIMart task {status.id} has no video URL to store.")
    if not _SAFE_TASK_ID.fullmatch(status.id) or ".." in status.id:
        raise ApimartResponseError(f"APIMart task id {status.id!r} cannot name a file in {output_path}.")
    http = client if client is not None else new_client()
    try:
        return [
            _store_one(http, folder, status, index, url, provenance=provenance, log=log)
            for index, url in enumerate(urls, start=1)
        ]
    finally:
        if client is None:
            http.close()


def output_folder(output_path: str) -> ObjectStoragePath:
    """``output_path`` as an ObjectStoragePath; an absolute local path becomes ``file://<path>``."""
    from airflow.sdk import ObjectStoragePath  # here: DAG files import this module at parse time

    problem = relative_path_problem(output_path)
    if problem is not None:
        raise ApimartConfigurationError(problem)
    raw = str(output_path).strip()
    if "://" not in raw:
        return ObjectStoragePath("file://" + os.path.normpath(raw))
    parts = urlsplit(raw)
    return ObjectStoragePath("file://" + parts.path if parts.scheme == "file" else raw)


def _store_one(
    http: httpx.Client,
    folder: ObjectStoragePath,
    status: TaskStatus,
    index: int,
    url: str,
    *,
    provenance: Mapping[str, Any],
    log: Any,
) -> StoredVideo:
    count = len(status.video_urls)
    stem = status.id if index == 1 else f"{status.id}-{index}"
    video_path = folder / f"{stem}{_extension(url)}"
    record_path = folder / f"{stem}.json"
    expires_at = float(status.expires_at) if status.expires_at is not None else None
    source = Source(url, status.id, f"video {index} of {count} of APIMart task {status.id}", expires_at)
    earlier = _earlier_copy(video_path, record_path, source)
    if earlier is not None:
        log.info(
            "Video %d of %d of APIMart task %s is already stored at %s from an earlier try: "
            "not downloaded again.",
            index,
            count,
            status.id,
            earlier.uri,
        )
        return earlier
    log.info("Downloading %s from %s to %s.", source.label, source.public, video_path)
    try:
        with atomic_writer(video_path) as writer:
            got = download(http, source, writer, log=log)
    except ApimartError:
        raise
    except Exception as error:  # each store fails its own way (OSError, botocore, gcsfs, ...)
        raise storage_failure(error, video_path, status, provenance) from error
    stored = StoredVideo(str(video_path), got.sha256, got.bytes, got.content_type, source.public)
    record = {
        **provenance,
        "remote_task_id": status.id,
        "index": index,
        "source_url": stored.source_url,
        "sha256": stored.sha256,
        "bytes": stored.bytes,
        "content_type": stored.content_type,
        "cost": status.cost,
        "created": status.created,
        "completed": status.completed,
        "expires_at": status.expires_at,
        "stored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "provider_version": __version__,
    }
    # After the video, never before: a record present means its video is complete.
    try:
        write_text(record_path, json.dumps(record, indent=2, default=str) + "\n")
    except Exception as error:
        raise storage_failure(error, record_path, status, provenance) from error
    log.info(
        "Stored %s at %s (%s, sha256 %s...).",
        source.label,
        stored.uri,
        human_size(stored.bytes),
        stored.sha256[:12],
    )
    return stored


def storage_failure(
    error: BaseException, target: ObjectStoragePath, status: TaskStatus, provenance: Mapping[str, Any]
) -> ApimartStorageError:
    """The one error of a store that failed after the render was paid: who, what, where, until when."""
    cause = describe_failure(error)
    task = provenance.get("task_id")
    expires = _until(status.expires_at)
    return ApimartStorageError(
        f"Task {task!r}: the paid video of APIMart task {status.id} could not be written to {target} "
        f"({cause}). Its source URL lives until {expires}. A retry or a clear reattaches to the same job "
        "and only downloads (no new charge): fix the storage and clear the task before then. To keep it "
        f"by hand, ApimartHook().get_task({status.id!r}).video_urls gives the URL to download."
    )


#: How much of a store's own error message goes into ours.
MAX_CAUSE_CHARS = 300


def describe_failure(error: BaseException) -> str:
    """A store's error on one line, cut short: each store fails its own way (OSError, botocore, ...)."""
    cause = " ".join(f"{type(error).__name__}: {error}".split())
    return cause if len(cause) <= MAX_CAUSE_CHARS else f"{cause[: MAX_CAUSE_CHARS - 3]}..."


def _until(expires_at: float | None) -> str:
    if expires_at is None:
        return "an unknown time (APIMart gave no expires_at)"
    when = datetime.fromtimestamp(expires_at, tz=timezone.utc)
    hours = (expires_at - datetime.now(timezone.utc).timestamp()) / 3600
    return f"{when:%Y-%m-%d %H:%M} UTC (expires_at {int(expires_at)}, in {hours:.1f} h)"


def _extension(url: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return suffix if _EXTENSION.fullmatch(suffix) else DEFAULT_EXTENSION


def _earlier_copy(
    video_path: ObjectStoragePath, record_path: ObjectStoragePath, source: Source
) -> StoredVideo | None:
    """The video an earlier try stored, if its record matches this task and URL and its size."""
    try:
        record = json.loads(record_path.read_text())
        size = os.path.getsize(video_path.path) if is_local(video_path) else video_path.stat().st_size
    except (OSError, ValueError):  # missing, unreadable or not JSON: download again
        return None
    if not isinstance(record, dict):
        return None
    sha256, stored_bytes = record.get("sha256"), record.get("bytes")
    if (
        record.get("remote_task_id") != source.remote_task_id
        or record.get("source_url") != public_url(source.url)
        or not isinstance(sha256, str)
        or not isinstance(stored_bytes, int)
        or stored_bytes != size
    ):
        return None
    return StoredVideo(
        str(video_path), sha256, stored_bytes, str(record.get("content_type", "")), source.public
    )
