"""Reading APIMart error answers: typed by status, described from whichever body shape arrives."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from airflow_provider_apimart.backoff import retry_after_seconds
from airflow_provider_apimart.exceptions import (
    ApimartAPIError,
    ApimartAuthenticationError,
    ApimartBadRequestError,
    ApimartNotFoundError,
    ApimartPaymentRequiredError,
    ApimartPermissionDeniedError,
    ApimartRateLimitError,
    ApimartRejectedError,
    ApimartServerError,
)
from airflow_provider_apimart.hooks._answers import Call, error_from_response
from airflow_provider_apimart.redaction import Redactor

CALL = Call("POST", "/v1/videos/generations", Redactor.of("sk-secret"))


def error_for(status: int, **response: Any) -> ApimartAPIError:
    return error_from_response(httpx.Response(status, **response), CALL)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, ApimartBadRequestError),
        (401, ApimartAuthenticationError),
        (402, ApimartPaymentRequiredError),
        (403, ApimartPermissionDeniedError),
        (404, ApimartNotFoundError),
        (408, ApimartServerError),
        (413, ApimartRejectedError),
        (429, ApimartRateLimitError),
        (500, ApimartServerError),
        (502, ApimartServerError),
        (503, ApimartServerError),
        (504, ApimartServerError),
    ],
)
def test_status_picks_the_error_class(status: int, error_class: type[ApimartAPIError]) -> None:
    error = error_for(status, json={})
    assert type(error) is error_class
    assert error.http_status == status


def test_openai_style_error_object_is_read_first() -> None:
    error = error_for(
        400,
        json={
            "error": {"message": "image count", "type": "unsupported_image_count", "code": "bad"},
            "message": "x",
        },
    )
    assert (error.api_message, error.error_type, error.error_code) == (
        "image count",
        "unsupported_image_count",
        "bad",
    )
    assert str(error) == (
        "APIMart answered HTTP 400 unsupported_image_count/bad on POST /v1/videos/generations: image count"
    )


def test_integer_error_code_is_kept() -> None:
    assert error_for(400, json={"error": {"message": "m", "code": 1001}}).error_code == 1001


def test_flat_message_is_read_next() -> None:
    error = error_for(401, json={"success": False, "message": "token not found"})
    assert error.api_message == "token not found"
    assert str(error).endswith("on POST /v1/videos/generations: token not found")


def test_error_given_as_a_string() -> None:
    assert error_for(400, json={"error": "prompt is empty"}).api_message == "prompt is empty"


def test_plain_text_body_is_used_and_truncated() -> None:
    error = error_for(502, text="<html>" + "bad gateway " * 100 + "</html>")
    assert error.api_message.startswith("<html>bad gateway")
    assert len(error.api_message) == 300
    assert error.api_message.endswith("...")


def test_empty_body_falls_back_to_the_reason_phrase() -> None:
    assert error_for(503).api_message == "Service Unavailable"


def test_key_echoed_by_the_api_is_redacted() -> None:
    error = error_for(401, json={"error": {"message": "token sk-secret is revoked"}})
    assert "sk-secret" not in str(error)
    assert "token *** is revoked" in str(error)


def test_rate_limit_carries_retry_after() -> None:
    error = error_for(429, headers={"Retry-After": "7"}, json={"error": {"type": "rate_limit_error"}})
    assert isinstance(error, ApimartRateLimitError)
    assert error.retry_after == 7.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("12", 12.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_forms(header: str, expected: float | None) -> None:
    assert retry_after_seconds(httpx.Headers({"Retry-After": header})) == expected


def test_retry_after_as_a_future_http_date() -> None:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    future = datetime.now(timezone.utc) + timedelta(seconds=30)
    seconds = retry_after_seconds(httpx.Headers({"Retry-After": format_datetime(future, usegmt=True)}))
    assert seconds is not None
    assert 25 <= seconds <= 30
