"""Check stored images before anything is sent: each exists, is an image the upload endpoint takes,
and is within its model page's limits. Each file is read once, here, and kept for the upload.

Limits: https://docs.apimart.ai/en/api-reference/uploads/images (JPEG, PNG, WebP, GIF, 20 MB) and
the model's own page where it is stricter (``IMAGE_LIMITS`` on each request model).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from airflow_provider_apimart.exceptions import ApimartConfigurationError, ApimartValidationError
from airflow_provider_apimart.inputs.formats import FORMAT_NAMES, describe_type, image_type, pixel_size
from airflow_provider_apimart.models.registry import request_class_for
from airflow_provider_apimart.storage_paths import storage_path
from airflow_provider_apimart.wording import MiB, describe_size

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_apimart.models.images import ImageInput, ImageLimits


@dataclass(frozen=True)
class CheckedImage:
    """A stored image that passed every check, with the bytes to upload (at most 20 MiB)."""

    parameter: str
    reference: str
    filename: str
    content_type: str
    sha256: str
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.content)


class _UnusableFileError(Exception):
    """Why one file cannot be used, phrased to follow its name."""


def image_limits(model: str) -> ImageLimits:
    """The limits of the model's page, or the upload endpoint's for a model without a page here."""
    return request_class_for(model).IMAGE_LIMITS


def check_images(images: Sequence[ImageInput], model: str) -> list[CheckedImage]:
    """Read and check every stored image; no network call to APIMart.

    Raises :class:`~airflow_provider_apimart.exceptions.ApimartValidationError` naming each broken image's
    parameter, file and limit, so a task with a missing or wrong file fails before it uploads or pays for
    anything. An error the storage itself raises while reading (a network error on s3://...) is left as it is:
    a retry may succeed.
    """
    limits = image_limits(model)
    outcomes: dict[str, CheckedImage | str] = {}  # by reference: each file is read once
    problems: list[tuple[str, str]] = []
    checked: list[CheckedImage] = []
    for image in images:
        if image.reference not in outcomes:
            try:
                outcomes[image.reference] = _read_and_check(image.parameter, image.reference, limits)
            except _UnusableFileError as refusal:
                outcomes[image.reference] = str(refusal)
        outcome = outcomes[image.reference]
        if isinstance(outcome, str):
            problems.append((image.parameter, f"{image.reference} {outcome}"))
        else:
            checked.append(replace(outcome, parameter=image.parameter))
    if problems:
        raise ApimartValidationError(model, problems)
    return checked


def _read_and_check(parameter: str, reference: str, limits: ImageLimits) -> CheckedImage:
    max_size = f"at most {limits.max_bytes / MiB:g} MiB"
    try:
        path = storage_path(reference)
        found = path.exists()
    except (
        ValueError,
        ImportError,
        ApimartConfigurationError,
    ) as error:  # no filesystem for the scheme, or its package missing
        raise _UnusableFileError(f"cannot be opened: {error}") from None
    if not found:
        raise _UnusableFileError("does not exist")
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise _UnusableFileError(f"is {describe_size(size)}; {limits.source} takes {max_size}")
        with path.open("rb") as handle:  # type: ignore[no-untyped-call]  # unannotated in Airflow
            content: bytes = handle.read(limits.max_bytes + 1)  # bounded, should it grow meanwhile
    except (IsADirectoryError, PermissionError) as error:
        raise _UnusableFileError(f"cannot be read ({type(error).__name__}: {error})") from None
    if len(content) > limits.max_bytes:
        raise _UnusableFileError(f"is larger than {limits.source} takes ({max_size})")
    content_type = image_type(content[:16])
    if content_type not in limits.content_types:
        raise _UnusableFileError(
            f"is {describe_type(content_type)} (judged by its bytes, not its name); "
            f"{limits.source} takes {_formats(limits)}"
        )
    _check_pixels(content, content_type, limits)
    return CheckedImage(
        parameter=parameter,
        reference=reference,
        filename=path.name or "image",
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )


def _check_pixels(content: bytes, content_type: str, limits: ImageLimits) -> None:
    if limits.min_side is None and limits.max_side is None:
        return
    size = pixel_size(content, content_type)
    if size is None:
        return  # an unreadable header is left to the API
    low, high = limits.min_side or 1, limits.max_side or max(size)
    if not all(low <= side <= high for side in size):
        raise _UnusableFileError(
            f"is {size[0]}x{size[1]} pixels; {limits.source} takes {low} to {high} pixels on each side"
        )


def _formats(limits: ImageLimits) -> str:
    names = [name for content_type, name in FORMAT_NAMES.items() if content_type in limits.content_types]
    return f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
