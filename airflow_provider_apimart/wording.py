"""How numbers and long texts appear in the provider's messages: one way, in every log and error."""

from __future__ import annotations

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with "..." (an echoed body, a long input)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def describe_size(size: float) -> str:
    """A size for people, in the binary units the limits are written in: "1.2 GiB", "3.5 KiB", "200 bytes"."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size:.0f} bytes"
