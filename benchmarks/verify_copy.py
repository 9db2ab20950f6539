"""What trusting an earlier try's stored video costs, now that its sha256 is checked, beside a bare hash.

A retry (or a sensor on the same remote task) that finds ``<id>.mp4`` and its record re-hashes the
file before it skips the download: a same-size file with other bytes is no longer trusted. This
prints, for one stored file of each size, side by side in the same run:

- **size only**: ``os.stat`` of the file, the check provider 0.2 made (fooled by a same-size file);
- **provider**: ``records.earlier_copy``: read the record, open the file through ObjectStoragePath,
  re-hash it in 1 MiB steps;
- **bare**: ``hashlib.sha256`` over ``open(path, "rb").read(1 MiB)`` in a loop: the floor;

and the download it saves (the simulator's 1 GB copy is in ``download.py``). The goal: the
provider's check within 1.2x of the bare hash, and its memory flat.

    .venv/bin/python benchmarks/verify_copy.py                 # 1 GB, a warm-up round, then 3 runs each
    .venv/bin/python benchmarks/verify_copy.py --sizes 100MB --repeat 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, rss_kb, verdict

STEP = 1024 * 1024
GOAL_RATIO = 1.2


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1GB", help="file sizes, comma-separated (100MB, 1GB)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per check and size (default 3)")
    parser.add_argument("--dir", default=None, help="where the file is written (default: the temp folder)")
    args = parser.parse_args()
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_apimart.outputs import records

    print(f"load average: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    for size in (parse_size(text) for text in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
            folder = Path(scratch)
            sha256 = write_video(folder / "task_1.mp4", size)
            url = "https://cdn.example/v/task_1.mp4"
            record = {"remote_task_id": "task_1", "source_url": url, "sha256": sha256, "bytes": size}
            (folder / "task_1.json").write_text(json.dumps({**record, "file": "task_1.mp4"}))
            store = ObjectStoragePath(f"file://{folder}")

            def provider(store: ObjectStoragePath = store, url: str = url) -> None:
                assert records.earlier_copy(store, "task_1", remote_task_id="task_1", url=url) is not None

            def bare(path: Path = folder / "task_1.mp4", expected: str = sha256) -> None:
                hasher = hashlib.sha256()
                with open(path, "rb") as file:
                    while chunk := file.read(STEP):
                        hasher.update(chunk)
                assert hasher.hexdigest() == expected

            def size_only(path: Path = folder / "task_1.mp4", expected: int = size) -> None:
                assert os.stat(path).st_size == expected

            times: dict[str, list[float]] = {"size only": [], "provider": [], "bare": []}
            before = 0
            for run in range(args.repeat + 1):  # taking turns, so a slow spell of the machine hits all three
                if run == 1:
                    before = rss_kb()  # after a first round that loads and warms what a worker has
                for name, check in (("bare", bare), ("provider", provider), ("size only", size_only)):
                    started = time.perf_counter()
                    check()
                    if run:
                        times[name].append(time.perf_counter() - started)
            grown = rss_kb() - before
            report(size, times, grown)
    return 0


def write_video(path: Path, size: int) -> str:
    """A file of ``size`` bytes that does not compress or dedupe; its sha256."""
    hasher = hashlib.sha256()
    block = os.urandom(STEP)
    with open(path, "wb") as file:
        written = 0
        while written < size:
            piece = block[: min(STEP, size - written)]
            piece = written.to_bytes(8, "big") + piece[8:] if len(piece) >= 8 else piece
            file.write(piece)
            hasher.update(piece)
            written += len(piece)
    return hasher.hexdigest()


def report(size: int, times: dict[str, list[float]], grown_kb: int) -> None:
    bare, provider, stat = (median(times[name]) for name in ("bare", "provider", "size only"))
    ratio = provider / bare if bare else 0.0
    runs = len(times["bare"])
    print(f"\n{size / 1e9:.2f} GB, median of {runs} runs after a warm-up round (the file in the page cache)")
    print(f"  {'check':<10} {'seconds':>9} {'GB/s':>7}")
    for name, seconds in (("size only", stat), ("bare", bare), ("provider", provider)):
        rate = f"{size / seconds / 1e9:7.2f}" if seconds and name != "size only" else "      -"
        print(f"  {name:<10} {seconds:9.4f} {rate}")
    print(f"  provider / bare: {ratio:.2f}x (goal <= {GOAL_RATIO}x: {verdict(ratio <= GOAL_RATIO)})")
    flat = verdict(grown_kb < 16384)
    print(f"  memory grown over the measured runs: {grown_kb / 1024:.1f} MiB (goal: flat, < 16 MiB: {flat})")


def parse_size(text: str) -> int:
    units = {"GB": 10**9, "MB": 10**6, "KB": 10**3}
    for unit, scale in units.items():
        if text.upper().endswith(unit):
            return int(float(text[: -len(unit)]) * scale)
    return int(text)


if __name__ == "__main__":
    raise SystemExit(main())
