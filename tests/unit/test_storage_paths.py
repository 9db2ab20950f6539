"""One reading of a storage location, for the videos kept and the images read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_apimart.exceptions import ApimartConfigurationError, ApimartValidationError
from airflow_provider_apimart.inputs import ImageInput, check_images
from airflow_provider_apimart.outputs.store import output_folder
from airflow_provider_apimart.storage_paths import storage_path
from tests.unit.inputs import images

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    "written", ["{root}/a/../videos", "file://{root}/a/../videos", "file://localhost{root}/videos"]
)
def test_a_local_path_and_its_file_uri_name_the_same_folder(tmp_path: Path, written: str) -> None:
    location = written.format(root=tmp_path)
    assert str(storage_path(location)) == f"file://{tmp_path}/videos"
    assert str(output_folder(location)) == str(storage_path(location))


def test_an_image_is_read_through_the_same_reading(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    images.write(tmp_path / "in" / "cat.png", images.png())
    for written in (f"{tmp_path}/x/../in/cat.png", f"file://{tmp_path}/x/../in/cat.png"):
        (checked,) = check_images([ImageInput("image_urls[0]", written)], "wan2.7")
        assert checked.filename == "cat.png"


@pytest.mark.parametrize("written", ["videos", "file://videos"])
def test_a_relative_location_is_refused_naming_what_it_is(written: str) -> None:
    with pytest.raises(ApimartConfigurationError, match=f"image {written!r} is not absolute"):
        storage_path(written, what="image")


def test_a_scheme_without_a_filesystem_is_refused_before_any_read() -> None:
    with pytest.raises(ValueError, match="nosuchfs"):
        storage_path("nosuchfs://bucket/videos")
    with pytest.raises(ApimartValidationError, match="cannot be opened"):
        check_images([ImageInput("image_urls[0]", "nosuchfs://bucket/cat.png")], "wan2.7")
