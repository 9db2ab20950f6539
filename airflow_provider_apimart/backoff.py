"""The provider's one backoff policy: which failures a later try may survive, and how long to wait.

The hook's retries of a call, the pollers' retries of a status read and the downloads' retries
of a video all wait as :func:`backoff_delay` says, and honour the API's Retry-After up to
:data:`MAX_RETRY_AFTER`. No I/O and no tenacity here: the poller that imports this runs in the
triggerer thousands of times over, and a DAG parse may import the trigger.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from airflow_provider_apimart.exceptions import ApimartConnectionError, ApimartTransientAPIError

if TYPE_CHECKING:
    from collections.abc import Mapping

#: First backoff wait and its ceiling, in seconds, when the API gives no Retry-After.
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 30.0
#: Up to this many seconds are added at random to each wait, so many callers do not retry in step.
BACKOFF_JITTER = 1.0
#: A Retry-After longer than this is not waited out inside one call: the error is raised with
#: ``retry_after`` set, and Airflow's own retry (or the trigger's loop) takes over.
MAX_RETRY_AFTER = 120.0

#: The pauses between tries, sync and async: seams that tests replace to keep time. Aliases, not
#: wrappers, so a sleeping trigger holds no extra coroutine. Callers look them up at each pause
#: (``backoff.sleep(...)``), so a test's replacement applies.
sleep = time.sleep
asleep = asyncio.sleep


def is_transient(error: BaseException) -> bool:
    """Any failure that the same request may survive a moment later: network, 408, 429, 5xx."""
    return isinstance(error, ApimartConnectionError | ApimartTransientAPIError)


def retry_after_of(error: BaseException | None) -> float | None:
    """The wait the API asked for with Retry-After, if this error carries one."""
    return error.retry_after if isinstance(error, ApimartTransientAPIError) else None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds, from either of its forms (delta seconds or an HTTP date)."""
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def backoff_delay(failures: int, retry_after: float | None = None) -> float:
    """Seconds to wait after ``failures`` failures in a row: the API's Retry-After when it sent
    one, else a jittered exponential wait (1, 2, 4, ... capped at 30 s)."""
    if retry_after is not None:
        return retry_after
    exponential = BACKOFF_INITIAL * 2.0 ** max(0, failures - 1)
    return min(BACKOFF_MAX, exponential + random.uniform(0, BACKOFF_JITTER))  # noqa: S311
