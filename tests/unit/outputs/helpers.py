"""What the output tests share: a completed status with CDN URLs, and answers to mock them with."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from airflow_provider_apimart.models.responses import TaskStatus

CDN = "https://cdn.test"
#: A signed result URL: its query must never reach a record, a message or a log line.
URL = f"{CDN}/v/task_1.mp4?token=sig-SECRET-123&expires=9999999999"
PUBLIC = f"{CDN}/v/task_1.mp4"
#: An MP4 by its first bytes (an ``ftyp`` box), then filler: ~10 KB.
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 40
log = logging.getLogger("tests.outputs")


def completed(*urls: str, task_id: str = "task_1") -> TaskStatus:
    return TaskStatus.model_validate(
        {
            "id": task_id,
            "status": "completed",
            "cost": 0.4,
            "created": 1_700_000_000,
            "completed": 1_700_000_060,
            "result": {"videos": [{"url": list(urls), "expires_at": 1_700_086_460}]},
        }
    )


def video(body: bytes = MP4, *, content_type: str | None = "video/mp4", **headers: str) -> httpx.Response:
    if content_type is not None:
        headers["Content-Type"] = content_type
    return httpx.Response(200, content=body, headers=headers)


class CutStream(httpx.SyncByteStream):
    """A body that breaks after ``cut`` bytes, as a dropped connection does."""

    def __init__(self, data: bytes, cut: int) -> None:
        self.data = data
        self.cut = cut

    def __iter__(self) -> Any:
        yield self.data[: self.cut]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def cut_video(body: bytes, cut: int) -> httpx.Response:
    headers = {"Content-Type": "video/mp4", "Content-Length": str(len(body)), "Accept-Ranges": "bytes"}
    return httpx.Response(200, headers=headers, stream=CutStream(body, cut))


def part(body: bytes, start: int) -> httpx.Response:
    headers = {"Content-Type": "video/mp4", "Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"}
    return httpx.Response(206, content=body[start:], headers=headers)
