"""A real S3-compatible object store for tests: moto's server on 127.0.0.1, reached through Airflow.

Tests that need durable storage take the ``s3_store`` fixture and write through Airflow's own
``ObjectStoragePath(s3_store.uri)`` (``s3://moto_s3@<bucket>/videos``): the Amazon provider's s3fs
filesystem, a real HTTP endpoint, real multipart uploads. Register the fixtures with
``pytest_plugins = ["tests.object_store"]`` (the root conftest does).

* One moto server per test session (``moto_server``), on a port the OS picks, stopped at the end.
* One fresh bucket per test, so tests never see each other's objects.
* The ``moto_s3`` connection is set per test as an ``AIRFLOW_CONN_MOTO_S3`` env var, and Airflow's
  per-connection filesystem cache is emptied before and after each test, so every test gets a
  filesystem built from its own connection.
* Nothing can reach real AWS: fake keys, no profile or config file, no instance metadata lookups,
  and ``AWS_ENDPOINT_URL`` points every boto client that names no endpoint at the moto server.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from airflow.sdk import ObjectStoragePath

#: The Airflow connection id the fixture sets (``AIRFLOW_CONN_MOTO_S3``).
MOTO_CONN_ID = "moto_s3"
#: The prefix under the bucket that ``S3Store.uri`` points at.
PREFIX = "videos"
REGION = "us-east-1"
FAKE_ACCESS_KEY_ID = "apimart-test-access-key"
FAKE_SECRET_ACCESS_KEY = "apimart-test-secret-key"

#: AWS settings that could send a request somewhere real or pick up someone's credentials.
_AWS_ENV_TO_UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CA_BUNDLE",
)


@dataclass(frozen=True)
class S3Store:
    """One test's bucket on the moto server, and the ways to reach it."""

    #: ``http://127.0.0.1:<port>``
    endpoint: str
    bucket: str
    conn_id: str
    #: ``s3://moto_s3@<bucket>/videos``: what to hand to ``ObjectStoragePath`` or an operator.
    uri: str
    #: A boto3 S3 client on the same endpoint, for assertions that bypass Airflow and s3fs.
    client: Any

    def path(self, *parts: str) -> ObjectStoragePath:
        """``ObjectStoragePath(self.uri)`` joined with ``parts``."""
        from airflow.sdk import ObjectStoragePath

        path = ObjectStoragePath(self.uri)
        for part in parts:
            path = path / part
        return path

    def keys(self) -> list[str]:
        """Every object key in the bucket, sorted (straight from the server, no cache)."""
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)

    def read(self, key: str) -> bytes:
        """An object's bytes, read with boto3."""
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def multipart_uploads(self) -> list[str]:
        """Keys of the multipart uploads started in the bucket and neither completed nor aborted."""
        uploads = self.client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])
        return sorted(upload["Key"] for upload in uploads)


def open_file(path: ObjectStoragePath, mode: str = "rb", **kwargs: Any) -> Any:
    """``path.open(mode, **kwargs)``, which Airflow leaves untyped: the fsspec file, in Airflow's wrapper."""
    return path.open(mode, **kwargs)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class MotoServer:
    endpoint: str


def connection_env(endpoint: str) -> str:
    """The ``AIRFLOW_CONN_*`` value of an aws connection to the moto server."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": FAKE_ACCESS_KEY_ID,
            "password": FAKE_SECRET_ACCESS_KEY,
            "extra": {"endpoint_url": endpoint, "region_name": REGION},
        }
    )


def forget_airflow_filesystems(conn_id: str = MOTO_CONN_ID) -> None:
    """Drop Airflow's cached filesystems for ``conn_id``, so the next path rebuilds one from the connection.

    ``airflow.sdk.io.attach`` keeps one store per ``<scheme>-<conn_id>`` for the life of the process.
    """
    from airflow.sdk.io import store

    cache: dict[str, object] = getattr(store, "_STORE_CACHE", {})
    for scheme in ("s3", "s3a", "s3n"):
        cache.pop(f"{scheme}-{conn_id}", None)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto's S3 (and every other service) on 127.0.0.1, on a port the OS picks; stopped at session end."""
    from moto.server import ThreadedMotoServer

    # The server logs every request at INFO through werkzeug: keep failing tests' output readable.
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoServer(endpoint=f"http://{host}:{port}")
    finally:
        server.stop()
        werkzeug_log.setLevel(level)


@pytest.fixture
def s3_store(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[S3Store]:
    """A fresh bucket on the moto server, reachable as ``ObjectStoragePath(s3_store.uri)``."""
    import boto3

    endpoint = moto_server.endpoint
    for name in _AWS_ENV_TO_UNSET:
        monkeypatch.delenv(name, raising=False)
    missing = str(tmp_path / "no-aws-config")
    monkeypatch.setenv("AWS_CONFIG_FILE", missing)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv(f"AIRFLOW_CONN_{MOTO_CONN_ID.upper()}", connection_env(endpoint))

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=FAKE_ACCESS_KEY_ID,
        aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
    )
    bucket = f"apimart-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)

    forget_airflow_filesystems()
    try:
        yield S3Store(
            endpoint=endpoint,
            bucket=bucket,
            conn_id=MOTO_CONN_ID,
            uri=f"s3://{MOTO_CONN_ID}@{bucket}/{PREFIX}",
            client=client,
        )
    finally:
        forget_airflow_filesystems()
        _empty_bucket(client, bucket)
        client.close()


def _empty_bucket(client: Any, bucket: str) -> None:
    """Free the server's memory: abort open uploads, delete the objects and the bucket."""
    for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)
