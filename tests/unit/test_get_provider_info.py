"""The provider metadata Airflow reads: registered, schema-valid, and pointing at real classes."""

from __future__ import annotations

import importlib
import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import airflow
import jsonschema
from airflow.sdk import BaseHook, BaseOperator
from airflow.triggers.base import BaseTrigger

from airflow_provider_apimart import __version__
from airflow_provider_apimart.get_provider_info import get_provider_info
from airflow_provider_apimart.hooks.apimart import ApimartHook

AIRFLOW_DIR = Path(airflow.__file__).parent


def test_entry_point_is_registered() -> None:
    (entry_point,) = [
        ep
        for ep in entry_points(group="apache_airflow_provider")
        if ep.value.startswith("airflow_provider_apimart")
    ]
    assert entry_point.load() is get_provider_info


def test_metadata_matches_the_distribution() -> None:
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-apimart"
    assert info["versions"] == [__version__]


def test_metadata_is_valid_for_airflow() -> None:
    jsonschema.validate(
        get_provider_info(), json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
    )


def test_connection_form_is_valid_for_airflow() -> None:
    (connection_type,) = get_provider_info()["connection-types"]
    behaviour = connection_type["ui-field-behaviour"]
    jsonschema.validate(
        {key.replace("-", "_"): value for key, value in behaviour.items()},
        json.loads((AIRFLOW_DIR / "customized_form_field_behaviours.schema.json").read_text()),
    )


def test_connection_type_points_at_the_hook() -> None:
    (connection_type,) = get_provider_info()["connection-types"]
    module_name, _, class_name = connection_type["hook-class-name"].rpartition(".")
    assert getattr(importlib.import_module(module_name), class_name) is ApimartHook
    assert connection_type["connection-type"] == ApimartHook.conn_type == "apimart"
    assert ApimartHook.default_conn_name == "apimart_default"


def test_connection_extras_are_the_ones_the_hook_reads() -> None:
    (connection_type,) = get_provider_info()["connection-types"]
    from airflow_provider_apimart.hooks._settings import ConnectionExtras

    assert set(connection_type["conn-fields"]) == set(ConnectionExtras.model_fields)


#: JSON Schema's words for a field's limits, and pydantic's where it keeps its own.
BOUNDS = {
    "minimum": "minimum",
    "ge": "minimum",
    "maximum": "maximum",
    "le": "maximum",
    "exclusiveMinimum": "exclusiveMinimum",
    "gt": "exclusiveMinimum",
    "exclusiveMaximum": "exclusiveMaximum",
    "lt": "exclusiveMaximum",
    "enum": "enum",
}


def _bounds(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's limits, whichever words state them; ``null`` (an empty field) set apart."""
    found: dict[str, Any] = {}
    for branch in schema.get("anyOf", [schema]):
        for key, meaning in BOUNDS.items():
            if key in branch:
                value = branch[key]
                found[meaning] = [item for item in value if item is not None] if key == "enum" else value
    return found


def test_the_connection_form_allows_exactly_what_the_hook_accepts() -> None:
    """The form's limits are the extras model's: a value the form takes is never refused later."""
    from airflow_provider_apimart.hooks._settings import ConnectionExtras

    (connection_type,) = get_provider_info()["connection-types"]
    checked = ConnectionExtras.model_json_schema()["properties"]
    for name, field in connection_type["conn-fields"].items():
        assert _bounds(field["schema"]) == _bounds(checked[name]), name


def test_the_connection_forms_defaults_are_the_hooks() -> None:
    from airflow_provider_apimart.hooks._settings import DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT

    fields = get_provider_info()["connection-types"][0]["conn-fields"]
    assert fields["timeout"]["schema"]["default"] == DEFAULT_REQUEST_TIMEOUT
    assert fields["max_retries"]["schema"]["default"] == DEFAULT_MAX_RETRIES


def test_every_extra_link_imports() -> None:
    for classpath in get_provider_info()["extra-links"]:
        module_name, _, class_name = classpath.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module_name), class_name), type)


def test_every_module_of_the_package_is_registered() -> None:
    info = get_provider_info()
    listed = {
        module
        for section in ("hooks", "operators", "sensors", "triggers")
        for entry in info[section]
        for module in entry["python-modules"]
    }
    package = Path(__file__).parents[2] / "airflow_provider_apimart"
    kinds = (BaseHook, BaseOperator, BaseTrigger)
    for section in ("hooks", "operators", "sensors", "triggers"):
        for path in (package / section).glob("[!_]*.py"):
            name = f"airflow_provider_apimart.{section}.{path.stem}"
            module = importlib.import_module(name)
            defines = [
                value
                for value in vars(module).values()
                if isinstance(value, type) and issubclass(value, kinds) and value.__module__ == name
            ]
            assert not defines or name in listed, f"{name} defines {defines} but is not registered"


def test_every_listed_module_imports() -> None:
    info = get_provider_info()
    modules = [
        module
        for section in ("hooks", "operators", "sensors", "triggers")
        for entry in info.get(section, [])
        for module in entry["python-modules"]
    ]
    assert modules, "the provider must list at least its hook module"
    for module in modules:
        importlib.import_module(module)
