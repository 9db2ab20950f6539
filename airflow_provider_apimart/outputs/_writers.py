"""Atomic writers: a reader of ``output_path`` sees a whole file or none, never half of one.

A local folder gets a temporary ``<name>.<token>.part`` beside the target, a name no other writer
shares (a zombie try and its retry, or an operator and a sensor on one remote task, each write
their own), fsynced and renamed over the target (``os.replace`` is atomic within a filesystem:
the last whole file wins). An object store gets the object only when its upload completes on
close; a failed upload is aborted, and never completed later by cleanup.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from airflow.sdk import ObjectStoragePath

#: Suffix of the temporary file a local write goes to before its rename.
PART_SUFFIX = ".part"
#: Bytes an object-store file buffers before it uploads a part. s3fs would hold 50 MiB; 8 MiB keeps
#: memory small while parts stay above S3's 5 MiB minimum (and allow files up to 80 GB).
UPLOAD_PART_BYTES = 8 * 1024 * 1024
_LOCAL_PROTOCOLS = frozenset({"", "file", "local"})
#: writev takes at most IOV_MAX (1024 on Linux) buffers per call.
_MAX_WRITEV_PIECES = 512
log = logging.getLogger(__name__)


def is_local(path: ObjectStoragePath) -> bool:
    return path.protocol in _LOCAL_PROTOCOLS


def part_name(target: str) -> str:
    """A temporary name beside ``target`` that no other writer uses."""
    return f"{target}.{uuid.uuid4().hex[:16]}{PART_SUFFIX}"


class LocalWriter:
    """Writes ``<target>.<token>.part`` and renames it to ``target`` on commit."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.part = part_name(target)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Unbuffered: pieces go straight to the OS. "x": the name is this writer's alone.
        self._file = open(self.part, "xb", buffering=0)  # noqa: SIM115 - closed by commit or abort

    def write(self, pieces: Sequence[bytes]) -> None:
        _write_all(self._file.fileno(), pieces)

    def restart(self) -> None:
        self._file.seek(0)
        self._file.truncate()

    def commit(self) -> None:
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.part, self.target)
        _fsync_folder(os.path.dirname(self.target))

    def abort(self) -> None:
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.part)


def _write_all(descriptor: int, pieces: Sequence[bytes]) -> None:
    """Write every piece, in order: one ``writev`` call where the OS has it (no copy to join them)."""
    views = [memoryview(piece) for piece in pieces if piece]
    while views:
        if hasattr(os, "writev"):
            written = os.writev(descriptor, views[:_MAX_WRITEV_PIECES])
        else:
            written = os.write(descriptor, views[0])
        if written <= 0:
            raise OSError(f"a write to file descriptor {descriptor} wrote nothing")
        while views and written >= len(views[0]):
            written -= len(views.pop(0))
        if written:
            views[0] = views[0][written:]


class ObjectWriter:
    """Writes through ``ObjectStoragePath.open("wb")``: the object appears when the upload ends."""

    def __init__(self, target: ObjectStoragePath) -> None:
        self.target = target
        self._file = self._open()

    def _open(self) -> Any:
        return self.target.open("wb", block_size=UPLOAD_PART_BYTES)  # type: ignore[no-untyped-call]

    def write(self, pieces: Sequence[bytes]) -> None:
        for piece in pieces:
            self._file.write(piece)

    def restart(self) -> None:
        self.abort()
        self._file = self._open()

    def commit(self) -> None:
        self._file.close()

    def abort(self) -> None:
        """Throw the upload away; never raises (the failure that led here is the one to report)."""
        inner = getattr(self._file, "_obj", self._file)  # Airflow wraps the fsspec file: reach it
        if not callable(getattr(inner, "discard", None)):
            with contextlib.suppress(Exception):
                self._file.close()
            with contextlib.suppress(Exception):
                self.target.unlink()
            return
        # First: a file still open is closed, and so its upload COMPLETED, by fsspec's __del__
        # at garbage collection or interpreter exit, publishing the parts sent so far.
        with contextlib.suppress(AttributeError):
            inner.closed = True
        try:
            inner.discard()  # aborts the multipart upload, with the store's own bounded retries
        except Exception as error:  # the store is unreachable: the upload stays open, never completed
            log.warning(
                "Could not abort the unfinished upload to %s (%s: %s). It never becomes an object; "
                "the store keeps its parts until they are aborted (for S3, a lifecycle rule with "
                "AbortIncompleteMultipartUpload removes them).",
                self.target,
                type(error).__name__,
                " ".join(str(error).split())[:200],
            )


class VideoWriter:
    """A :class:`ChunkWriter` for a video whose name waits on its content: the download says what
    the bytes are (``start``) before the first of them is written, and that picks the extension."""

    def __init__(self, name_for: Callable[[str], ObjectStoragePath]) -> None:
        self._name_for = name_for
        self._writer: LocalWriter | ObjectWriter | None = None
        self.target: ObjectStoragePath | None = None

    def start(self, content_type: str) -> None:
        if self._writer is None:
            self.target = self._name_for(content_type)
            self._writer = open_writer(self.target)

    def write(self, pieces: Sequence[bytes]) -> None:
        if self._writer is None:
            raise RuntimeError("VideoWriter.write before start")
        self._writer.write(pieces)

    def restart(self) -> None:
        if self._writer is not None:
            self._writer.abort()
            self._writer = None

    def commit(self) -> None:
        if self._writer is None:
            raise RuntimeError("VideoWriter.commit before start")
        self._writer.commit()

    def abort(self) -> None:
        self.restart()


def open_writer(target: ObjectStoragePath) -> LocalWriter | ObjectWriter:
    return LocalWriter(target.path) if is_local(target) else ObjectWriter(target)


@contextmanager
def atomic_writer(target: ObjectStoragePath) -> Iterator[LocalWriter | ObjectWriter]:
    """A writer for ``target``: committed when the block ends, aborted when it raises."""
    writer = open_writer(target)
    try:
        yield writer
        writer.commit()
    except BaseException:
        writer.abort()
        raise


def write_text(target: ObjectStoragePath, text: str) -> None:
    """Write a small text file (a provenance record) as atomically as its store allows."""
    with atomic_writer(target) as writer:
        writer.write([text.encode()])


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable; some filesystems cannot open a folder, which is fine."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
