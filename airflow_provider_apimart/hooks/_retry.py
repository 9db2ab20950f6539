"""When one API call is tried again inside the hook, and how long it waits in between.

Transient failures (network errors, 408, 429, 500, 502, 503, 504) are retried a bounded number of
times, waiting as the provider's one backoff policy says (:mod:`airflow_provider_apimart.backoff`).
A submit without an Idempotency-Key is retried only where no job can have been created. A 409
``idempotency_in_progress`` (the first request with this key is still being processed) is sent
again, same key and body, for up to ``IN_PROGRESS_PATIENCE`` seconds, whatever ``max_retries`` says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from airflow_provider_apimart import backoff
from airflow_provider_apimart.backoff import MAX_RETRY_AFTER, backoff_delay, is_transient, retry_after_of
from airflow_provider_apimart.exceptions import (
    ApimartConnectionError,
    ApimartIdempotencyInProgressError,
    ApimartIdempotencyUnavailableError,
    ApimartRateLimitError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

ResultT = TypeVar("ResultT")

#: How long a submit whose key is still being processed (409 ``idempotency_in_progress``) keeps
#: asking, within the call: longer than APIMart's own client waits for a submit (45 s).
IN_PROGRESS_PATIENCE = 120.0


def _sync_sleep(seconds: float) -> None:
    backoff.sleep(seconds)  # looked up at each pause, so a test's replacement applies


async def _async_sleep(seconds: float) -> None:
    await backoff.asleep(seconds)


def created_nothing(error: BaseException) -> bool:
    """Failures after which no job can exist: nothing was sent, the API refused with 429, or it
    said it did not execute the request (503 ``idempotency_unavailable``)."""
    if isinstance(error, ApimartConnectionError):
        return not error.request_sent
    return isinstance(error, ApimartRateLimitError | ApimartIdempotencyUnavailableError)


def is_in_progress(error: BaseException | None) -> bool:
    """The first request under this key is still being processed: ask again, same key and body."""
    return isinstance(error, ApimartIdempotencyInProgressError)


class WarningLogger(Protocol):
    """Any logger: the stdlib's, or the structlog logger Airflow hooks carry."""

    def warning(self, message: Any, /, *args: Any) -> Any: ...


@dataclass
class RetryPolicy:
    """Bounded retries for a hook's calls; ``replay_safe=False`` is for a POST with no Idempotency-Key."""

    max_retries: int
    #: Where a retry is announced; None only with ``max_retries=0``, which never retries.
    logger: WarningLogger | None = None

    def _options(self, replay_safe: bool) -> dict[str, object]:
        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return backoff_delay(state.attempt_number, retry_after_of(error))

        out_of_attempts = stop_after_attempt(self.max_retries + 1)

        def stop(state: RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome else None
            retry_after = retry_after_of(error)
            if retry_after is not None and retry_after > MAX_RETRY_AFTER:
                return True
            if is_in_progress(error):
                return state.idle_for >= IN_PROGRESS_PATIENCE  # the waits so far, not the clock
            return out_of_attempts(state)

        def log_retry(state: RetryCallState) -> None:
            if self.logger is None:
                return
            error = state.outcome.exception() if state.outcome else None
            wait_seconds = state.next_action.sleep if state.next_action else 0.0
            if is_in_progress(error):
                self.logger.warning(
                    "APIMart is still processing the first request under this Idempotency-Key; sending "
                    "the same request again in %.1f s (asking for up to %.0f s).",
                    wait_seconds,
                    IN_PROGRESS_PATIENCE,
                )
                return
            self.logger.warning(
                "%s; trying again in %.1f s (retry %d of %d).",
                error,
                wait_seconds,
                state.attempt_number,
                self.max_retries,
            )

        return {
            "retry": retry_if_exception(is_transient if replay_safe else created_nothing),
            "stop": stop,
            "wait": wait,
            "before_sleep": log_retry,
            "reraise": True,
        }

    def call(self, attempt: Callable[[], ResultT], *, replay_safe: bool) -> ResultT:
        """``attempt()``, tried again as the policy allows.

        The first try runs outside tenacity: a call that succeeds at once (nearly every call) pays
        nothing for the machinery. A failure is handed to tenacity as that first try's outcome, so
        the decision to retry, the wait and the count are tenacity's, exactly as if it had made it.
        """
        try:
            return attempt()
        except Exception as error:
            if self.max_retries == 0 and not is_in_progress(error):
                raise
            first_failure = error
        retrying = Retrying(sleep=_sync_sleep, **self._options(replay_safe))  # type: ignore[arg-type]
        return retrying(_after(first_failure, attempt))

    async def acall(self, attempt: Callable[[], Awaitable[ResultT]], *, replay_safe: bool) -> ResultT:
        """The async :meth:`call`."""
        try:
            return await attempt()
        except Exception as error:
            if self.max_retries == 0 and not is_in_progress(error):
                raise
            first_failure = error
        retrying = AsyncRetrying(sleep=_async_sleep, **self._options(replay_safe))  # type: ignore[arg-type]
        return await retrying(_aafter(first_failure, attempt))


def _after(first_failure: Exception, attempt: Callable[[], ResultT]) -> Callable[[], ResultT]:
    """An attempt whose first call fails as the real first try did, and whose later calls try."""
    failures = [first_failure]

    def replayed() -> ResultT:
        if failures:
            raise failures.pop()
        return attempt()

    return replayed


def _aafter(
    first_failure: Exception, attempt: Callable[[], Awaitable[ResultT]]
) -> Callable[[], Awaitable[ResultT]]:
    """The async :func:`_after`."""
    failures = [first_failure]

    async def replayed() -> ResultT:
        if failures:
            raise failures.pop()
        return await attempt()

    return replayed


#: The policy of a call made once, whatever fails: a poller's read, which counts its own failures.
SINGLE_TRY = RetryPolicy(max_retries=0)
