"""An offline APIMart for tests, demos and benchmarks: a real HTTP server on 127.0.0.1.

It behaves like the documented API (auth, per-model validation with this package's own models,
billing, rate limits, the task lifecycle, result videos that expire) and can inject failures.
It can be watched from another process too: ``--log-requests`` and the ``/_simulator/`` endpoints.
Use it as a context manager, as the ``apimart_simulator`` pytest fixture (add
``pytest_plugins = ["airflow_provider_apimart.testing.pytest_plugin"]`` to a conftest.py), or from
the command line: ``python -m airflow_provider_apimart.testing --port 8089``.

Not imported by the operators or hooks: DAG files never pay for starlette or uvicorn.
"""

from __future__ import annotations

try:
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as missing:  # pragma: no cover - depends on what is installed
    raise ImportError(
        f"The APIMart simulator needs {missing.name}: pip install 'airflow-provider-apimart[simulator]'"
    ) from missing

from airflow_provider_apimart.testing.config import (
    ALL_FAULTS,
    DEFAULT_FAULTS,
    Fault,
    Outcome,
    SimulatorConfig,
)
from airflow_provider_apimart.testing.records import (
    MediaRequest,
    PaidSubmission,
    RecordedRequest,
    Replay,
    UploadedFile,
)
from airflow_provider_apimart.testing.server import ApimartSimulator
from airflow_provider_apimart.testing.state import SimulatorState

__all__ = [
    "ALL_FAULTS",
    "DEFAULT_FAULTS",
    "ApimartSimulator",
    "Fault",
    "MediaRequest",
    "Outcome",
    "PaidSubmission",
    "RecordedRequest",
    "Replay",
    "SimulatorConfig",
    "SimulatorState",
    "UploadedFile",
]
