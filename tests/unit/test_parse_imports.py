"""What a DAG parse loads: the operator and sensor classes and the request models, nothing a
running task alone needs. Each check runs in a fresh interpreter, since this test process has
imported everything already."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from importlib import import_module

import pytest

import airflow_provider_apimart.models as models

#: Modules only a running task (or the triggerer) uses: loading them at parse costs every parse.
RUNTIME_ONLY = (
    "airflow_provider_apimart.hooks.apimart",
    "airflow_provider_apimart.models.responses",
    "airflow_provider_apimart.outputs.store",
    "airflow_provider_apimart.inputs.upload",
    "airflow_provider_apimart.publishing",
    "airflow_provider_apimart.triggers.task",
    "airflow_provider_apimart.waiting.loops",
    "airflow.triggers.base",
    "airflow.sdk.bases.decorator",
)


def _run_python(code: str) -> str:
    """What a fresh interpreter prints after running ``code``."""
    return subprocess.run(  # noqa: S603 - this venv's python, our own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def _loaded_after(statement: str) -> set[str]:
    output = _run_python(f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))")
    return set(json.loads(output.splitlines()[-1]))


@cache
def _airflows_own() -> set[str]:
    """What Airflow's own base classes load: it does not count (Airflow 3.1's load
    airflow.triggers.base). Measured once for all the statements."""
    return _loaded_after("from airflow.sdk import BaseOperator, BaseOperatorLink, BaseSensorOperator")


@pytest.mark.parametrize(
    "statement",
    [
        "from airflow_provider_apimart.operators.video import ApimartWan27Operator",
        "from airflow_provider_apimart.sensors.task import ApimartTaskSensor",
        "from airflow_provider_apimart.models import Wan27Request, build_request, KLING_V26",
    ],
)
def test_a_dag_parse_loads_no_runtime_module(statement: str) -> None:
    added = _loaded_after(statement) - _airflows_own()
    assert added.isdisjoint(RUNTIME_ONLY), sorted(added.intersection(RUNTIME_ONLY))


def test_an_operator_still_validates_a_literal_request_at_parse() -> None:
    code = (
        "from airflow_provider_apimart.operators.video import ApimartKlingV26Operator\n"
        "try:\n"
        "    ApimartKlingV26Operator(task_id='k', prompt='a cat', duration=7)\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    output = _run_python(code)
    assert output.startswith("ApimartValidationError Task 'k'"), output
    assert "duration" in output


@pytest.mark.parametrize("name", models.__all__)
def test_every_model_name_is_importable_from_the_package(name: str) -> None:
    value = getattr(models, name)
    defined_in = getattr(value, "__module__", "")
    if defined_in.startswith("airflow_provider_apimart.models."):
        assert getattr(import_module(defined_in), name) is value
    assert name in dir(models)


def test_an_unknown_model_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchModel"):
        _ = models.NoSuchModel
