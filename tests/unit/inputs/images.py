"""Tiny image files for the input tests: real format headers (so size and type read true), padded.

Nothing decodes the pixels, so a header plus padding is all a test image needs.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

PADDING = 2048


def png(width: int = 320, height: int = 240, *, padding: int = PADDING) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = (
        struct.pack(">I", len(header)) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    )
    return b"\x89PNG\r\n\x1a\n" + chunk + bytes(padding)


def jpeg(width: int = 320, height: int = 240, *, padding: int = PADDING) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + bytes(9)
    return b"\xff\xd8" + app0 + frame + bytes(padding) + b"\xff\xd9"


def gif(width: int = 320, height: int = 240, *, padding: int = PADDING) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + bytes(padding)


def webp(width: int = 320, height: int = 240, *, kind: str = "VP8X", padding: int = PADDING) -> bytes:
    if kind == "VP8X":
        chunk = b"VP8X" + struct.pack("<I", 10) + bytes(4)
        chunk += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    elif kind == "VP8 ":
        chunk = (
            b"VP8 " + struct.pack("<I", 10) + b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", width, height)
        )
    else:
        bits = (width - 1) | (height - 1) << 14
        chunk = b"VP8L" + struct.pack("<I", 5) + b"\x2f" + bits.to_bytes(4, "little")
    body = b"WEBP" + chunk + bytes(padding)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write(path: Path, content: bytes) -> str:
    """Write ``content`` to ``path`` and return the path as a DAG author would write it."""
    path.write_bytes(content)
    return str(path)


def sparse(path: Path, header: bytes, size: int) -> str:
    """A file of ``size`` bytes that starts with ``header``, without writing the bytes out."""
    with path.open("wb") as handle:
        handle.write(header)
        handle.truncate(size)
    return str(path)
