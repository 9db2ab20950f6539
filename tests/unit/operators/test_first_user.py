"""What a first user tripped on: the expiry as a time, the prompt's length, a prompt too long to trust."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from airflow_provider_apimart.exceptions import ApimartRequestWarning, ApimartValidationError
from airflow_provider_apimart.models import build_request
from airflow_provider_apimart.operators.video import ApimartWan27Operator
from tests.unit.operators.fakes import FakeTaskInstance, make_context

if TYPE_CHECKING:
    from airflow_provider_apimart.testing import ApimartSimulator


def test_the_summary_gives_the_expiry_as_a_time_beside_the_number(simulator: ApimartSimulator) -> None:
    ti = FakeTaskInstance()
    ApimartWan27Operator(task_id="clip", prompt="a fox", poll_interval=0.05).execute(make_context(ti))
    summary = ti.xcoms["apimart_task"]
    assert isinstance(summary["expires_at"], int | float)  # the contract stays a number
    assert datetime.fromisoformat(summary["expires_at_iso"]).timestamp() == summary["expires_at"]
    assert summary["expires_at_iso"].endswith("+00:00")


def test_a_prompt_over_the_limit_says_how_long_it_is() -> None:
    with pytest.raises(ApimartValidationError) as caught:
        build_request({"model": "kling-v2-6", "prompt": "x" * 2600})
    assert "prompt: String should have at most 2500 characters (got 2600 characters)" in str(caught.value)
    assert "xxxxxxxx" not in str(caught.value)  # not the text itself


def test_a_wan26_prompt_longer_than_any_documented_limit_is_sent_with_a_warning() -> None:
    body = {
        "model": "wan2.6-i2v-flash",
        "image_urls": ["https://cdn.example.com/a.png"],
        "prompt": "y" * 107_800,
    }
    with pytest.warns(ApimartRequestWarning, match="the prompt is 107800 characters"):
        assert build_request(body).to_body()["prompt"] == body["prompt"]
