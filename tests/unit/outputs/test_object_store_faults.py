"""An S3 endpoint that drops in the middle of a multipart upload: the upload is never completed later,
the task gets the typed storage error, and the worker does not hang.

moto's server stands behind a TCP proxy on 127.0.0.1 that can drop every connection (and refuse
new ones) once enough bytes went through, then come back, as an endpoint that restarts does.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import socket
import subprocess
import sys
import textwrap
import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from airflow_provider_apimart.exceptions import ApimartStorageError
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.outputs import store_videos
from tests.conftest import submit_remote_task
from tests.object_store import PREFIX, connection_env, forget_airflow_filesystems

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_apimart.testing import ApimartSimulator
    from tests.object_store import S3Store

#: A video of five 8 MiB upload parts and a bit; the endpoint drops after about three of them.
VIDEO_BYTES = 42_000_000
DROP_AFTER_BYTES = 25_000_000
FLAKY_CONN_ID = "flaky_s3"
log = logging.getLogger("tests.outputs")


class DroppingProxy:
    """Forwards TCP to ``upstream``; after ``drop_after`` bytes towards it, drops everything and
    refuses connections until :meth:`restore`."""

    def __init__(self, upstream: tuple[str, int], drop_after: int) -> None:
        self.upstream = upstream
        self.drop_after = drop_after
        self.forwarded = 0
        self.dropped = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self._serve()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        return listener

    def _serve(self) -> None:
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self.dropped.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets.update({client, upstream})
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, towards_upstream: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if towards_upstream:
                    self.forwarded += len(data)
                    if self.forwarded > self.drop_after and not self.dropped.is_set():
                        self.drop()
                        return
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def drop(self) -> None:
        self.dropped.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def restore(self) -> None:
        self.dropped.clear()
        self.drop_after = 1 << 62
        self._listener = self._listen(self.port)
        self._serve()


@pytest.fixture
def proxy(s3_store: S3Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[DroppingProxy]:
    parts = urlsplit(s3_store.endpoint)
    dropping = DroppingProxy((str(parts.hostname), int(parts.port or 80)), DROP_AFTER_BYTES)
    monkeypatch.setenv(f"AIRFLOW_CONN_{FLAKY_CONN_ID.upper()}", connection_env(dropping.endpoint))
    # botocore's own retries would wait out the drop for minutes: as few as a worker would allow.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    forget_airflow_filesystems(FLAKY_CONN_ID)
    yield dropping
    dropping.drop()
    forget_airflow_filesystems(FLAKY_CONN_ID)


@pytest.fixture
def big_video(apimart_simulator: ApimartSimulator) -> ApimartSimulator:
    apimart_simulator.config.render_seconds = 0
    apimart_simulator.config.media_bytes = VIDEO_BYTES
    return apimart_simulator


def test_an_endpoint_that_drops_mid_upload_publishes_nothing_even_once_it_returns(
    big_video: ApimartSimulator, s3_store: S3Store, proxy: DroppingProxy
) -> None:
    with ApimartHook() as hook:
        status = hook.get_task(submit_remote_task())
    flaky_uri = f"s3://{FLAKY_CONN_ID}@{s3_store.bucket}/{PREFIX}"

    started = time.monotonic()
    with pytest.raises(ApimartStorageError) as raised:
        store_videos(flaky_uri, status, provenance={"task_id": "clip"}, log=log)
    took = time.monotonic() - started

    assert proxy.dropped.is_set()
    message = str(raised.value)
    assert "Task 'clip'" in message
    assert status.id in message
    assert "only downloads (no new charge)" in message
    assert took < 60, f"the failed store took {took:.0f} s"

    # The endpoint returns; collection and cleanup must not finish the discarded upload.
    proxy.restore()
    gc.collect()
    time.sleep(0.5)
    assert s3_store.keys() == []


def test_a_worker_whose_upload_failed_exits_promptly_and_publishes_nothing(
    big_video: ApimartSimulator, s3_store: S3Store, proxy: DroppingProxy
) -> None:
    # The failure, then interpreter exit, in a process of its own: fsspec closes files left open
    # at exit, which once completed the discarded upload (or hung for minutes retrying it).
    with ApimartHook() as hook:
        status = hook.get_task(submit_remote_task())
    script = textwrap.dedent(
        f"""
        import json, logging
        from airflow_provider_apimart.models.responses import TaskStatus
        from airflow_provider_apimart.outputs import store_videos
        from airflow_provider_apimart.exceptions import ApimartStorageError
        status = TaskStatus.model_validate(json.loads({json.dumps(status.model_dump_json())}))
        try:
            store_videos("s3://{FLAKY_CONN_ID}@{s3_store.bucket}/{PREFIX}", status, provenance={{}},
                         log=logging.getLogger("worker"))
        except ApimartStorageError as error:
            print("typed:", type(error).__name__)
        """
    )
    started = time.monotonic()
    finished = subprocess.run(  # noqa: S603 - our own interpreter, our own script
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=False
    )
    took = time.monotonic() - started
    assert "typed: ApimartStorageError" in finished.stdout, finished.stderr[-2000:]
    assert took < 90, f"the worker took {took:.0f} s to fail and exit"
    proxy.restore()
    time.sleep(0.5)
    assert s3_store.keys() == []
