"""What the files of a stored video are called: decided by the task and by the content, never by a URL.

A result URL is the API's (or a CDN's) word, so it names nothing: a URL ending in ``.json`` once
saved a video where its own provenance record then overwrote it. The video's extension comes from
the type its bytes were judged to be, from a fixed table that holds no ``.json``.
"""

from __future__ import annotations

import re

#: The remote task id names the files, so it must not be able to climb out of ``output_path``.
SAFE_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
RECORD_EXTENSION = ".json"
#: A ``video/*`` type with no entry below: APIMart's videos are MP4.
DEFAULT_EXTENSION = ".mp4"
_EXTENSIONS = {
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "video/x-matroska": ".mkv",
    "video/mpeg": ".mpg",
    "video/ogg": ".ogv",
    "video/3gpp": ".3gp",
    "video/x-msvideo": ".avi",
    "video/mp2t": ".ts",
}


def is_safe_task_id(remote_task_id: str) -> bool:
    return bool(SAFE_TASK_ID.fullmatch(remote_task_id)) and ".." not in remote_task_id


def stem(remote_task_id: str, index: int) -> str:
    """``<remote_task_id>`` for a task's first video, ``<remote_task_id>-N`` for its N-th."""
    return remote_task_id if index == 1 else f"{remote_task_id}-{index}"


def extension_for(content_type: str) -> str:
    """The extension of a video judged to be ``content_type``."""
    return _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), DEFAULT_EXTENSION)


def record_name(video_stem: str) -> str:
    return f"{video_stem}{RECORD_EXTENSION}"
