"""Test setup shared by every test: an isolated AIRFLOW_HOME and an ``apimart_default`` connection.

Airflow reads its configuration at import time, so the environment is set before anything
imports airflow. Unit tests need no metadata database: connections come from env vars.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="apimart-tests-airflow-home-")
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": os.path.join(os.path.dirname(__file__), "integration", "dags"),
        # The simulator renders in a fraction of a second; the real API's 5 s settle delay would
        # only slow the tests down (tests that prove the delay set it themselves).
        "AIRFLOW__APIMART__FIRST_POLL_DELAY": "0",
    }
)


import pytest  # noqa: E402

from airflow_provider_apimart import backoff  # noqa: E402
from airflow_provider_apimart.hooks._schema_cache import forget_schemas  # noqa: E402
from airflow_provider_apimart.hooks.apimart import ApimartHook  # noqa: E402

if TYPE_CHECKING:
    from airflow_provider_apimart.testing import ApimartSimulator

pytest_plugins = [
    "airflow_provider_apimart.testing.pytest_plugin",
    "tests.object_store",
    "tests.ui_airflow",
    "tests.spend_stores",
]

#: A key that must never show up in any log line, exception, repr or URL.
SECRET_API_KEY = "sk-apimart-test-SECRET-4f9c2e"
BASE_URL = "https://apimart.test"


def connection_env(**fields: object) -> str:
    """An ``AIRFLOW_CONN_*`` value for an apimart connection."""
    return json.dumps({"conn_type": "apimart", **fields})


@pytest.fixture(autouse=True)
def apimart_default_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """``apimart_default`` with the test key, pointed at a host that only respx answers."""
    monkeypatch.setenv("AIRFLOW_CONN_APIMART_DEFAULT", connection_env(password=SECRET_API_KEY, host=BASE_URL))


@pytest.fixture(autouse=True)
def fresh_model_schemas() -> None:
    """Each test reads model schemas afresh: the process-wide cache would carry one test's server over."""
    forget_schemas()


class SleepRecorder:
    """Stands in for the hook's pauses between retries: records them instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepRecorder:
    recorder = SleepRecorder()
    monkeypatch.setattr(backoff, "sleep", recorder.sleep)
    monkeypatch.setattr(backoff, "asleep", recorder.asleep)
    return recorder


@pytest.fixture
def simulator(apimart_simulator: ApimartSimulator) -> ApimartSimulator:
    """The simulator with a 0.3 s render: quick, yet a task is still seen running."""
    apimart_simulator.config.render_seconds = 0.3
    return apimart_simulator


def submit_remote_task(prompt: str = "a cat") -> str:
    """Submit a wan2.7 job through ``apimart_default``, as something outside the DAG would."""
    with ApimartHook() as hook:
        return hook.submit_video({"model": "wan2.7", "prompt": prompt}).task_id
