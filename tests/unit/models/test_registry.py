"""Picking the model by name, and the generic model for any other APIMart video model."""

from __future__ import annotations

import pytest

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.models import (
    REQUEST_MODELS,
    GenericVideoRequest,
    KlingV26Request,
    OmniFlashExtRequest,
    Wan26I2VFlashRequest,
    Wan27Request,
    build_request,
)
from tests.unit.models.helpers import assert_rejected


def test_each_documented_model_has_its_own_rules() -> None:
    assert {
        "wan2.6-i2v-flash": Wan26I2VFlashRequest,
        "wan2.7": Wan27Request,
        "Omni-Flash-Ext": OmniFlashExtRequest,
        "kling-v2-6": KlingV26Request,
    } == REQUEST_MODELS


def test_known_model_name_gets_its_rules_even_through_the_generic_path() -> None:
    assert_rejected({"model": "kling-v2-6", "prompt": "a", "duration": 7}, "duration")


def test_unknown_model_body_is_sent_as_given() -> None:
    body = {"model": "veo3", "prompt": "a", "anything": {"nested": [1, 2]}, "count": 2}
    request = build_request(body)
    assert isinstance(request, GenericVideoRequest)
    assert request.to_body() == body


@pytest.mark.parametrize("body", [{}, {"model": ""}, {"model": 3}], ids=["missing", "empty", "not a string"])
def test_generic_body_needs_a_model_name(body: dict[str, object]) -> None:
    with pytest.raises(ApimartValidationError) as caught:
        build_request(body)
    assert [name for name, _ in caught.value.problems] == ["model"]


def test_wrong_model_name_for_a_model_class_is_rejected() -> None:
    with pytest.raises(ApimartValidationError) as caught:
        Wan27Request.validated({"model": "wan2.6-i2v-flash", "prompt": "a"})
    assert "model" in str(caught.value)


def test_validation_error_fails_the_task_without_retries() -> None:
    from airflow_provider_apimart.version_compat import AirflowFailException

    with pytest.raises(AirflowFailException):
        build_request({"model": "Omni-Flash-Ext", "prompt": "a", "duration": 5})
