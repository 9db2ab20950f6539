"""Durable outputs: copy a completed task's videos into ``output_path``, each with a provenance record.

Result URLs expire (about 24 h after the render), so an operator calls :func:`store_videos` on the
worker once a render completes; never in the triggerer, whose event loop it would block. For each
video, ``<remote_task_id>[-N]<ext>`` (the extension from the content) appears whole or not at all,
then ``<remote_task_id>[-N].json`` beside it says what made it: a record present means its video is
complete. A retry finds both, checks the file against the record's sha256, and downloads nothing
again.
"""

from __future__ import annotations

import errno
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart import __version__
from airflow_provider_apimart.exceptions import (
    ApimartConfigurationError,
    ApimartError,
    ApimartResponseError,
    ApimartStorageError,
    ApimartStorageUnusableError,
)
from airflow_provider_apimart.outputs import naming
from airflow_provider_apimart.outputs._download import (
    DOWNLOAD_ATTEMPTS,
    Source,
    download,
    new_client,
)
from airflow_provider_apimart.outputs._writers import VideoWriter, is_local, write_text
from airflow_provider_apimart.outputs.records import StoredVideo, earlier_copy
from airflow_provider_apimart.storage_paths import storage_path
from airflow_provider_apimart.version_compat import conf
from airflow_provider_apimart.wording import describe_size

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_apimart.models.responses import TaskStatus

__all__ = ["DOWNLOAD_ATTEMPTS", "StoredVideo", "output_folder", "store_videos"]

#: The default of ``[apimart] max_video_bytes``: 2 GiB, far above any clip APIMart renders.
DEFAULT_MAX_VIDEO_BYTES = 2 * 1024**3
#: OS errors that no retry fixes: the folder cannot take writes as it is.
_UNUSABLE_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR})


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
    try:
        folder = output_folder(output_path)
    except ApimartConfigurationError:
        raise
    except Exception as error:  # a scheme with no filesystem here, a bad URI
        raise storage_failure(error, output_path, status, provenance) from error
    urls = status.video_urls
    if not urls:
        raise ApimartResponseError(f"APIMart task {status.id} has no video URL to store.")
    if not naming.is_safe_task_id(status.id):
        raise ApimartResponseError(f"APIMart task id {status.id!r} cannot name a file in {output_path}.")
    max_bytes = conf.getint("apimart", "max_video_bytes", fallback=DEFAULT_MAX_VIDEO_BYTES)
    http = client if client is not None else new_client()
    try:
        return [
            _store_one(http, folder, status, index, url, provenance=provenance, log=log, max_bytes=max_bytes)
            for index, url in enumerate(urls, start=1)
        ]
    finally:
        if client is None:
            http.close()


def output_folder(output_path: str) -> ObjectStoragePath:
    """``output_path`` as an ObjectStoragePath (:func:`~airflow_provider_apimart.storage_paths.storage_path`).

    :raises ValueError: no filesystem is registered for the scheme (before anything is downloaded).
    """
    return storage_path(output_path)


def _store_one(
    http: httpx.Client,
    folder: ObjectStoragePath,
    status: TaskStatus,
    index: int,
    url: str,
    *,
    provenance: Mapping[str, Any],
    log: Any,
    max_bytes: int,
) -> StoredVideo:
    count = len(status.video_urls)
    stem = naming.stem(status.id, index)
    record_path = folder / naming.record_name(stem)
    expires_at = float(status.expires_at) if status.expires_at is not None else None
    source = Source(url, status.id, f"video {index} of {count} of APIMart task {status.id}", expires_at)
    earlier = earlier_copy(folder, stem, remote_task_id=status.id, url=url)
    if earlier is not None:
        log.info(
            "Video %d of %d of APIMart task %s is already stored at %s from an earlier try (sha256 "
            "checked): not downloaded again.",
            index,
            count,
            status.id,
            earlier.uri,
        )
        return earlier
    log.info("Downloading %s from %s to %s.", source.label, source.public, folder / f"{stem}.*")
    writer = VideoWriter(lambda content_type: folder / f"{stem}{naming.extension_for(content_type)}")
    try:
        try:
            got = download(http, source, writer, log=log, max_bytes=max_bytes)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
    except ApimartError:
        raise
    except Exception as error:  # each store fails its own way (OSError, botocore, gcsfs, ...)
        raise storage_failure(error, writer.target or folder, status, provenance) from error
    video_path = writer.target
    assert video_path is not None  # a download that returned has started its writer
    stored = StoredVideo(str(video_path), got.sha256, got.bytes, got.content_type, source.public)
    record = {
        **provenance,
        "remote_task_id": status.id,
        "index": index,
        "file": video_path.name,
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
        describe_size(stored.bytes),
        stored.sha256[:12],
    )
    return stored


def storage_failure(
    error: BaseException, target: ObjectStoragePath | str, status: TaskStatus, provenance: Mapping[str, Any]
) -> ApimartStorageError:
    """The one error of a store that failed after the render was paid: who, what, where, until when."""
    cause = describe_failure(error)
    task = provenance.get("task_id")
    expires = _until(status.expires_at)
    unusable = is_unusable_storage(error, local=not isinstance(target, str) and is_local(target))
    error_class = ApimartStorageUnusableError if unusable else ApimartStorageError
    retry = "Not retried: no retry can fix that. " if unusable else ""
    return error_class(
        f"Task {task!r}: the paid video of APIMart task {status.id} could not be written to {target} "
        f"({cause}). Its source URL lives until {expires}. {retry}A retry or a clear reattaches to the "
        "same job and only downloads (no new charge): fix the storage and clear the task before then. "
        f"To keep it by hand, ApimartHook().get_task({status.id!r}).video_urls gives the URL to download."
    )


def is_unusable_storage(error: BaseException, *, local: bool) -> bool:
    """A store that cannot take this write as it is: no filesystem for the scheme (an import or a
    value error), or a local folder without write permission, read-only, or a file where a folder
    should be. An object store's refusal may be credentials that expire and renew: retried."""
    if isinstance(error, ImportError | ValueError):
        return True
    return local and isinstance(error, OSError) and error.errno in _UNUSABLE_ERRNOS


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
