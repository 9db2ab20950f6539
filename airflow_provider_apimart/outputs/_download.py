"""Copy one result video over HTTP into a writer: streamed, hashed while it flows, checked, resumed.

Memory stays flat whatever the size: one chunk (~1 MiB) is in flight at a time, a compressed body
(sent although ``identity`` was asked) is inflated in bounded steps, and no answer may exceed the
size limit. A transient failure (5xx, 408, 429, a dropped or stalled connection) is tried again a
few times within the call, resuming with ``Range`` where the server allows it; a refused URL
(403/404/410) is not, nor is a URL that is not http(s).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx

from airflow_provider_apimart import backoff
from airflow_provider_apimart.exceptions import (
    ApimartDownloadError,
    ApimartDownloadRefusedError,
    ApimartVideoExpiredError,
)
from airflow_provider_apimart.http_basics import USER_AGENT, public_url, shared_ssl_context
from airflow_provider_apimart.outputs._content import HEAD_BYTES, INFLATABLE, inflated, sniff_video_type
from airflow_provider_apimart.outputs._signed_urls import HIDE_SIGNED_QUERIES, hidden_queries
from airflow_provider_apimart.wording import describe_size

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

#: Tries of one download within one call (the first included); an Airflow retry starts over.
DOWNLOAD_ATTEMPTS = 4
CHUNK_BYTES = 1024 * 1024
#: Connecting is quick or hopeless; a CDN may pause longer mid-body before the next bytes.
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

_EXPIRED_STATUSES = frozenset({403, 404, 410})
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_WEB_SCHEMES = frozenset({"http", "https"})


class ChunkWriter(Protocol):
    """Where the bytes go. ``start`` says what they are before the first of them (and again after
    a ``restart``, which throws away what was written, for a server without Range)."""

    def start(self, content_type: str) -> None: ...

    def write(self, pieces: Sequence[bytes]) -> None: ...

    def restart(self) -> None: ...


@dataclass(frozen=True)
class Downloaded:
    sha256: str
    bytes: int
    content_type: str


@dataclass(frozen=True)
class Source:
    """One result URL and the words that name it in logs and errors (never its query string)."""

    url: str
    remote_task_id: str
    label: str  # "video 1 of 2 of APIMart task task_X"
    expires_at: float | None = None

    @property
    def public(self) -> str:
        return public_url(self.url)


def new_client() -> httpx.Client:
    """A client for result URLs: no auth of any kind, since they live on another host (a CDN), and
    web URLs only, redirects included."""
    return httpx.Client(
        auth=None,
        follow_redirects=True,
        timeout=DOWNLOAD_TIMEOUT,
        verify=shared_ssl_context(),
        headers={"User-Agent": USER_AGENT},
        event_hooks={"request": [_web_only]},
    )


def _web_only(request: httpx.Request) -> None:
    if request.url.scheme not in _WEB_SCHEMES:
        raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{request.url.scheme}://'.")


class _Retry(Exception):  # noqa: N818 - a signal to try again, not an error the caller sees
    """One attempt failed in a way the next one may not; ``retry_after`` is the server's wish."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class _Progress:
    """What arrived so far, kept across attempts so a resume hashes on from where it stopped."""

    hasher: Any = field(default_factory=hashlib.sha256)
    received: int = 0
    total: int | None = None
    head: bytes = b""
    declared_type: str = ""
    content_type: str | None = None  # set once the type (or signature) has been judged
    resumable: bool = True
    started: bool = False  # the writer was told the content type

    def reset(self, writer: ChunkWriter) -> None:
        writer.restart()
        self.hasher = hashlib.sha256()
        self.received, self.total, self.head, self.content_type = 0, None, b"", None
        self.started = False


def download(
    client: httpx.Client, source: Source, writer: ChunkWriter, *, log: Any, max_bytes: int
) -> Downloaded:
    """Stream ``source`` into ``writer``; the writer's commit or abort is the caller's.

    :raises ApimartVideoExpiredError: the URL answered 403, 404 or 410 (not retried).
    :raises ApimartDownloadRefusedError: the URL is not http(s), or the video is over ``max_bytes``.
    :raises ApimartDownloadError: not a video, or still failing after ``DOWNLOAD_ATTEMPTS`` tries.
    """
    if urlsplit(source.url).scheme.lower() not in _WEB_SCHEMES:
        raise _refused(source, "its URL is not http(s); the provider fetches only web URLs")
    logging.getLogger("httpx").addFilter(HIDE_SIGNED_QUERIES)  # once: addFilter skips duplicates
    progress = _Progress()
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            _attempt(client, source, writer, progress, log, max_bytes)
        except _Retry as failure:
            retry_after = failure.retry_after
            too_long = retry_after is not None and retry_after > backoff.MAX_RETRY_AFTER
            if attempt == DOWNLOAD_ATTEMPTS or too_long:
                why = f"{failure}, Retry-After {retry_after:.0f} s" if too_long else str(failure)
                raise ApimartDownloadError(
                    f"Could not download {source.label} from {source.public} after {attempt} "
                    f"{'try' if attempt == 1 else 'tries'} ({why}; {describe_size(progress.received)} had "
                    "arrived). An Airflow retry downloads it again without paying for a new render."
                ) from None
            wait = backoff.backoff_delay(attempt, retry_after)
            log.warning(
                "Downloading %s from %s failed (%s); %s in %.1f s (try %d of %d).",
                source.label,
                source.public,
                failure,
                _next_step(progress),
                wait,
                attempt + 1,
                DOWNLOAD_ATTEMPTS,
            )
            backoff.sleep(wait)
        else:
            return Downloaded(progress.hasher.hexdigest(), progress.received, progress.content_type or "")
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _next_step(progress: _Progress) -> str:
    if progress.received and progress.resumable:
        of = f" of {describe_size(progress.total)}" if progress.total else ""
        return f"resuming at byte {progress.received} ({describe_size(progress.received)}{of} kept)"
    return "starting again"


def _attempt(
    client: httpx.Client, source: Source, writer: ChunkWriter, progress: _Progress, log: Any, max_bytes: int
) -> None:
    if progress.received and not progress.resumable:
        progress.reset(writer)
    headers = {"Accept-Encoding": "identity"}
    if progress.received:
        headers["Range"] = f"bytes={progress.received}-"
    try:
        with (
            hidden_queries(),
            client.stream("GET", source.url, headers=headers, follow_redirects=True) as response,
        ):
            encoding = _start(response, source, writer, progress, log, max_bytes)
            raw = response.iter_raw()
            pieces = (
                raw if encoding is None else inflated(raw, encoding, f"{source.label} from {source.public}")
            )
            _copy_body(pieces, source, writer, progress, max_bytes)
    except httpx.TransportError as error:
        if isinstance(error, httpx.UnsupportedProtocol):  # a redirect to file://, ftp://, ...
            raise _refused(source, f"it redirects to a URL that is not http(s) ({error})") from None
        raise _Retry(f"{type(error).__name__}: {error}") from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:  # too many redirects, an undecodable body
        raise _unusable(source, error) from None
    if progress.received == 0:
        raise ApimartDownloadError(f"{_cap(source.label)} at {source.public} is empty (0 bytes received).")
    if progress.total is not None and progress.received != progress.total:
        raise _Retry(f"the answer ended after {progress.received} of {progress.total} bytes")


def _copy_body(
    pieces: Iterable[bytes], source: Source, writer: ChunkWriter, progress: _Progress, max_bytes: int
) -> None:
    """Hash and count each piece as it arrives; hand them to the writer ~1 MiB at a time. When the
    connection breaks, what did arrive is written before the error goes on: a resume loses nothing
    (unless too little came to judge the type by: then the next try starts over)."""
    pending: list[bytes] = []
    pending_bytes = 0
    try:
        for piece in pieces:
            _take(piece, source, progress)
            if progress.received > max_bytes:
                raise _too_large(source, max_bytes, f"more than {describe_size(max_bytes)} arrived")
            pending.append(piece)
            pending_bytes += len(piece)
            if pending_bytes >= CHUNK_BYTES:
                _hand_over(writer, pending, progress)
                pending, pending_bytes = [], 0
    except BaseException:
        if pending and progress.content_type is not None:
            _hand_over(writer, pending, progress)
        elif pending:
            progress.reset(writer)
        raise
    if progress.content_type is None:
        _judge(source, progress)  # a file shorter than the signature window
    if pending:
        _hand_over(writer, pending, progress)


def _hand_over(writer: ChunkWriter, pending: list[bytes], progress: _Progress) -> None:
    if not progress.started:
        writer.start(progress.content_type or "")
        progress.started = True
    writer.write(pending)


def _unusable(source: Source, error: Exception) -> ApimartDownloadError:
    return ApimartDownloadError(
        f"Cannot download {source.label} from {source.public}: {type(error).__name__}: {error}"
    )


def _refused(source: Source, why: str) -> ApimartDownloadRefusedError:
    return ApimartDownloadRefusedError(
        f"Will not download {source.label} from {source.public}: {why}. Not retried: every try "
        "would meet the same answer."
    )


def _too_large(source: Source, max_bytes: int, what: str) -> ApimartDownloadRefusedError:
    return _refused(
        source,
        f"{what}, over the limit of {describe_size(max_bytes)} ([apimart] max_video_bytes, "
        f"{max_bytes} bytes; raise it if such videos are expected)",
    )


def _start(
    response: httpx.Response,
    source: Source,
    writer: ChunkWriter,
    progress: _Progress,
    log: Any,
    max_bytes: int,
) -> str | None:
    """Check an answer's status and headers and line ``progress`` up with its first byte; the
    body's content encoding, if any (then it is inflated here, and neither counted against
    Content-Length nor resumed, since both count encoded bytes)."""
    code = response.status_code
    if code in _EXPIRED_STATUSES:
        raise ApimartVideoExpiredError(
            f"The result URL {source.public} of APIMart task {source.remote_task_id} answered HTTP "
            f"{code}: it has expired or was withdrawn (expires_at {_when(source.expires_at)})."
        )
    if code in (408, 429) or code >= 500:
        raise _Retry(f"HTTP {code}", backoff.retry_after_seconds(response.headers))
    if code == 416 and progress.received:
        progress.reset(writer)
        raise _Retry("HTTP 416 for the resume range")
    if code not in (200, 206):
        raise ApimartDownloadError(
            f"Cannot download {source.label} from {source.public}: it answered HTTP {code}."
        )
    encoding = _encoding(response, source)
    if encoding is not None:
        progress.resumable = False
    if code == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
        if match is None or int(match.group(1)) != progress.received:
            progress.resumable = False
            raise _Retry(f"it sent a range not asked for ({response.headers.get('content-range')!r})")
        if match.group(3) != "*":
            progress.total = int(match.group(3))
    elif progress.received:
        log.warning(
            "%s ignored the Range request (HTTP 200): downloading %s again from the start.",
            source.public,
            source.label,
        )
        progress.reset(writer)
    if code == 200 and encoding is None and response.headers.get("content-length", "").strip().isdigit():
        progress.total = int(response.headers["content-length"])
    if progress.total is not None and progress.total > max_bytes:
        raise _too_large(source, max_bytes, f"it is {describe_size(progress.total)} by its headers")
    if progress.received == 0:
        progress.declared_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not progress.declared_type.startswith("video/") and progress.declared_type not in _GENERIC_TYPES:
            length = response.headers.get("content-length")
            size = f", Content-Length {length}" if length is not None else ""
            raise ApimartDownloadError(
                f"{_cap(source.label)} at {source.public} is not a video: HTTP {code} with "
                f"Content-Type {progress.declared_type!r}{size}."
            )
    return encoding


def _encoding(response: httpx.Response, source: Source) -> str | None:
    """The body's content encoding, None for none; one this module cannot inflate in bounded steps
    (br, zstd, a chain of several) is refused."""
    encoding: str = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding not in INFLATABLE:
        raise _refused(source, f"it sent a {encoding!r}-encoded body although 'identity' was asked for")
    return encoding


def _take(chunk: bytes, source: Source, progress: _Progress) -> None:
    """Count and hash one chunk; judge the file by its first bytes once enough have come."""
    if len(progress.head) < HEAD_BYTES:
        progress.head += chunk[: HEAD_BYTES - len(progress.head)]
    progress.hasher.update(chunk)
    progress.received += len(chunk)
    if progress.content_type is None and len(progress.head) >= HEAD_BYTES:
        _judge(source, progress)


def _judge(source: Source, progress: _Progress) -> None:
    """A ``video/*`` answer is taken at its word; a generic one must carry a video signature."""
    if progress.declared_type.startswith("video/"):
        progress.content_type = progress.declared_type
        return
    sniffed = sniff_video_type(progress.head)
    if sniffed is None:
        raise ApimartDownloadError(
            f"{_cap(source.label)} at {source.public} is not a video: Content-Type "
            f"{progress.declared_type or 'missing'!r} and its first bytes ({progress.head[:16].hex()}) "
            "carry no MP4/MOV or WebM/Matroska signature."
        )
    progress.content_type = sniffed


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _when(epoch: float | None) -> str:
    return (
        "unknown" if epoch is None else f"{datetime.fromtimestamp(epoch, tz=timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
