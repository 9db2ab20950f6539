"""Every way a wait can end, through every path a task can wait on, ends the same way.

The paths: the operator deferred (execute, the trigger in the triggerer, execute_complete), the
operator polling on the worker, the sensor in poke mode, and the sensor deferred. For each
outcome they must raise the same exception class, agree on whether Airflow retries it, and say
it with the same message; a completed render returns the same URLs everywhere.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_apimart import backoff
from airflow_provider_apimart.exceptions import (
    ApimartAuthenticationError,
    ApimartNotFoundError,
    ApimartPermissionDeniedError,
    ApimartResponseError,
    ApimartTaskCancelledError,
    ApimartTaskFailedError,
    ApimartTaskRejectedError,
    ApimartTaskTimeoutError,
    ApimartTaskWaitError,
)
from airflow_provider_apimart.operators.video import ApimartWan27Operator
from airflow_provider_apimart.sensors.task import ApimartTaskSensor
from airflow_provider_apimart.testing.catalogue import WAN27_SCHEMA, schema_answer
from airflow_provider_apimart.triggers.task import ApimartTaskTrigger
from airflow_provider_apimart.version_compat import AirflowFailException
from airflow_provider_apimart.waiting.defaults import DEFAULT_MAX_FAILING_POLLS
from tests.compat import TaskDeferred
from tests.conftest import BASE_URL
from tests.unit.operators.fakes import FakeTaskInstance, make_context

REMOTE_TASK_ID = "task_01PARITY0000000000000000000"
VIDEO_URL = "https://cdn.apimart.test/video/parity.mp4?sig=abc"
WAIT_SECONDS = 0.4

Answer = Callable[[httpx.Request], httpx.Response]


def status(body: dict[str, Any]) -> Answer:
    return lambda request: httpx.Response(200, json={"code": 200, "data": {"id": REMOTE_TASK_ID, **body}})


def http_error(code: int, error_type: str, **headers: str) -> Answer:
    body = {"error": {"message": f"simulated {code}", "type": error_type, "code": error_type}}
    return lambda request: httpx.Response(code, json=body, headers=headers)


def connection_refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


RUNNING = status({"status": "processing", "progress": 40, "estimated_time": 300})
COMPLETED = status(
    {"status": "completed", "progress": 100, "cost": 0.4, "result": {"videos": [{"url": [VIDEO_URL]}]}}
)

#: A "completed" for a task not asked about: never taken for this one.
ANOTHER_TASKS_STATUS: Answer = lambda request: httpx.Response(  # noqa: E731
    200,
    json={
        "code": 200,
        "data": {"id": "task_other", "status": "completed", "result": {"videos": [{"url": [VIDEO_URL]}]}},
    },
)


def failed(message: str) -> Answer:
    return status({"status": "failed", "progress": 100, "error": {"message": message, "code": "task_failed"}})


@dataclass(frozen=True)
class Outcome:
    answers: list[Answer]  # status reads after the first "processing"; the last one repeats
    error: type[Exception] | None
    permanent: bool = False


OUTCOMES = {
    "completed": Outcome([COMPLETED], None),
    "failed": Outcome([failed("Upstream quota exhausted")], ApimartTaskFailedError),
    "moderated": Outcome([failed("Rejected by content moderation")], ApimartTaskRejectedError, True),
    "invalid input": Outcome([failed("invalid duration 7")], ApimartTaskRejectedError, True),
    "moderated, NSFW": Outcome([failed("NSFW content detected")], ApimartTaskRejectedError, True),
    "moderated, prohibited": Outcome([failed("Prohibited terms in prompt")], ApimartTaskRejectedError, True),
    "moderated, policy": Outcome([failed("Blocked by policy")], ApimartTaskRejectedError, True),
    "moderated, zh": Outcome([failed("内容审核未通过 包含敏感信息")], ApimartTaskRejectedError, True),
    "moderated, ja": Outcome([failed("不適切なコンテンツが検出されました")], ApimartTaskRejectedError, True),
    "moderated, ko": Outcome([failed("유해한 콘텐츠가 감지되었습니다")], ApimartTaskRejectedError, True),
    "another task's status": Outcome([ANOTHER_TASKS_STATUS], ApimartTaskWaitError),
    "cancelled": Outcome([status({"status": "cancelled"})], ApimartTaskCancelledError, True),
    "timeout": Outcome([RUNNING], ApimartTaskTimeoutError),
    "401": Outcome([http_error(401, "authentication_error")], ApimartAuthenticationError, True),
    "403": Outcome([http_error(403, "permission_denied")], ApimartPermissionDeniedError, True),
    "404": Outcome([http_error(404, "not_found")], ApimartNotFoundError),
    "429 streak": Outcome([http_error(429, "rate_limit", **{"Retry-After": "1"})], ApimartTaskWaitError),
    "5xx streak": Outcome([http_error(503, "server_error")], ApimartTaskWaitError),
    "network streak": Outcome([connection_refused], ApimartTaskWaitError),
    "unreadable body": Outcome([lambda request: httpx.Response(200, text="<html>")], ApimartTaskWaitError),
    "completed without video": Outcome([status({"status": "completed"})], ApimartResponseError),
}  # fmt: skip


@dataclass
class Ending:
    """How one path ended: its URLs, or its error."""

    urls: list[str] | None
    error: BaseException | None
    status_reads: int

    @property
    def shape(self) -> str:
        return re.sub(r"\d", "0", str(self.error))


FAST_WAIT: dict[str, Any] = {"poll_interval": 0.05, "first_poll_delay": 0, "timeout": WAIT_SECONDS}


def operator(**kwargs: Any) -> ApimartWan27Operator:
    return ApimartWan27Operator(task_id="clip", prompt="a coastal road", **FAST_WAIT, **kwargs)


def sensor(**kwargs: Any) -> ApimartTaskSensor:
    return ApimartTaskSensor(task_id="clip", remote_task_id=REMOTE_TASK_ID, **FAST_WAIT, **kwargs)


def through_the_trigger(task: Any) -> list[str]:
    context = make_context(FakeTaskInstance())
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, ApimartTaskTrigger)

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger fired no event")

    return task.execute_complete(context, asyncio.run(first_event()))  # type: ignore[no-any-return]


PATHS: dict[str, Callable[[], list[str]]] = {
    "operator deferred": lambda: through_the_trigger(operator(deferrable=True)),
    "operator on the worker": lambda: operator(deferrable=False).execute(make_context()) or [],
    "sensor poking": lambda: sensor(mode="poke").execute(make_context()),
    "sensor deferred": lambda: through_the_trigger(sensor(deferrable=True)),
}


@pytest.fixture(autouse=True)
def quick_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits really pass, but at most 10 ms each: backoff and Retry-After cost no test time."""

    async def asleep(seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.01))

    monkeypatch.setattr(backoff, "sleep", lambda seconds: time.sleep(min(seconds, 0.01)))
    monkeypatch.setattr(backoff, "asleep", asleep)


def run_path(path: str, outcome: Outcome) -> Ending:
    answers: Iterator[Answer] = iter([RUNNING, *outcome.answers])
    last: list[Answer] = [RUNNING]

    def next_answer(request: httpx.Request) -> httpx.Response:
        last[0] = next(answers, last[0])
        return last[0](request)

    with respx.mock(assert_all_called=False) as api:
        api.post(f"{BASE_URL}/v1/videos/generations").respond(
            200, json={"code": 200, "data": [{"status": "submitted", "task_id": REMOTE_TASK_ID}]}
        )
        api.get(f"{BASE_URL}/v1/model-schema").respond(200, json=schema_answer("wan2.7", WAN27_SCHEMA))
        reads = api.get(f"{BASE_URL}/v1/tasks/{REMOTE_TASK_ID}").mock(side_effect=next_answer)
        try:
            return Ending(PATHS[path](), None, reads.call_count)
        except Exception as error:
            return Ending(None, error, reads.call_count)


@pytest.mark.parametrize("name", list(OUTCOMES))
def test_every_outcome_ends_the_same_way_on_every_path(name: str) -> None:
    outcome = OUTCOMES[name]
    endings = {path: run_path(path, outcome) for path in PATHS}
    for path, ending in endings.items():
        if outcome.error is None:
            assert ending.error is None, f"{path}: {ending.error!r}"
            assert ending.urls == [VIDEO_URL], path
            continue
        assert type(ending.error) is outcome.error, f"{path}: {ending.error!r}"
        assert isinstance(ending.error, AirflowFailException) is outcome.permanent, path
        assert REMOTE_TASK_ID in str(ending.error), path
    assert len({ending.shape for ending in endings.values()}) == 1, {p: e.shape for p, e in endings.items()}


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("name", ["401", "403"])
def test_a_key_rejected_mid_wait_fails_at_once(path: str, name: str) -> None:
    ending = run_path(path, OUTCOMES[name])
    assert isinstance(ending.error, AirflowFailException)
    assert ending.status_reads == 2  # the read that saw it running, then the one refused


@pytest.mark.parametrize("path", list(PATHS))
def test_a_transient_streak_is_tolerated_as_long_everywhere(path: str) -> None:
    ending = run_path(path, OUTCOMES["5xx streak"])
    assert isinstance(ending.error, ApimartTaskWaitError)
    assert ending.status_reads == 1 + DEFAULT_MAX_FAILING_POLLS + 1
    assert f"{DEFAULT_MAX_FAILING_POLLS + 1} status reads in a row failed" in str(ending.error)


@pytest.mark.parametrize("path", list(PATHS))
def test_an_outage_shorter_than_the_tolerance_is_ridden_out(path: str) -> None:
    outage = [http_error(503, "server_error")] * (DEFAULT_MAX_FAILING_POLLS - 1)
    ending = run_path(path, Outcome([*outage, COMPLETED], None))
    assert ending.error is None, ending.error
    assert ending.urls == [VIDEO_URL]
