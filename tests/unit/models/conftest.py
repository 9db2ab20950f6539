"""Each model test sees the request warnings afresh (they are shown once per process)."""

from __future__ import annotations

import pytest

from airflow_provider_apimart.models import base


@pytest.fixture(autouse=True)
def _fresh_request_warnings() -> None:
    base._warned.clear()
