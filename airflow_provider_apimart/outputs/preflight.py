"""Before a render is paid: can its videos be kept where ``output_path`` says?

A paid render whose store turns out to be unusable is a lost video once its URL expires, so the
operator checks, on the worker, right before a real submit: the path is absolute, its scheme has a
filesystem, its connection works, and a zero-byte file can be written there and removed. Anything
else fails the task permanently, before any request to APIMart.
"""

from __future__ import annotations

import os
import uuid

from airflow_provider_apimart.exceptions import ApimartConfigurationError
from airflow_provider_apimart.outputs._writers import is_local
from airflow_provider_apimart.outputs.store import describe_failure, output_folder

#: Name of the zero-byte file written and removed to prove the store takes writes.
PROBE_PREFIX = ".apimart-write-check-"


def check_output_path(output_path: str, *, task_id: str) -> None:
    """Raise :class:`ApimartConfigurationError` unless a video can be written to ``output_path``."""
    try:
        folder = output_folder(output_path)
    except ApimartConfigurationError as error:
        raise ApimartConfigurationError(f"Task {task_id!r}: {error} Nothing was sent to APIMart.") from None
    except Exception as error:  # an unknown scheme, a filesystem whose package is missing, a bad URI
        raise _unusable(task_id, output_path, error) from error
    probe = folder / f"{PROBE_PREFIX}{uuid.uuid4().hex}"
    try:
        if is_local(folder):
            os.makedirs(folder.path, exist_ok=True)
            with open(probe.path, "wb"):
                pass
            os.remove(probe.path)
        else:
            probe.write_bytes(b"")
            probe.unlink()
    except Exception as error:  # each store fails its own way (OSError, botocore, gcsfs, ...)
        raise _unusable(task_id, output_path, error) from error


def _unusable(task_id: str, output_path: str, error: BaseException) -> ApimartConfigurationError:
    return ApimartConfigurationError(
        f"Task {task_id!r}: output_path {output_path!r} cannot be written ({describe_failure(error)}). "
        "Nothing was sent to APIMart and nothing was paid. Create the folder or bucket, give the "
        "worker write access or fix the storage connection, then clear the task."
    )
