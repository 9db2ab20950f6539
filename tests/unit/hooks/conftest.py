"""What the hook tests share: APIMart mocked at the test connection's base URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import respx

from tests.conftest import BASE_URL

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """respx answering for ``apimart_default``; an unmocked call fails the test."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router
