"""The API key never appears in a repr, an exception, or a log line, whatever goes wrong."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import httpx
import pytest

from airflow_provider_apimart.exceptions import (
    ApimartAuthenticationError,
    ApimartConfigurationError,
    ApimartError,
)
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.waiting.events import for_terminal_status
from tests.conftest import BASE_URL, SECRET_API_KEY, SleepRecorder, connection_env

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


# ---------------------------------------------------------------- a key with whitespace around it


def with_key(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_APIMART_DEFAULT", connection_env(password=key, host=BASE_URL))


@pytest.mark.parametrize("padded", [f"{SECRET_API_KEY}\n", f"  {SECRET_API_KEY}\r\n", f"\t{SECRET_API_KEY} "])
def test_a_key_read_from_a_file_is_sent_without_its_newline(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, padded: str
) -> None:
    with_key(monkeypatch, padded)
    route = api.get("/v1/balance").respond(json={"success": True, "remain_balance": 5})
    ok, message = ApimartHook().test_connection()
    assert ok, message
    assert route.calls.last.request.headers["authorization"] == f"Bearer {SECRET_API_KEY}"


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        (f"{SECRET_API_KEY[:8]}\n{SECRET_API_KEY[8:]}", "a control character at position 9"),
        (f"{SECRET_API_KEY[:8]} {SECRET_API_KEY[8:]}", "a space at position 9"),
        (f"{SECRET_API_KEY[:8]}é{SECRET_API_KEY[8:]}", "not visible ASCII"),
    ],
)
def test_a_key_that_cannot_be_a_header_is_refused_before_any_request_without_showing_it(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, key: str, kind: str
) -> None:
    with_key(monkeypatch, key)
    with pytest.raises(ApimartConfigurationError, match=kind) as caught:
        ApimartHook().get_task("t")
    assert not api.calls, "nothing may leave the machine"
    for piece in (SECRET_API_KEY[:8], SECRET_API_KEY[8:]):
        assert piece not in str(caught.value)
    ok, message = ApimartHook().test_connection()
    assert not ok
    assert SECRET_API_KEY[8:] not in message


# ------------------------------------------------------- the key echoed back, any field, any spelling

JSON_ESCAPED_KEY = "".join(f"\\u{ord(character):04x}" for character in SECRET_API_KEY)


@pytest.mark.parametrize(
    "body",
    [
        f'{{"error": {{"message": "no", "type": "{SECRET_API_KEY}", "code": "bad_key"}}}}',
        f'{{"error": {{"message": "no", "type": "auth", "code": "{SECRET_API_KEY}"}}}}',
        f'{{"code": "{SECRET_API_KEY}", "message": "refused"}}',
        f'{{"error": {{"message": "key {JSON_ESCAPED_KEY} is not valid"}}}}',
        f"plain text: Bearer {SECRET_API_KEY!r}",
    ],
    ids=["error.type", "error.code", "body code", "json-escaped message", "text with repr"],
)
def test_the_key_echoed_in_any_field_of_an_error_is_hidden(
    api: respx.MockRouter, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    api.get("/v1/tasks/t").respond(401, text=body, headers={"Content-Type": "application/json"})
    with caplog.at_level(logging.DEBUG), pytest.raises(ApimartError) as caught:
        ApimartHook().get_task("t")
    error = caught.value
    shown = " ".join([str(error), repr(error), repr(vars(error)), caplog.text])
    assert SECRET_API_KEY not in shown
    assert "***" in shown


def test_the_key_echoed_in_a_failed_renders_message_stays_out_of_the_trigger_event(
    api: respx.MockRouter,
) -> None:
    failed = {
        "code": 200,
        "data": {
            "id": "t",
            "status": "failed",
            "error": {"message": f"upstream said key {SECRET_API_KEY} over quota", "code": "task_failed"},
        },
    }
    body = json.dumps(failed).replace(SECRET_API_KEY, JSON_ESCAPED_KEY)  # as JSON may spell it
    api.get("/v1/tasks/t").respond(text=body, headers={"Content-Type": "application/json"})
    status = ApimartHook().get_task("t")
    payload = for_terminal_status(status).to_payload()
    assert SECRET_API_KEY not in json.dumps(payload, ensure_ascii=False)
    assert SECRET_API_KEY not in json.dumps(payload)
    assert "upstream said key *** over quota" in payload["message"]
