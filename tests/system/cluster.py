"""A production-shaped Airflow: Postgres, Redis, CeleryExecutor, every component its own process.

:func:`start_cluster` starts, each in its own process group on 127.0.0.1 and free ports: Postgres,
Redis, the APIMart simulator, then ``airflow db migrate`` and the API server, the scheduler, the
dag-processor, two triggerers and two Celery workers. Airflow's configuration is all in the
environment. The test reads Airflow's state from Postgres and acts through the REST API, as an
operator of a real deployment would.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import httpx
import redis
import sqlalchemy
from cryptography.fernet import Fernet

from tests.system.infra import DB_USER, SPEND_DATABASE, Postgres, start_postgres, start_redis
from tests.system.processes import Service, Services, free_port, wait_for
from tests.system.simulator import SimulatorClient, start_simulator

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

BIN = Path(sys.executable).parent
DAGS_SOURCE = Path(__file__).parent / "dags"
#: The DAGs the scenarios run (tests/system/dags/apimart_system_dags.py).
LOAD_DAG = "apimart_system_load"
SINGLE_DAG = "apimart_system_single"
#: The spend-limit DAGs by the store their ledger is in, each an Airflow connection of that type
#: (the DAG file names the same connections).
SPEND_DAGS = {"redis": "apimart_system_spend_redis", "postgres": "apimart_system_spend_postgres"}
SPEND_CONNECTIONS = {"redis": "apimart_spend_redis", "postgres": "apimart_spend_postgres"}
#: The ledger's Redis database: the Celery broker has database 0 of the same server.
SPEND_REDIS_DB = 1
POOL = "apimart"
#: Renders in flight at APIMart, deferred ones included: below what the load could reach, so it binds.
POOL_SLOTS = 40
WORKER_CONCURRENCY = 8
#: Renders take this long at the simulator unless a scenario says otherwise.
RENDER_SECONDS = 6.0
#: Seconds without a triggerer heartbeat after which the other triggerer takes its triggers.
TRIGGERER_HEALTH_CHECK_THRESHOLD = 15
TRIGGERERS = ("triggerer-1", "triggerer-2")
WORKERS = ("worker-1", "worker-2")
#: The simulator's starting balance: the scenarios pay for about 310 jobs of 0.40 (its default is 100).
SIMULATOR_BALANCE = 1000.0


@dataclass
class Cluster:
    """Everything started for the system test, and how to reach it."""

    root: Path
    services: Services
    postgres: Postgres
    redis_url: str
    simulator: SimulatorClient
    simulator_service: Service
    api_key: str
    env: dict[str, str]
    api_url: str
    engine: sqlalchemy.Engine
    components: dict[str, Service] = field(default_factory=dict)
    #: The TriggererJob id of each triggerer service, by service name.
    triggerer_jobs: dict[str, int] = field(default_factory=dict)
    #: Seconds that parts of the start-up took.
    timings: dict[str, float] = field(default_factory=dict)
    #: Every trigger row seen while tasks were deferred, decrypted: "<classpath> <kwargs JSON>".
    trigger_rows: dict[int, str] = field(default_factory=dict)

    def sample_triggers(self) -> None:
        """Keep the trigger rows that exist now (they are deleted once they fire), decrypted."""
        fernet = Fernet(self.env["AIRFLOW__CORE__FERNET_KEY"].encode())
        for trigger_id, classpath, kwargs in self.sql("SELECT id, classpath, kwargs FROM trigger"):
            if trigger_id not in self.trigger_rows:
                text = kwargs if kwargs.startswith("{") else fernet.decrypt(kwargs.encode()).decode()
                self.trigger_rows[trigger_id] = f"{classpath} {text}"

    # ------------------------------------------------------------------ reading Airflow's state

    def sql(self, statement: str, **params: object) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(sqlalchemy.text(statement), params))

    def task_instances(self, dag_id: str, run_id: str) -> list[Any]:
        return self.sql(
            "SELECT task_id, map_index, state, try_number, pid, hostname, trigger_id FROM task_instance "
            "WHERE dag_id = :dag_id AND run_id = :run_id ORDER BY task_id, map_index",
            dag_id=dag_id,
            run_id=run_id,
        )

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.sql(
            "SELECT state FROM dag_run WHERE dag_id = :dag_id AND run_id = :run_id",
            dag_id=dag_id,
            run_id=run_id,
        )
        return str(rows[0][0]) if rows else None

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> dict[int, Any]:
        """XCom values of a task by map index (JSON, as Airflow 3 stores them)."""
        rows = self.sql(
            "SELECT map_index, value FROM xcom WHERE dag_id = :dag_id AND run_id = :run_id "
            "AND task_id = :task_id AND key = :key",
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            key=key,
        )
        return {int(row[0]): row[1] for row in rows}

    def spend_ledger(self, store: str, scope: str) -> dict[str, tuple[str, float]]:
        """The rows of one scope (``run/<dag_id>/<run_id>``) in a spend store, read straight from
        Redis or Postgres, not through the provider: reservation id (the job's Idempotency-Key) to
        (state, amount)."""
        if store == "redis":
            client = redis.Redis.from_url(self.spend_redis_url)
            try:
                rows = cast("dict[bytes, bytes]", client.hgetall(f"{{apimart-spend}}:scope:{scope}"))
            finally:
                client.close()
            ledger = {}
            for reservation_id, value in rows.items():
                state, amount, _lease_end = value.decode().split("|")
                ledger[reservation_id.decode()] = (state, float(amount))
            return ledger
        engine = sqlalchemy.create_engine(self.postgres.url(database=SPEND_DATABASE))
        try:
            with engine.connect() as connection:
                found = connection.execute(
                    sqlalchemy.text(
                        "SELECT reservation_id, state, amount FROM apimart_spend_ledger WHERE scope = :scope"
                    ),
                    {"scope": scope},
                )
                return {str(row[0]): (str(row[1]), float(row[2])) for row in found}
        finally:
            engine.dispose()

    @property
    def spend_redis_url(self) -> str:
        return f"{self.redis_url.rsplit('/', 1)[0]}/{SPEND_REDIS_DB}"

    # ------------------------------------------------------------------ acting, through the REST API

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = httpx.request(method, f"{self.api_url}/api/v2{path}", timeout=60, **kwargs)
        if answer.status_code >= 400:
            raise AssertionError(f"{method} {path} answered {answer.status_code}: {answer.text}")
        return answer.json() if answer.content else None

    def trigger(self, dag_id: str, run_id: str, conf: Mapping[str, object] | None = None) -> None:
        self.api(
            "POST",
            f"/dags/{dag_id}/dagRuns",
            json={"dag_run_id": run_id, "logical_date": None, "conf": dict(conf or {})},
        )

    def clear(self, dag_id: str, run_id: str, task_ids: Sequence[str]) -> None:
        """Clear tasks of a run as the UI's "Clear" does (downstream too, the run back to queued)."""
        self.api(
            "POST",
            f"/dags/{dag_id}/clearTaskInstances",
            json={
                "dry_run": False,
                "dag_run_id": run_id,
                "task_ids": list(task_ids),
                "only_failed": False,
                "reset_dag_runs": True,
                "include_downstream": True,
            },
        )

    def mark(self, dag_id: str, run_id: str, task_id: str, state: str) -> None:
        self.api(
            "PATCH",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}",
            json={"new_state": state},
        )

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Wait until the run is over (success or failed); its state."""
        states: list[str | None] = []

        def finished() -> bool:
            self.services.check_all_running()
            states.append(self.run_state(dag_id, run_id))
            return states[-1] in {"success", "failed"}

        wait_for(finished, f"run {dag_id}/{run_id} to finish", timeout=timeout, interval=1)
        return str(states[-1])

    def wait_task_state(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        states: set[str],
        timeout: float,
        map_index: int = -1,
        interval: float = 0.3,
    ) -> Any:
        found: list[Any] = []

        def reached() -> bool:
            self.services.check_all_running()
            self.sample_triggers()
            rows = [
                row
                for row in self.task_instances(dag_id, run_id)
                if row.task_id == task_id and row.map_index == map_index
            ]
            found[:] = rows
            return bool(rows) and rows[0].state in states

        wait_for(
            reached, f"{dag_id}/{run_id}/{task_id} to be {sorted(states)}", timeout=timeout, interval=interval
        )
        return found[0]

    # ------------------------------------------------------------------ crashes

    def restart(self, name: str) -> None:
        self.components[name].start()

    def start_triggerer(self, name: str) -> None:
        """Start (or restart) a triggerer and wait for its TriggererJob; remember the job's id.

        Triggerers start one at a time, so the new job row is known to belong to this process.
        """
        known = {row[0] for row in self.sql("SELECT id FROM job WHERE job_type = 'TriggererJob'")}
        self.components[name].start()
        new_jobs: list[int] = []

        def registered() -> bool:
            self.services.check_all_running()
            new_jobs[:] = [
                int(row[0])
                for row in self.sql(
                    "SELECT id FROM job WHERE job_type = 'TriggererJob' AND state = 'running'"
                )
                if row[0] not in known
            ]
            return bool(new_jobs)

        wait_for(registered, f"{name} to register its job", timeout=180)
        self.triggerer_jobs[name] = new_jobs[0]


def airflow_env(
    root: Path,
    *,
    postgres: Postgres,
    redis_url: str,
    simulator_url: str,
    api_key: str,
    api_port: int,
) -> dict[str, str]:
    """Airflow's whole configuration, as environment variables (no airflow.cfg is written)."""
    connection = json.dumps({"conn_type": "apimart", "host": simulator_url, "password": api_key})
    # The spend limits' ledger, shared by every worker: the same Redis (another database) and the
    # same Postgres (another database) as Airflow's.
    redis_server = urlsplit(redis_url)
    spend_redis = {
        "conn_type": "redis",
        "host": redis_server.hostname,
        "port": redis_server.port,
        "extra": {"db": SPEND_REDIS_DB},
    }
    spend_postgres = {
        "conn_type": "postgres",
        "host": "127.0.0.1",
        "port": postgres.port,
        "login": DB_USER,
        "schema": SPEND_DATABASE,
    }
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) and name != "AIRFLOW_HOME"
    }
    return {
        **inherited,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "AIRFLOW__CORE__PARALLELISM": "32",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "64",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url(),
        "AIRFLOW__CELERY__BROKER_URL": redis_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": postgres.url("db+postgresql+psycopg2"),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "2",
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY": "64",
        # A worker that died is noticed within a minute, not five.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_CHECK_THRESHOLD),
        # The provider's default settle delay is 5 s plus jitter; 3 s keeps clear of apache/airflow#72716.
        "AIRFLOW__APIMART__FIRST_POLL_DELAY": "3",
        "AIRFLOW_CONN_APIMART_DEFAULT": connection,
        f"AIRFLOW_CONN_{SPEND_CONNECTIONS['redis'].upper()}": json.dumps(spend_redis),
        f"AIRFLOW_CONN_{SPEND_CONNECTIONS['postgres'].upper()}": json.dumps(spend_postgres),
    }


def airflow_cli(env: Mapping[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(  # noqa: S603 - the venv's own airflow, fixed arguments
        [str(BIN / "airflow"), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"airflow {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )
    return result.stdout


def _component(name: str, argv: Sequence[str], env: Mapping[str, str], log_dir: Path) -> Service:
    return Service(name, [str(BIN / "airflow"), *argv], env=env, log_dir=log_dir)


def start_cluster(root: Path, services: Services, api_key: str) -> Cluster:
    """Start everything (see the module's docstring); the caller stops ``services``."""
    log_dir = root / "services"
    log_dir.mkdir(parents=True)
    (root / "dags").mkdir()
    for dag_file in DAGS_SOURCE.glob("*.py"):
        shutil.copy(dag_file, root / "dags" / dag_file.name)

    postgres = start_postgres(services, log_dir)
    redis_url = start_redis(services, log_dir, root)
    simulator_service, simulator = start_simulator(
        services, log_dir, api_key=api_key, render_seconds=RENDER_SECONDS, balance=SIMULATOR_BALANCE
    )
    services.on_stop("simulator client", simulator.close)
    api_port = free_port()
    env = airflow_env(
        root,
        postgres=postgres,
        redis_url=redis_url,
        simulator_url=simulator.base_url,
        api_key=api_key,
        api_port=api_port,
    )
    migrate_started = time.monotonic()
    airflow_cli(env, "db", "migrate", timeout=600)
    migrated_in = time.monotonic() - migrate_started
    airflow_cli(env, "pools", "set", POOL, str(POOL_SLOTS), "APIMart renders in flight", "--include-deferred")
    engine = sqlalchemy.create_engine(postgres.url(), pool_pre_ping=True)
    services.on_stop("sqlalchemy engine", engine.dispose)
    cluster = Cluster(
        root=root,
        services=services,
        postgres=postgres,
        redis_url=redis_url,
        simulator=simulator,
        simulator_service=simulator_service,
        api_key=api_key,
        env=env,
        api_url=f"http://127.0.0.1:{api_port}",
        engine=engine,
    )

    def add(
        name: str, argv: Sequence[str], extra_env: Mapping[str, str] | None = None, *, start: bool = True
    ) -> Service:
        service = services.add(_component(name, argv, {**env, **(extra_env or {})}, log_dir))
        cluster.components[name] = service
        return service.start() if start else service

    add("api-server", ["api-server"])
    add("scheduler", ["scheduler"])
    add("dag-processor", ["dag-processor"])
    # One triggerer at a time, so that each TriggererJob row is known to belong to its process.
    for name in TRIGGERERS:
        add(name, ["triggerer"], {"AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())}, start=False)
        cluster.start_triggerer(name)
    for name in WORKERS:
        add(
            name,
            ["celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", str(WORKER_CONCURRENCY)],
            {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())},
        )

    def ready() -> bool:
        services.check_all_running()
        try:
            health = httpx.get(f"{cluster.api_url}/api/v2/monitor/health", timeout=5)
        except httpx.HTTPError:
            return False
        dags = {row[0] for row in cluster.sql("SELECT dag_id FROM dag WHERE is_stale = false")}
        workers = all(" ready." in cluster.components[name].log_text() for name in WORKERS)
        return health.status_code == 200 and {LOAD_DAG, SINGLE_DAG, *SPEND_DAGS.values()} <= dags and workers

    started = time.monotonic()
    wait_for(ready, "the API server, the DAGs and both Celery workers", timeout=300, interval=1)
    cluster.timings = {"db migrate": migrated_in, "components ready": time.monotonic() - started}
    return cluster
