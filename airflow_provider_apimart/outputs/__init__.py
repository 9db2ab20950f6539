"""Durable outputs: result videos copied to ``output_path`` before their URLs expire."""

from __future__ import annotations

from airflow_provider_apimart.outputs.store import DOWNLOAD_ATTEMPTS, StoredVideo, store_videos

__all__ = ["DOWNLOAD_ATTEMPTS", "StoredVideo", "store_videos"]
