"""What the example DAGs share: the poll interval, and a task that keeps the videos.

APIMart result URLs expire after about 24 hours, so every example ends by copying its videos
to durable storage with Airflow's ObjectStoragePath (a local folder here; any fsspec URL works,
e.g. s3://bucket/videos with the matching provider installed).
"""

from __future__ import annotations

import os

from airflow.sdk import ObjectStoragePath, task

#: The docs advise polling every 5-10 s; the demo and tests set APIMART_POLL_INTERVAL=0.5 against
#: the simulator, whose renders take seconds.
POLL_INTERVAL = float(os.environ.get("APIMART_POLL_INTERVAL", "10"))
#: Where keep_videos copies the results.
VIDEO_STORE = os.environ.get("APIMART_VIDEO_STORE", "file:///tmp/apimart-videos")


@task
def keep_videos(video_urls: list[str], run_id: str | None = None) -> list[str]:
    """Copy each video to VIDEO_STORE before its URL expires; return the durable paths."""
    from urllib.parse import urlparse

    import httpx

    folder = ObjectStoragePath(VIDEO_STORE) / str(run_id).replace(":", "_").replace("+", "_")
    folder.mkdir(parents=True, exist_ok=True)
    kept = []
    for url in video_urls:
        target = folder / (urlparse(url).path.rsplit("/", 1)[-1] or "video.mp4")
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            response.raise_for_status()
            with target.open("wb") as file:
                for chunk in response.iter_bytes():
                    file.write(chunk)
        kept.append(str(target))
    return kept
