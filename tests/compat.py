"""Imports the tests need whose home moved between Airflow 3.1 and 3.3 (the package needs none)."""

from __future__ import annotations

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined,unused-ignore]

try:
    from airflow.sdk.serde import deserialize, serialize
except ImportError:  # Airflow 3.1
    from airflow.serialization.serde import (  # type: ignore[no-redef,import-not-found,unused-ignore]
        deserialize,
        serialize,
    )

__all__ = ["TaskDeferred", "deserialize", "serialize"]
