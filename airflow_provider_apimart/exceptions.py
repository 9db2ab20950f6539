"""Every failure this provider raises, as one tree a user can catch by what it means.

``[fail]`` marks classes that subclass ``AirflowFailException``: Airflow fails the task at once
instead of burning retries, because trying again cannot succeed (bad input, bad key, no money)
or could pay twice. Everything else may succeed on an Airflow retry::

    AirflowException
    └── ApimartError                          anything from this provider
        ├── ApimartPermanentError       [fail] base of the failures a retry cannot fix
        │   ├── ApimartValidationError  [fail] request breaks a documented rule; nothing was sent
        │   ├── ApimartConfigurationError [fail] the Airflow connection is unusable (no key, bad extra)
        │   ├── ApimartSubmitOutcomeUnknownError [fail] a POST without Idempotency-Key lost its
        │   │                                  answer: a job may exist and be billed
        │   └── ApimartRejectedError    [fail] the API refused the request (4xx, not 404/408/429)
        │       ├── ApimartBadRequestError        400 (invalid_request_error, invalid_duration, ...)
        │       ├── ApimartAuthenticationError    401
        │       ├── ApimartPaymentRequiredError   402
        │       ├── ApimartPermissionDeniedError  403
        │       ├── ApimartIdempotencyKeyReusedError  409 idempotency_key_reused: the key was
        │       │                                  used with another body
        │       └── ApimartIdempotencyIndeterminateError  409 idempotency_result_indeterminate: the
        │                                          first request's outcome is unknown; a person
        │                                          checks the APIMart console before a clear
        ├── ApimartAPIError                    the API answered with an error (also base of the
        │   │                                  ApimartRejectedError family above)
        │   ├── ApimartNotFoundError           404, e.g. a task id the API does not know (a retry
        │   │                                  submits afresh)
        │   └── ApimartTransientAPIError       still failing after the hook's own retries
        │       ├── ApimartRateLimitError      429 (``retry_after`` when the API sent one)
        │       ├── ApimartIdempotencyInProgressError  409 idempotency_in_progress: the first
        │       │                              request with this key is still being processed
        │       └── ApimartServerError         408 and 5xx
        │           └── ApimartIdempotencyUnavailableError  503 idempotency_unavailable: the
        │                                      request was not executed
        ├── ApimartConnectionError             network failure after the hook's own retries
        ├── ApimartResponseError               a success answer whose body we cannot read
        │                                      (also: "completed" without any video)
        ├── ApimartSchemaUnavailableError      the model's schema could not be read before a
        │                                      submit (``schema_check="strict"``); nothing was sent
        ├── ApimartTaskFailedError             the render failed (upstream quota, timeout, ...)
        │   └── ApimartTaskRejectedError [fail] failed for content moderation or invalid input
        ├── ApimartTaskCancelledError   [fail] the task was cancelled on APIMart's side
        ├── ApimartInsufficientBalanceError [fail] the balance is below ``min_balance``; nothing
        │                                  was submitted
        ├── ApimartSpendLimitError      [fail] this job's estimate would cross a spend limit (per
        │                                  run or per day); nothing was submitted
        ├── ApimartPriceUnknownError    [fail] a spend limit applies but no price is known for
        │                                  the job; nothing was submitted
        ├── ApimartSpendStoreError             the spend store (Redis, Postgres, the local file)
        │                                  could not be read or written; nothing was submitted
        ├── ApimartVideoExpiredError    [fail] the result URLs expired before the videos were
        │                                  copied to ``output_path``
        ├── ApimartDownloadError               copying a video to ``output_path`` failed after a few
        │   │                                  tries (network, 5xx, a file that is not a video)
        │   └── ApimartDownloadRefusedError [fail] a result the provider will not fetch: a URL
        │                                      that is not http(s), a video over the size limit
        ├── ApimartStorageError                the paid video could not be written to ``output_path``
        │   │                                  (disk full, bucket gone, credentials expired); a retry
        │   │                                  only downloads, no new charge
        │   └── ApimartStorageUnusableError [fail] storage no retry can fix (no permission, a
        │                                      read-only folder, an unknown scheme); fix it, then clear
        ├── ApimartTaskTimeoutError            not finished before ``timeout``; may still render
        ├── ApimartTaskWaitError               waiting broke off (status reads kept failing, or an
        │                                      unexpected trigger event); the render may go on
        └── ApimartUndocumentedStatusError [fail] the task stayed in a status the docs do not name
                                               for longer than the grace; a clear waits again

    UserWarning
    └── ApimartRequestWarning                  a request sent as asked, though it looks wrong

A status read that fails while a task is awaited ends the same way wherever the task waits (on
the worker, in the triggerer, in the sensor): the error of the API's answer (401 gives
``ApimartAuthenticationError``, 404 ``ApimartNotFoundError``, ...), or, after a streak of
transient failures, ``ApimartTaskWaitError``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_apimart.version_compat import AirflowException, AirflowFailException

__all__ = [
    "ApimartAPIError",
    "ApimartAuthenticationError",
    "ApimartBadRequestError",
    "ApimartConfigurationError",
    "ApimartConnectionError",
    "ApimartDownloadError",
    "ApimartDownloadRefusedError",
    "ApimartError",
    "ApimartIdempotencyInProgressError",
    "ApimartIdempotencyIndeterminateError",
    "ApimartIdempotencyKeyReusedError",
    "ApimartIdempotencyUnavailableError",
    "ApimartInsufficientBalanceError",
    "ApimartNotFoundError",
    "ApimartPaymentRequiredError",
    "ApimartPermanentError",
    "ApimartPermissionDeniedError",
    "ApimartPriceUnknownError",
    "ApimartRateLimitError",
    "ApimartRejectedError",
    "ApimartRequestWarning",
    "ApimartResponseError",
    "ApimartSchemaUnavailableError",
    "ApimartServerError",
    "ApimartSpendLimitError",
    "ApimartSpendStoreError",
    "ApimartStorageError",
    "ApimartStorageUnusableError",
    "ApimartSubmitOutcomeUnknownError",
    "ApimartTaskCancelledError",
    "ApimartTaskFailedError",
    "ApimartTaskRejectedError",
    "ApimartTaskTimeoutError",
    "ApimartTaskWaitError",
    "ApimartTransientAPIError",
    "ApimartUndocumentedStatusError",
    "ApimartValidationError",
    "ApimartVideoExpiredError",
    "api_error_class",
    "api_error_class_for_status",
]


class ApimartError(AirflowException):
    """Base of every error raised by the APIMart provider."""


class ApimartPermanentError(ApimartError, AirflowFailException):
    """A failure that an Airflow retry cannot fix: the task fails without using its retries."""


class ApimartValidationError(ApimartPermanentError):
    """The request breaks a documented rule of its model; it was rejected before any HTTP call.

    ``problems`` holds one ``(parameter, explanation)`` pair per broken rule.
    """

    def __init__(self, model: str, problems: list[tuple[str, str]], *, task_id: str | None = None) -> None:
        self.model = model
        self.problems = problems
        self.task_id = task_id
        details = "; ".join(f"{parameter}: {explanation}" for parameter, explanation in problems)
        where = f"Task {task_id!r}: i" if task_id else "I"
        super().__init__(f"{where}nvalid {model} request, nothing was sent to APIMart. {details}")

    def for_task(self, task_id: str) -> ApimartValidationError:
        """The same error, naming the Airflow task that holds the request."""
        return type(self)(self.model, self.problems, task_id=task_id)


class ApimartConfigurationError(ApimartPermanentError):
    """The Airflow connection cannot be used as it is (missing API key, malformed extra field)."""


class ApimartSubmitOutcomeUnknownError(ApimartPermanentError):
    """A submit without an Idempotency-Key lost its answer, so a job may exist and be billed.

    It is not retried, by the hook or by Airflow, because a second POST could pay twice.
    """


class ApimartAPIError(ApimartError):
    """The API answered with an error: HTTP status, the API's error type/code and its message."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        error_type: str | None = None,
        error_code: int | str | None = None,
        method: str | None = None,
        path: str | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self.http_status = http_status
        self.error_type = error_type
        self.error_code = error_code
        self.api_message = message
        self.method = method
        self.path = path
        #: The Idempotency-Key the failed submit carried, where there was one.
        self.idempotency_key = idempotency_key
        super().__init__(self._describe())

    def explained(self, explanation: str) -> ApimartAPIError:
        """The same error, its message followed by what only the caller knows (which task, what changed)."""
        explained = type(self).__new__(type(self))
        explained.__dict__.update(vars(self))
        explained.args = (f"{self} {explanation}",)
        return explained

    def _describe(self) -> str:
        where = f" on {self.method} {self.path}" if self.method and self.path else ""
        labels = [str(label) for label in (self.error_type, self.error_code) if label is not None]
        kind = f" {'/'.join(dict.fromkeys(labels))}" if labels else ""
        return f"APIMart answered HTTP {self.http_status}{kind}{where}: {self.api_message}"


class ApimartRejectedError(ApimartAPIError, ApimartPermanentError):
    """The API refused the request itself; sending it again unchanged cannot succeed."""


class ApimartBadRequestError(ApimartRejectedError):
    """HTTP 400: the body was invalid (see ``error_type``, e.g. ``invalid_duration``)."""


class ApimartAuthenticationError(ApimartRejectedError):
    """HTTP 401: the API key in the connection's password field is wrong or revoked."""


class ApimartPaymentRequiredError(ApimartRejectedError):
    """HTTP 402: the APIMart balance is too low; top up, then clear the task."""


class ApimartPermissionDeniedError(ApimartRejectedError):
    """HTTP 403: the key may not use this model or endpoint."""


class ApimartIdempotencyKeyReusedError(ApimartRejectedError):
    """HTTP 409 ``idempotency_key_reused``: the key was first sent with another body.

    The provider derives the key from the request, so this is its bug or a body changed between
    tries (an image uploaded again under a new URL, a non-deterministic TaskFlow function).
    """

    def _describe(self) -> str:
        return (
            f"{super()._describe()}. APIMart already holds a request under Idempotency-Key "
            f"{self.idempotency_key!r} with a different body; nothing new was paid."
        )


class ApimartIdempotencyIndeterminateError(ApimartRejectedError):
    """HTTP 409 ``idempotency_result_indeterminate``: APIMart cannot say what became of the first
    request with this key. A job may exist and be billed; the provider never resubmits under
    another key, so a person checks the APIMart console before clearing the task."""

    def _describe(self) -> str:
        return (
            f"{super()._describe()}. The outcome of the first request under Idempotency-Key "
            f"{self.idempotency_key!r} is unknown: a job may exist and be billed. Check the APIMart "
            "console for it before clearing this task; a clear sends the same key again, never a new one."
        )


class ApimartNotFoundError(ApimartAPIError):
    """HTTP 404: for a task id, APIMart does not know it (wrong id, other account, or expired)."""


class ApimartTransientAPIError(ApimartAPIError):
    """The API was busy or broken for longer than the hook's own retries; Airflow may retry."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ApimartRateLimitError(ApimartTransientAPIError):
    """HTTP 429: too many requests; ``retry_after`` is the wait the API asked for, if any."""


class ApimartIdempotencyInProgressError(ApimartTransientAPIError):
    """HTTP 409 ``idempotency_in_progress``: the first request with this key is still being
    processed. The hook sends the same key and body again after Retry-After (else a backoff) for
    up to two minutes; still in progress after that, an Airflow retry sends the same key again."""


class ApimartServerError(ApimartTransientAPIError):
    """HTTP 408 or 5xx: APIMart could not answer now."""


class ApimartIdempotencyUnavailableError(ApimartServerError):
    """HTTP 503 ``idempotency_unavailable``: APIMart did not execute the request; safe to send again."""


class ApimartConnectionError(ApimartError):
    """APIMart could not be reached (DNS, refused, timeout) even after the hook's own retries.

    ``request_sent`` is False when the request provably never left this machine.
    """

    def __init__(self, message: str, *, request_sent: bool) -> None:
        self.request_sent = request_sent
        super().__init__(message)


class ApimartResponseError(ApimartError):
    """APIMart answered with success but a body this provider cannot read."""


class ApimartSchemaUnavailableError(ApimartError):
    """The model's schema could not be read before a submit with ``schema_check="strict"`` (the
    schema endpoint failed or answered something unreadable); nothing was sent, and an Airflow
    retry reads it again."""


class ApimartTaskFailedError(ApimartError):
    """The remote render ended ``failed``; carries the API's message, ``error_code`` and ``kind``."""

    def __init__(self, message: str, *, remote_task_id: str, error_code: int | str | None, kind: str) -> None:
        self.remote_task_id = remote_task_id
        self.error_code = error_code
        self.kind = kind
        code = f", code {error_code}" if error_code is not None else ""
        super().__init__(f"APIMart task {remote_task_id} failed ({kind}{code}): {message}")


class ApimartTaskRejectedError(ApimartTaskFailedError, ApimartPermanentError):
    """The render failed for content moderation or invalid input: the same request fails again."""


class ApimartTaskCancelledError(ApimartPermanentError):
    """The remote task was cancelled on APIMart's side; nothing was generated."""


class ApimartTaskTimeoutError(ApimartError):
    """The task did not finish within the operator's ``timeout``; it may still be rendering.

    A retry reattaches to the same task on Airflow 3.3+ instead of paying again.
    """


class ApimartTaskWaitError(ApimartError):
    """Waiting for the task broke off: too many status reads in a row failed (network, 429, 5xx,
    unreadable answers), or the trigger sent an event this provider does not know. The render
    may still be running; a retry reattaches to it on Airflow 3.3+."""


class ApimartInsufficientBalanceError(ApimartPermanentError):
    """The key's balance is below the task's ``min_balance``: no job was submitted. Top up, then
    clear the task."""


class ApimartSpendLimitError(ApimartPermanentError):
    """Reserving this job's estimated cost would cross a spend limit: names the limit, what is
    spent, what running tasks hold reserved and this job's estimate. No job was submitted."""


class ApimartPriceUnknownError(ApimartPermanentError):
    """A spend limit applies, but neither ``spend_prices`` nor a completed job of the same model
    and parameters gives this job a price: the limit fails closed. No job was submitted."""


class ApimartSpendStoreError(ApimartError):
    """The spend store could not reserve or settle (Redis or Postgres unreachable, the local file
    locked past its timeout). Before a submit, nothing was sent; a retry tries again."""


class ApimartVideoExpiredError(ApimartPermanentError):
    """A result URL answered 403, 404 or 410 even after the task was read again for fresh URLs:
    the paid video can no longer be copied. Names the remote task and its ``expires_at``."""


class ApimartDownloadError(ApimartError):
    """Copying a result video into ``output_path`` failed after a few tries within this try (network,
    5xx, a short or non-video answer); an Airflow retry copies it again without paying again."""


class ApimartStorageError(ApimartError):
    """A paid video could not be written to ``output_path`` after its render (disk full, bucket
    deleted, credentials expired). Names the task, the remote task, where it tried to write and
    until when the source URL lives; an Airflow retry or a clear reattaches to the same job and
    only downloads (no new charge)."""


class ApimartDownloadRefusedError(ApimartDownloadError, ApimartPermanentError):
    """A result the provider will not fetch, on any try: its URL is not http(s) (``file://`` or
    ``ftp://`` would read this machine or leave the web), or the video is larger than the
    ``[apimart] max_video_bytes`` limit."""


class ApimartStorageUnusableError(ApimartStorageError, ApimartPermanentError):
    """``output_path`` cannot work as it is after the render (no write permission, a read-only
    filesystem, a scheme with no filesystem installed): not retried, since each retry would fail
    the same way. Fix the storage, then clear the task: it reattaches and only downloads."""


class ApimartUndocumentedStatusError(ApimartPermanentError):
    """The task reported a status the docs do not name for longer than the grace (10 min), so
    whether it ends is unknown. Not retried (on Airflow 3.1-3.2 a retry would pay for a new job);
    a clear waits for the same task again on Airflow 3.3+."""


class ApimartRequestWarning(UserWarning):
    """A request the API may accept but probably should not get (a base64 image, an unknown
    effect template, an uncommon aspect ratio). Shown once per process; filter it with
    ``warnings.filterwarnings("ignore", category=ApimartRequestWarning)``."""


_ERROR_CLASS_BY_STATUS: dict[int, type[ApimartAPIError]] = {
    400: ApimartBadRequestError,
    401: ApimartAuthenticationError,
    402: ApimartPaymentRequiredError,
    403: ApimartPermissionDeniedError,
    404: ApimartNotFoundError,
    408: ApimartServerError,
    429: ApimartRateLimitError,
}


#: Error codes with a meaning of their own, whatever the HTTP status; APIMart puts the code in
#: ``error.code`` and some integrations see it in ``error.message``, so both are read.
_ERROR_CLASS_BY_CODE: dict[str, type[ApimartAPIError]] = {
    "idempotency_in_progress": ApimartIdempotencyInProgressError,
    "idempotency_key_reused": ApimartIdempotencyKeyReusedError,
    "idempotency_result_indeterminate": ApimartIdempotencyIndeterminateError,
    "idempotency_unavailable": ApimartIdempotencyUnavailableError,
}


def api_error_class(http_status: int, *labels: object) -> type[ApimartAPIError]:
    """The exception class for an error answer: a known error code among ``labels`` (the body's
    code, type and message), else the HTTP status."""
    words = " ".join(str(label) for label in labels if label is not None).lower()
    for code, error_class in _ERROR_CLASS_BY_CODE.items():
        if code in words:
            return error_class
    return api_error_class_for_status(http_status)


def api_error_class_for_status(http_status: int) -> type[ApimartAPIError]:
    """The exception class for an HTTP status (or a status-like ``code`` in a 200 body)."""
    if http_status in _ERROR_CLASS_BY_STATUS:
        return _ERROR_CLASS_BY_STATUS[http_status]
    if http_status >= 500:
        return ApimartServerError
    if 400 <= http_status < 500:
        return ApimartRejectedError
    return ApimartAPIError
