"""Money, replays and uploads in the simulator, over real loopback HTTP."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_apimart.testing import ApimartSimulator

T2V = {"model": "wan2.7", "prompt": "A coastal road at sunset"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


@pytest.fixture
def api(apimart_simulator: ApimartSimulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {apimart_simulator.api_key}"}
    with httpx.Client(base_url=apimart_simulator.base_url, headers=headers) as client:
        yield client


def test_set_balance_makes_the_remaining_balance_exact(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    assert api.post("/v1/videos/generations", json=T2V).status_code == 200
    apimart_simulator.state.set_balance(0.5)
    answer = api.get("/v1/balance").json()
    assert (answer["remain_balance"], answer["used_balance"], answer["unlimited_quota"]) == (0.5, 0.4, False)
    assert api.post("/v1/videos/generations", json=T2V).status_code == 200
    refused = api.post("/v1/videos/generations", json=T2V)
    assert (refused.status_code, refused.json()["error"]["type"]) == (402, "payment_required")
    assert apimart_simulator.state.balance == pytest.approx(0.1)
    apimart_simulator.reset()  # forgets the set balance with the spending
    assert apimart_simulator.state.balance == apimart_simulator.config.balance


def test_unlimited_quota_reports_minus_one_and_never_refuses_a_submit(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    apimart_simulator.config.unlimited_quota = True
    apimart_simulator.state.set_balance(0)
    for _ in range(3):
        assert api.post("/v1/videos/generations", json=T2V).status_code == 200
    answer = api.get("/v1/balance").json()
    assert answer == {"success": True, "remain_balance": -1, "used_balance": 1.2, "unlimited_quota": True}
    assert apimart_simulator.state.paid_count() == 3


def test_replays_are_counted_per_idempotency_key(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    first = api.post("/v1/videos/generations", json=T2V, headers={"Idempotency-Key": "k1"})
    replays = [
        api.post("/v1/videos/generations", json=T2V, headers={"Idempotency-Key": "k1"}) for _ in range(2)
    ]
    api.post("/v1/videos/generations", json=T2V, headers={"Idempotency-Key": "k2"})
    assert "idempotency-replayed" not in first.headers
    assert all(r.headers["idempotency-replayed"] == "true" for r in replays)
    state = apimart_simulator.state
    assert (state.replay_count(), state.replay_count("k1"), state.replay_count("k2")) == (2, 2, 0)
    task_id = first.json()["data"][0]["task_id"]
    assert [(r.task_id, r.idempotency_key) for r in state.replays] == [(task_id, "k1")] * 2
    assert state.paid_count() == 2


@pytest.mark.parametrize(
    ("content", "declared", "served_as"),
    [
        (PNG, "image/png", "image/png"),
        (JPEG, "image/jpeg", "image/jpeg"),
        (GIF, "image/gif", "image/gif"),
        (WEBP, "image/webp", "image/webp"),
        (JPEG, "application/octet-stream", "image/jpeg"),  # the bytes decide, not the label
    ],
)
def test_uploads_are_stored_recorded_and_served_as_their_bytes_show(
    apimart_simulator: ApimartSimulator, api: httpx.Client, content: bytes, declared: str, served_as: str
) -> None:
    answer = api.post("/v1/uploads/images", files={"file": ("frame.img", content, declared)})
    assert answer.status_code == 200, answer.text
    uploaded = answer.json()
    assert (uploaded["content_type"], uploaded["bytes"]) == (served_as, len(content))
    served = httpx.get(uploaded["url"])
    assert (served.content, served.headers["content-type"]) == (content, served_as)
    (record,) = apimart_simulator.state.uploads
    assert (record.filename, record.content_type, record.bytes) == ("frame.img", served_as, len(content))
    assert record.sha256 == hashlib.sha256(content).hexdigest()
    assert uploaded["url"].endswith(f"/uploads/{record.id}")


def test_a_text_file_named_png_is_refused(apimart_simulator: ApimartSimulator, api: httpx.Client) -> None:
    answer = api.post("/v1/uploads/images", files={"file": ("photo.png", b"just some text\n", "image/png")})
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "unsupported_file_type"
    assert apimart_simulator.state.uploads == []


def test_an_upload_far_over_20_mb_is_413_not_a_parse_error(
    apimart_simulator: ApimartSimulator, api: httpx.Client
) -> None:
    answer = api.post(
        "/v1/uploads/images", files={"file": ("big.png", PNG + b"\x00" * (25 * 1024 * 1024), "image/png")}
    )
    assert (answer.status_code, answer.json()["error"]["type"]) == (413, "file_too_large")
    assert apimart_simulator.state.uploads == []
