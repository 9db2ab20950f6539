"""Result videos: files of any size made on the fly, served with Range, signed URLs and faults.

A video's bytes depend only on (task id, offset), so a resumed download can be checked byte for
byte against a whole one, and a 1 GB file is never held in memory: it is made and sent one
chunk at a time, at the pace the client reads.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from importlib.resources import files
from typing import TYPE_CHECKING

from starlette.responses import PlainTextResponse, Response, StreamingResponse

from airflow_provider_apimart.testing.records import MediaRequest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from starlette.requests import Request

    from airflow_provider_apimart.testing.state import SimulatorState

#: A real 2-second H.264 MP4: the whole video by default, the head of every larger one.
SAMPLE_VIDEO = files("airflow_provider_apimart.testing").joinpath("media/sample.mp4").read_bytes()
CHUNK_BYTES = 1024 * 1024
_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class DroppedConnection(Exception):  # noqa: N818 - it names what the client sees
    """Raised mid-answer to cut the connection, as a network failure would."""


class UnsatisfiableRange(Exception):  # noqa: N818 - named after the 416 it becomes
    """The Range starts at or past the end of the file."""


def video_bytes(task_id: str, span: range) -> Iterator[bytes]:
    """The bytes ``span`` of a task's video, at most one chunk at a time.

    Chunk ``k`` is SHAKE-128 output keyed by (task id, k), so any offset is made without the
    bytes before it; chunk 0 starts with the sample MP4 instead, so every file has a real ``ftyp``.
    """
    position = span.start
    while position < span.stop:
        index, within = divmod(position, CHUNK_BYTES)
        stop = min(CHUNK_BYTES, within + span.stop - position)
        chunk = hashlib.shake_128(f"{task_id}:{index}".encode()).digest(stop)
        if index == 0:
            chunk = SAMPLE_VIDEO[:stop] + chunk[len(SAMPLE_VIDEO) :]
        yield chunk[within:]
        position += stop - within


def requested_span(header: str | None, size: int) -> range | None:
    """The bytes a ``Range`` header asks for; None to send the whole file.

    Single ``bytes=N-``, ``bytes=N-M`` and ``bytes=-N`` ranges are honoured; anything else is
    ignored, as RFC 9110 allows.

    :raises UnsatisfiableRange: the range starts at or past the end, or asks for no bytes.
    """
    match = _SINGLE_RANGE.fullmatch(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if not first:  # bytes=-N: the last N bytes
        if int(last) == 0 or size == 0:
            raise UnsatisfiableRange
        return range(max(0, size - int(last)), size)
    start = int(first)
    if last and int(last) < start:
        return None  # not a valid range: ignored
    if start >= size:
        raise UnsatisfiableRange
    return range(start, size if not last else min(int(last) + 1, size))


def media_endpoint(state: SimulatorState) -> Callable[[Request], Awaitable[Response]]:
    """``GET /media/{task_id}.mp4?token=…&expires=…``, each call recorded in ``state.media_requests``."""

    async def media(request: Request) -> Response:
        arrived = time.time()
        response, dropped = _answer(state, request)
        state.record_media(
            MediaRequest(
                method=request.method,
                path=request.url.path,
                range=request.headers.get("range"),
                status=response.status_code,
                dropped=dropped,
                at=arrived,
                had_auth_header="authorization" in request.headers,
            )
        )
        return response

    return media


def _answer(state: SimulatorState, request: Request) -> tuple[Response, bool]:
    """The response, and whether its connection will be cut."""
    if state.take_media_error():
        return PlainTextResponse("Service Unavailable", status_code=503), False
    task_id = request.path_params["task_id"]
    access = state.media_status(task_id, request.query_params.get("token"), time.monotonic())
    if access == 404:
        return PlainTextResponse("Not found", status_code=404), False
    if access == 403:
        return PlainTextResponse("Request has expired", status_code=403), False
    config = state.config
    size = len(SAMPLE_VIDEO) if config.media_bytes is None else config.media_bytes
    try:
        span = requested_span(request.headers.get("range"), size)
    except UnsatisfiableRange:
        return PlainTextResponse(
            "Range Not Satisfiable", status_code=416, headers={"Content-Range": f"bytes */{size}"}
        ), False
    status = 200 if span is None else 206
    span = range(size) if span is None else span
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(len(span))}
    if status == 206:
        headers["Content-Range"] = f"bytes {span.start}-{span.stop - 1}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=config.media_content_type), False
    drop_after = state.take_media_drop(len(span))
    body = _stream(task_id, span, drop_after)
    return StreamingResponse(
        body, status_code=status, headers=headers, media_type=config.media_content_type
    ), drop_after is not None


async def _stream(task_id: str, span: range, drop_after: int | None) -> AsyncIterator[bytes]:
    """Send ``span``, or only its first ``drop_after`` bytes and then cut the connection.

    Yields to the event loop after each chunk, so one fast reader cannot starve the pollers.
    """
    sent = 0
    for piece in video_bytes(task_id, span):
        if drop_after is not None and sent + len(piece) > drop_after:
            yield piece[: drop_after - sent]
            raise DroppedConnection
        yield piece
        sent += len(piece)
        await asyncio.sleep(0)
