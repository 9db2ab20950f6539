"""The system test's cluster (one per session) and the table printed at the end of the run."""

from __future__ import annotations

import os
import secrets
import time
from typing import TYPE_CHECKING

import pytest

from tests.system.cluster import Cluster, start_cluster
from tests.system.infra import check_dependencies
from tests.system.processes import Services
from tests.system.report import NOTES, ROWS, table

if TYPE_CHECKING:
    from collections.abc import Iterator

#: The API key of the whole run: it must show up nowhere but in the processes' environment.
SENTINEL_API_KEY = "sk-apimart-SENTINEL-" + secrets.token_hex(16)
_STARTED = time.monotonic()


@pytest.fixture(scope="session")
def sentinel_api_key() -> str:
    return SENTINEL_API_KEY


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    missing = check_dependencies()
    if missing:
        pytest.fail("\n".join(missing), pytrace=False)
    root = tmp_path_factory.mktemp("system")
    NOTES.append(f"files: {root} (services/: each process's output; airflow/logs/: Airflow's logs)")
    services = Services()
    try:
        started = time.monotonic()
        cluster = start_cluster(root, services, SENTINEL_API_KEY)
        steps = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in cluster.timings.items())
        NOTES.append(f"cluster started in {time.monotonic() - started:.0f} s ({steps})")
        yield cluster
    finally:
        stopping = time.monotonic()
        failures = services.stop_all()
        NOTES.append(f"everything stopped in {time.monotonic() - stopping:.0f} s")
        if failures:
            NOTES.append("could not stop: " + "; ".join(failures))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ROWS and not NOTES:
        return
    terminalreporter.section("APIMart system test")
    terminalreporter.write_line(table(ROWS))
    for note in NOTES:
        terminalreporter.write_line(f"- {note}")
    terminalreporter.write_line(
        f"wall time {time.monotonic() - _STARTED:.0f} s on {os.cpu_count()} cores "
        "(POSTs, paid jobs and replays as the simulator counted them; tries from Airflow's task_instance)"
    )
