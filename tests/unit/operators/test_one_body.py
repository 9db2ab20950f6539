"""A try validates its request once and serialises it once, whatever it does with it after."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.models.base import VideoGenerationRequest
from airflow_provider_apimart.operators.video import ApimartWan26I2VFlashOperator
from tests.unit.inputs.images import png
from tests.unit.operators.fakes import FakeTaskInstance, make_context

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from airflow_provider_apimart.testing import ApimartSimulator


def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often this thread (the task's, not the simulator's) validates and serialises a request."""
    counts: Counter[str] = Counter()
    task_thread = threading.get_ident()
    validated, to_body = VideoGenerationRequest.validated.__func__, VideoGenerationRequest.to_body  # type: ignore[attr-defined]

    def counting_validated(cls: type[VideoGenerationRequest], body: dict[str, Any]) -> Any:
        counts["validated"] += threading.get_ident() == task_thread
        return validated(cls, body)

    def counting_to_body(self: VideoGenerationRequest) -> dict[str, Any]:
        counts["serialised"] += threading.get_ident() == task_thread
        return to_body(self)

    monkeypatch.setattr(VideoGenerationRequest, "validated", classmethod(counting_validated))
    monkeypatch.setattr(VideoGenerationRequest, "to_body", counting_to_body)
    return counts


def test_a_paid_try_with_an_upload_and_stored_videos_builds_its_body_once(
    simulator: ApimartSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body is checked, fingerprinted, schema-checked, sent with its upload URL, and recorded
    beside the stored video and in the summary: one validation, one serialisation."""
    image = tmp_path / "cat.png"
    image.write_bytes(png())
    operator = ApimartWan26I2VFlashOperator(
        task_id="clip", image_urls=[str(image)], poll_interval=0.05, output_path=str(tmp_path / "out")
    )
    counts = counted(monkeypatch)  # after the parse-time check, which is the DAG's, not the try's
    ti = FakeTaskInstance()
    operator.execute(make_context(ti))
    assert dict(counts) == {"validated": 1, "serialised": 1}
    (sent,) = [request.body for request in simulator.state.requests_to("POST", "/v1/videos/generations")]
    assert sent["image_urls"][0].startswith(simulator.base_url)  # the upload's URL went out
    assert ti.xcoms["apimart_task"]["request"]["image_urls"] == [str(image)]  # the request as written


def test_a_second_try_checks_its_own_rendered_values(
    simulator: ApimartSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png())
    operator = ApimartWan26I2VFlashOperator(
        task_id="clip", image_urls=[str(image)], poll_interval=0.05, wait_for_completion=False
    )
    counts = counted(monkeypatch)
    operator.execute(make_context())
    operator.prompt = "a slower pan"  # what the next try's rendering gave
    operator.execute(make_context())
    assert dict(counts) == {"validated": 2, "serialised": 2}
    bodies = [request.body for request in simulator.state.requests_to("POST", "/v1/videos/generations")]
    assert [body.get("prompt") for body in bodies] == [None, "a slower pan"]
