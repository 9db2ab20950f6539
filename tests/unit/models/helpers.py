"""Assertions shared by the per-model rule tests."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.models import build_request


def assert_rejected(body: dict[str, Any], parameter: str, *fragments: str) -> ApimartValidationError:
    """The body is refused before any request, naming ``parameter`` and quoting the limit."""
    with pytest.raises(ApimartValidationError) as caught:
        build_request(body)
    error = caught.value
    named = [name for name, _ in error.problems]
    assert parameter in named, f"expected {parameter!r} among {named}: {error}"
    message = str(error)
    assert f"{parameter}:" in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return error


def assert_body_round_trips(body: dict[str, Any]) -> None:
    """A documented body is accepted and sent exactly as written: same keys, same values."""
    assert build_request(body).to_body() == body
