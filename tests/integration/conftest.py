"""Fixtures shared by the integration tests (the servers come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from discogs_cache.db import create_engine
from tests.integration.test_query import load_fixture_cache


@pytest.fixture
def engine(pg_url: str) -> Iterator[sa.Engine]:
    """An engine on a fresh database holding the consumer API's fixture cache."""
    load_fixture_cache(pg_url)
    eng = create_engine(pg_url)
    yield eng
    eng.dispose()
