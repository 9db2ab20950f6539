"""Atomic writers: a reader of ``output_path`` sees a whole file or none, never half of one.

A local folder gets a temporary ``<name>.part`` beside the target, fsynced and renamed over it
(``os.replace`` is atomic within a filesystem). An object store gets the object only when its
upload completes on close; a failed upload is discarded (an aborted multipart upload), not closed.
"""

from __future__ import annotations

import contextlib
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from airflow.sdk import ObjectStoragePath

#: Suffix of the temporary file a local write goes to before its rename.
PART_SUFFIX = ".part"
#: Bytes an object-store file buffers before it uploads a part. s3fs would hold 50 MiB; 8 MiB keeps
#: memory small while parts stay above S3's 5 MiB minimum (and allow files up to 80 GB).
UPLOAD_PART_BYTES = 8 * 1024 * 1024
_LOCAL_PROTOCOLS = frozenset({"", "file", "local"})
#: writev takes at most IOV_MAX (1024 on Linux) buffers per call.
_MAX_WRITEV_PIECES = 512


def is_local(path: ObjectStoragePath) -> bool:
    return path.protocol in _LOCAL_PROTOCOLS


class LocalWriter:
    """Writes ``<target>.part`` and renames it to ``target`` on commit."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.part = target + PART_SUFFIX
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Unbuffered: pieces go straight to the OS. A .part left by a killed try is overwritten.
        self._file = open(self.part, "wb", buffering=0)  # noqa: SIM115 - closed by commit or abort

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
        if callable(getattr(self._file, "discard", None)):
            self._file.discard()
            # Keep the discarded file from finishing the upload when it is closed or collected
            # (fsspec closes unclosed files in __del__). Airflow wraps the fsspec file: reach it.
            inner = getattr(self._file, "_obj", self._file)
            with contextlib.suppress(AttributeError):
                inner.closed = True
            return
        with contextlib.suppress(Exception):
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self.target.unlink()


@contextmanager
def atomic_writer(target: ObjectStoragePath) -> Iterator[LocalWriter | ObjectWriter]:
    """A writer for ``target``: committed when the block ends, aborted when it raises."""
    writer = LocalWriter(target.path) if is_local(target) else ObjectWriter(target)
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
