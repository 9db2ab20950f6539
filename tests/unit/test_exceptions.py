"""Which failures burn Airflow retries and which fail the task at once."""

from __future__ import annotations

import pytest

from airflow_provider_apimart import exceptions
from airflow_provider_apimart.exceptions import (
    ApimartAPIError,
    ApimartAuthenticationError,
    ApimartBadRequestError,
    ApimartConfigurationError,
    ApimartConnectionError,
    ApimartDownloadError,
    ApimartIdempotencyIndeterminateError,
    ApimartIdempotencyInProgressError,
    ApimartIdempotencyKeyReusedError,
    ApimartIdempotencyUnavailableError,
    ApimartInsufficientBalanceError,
    ApimartNotFoundError,
    ApimartPaymentRequiredError,
    ApimartPermissionDeniedError,
    ApimartRateLimitError,
    ApimartRejectedError,
    ApimartResponseError,
    ApimartSchemaUnavailableError,
    ApimartServerError,
    ApimartStorageError,
    ApimartSubmitOutcomeUnknownError,
    ApimartTaskCancelledError,
    ApimartTaskFailedError,
    ApimartTaskRejectedError,
    ApimartTaskTimeoutError,
    ApimartTaskWaitError,
    ApimartValidationError,
    ApimartVideoExpiredError,
)
from airflow_provider_apimart.version_compat import AirflowException, AirflowFailException

PERMANENT = [
    ApimartValidationError,
    ApimartConfigurationError,
    ApimartSubmitOutcomeUnknownError,
    ApimartRejectedError,
    ApimartBadRequestError,
    ApimartAuthenticationError,
    ApimartPaymentRequiredError,
    ApimartPermissionDeniedError,
    ApimartTaskRejectedError,
    ApimartTaskCancelledError,
    ApimartInsufficientBalanceError,
    ApimartVideoExpiredError,
    ApimartIdempotencyKeyReusedError,
    ApimartIdempotencyIndeterminateError,
    exceptions.ApimartDownloadRefusedError,
    exceptions.ApimartStorageUnusableError,
    exceptions.ApimartUndocumentedStatusError,
    exceptions.ApimartSpendLimitError,
    exceptions.ApimartPriceUnknownError,
]
RETRYABLE = [
    ApimartNotFoundError,
    exceptions.ApimartSpendStoreError,
    ApimartRateLimitError,
    ApimartServerError,
    ApimartConnectionError,
    ApimartResponseError,
    ApimartTaskFailedError,
    ApimartTaskTimeoutError,
    ApimartTaskWaitError,
    ApimartDownloadError,
    ApimartIdempotencyInProgressError,
    ApimartIdempotencyUnavailableError,
    ApimartSchemaUnavailableError,
    ApimartStorageError,
]


@pytest.mark.parametrize("error_class", PERMANENT)
def test_permanent_failures_do_not_burn_retries(error_class: type[Exception]) -> None:
    assert issubclass(error_class, AirflowFailException)


@pytest.mark.parametrize("error_class", RETRYABLE)
def test_transient_failures_leave_retries_to_airflow(error_class: type[Exception]) -> None:
    assert issubclass(error_class, AirflowException)
    assert not issubclass(error_class, AirflowFailException)


def test_every_public_error_is_classified() -> None:
    public = {
        value
        for name in exceptions.__all__
        if isinstance(value := getattr(exceptions, name), type) and issubclass(value, exceptions.ApimartError)
    }
    abstract = {
        exceptions.ApimartError,
        exceptions.ApimartPermanentError,
        ApimartAPIError,
        exceptions.ApimartTransientAPIError,
    }
    assert public - abstract == set(PERMANENT) | set(RETRYABLE)


def test_api_errors_carry_status_type_code_and_message() -> None:
    error = ApimartBadRequestError(
        "duration must be 4/6/8/10", http_status=400, error_type="invalid_duration", error_code=None,
        method="POST", path="/v1/videos/generations",
    )  # fmt: skip
    assert (error.http_status, error.error_type, error.api_message) == (
        400,
        "invalid_duration",
        "duration must be 4/6/8/10",
    )
    assert isinstance(error, ApimartAPIError)


def test_validation_error_lists_every_problem_in_one_line() -> None:
    error = ApimartValidationError(
        "kling-v2-6", [("duration", "must be one of 5, 10"), ("mode", "must be pro")]
    )
    assert str(error) == (
        "Invalid kling-v2-6 request, nothing was sent to APIMart. "
        "duration: must be one of 5, 10; mode: must be pro"
    )
    assert "\n" not in str(error)
