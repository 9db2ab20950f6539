"""Postgres and Redis for the system test, from Debian's packages, on 127.0.0.1 and free ports.

Postgres runs as the ``postgres`` OS user when the test runs as root (it refuses to run as root),
in a throwaway data directory; Redis keeps nothing on disk. Both are :class:`Service` objects, so
they stop with the rest of the cluster.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.system.processes import Service, Services, free_port, wait_for

if TYPE_CHECKING:
    from collections.abc import Sequence

INSTALL_HINT = (
    "The system test needs the PostgreSQL server and Redis from the package registries: on Debian "
    "or Ubuntu `apt-get install -y postgresql redis-server` (.ci/run does this), on macOS "
    "`brew install postgresql redis`."
)
DATABASE = "airflow"
DB_USER = "airflow"
#: A database of its own for the spend limits' ledger (the ``apimart_spend_postgres`` connection).
SPEND_DATABASE = "apimart_spend"


class MissingDependencyError(RuntimeError):
    """A program the system test needs is not installed; the message says which and how to get it."""


def postgres_bin_dir() -> Path:
    """The directory of ``initdb``, ``postgres`` and ``pg_dump``: Debian's newest, else PATH's."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    on_path = shutil.which("postgres") or shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise MissingDependencyError(f"PostgreSQL server binaries (initdb, postgres) not found. {INSTALL_HINT}")


def redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise MissingDependencyError(f"redis-server not found on PATH. {INSTALL_HINT}")
    return found


def check_dependencies() -> list[str]:
    """What is missing, as messages (empty when everything is there)."""
    missing = []
    for find in (postgres_bin_dir, redis_server):
        try:
            find()
        except MissingDependencyError as error:
            missing.append(str(error))
    return missing


def _as_postgres_user(argv: Sequence[str]) -> list[str]:
    """Postgres refuses to run as root: as root, run it as the ``postgres`` OS user."""
    if os.geteuid() != 0:
        return list(argv)
    try:
        pwd.getpwnam("postgres")
    except KeyError as missing:
        raise MissingDependencyError(
            f"There is no `postgres` OS user to run Postgres as. {INSTALL_HINT}"
        ) from missing
    return ["runuser", "-u", "postgres", "--", *argv]


@dataclass(frozen=True)
class Postgres:
    port: int
    bin_dir: Path
    data_dir: Path

    def url(self, driver: str = "postgresql+psycopg2", database: str = DATABASE) -> str:
        return f"{driver}://{DB_USER}@127.0.0.1:{self.port}/{database}"

    def dump(self) -> str:
        """``pg_dump`` of the metadata database, as plain SQL text."""
        result = subprocess.run(  # noqa: S603 - Postgres's own pg_dump, fixed arguments
            [str(self.bin_dir / "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, DATABASE],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        return result.stdout


#: A test database: durability buys nothing here and costs the 2 cores time.
NOT_DURABLE = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def start_postgres(services: Services, log_dir: Path, *, durable: bool = False) -> Postgres:
    """initdb a throwaway cluster (trust auth, loopback only), start it, create the Airflow DB and
    the spend ledger's. Without ``durable`` it does not wait for the disk (fsync off): tests gain
    nothing from it, while a benchmark of commits measures the disk."""
    bin_dir = postgres_bin_dir()
    # Not under pytest's tmp dir: the postgres user must be able to reach it (pytest's is 0700).
    data_dir = Path(tempfile.mkdtemp(prefix="apimart-system-pg-"))
    services.on_stop("postgres data dir", lambda: shutil.rmtree(data_dir, ignore_errors=True))
    if os.geteuid() == 0:
        shutil.chown(data_dir, user="postgres", group="postgres")
    subprocess.run(  # noqa: S603 - Postgres's own initdb, fixed arguments
        _as_postgres_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    server = services.add(
        Service(
            "postgres",
            _as_postgres_user(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data_dir / "data"),
                    "-p",
                    str(port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "unix_socket_directories=",
                    "-c",
                    "max_connections=300",
                    *(() if durable else NOT_DURABLE),
                ]
            ),
            env=os.environ,
            log_dir=log_dir,
            stop_signal=signal.SIGINT,  # Postgres's "fast shutdown"
        )
    )
    server.start()
    psql = [
        str(bin_dir / "psql"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-U",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
    ]

    def accepting() -> bool:
        server.check_running()
        ready = subprocess.run(  # noqa: S603
            [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
            capture_output=True,
            check=False,
        )
        return ready.returncode == 0

    wait_for(accepting, "Postgres to accept connections", timeout=60)
    for statement in (
        f"CREATE ROLE {DB_USER} LOGIN",
        f"CREATE DATABASE {DATABASE} OWNER {DB_USER}",
        f"CREATE DATABASE {SPEND_DATABASE} OWNER {DB_USER}",
    ):
        subprocess.run([*psql, "-c", statement], check=True, capture_output=True, timeout=60)  # noqa: S603
    return Postgres(port=port, bin_dir=bin_dir, data_dir=data_dir)


def start_redis(services: Services, log_dir: Path, work_dir: Path) -> str:
    """A Redis that keeps nothing on disk; its URL (database 0)."""
    port = free_port()
    server = services.add(
        Service(
            "redis",
            [
                redis_server(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(work_dir),
            ],
            env=os.environ,
            log_dir=log_dir,
        )
    )
    server.start()

    def ready() -> bool:
        server.check_running()
        return "Ready to accept connections" in server.log_text()

    wait_for(ready, "Redis to accept connections", timeout=30, interval=0.2)
    return f"redis://127.0.0.1:{port}/0"
