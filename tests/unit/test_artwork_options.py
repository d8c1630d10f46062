"""`run --artwork` options and the top-up's summary, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from discogs_cache.discogs.artwork import TopUpOptions, TopUpSummary
from discogs_cache.pipeline.options import RunOptions, UsageError, check_options


def test_artwork_rate_needs_artwork(tmp_path: Path) -> None:
    base = RunOptions(database_url="postgresql://u@h/db", csv_dir=tmp_path)
    check_options(base)
    base.artwork, base.artwork_rate = True, 30
    check_options(base)
    base.artwork = False
    with pytest.raises(UsageError, match="--artwork-rate paces the artwork top-up"):
        check_options(base)


def test_artwork_is_not_part_of_the_resume_identity(tmp_path: Path) -> None:
    plain = RunOptions(database_url="postgresql://u@h/db", csv_dir=tmp_path)
    topped = RunOptions(database_url="postgresql://u@h/db", csv_dir=tmp_path, artwork=True)
    assert plain.identity() == topped.identity()


def test_default_rates_and_eta() -> None:
    assert TopUpOptions(token="t").effective_rate == 55
    assert TopUpOptions(token=None).effective_rate == 25
    assert TopUpOptions(token=None, rate=7).effective_rate == 7
    # the yardstick: 10,000 releases at 55/min take about 3 hours
    summary = TopUpSummary(candidates=10_000, rate=55, dry_run=True)
    assert summary.format() == (
        "artwork (dry run): 10000 releases to check, about 3 h 01 min at 55 requests per 60 s"
    )


def test_rate_limit_table_is_not_a_release_table() -> None:
    from discogs_cache import schema

    assert "discogs_rate_limit" in schema.metadata.tables
    assert "discogs_rate_limit" not in schema.ALL_TABLES
    assert "discogs_rate_limit" not in schema.CACHE_TABLES
