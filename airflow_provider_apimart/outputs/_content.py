"""What a downloaded body is: a video by its first bytes, and a compressed one inflated in bounded steps."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from airflow_provider_apimart.exceptions import ApimartDownloadError

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Bytes of output one inflating step may make: the download's own chunk size.
MAX_INFLATED_PIECE = 1024 * 1024
#: Enough leading bytes for every signature below, the WebM doctype included.
HEAD_BYTES = 64
_EBML = b"\x1a\x45\xdf\xa3"
_MOV_BOXES = frozenset({b"moov", b"mdat", b"free", b"wide"})
#: The encodings inflated here, as zlib's window bits say them; any other is refused.
_WINDOW_BITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
INFLATABLE = frozenset(_WINDOW_BITS)


def sniff_video_type(head: bytes) -> str | None:
    """The video type the leading bytes show (an ISO-BMFF box or an EBML header), else None."""
    if head.startswith(_EBML):
        return "video/webm" if b"webm" in head else "video/x-matroska"
    box = head[4:8]
    if box == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    return "video/quicktime" if box in _MOV_BOXES else None


def inflated(raw: Iterator[bytes], encoding: str, what: str) -> Iterator[bytes]:
    """Decode a gzip or deflate body at most ``MAX_INFLATED_PIECE`` of output at a time, so a small
    compressed answer cannot become gigabytes in memory (httpx's decoder has no such bound)."""
    inflater = zlib.decompressobj(_WINDOW_BITS[encoding])
    try:
        for compressed in raw:
            data = compressed
            while data:
                piece = inflater.decompress(data, MAX_INFLATED_PIECE)
                data = inflater.unconsumed_tail
                if piece:
                    yield piece
        rest = inflater.flush()  # what zlib still holds once the input is all in: less than a piece
        if rest:
            yield rest
    except zlib.error as error:
        raise ApimartDownloadError(
            f"Cannot download {what}: its {encoding} body does not decode ({error})."
        ) from None
