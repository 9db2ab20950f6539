"""Image inputs from any storage: a local path or an ObjectStoragePath URI instead of a public URL.

Request models accept such a reference at DAG parse without reading it. Before the submit, on
the worker, the operator runs these steps, all on the validated wire body::

    images = find_stored_images(body)                 # which entries are files, and where
    checked = check_images(images, model)             # exists, format, size: before any request
    urls = upload_images(hook, checked, store, log)   # POST /v1/uploads/images, reused across tries
    hook.submit_video(with_uploaded_urls(body, urls), idempotency_key=key_of(fingerprint_body(body, checked)))

The fingerprint holds each file's sha256 instead of its upload URL, so every try of a task sends
the same Idempotency-Key.
"""

from __future__ import annotations

from airflow_provider_apimart.inputs.check import CheckedImage, check_images, image_limits
from airflow_provider_apimart.inputs.upload import upload_images
from airflow_provider_apimart.models.images import (
    ImageInput,
    find_stored_images,
    fingerprint_body,
    require_uploaded,
    with_uploaded_urls,
)
from airflow_provider_apimart.wording import describe_size

__all__ = [
    "CheckedImage",
    "ImageInput",
    "check_images",
    "describe_size",
    "find_stored_images",
    "fingerprint_body",
    "image_limits",
    "require_uploaded",
    "upload_images",
    "with_uploaded_urls",
]
