"""The local writer: all or nothing under the final name, whatever the OS does with each write."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from airflow_provider_apimart.outputs._writers import PART_SUFFIX, LocalWriter

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pytest


def test_every_piece_is_written_in_order_even_when_the_os_writes_less(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffers_per_call: list[int] = []

    def stingy_writev(descriptor: int, views: Sequence[memoryview]) -> int:
        buffers_per_call.append(len(views))
        return os.write(descriptor, bytes(views[0])[:7])  # a short write, as the OS may do

    monkeypatch.setattr(os, "writev", stingy_writev)
    pieces = [bytes([index % 251]) * (index % 13 + 1) for index in range(2000)]
    target = tmp_path / "clip.mp4"

    writer = LocalWriter(str(target))
    writer.write(pieces)
    assert not target.exists()  # only the .part so far
    writer.commit()

    assert target.read_bytes() == b"".join(pieces)
    assert max(buffers_per_call) <= 512  # under IOV_MAX
    assert list(tmp_path.iterdir()) == [target]


def test_restart_and_abort(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    writer = LocalWriter(str(target))
    writer.write([b"wrong start"])
    writer.restart()
    writer.write([b"right"])
    writer.abort()
    assert list(tmp_path.iterdir()) == []

    writer = LocalWriter(str(target))
    writer.write([b"wrong start"])
    writer.restart()
    writer.write([b"right"])
    writer.commit()
    assert target.read_bytes() == b"right"
    assert [path.name for path in tmp_path.iterdir()] == ["clip.mp4"]
    assert PART_SUFFIX not in "".join(os.listdir(tmp_path))


def test_two_writers_of_one_file_never_mix_their_bytes(tmp_path: Path) -> None:
    # A zombie try and its retry (or an operator and a sensor) storing the same video once shared
    # one .part: the published file had the other's gaps, zero-filled, under the true sha256.
    target = tmp_path / "clip.mp4"
    first, second = LocalWriter(str(target)), LocalWriter(str(target))
    assert first.part != second.part
    for index in range(100):
        first.write([b"A" * 1000])
        if index < 60:
            second.write([b"B" * 1000])  # the second stops early and publishes first
    second.commit()
    assert target.read_bytes() == b"B" * 60_000
    first.commit()
    assert target.read_bytes() == b"A" * 100_000  # whole, never mixed
    assert os.listdir(tmp_path) == ["clip.mp4"]
