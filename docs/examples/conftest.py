"""pytest setup for testing DAGs against the APIMart simulator (docs: "Test your DAGs offline")."""

from __future__ import annotations

# [START simulator_conftest]
import os
import sys
from pathlib import Path

DAGS_FOLDER = Path(__file__).parent / "dags"

# Set before anything imports Airflow, which reads its configuration then. dag.test() runs a DAG
# that Airflow finds in its DAGs folder; the tests import the DAG files from there too.
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
sys.path.insert(0, str(DAGS_FOLDER))
# The simulator renders in about a second: read the first status at once, not after the 5 s
# that the real API advises.
os.environ.setdefault("AIRFLOW__APIMART__FIRST_POLL_DELAY", "0")

# The `apimart_simulator` fixture: a fresh simulator per test, wired to the apimart_default connection.
pytest_plugins = ["airflow_provider_apimart.testing.pytest_plugin"]
# [END simulator_conftest]
