"""Images from the team's own storage, through the operator: checked, uploaded once, then sent."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.operators.video import ApimartKlingV26Operator, ApimartWan26I2VFlashOperator
from airflow_provider_apimart.testing import Outcome
from airflow_provider_apimart.version_compat import AIRFLOW_V_3_3_PLUS, AirflowFailException
from tests.unit.inputs.images import png
from tests.unit.operators.fakes import FakeStateStore, FakeTaskInstance, make_context

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_apimart.testing import ApimartSimulator


def posts(simulator: ApimartSimulator) -> list[dict[str, object]]:
    return [request.body for request in simulator.state.requests_to("POST", "/v1/videos/generations")]


def test_a_local_image_is_uploaded_and_its_url_sent(simulator: ApimartSimulator, tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png())
    ApimartWan26I2VFlashOperator(
        task_id="clip", image_urls=[str(image)], poll_interval=0.05, wait_for_completion=False
    ).execute(make_context())
    (upload,) = simulator.state.uploads
    (body,) = posts(simulator)
    assert body["image_urls"] == [f"{simulator.base_url}/uploads/{upload.id}"]
    assert upload.content_type == "image/png"


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="reusing uploads needs task_state_store (Airflow 3.3+)")
def test_a_retry_reuses_the_earlier_tries_upload(simulator: ApimartSimulator, tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png())
    simulator.config.default_outcome = Outcome.FAILED  # the first job fails: the retry submits afresh
    simulator.config.render_seconds = 0.1
    store = FakeStateStore()

    def operator() -> ApimartKlingV26Operator:
        return ApimartKlingV26Operator(
            task_id="clip", prompt="a cat", image_urls=[image.as_uri()], wait_for_completion=False
        )

    operator().execute(make_context(FakeTaskInstance(try_number=1), store))
    time.sleep(0.2)
    simulator.config.default_outcome = Outcome.COMPLETED
    operator().execute(make_context(FakeTaskInstance(try_number=2), store))
    assert len(simulator.state.uploads) == 1
    first, second = posts(simulator)
    assert first["image_urls"] == second["image_urls"]


@pytest.mark.parametrize(
    ("name", "content", "complaint"),
    [
        ("missing.png", None, "does not exist"),
        ("big.png", b"", "at most 10 MiB"),
        ("notes.png", b"just some text, not an image", "judged by its bytes, not its name"),
    ],
)
def test_a_bad_file_fails_permanently_before_any_request(
    simulator: ApimartSimulator, tmp_path: Path, name: str, content: bytes | None, complaint: str
) -> None:
    image = tmp_path / name
    if content is not None:
        image.write_bytes(content or png(padding=30 * 1024 * 1024))
    with pytest.raises(ApimartValidationError) as caught:
        ApimartWan26I2VFlashOperator(task_id="clip", image_urls=[str(image)]).execute(make_context())
    message = str(caught.value)
    assert isinstance(caught.value, AirflowFailException)
    assert message.startswith("Task 'clip':")
    assert "image_urls[0]" in message
    assert complaint in message
    assert simulator.state.requests == []


def test_a_list_rendered_as_text_is_read_as_a_list(simulator: ApimartSimulator, tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png())
    operator = ApimartWan26I2VFlashOperator(
        task_id="clip", image_urls="{{ params.images }}", wait_for_completion=False
    )
    operator.image_urls = f"['{image}']"  # what Jinja made of a list
    operator.execute(make_context())
    (body,) = posts(simulator)
    assert isinstance(body["image_urls"], list)
    assert len(simulator.state.uploads) == 1
