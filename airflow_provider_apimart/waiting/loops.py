"""The status reads a :class:`TaskPoller` asks for: on a worker (sync) or in the triggerer (async).

The two loops are twins on purpose: each reads once (no retries inside the hook: the poller
counts failures), hands the answer to the poller, logs its note and sleeps as it says.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart import backoff
from airflow_provider_apimart.exceptions import ApimartError

if TYPE_CHECKING:
    from airflow_provider_apimart.hooks.apimart import ApimartHook
    from airflow_provider_apimart.models.responses import TaskStatus
    from airflow_provider_apimart.waiting.events import WaitEvent
    from airflow_provider_apimart.waiting.poller import Step, TaskPoller


def read_status(hook: ApimartHook, poller: TaskPoller, log: Any) -> Step:
    """One read on the worker, judged by the poller (the deadline first)."""
    timeout = poller.before_read(time.time())
    if timeout is not None:
        return timeout
    try:
        status = hook.get_task(poller.remote_task_id, retry=False)
    except ApimartError as error:
        return _logged(poller.after_error(error, time.time()), log)
    return _logged(poller.after_status(status, time.time()), log)


async def aread_status(hook: ApimartHook, poller: TaskPoller, log: Any) -> Step:
    """:func:`read_status` for the triggerer's event loop."""
    timeout = poller.before_read(time.time())
    if timeout is not None:
        return timeout
    try:
        status = await hook.aget_task(poller.remote_task_id, retry=False)
    except ApimartError as error:
        return _logged(poller.after_error(error, time.time()), log)
    return _logged(poller.after_status(status, time.time()), log)


def wait_on_worker(hook: ApimartHook, poller: TaskPoller, log: Any) -> tuple[WaitEvent, TaskStatus | None]:
    """Read until the poller ends the wait: its event, and the last status read (if any)."""
    delay = poller.first_delay(time.time())
    while True:
        backoff.sleep(delay)
        step = read_status(hook, poller, log)
        if step.event is not None:
            return step.event, step.status
        delay = step.delay


async def wait_in_triggerer(hook: ApimartHook, poller: TaskPoller, log: Any) -> WaitEvent:
    """The async twin of :func:`wait_on_worker`, for ApimartTaskTrigger."""
    delay = poller.first_delay(time.time())
    while True:
        await backoff.asleep(delay)
        step = await aread_status(hook, poller, log)
        if step.event is not None:
            return step.event
        delay = step.delay
        del step  # the status read is garbage now, not a part of the heap while thousands sleep


def _logged(step: Step, log: Any) -> Step:
    if step.note:
        (log.warning if step.warning else log.info)(step.note)
    return step
