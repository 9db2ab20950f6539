"""An image's format and pixel size, read from its bytes: a file's name or suffix proves nothing.

The formats are the ones the upload endpoint takes (JPEG, PNG, WebP, GIF) plus BMP, which a model
page allows by URL, so a stored BMP is refused by name rather than as "not an image".
"""

from __future__ import annotations

import struct

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
GIF = "image/gif"
BMP = "image/bmp"

#: How each format is named in messages.
FORMAT_NAMES = {JPEG: "JPEG", PNG: "PNG", WEBP: "WebP", GIF: "GIF", BMP: "BMP"}

# JPEG start-of-frame markers, which carry the pixel size: C0-CF except C4 (DHT), C8 (JPG), CC (DAC).
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length: TEM, RST0-7, SOI, EOI.
_JPEG_BARE_MARKERS = frozenset({0x01, *range(0xD0, 0xDA)})


def image_type(content: bytes) -> str | None:
    """The MIME type the leading bytes show, or None when they are not an image format we know."""
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content.startswith(b"BM"):
        return BMP
    return None


def describe_type(content_type: str | None) -> str:
    """ "a PNG image", or "not a JPEG, PNG, WebP or GIF image" for unknown bytes."""
    if content_type is None:
        return "not a JPEG, PNG, WebP or GIF image"
    return f"a {FORMAT_NAMES.get(content_type, content_type)} image"


def pixel_size(content: bytes, content_type: str) -> tuple[int, int] | None:
    """(width, height) from the image header, or None when the header cannot be read (then the
    API judges the size)."""
    try:
        if content_type == PNG and content[12:16] == b"IHDR":
            width, height = struct.unpack(">II", content[16:24])
            return width, height
        if content_type == GIF:
            width, height = struct.unpack("<HH", content[6:10])
            return width, height
        if content_type == WEBP:
            return _webp_size(content)
        if content_type == JPEG:
            return _jpeg_size(content)
    except struct.error:
        return None
    return None


def _webp_size(content: bytes) -> tuple[int, int] | None:
    chunk = content[12:16]
    if chunk == b"VP8 " and content[23:26] == b"\x9d\x01\x2a":  # lossy: 14-bit sizes after the start code
        width, height = struct.unpack("<HH", content[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and content[20:21] == b"\x2f":  # lossless: 14-bit sizes minus one, packed
        bits = int.from_bytes(content[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: 24-bit canvas sizes minus one
        return int.from_bytes(content[24:27], "little") + 1, int.from_bytes(content[27:30], "little") + 1
    return None


def _jpeg_size(content: bytes) -> tuple[int, int] | None:
    offset = 2
    while offset + 4 <= len(content):
        if content[offset] != 0xFF:
            return None
        marker = content[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in _JPEG_BARE_MARKERS:
            offset += 2
            continue
        if marker in _JPEG_FRAME_MARKERS:
            height, width = struct.unpack(">HH", content[offset + 5 : offset + 9])
            return width, height
        (length,) = struct.unpack(">H", content[offset + 2 : offset + 4])
        offset += 2 + length
    return None
