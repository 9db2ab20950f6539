"""The ``apimart_simulator`` pytest fixture: a fresh simulator, wired to ``apimart_default``.

Enable it in a conftest.py with ``pytest_plugins = ["airflow_provider_apimart.testing.pytest_plugin"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_apimart.testing.server import ApimartSimulator

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def apimart_simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[ApimartSimulator]:
    """A running simulator; ``AIRFLOW_CONN_APIMART_DEFAULT`` points at it for the test's duration.

    Change scenarios through ``apimart_simulator.config`` and assert on ``apimart_simulator.state``.
    """
    with ApimartSimulator() as simulator:
        for name, value in simulator.connection_env().items():
            monkeypatch.setenv(name, value)
        yield simulator
