"""Airflow's own CLI discovers the provider and its connection form (a real `airflow` process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_apimart import __version__
from airflow_provider_apimart.version_compat import AIRFLOW_V_3_2_PLUS

AIRFLOW = Path(sys.executable).parent / "airflow"
needs_declarative_form = pytest.mark.skipif(
    not AIRFLOW_V_3_2_PLUS, reason="Airflow reads the connection form from provider info from 3.2 on"
)


def airflow_cli(tmp_path: Path, *args: str) -> Any:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own venv's airflow
        [str(AIRFLOW), *args, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.integration
def test_providers_list_shows_the_provider(tmp_path: Path) -> None:
    providers = {row["package_name"]: row for row in airflow_cli(tmp_path, "providers", "list")}
    assert providers["airflow-provider-apimart"]["version"] == __version__


@pytest.mark.integration
@needs_declarative_form
def test_providers_behaviours_show_the_apimart_form(tmp_path: Path) -> None:
    assert {"field_behaviours": "apimart"} in airflow_cli(tmp_path, "providers", "behaviours")


@pytest.mark.integration
@needs_declarative_form
def test_providers_widgets_show_the_typed_extras(tmp_path: Path) -> None:
    widgets = {
        row["connection_parameter_name"]: row["field_type"]
        for row in airflow_cli(tmp_path, "providers", "widgets")
        if row["package_name"] == "airflow-provider-apimart"
    }
    assert widgets == {
        "extra__apimart__timeout": ["number", "null"],
        "extra__apimart__max_retries": ["integer", "null"],
        "extra__apimart__min_balance": ["number", "null"],
        "extra__apimart__schema_check": ["string", "null"],
        "extra__apimart__run_spend_limit": ["number", "null"],
        "extra__apimart__daily_spend_limit": ["number", "null"],
        "extra__apimart__spend_prices": ["string", "null"],
        "extra__apimart__spend_store_conn_id": ["string", "null"],
    }


@pytest.mark.integration
def test_providers_hooks_show_the_apimart_hook(tmp_path: Path) -> None:
    hooks = {row["connection_type"]: row for row in airflow_cli(tmp_path, "providers", "hooks")}
    assert hooks["apimart"]["class"] == "airflow_provider_apimart.hooks.apimart.ApimartHook"
