"""The API key never appears in a repr, an exception, or a log line, whatever goes wrong."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httpx
import pytest

from airflow_provider_apimart.exceptions import ApimartAuthenticationError, ApimartError
from airflow_provider_apimart.hooks.apimart import ApimartHook
from tests.conftest import SECRET_API_KEY, SleepRecorder

if TYPE_CHECKING:
    import respx


def test_reprs_hide_the_key() -> None:
    hook = ApimartHook()
    settings = hook.get_settings()
    client = hook.get_conn()
    for shown in (repr(hook), repr(settings), repr(client.headers)):
        assert SECRET_API_KEY not in shown
    assert "apimart_default" in repr(hook)


def test_key_echoed_in_an_error_body_is_redacted(api: respx.MockRouter) -> None:
    api.get("/v1/tasks/t").respond(401, json={"error": {"message": f"invalid key {SECRET_API_KEY}"}})
    with pytest.raises(ApimartAuthenticationError) as caught:
        ApimartHook().get_task("t")
    assert "invalid key ***" in str(caught.value)
    assert SECRET_API_KEY not in str(caught.value)
    assert SECRET_API_KEY not in repr(caught.value)


def test_key_in_a_network_error_is_redacted_in_exceptions_and_retry_logs(
    api: respx.MockRouter,
    recorded_sleeps: SleepRecorder,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api.get("/v1/tasks/t").mock(side_effect=httpx.ReadError(f"peer reset while sending {SECRET_API_KEY}"))
    with caplog.at_level(logging.DEBUG), pytest.raises(ApimartError) as caught:
        ApimartHook().get_task("t")
    logged = caplog.text + "".join(capsys.readouterr())
    assert "trying again" in logged, "the retries must have been logged for this test to mean anything"
    assert "peer reset while sending ***" in str(caught.value)
    assert SECRET_API_KEY not in logged
    assert SECRET_API_KEY not in str(caught.value)


def test_key_is_sent_only_in_the_authorization_header(api: respx.MockRouter) -> None:
    route = api.post("/v1/videos/generations").respond(
        json={"code": 200, "data": [{"status": "submitted", "task_id": "t"}]}
    )
    ApimartHook().submit_video({"model": "wan2.7", "prompt": "a"})
    request = route.calls.last.request
    assert SECRET_API_KEY not in str(request.url)
    assert SECRET_API_KEY.encode() not in request.content
    assert [name for name, value in request.headers.items() if SECRET_API_KEY in value] == ["authorization"]
