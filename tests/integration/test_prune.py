"""prune in place and copy-to against real databases: exactly KEEP+REVIEW survive."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from discogs_cache import migrate
from discogs_cache.db import conninfo
from discogs_cache.errors import InputError
from discogs_cache.index import contract_indexes, existing_indexes
from discogs_cache.library.catalog import read_catalog
from discogs_cache.prune import copy_to, prune
from discogs_cache.schema import ARTIST_TABLES, CACHE_TABLES
from discogs_cache.verify import classify_cache
from tests.integration.test_verify import (
    RELEASES,
    checksums,
    expected,
    fill_cache,
    make_library,
)


def release_ids(url: str, table: str = "release") -> set[int]:
    column = "id" if table == "release" else "release_id"
    with psycopg.connect(conninfo(url)) as conn:
        query = sql.SQL("SELECT DISTINCT {} FROM {}").format(
            sql.Identifier(column), sql.Identifier(table)
        )
        return {r[0] for r in conn.execute(query)}


def retained() -> set[int]:
    return expected("KEEP") | expected("REVIEW")


@pytest.mark.parametrize("strategy", ["delete", "copy"])
def test_prune_leaves_exactly_keep_and_review(pg_url: str, tmp_path: Path, strategy: str) -> None:
    fill_cache(pg_url)
    classification = classify_cache(pg_url, read_catalog(make_library(tmp_path / "l.db")))
    summary = prune(pg_url, classification, strategy=strategy)
    assert summary.releases_removed == 3 and summary.strategy == strategy
    for table in CACHE_TABLES:  # every release table, children included
        assert release_ids(pg_url, table) == retained(), table
    assert expected("REVIEW") <= release_ids(pg_url)  # REVIEW never deleted
    with psycopg.connect(conninfo(pg_url)) as conn:
        assert conn.execute("SELECT count(*) FROM release_track").fetchone() == (12,)
    assert migrate.check(pg_url) == []  # constraints and indexes intact
    assert {ix.name for ix in contract_indexes()} <= _indexes(pg_url)
    with (
        psycopg.connect(conninfo(pg_url)) as conn,
        pytest.raises(psycopg.errors.ForeignKeyViolation),
    ):
        conn.execute("INSERT INTO release_track (release_id, sequence, title) VALUES (2, 1, 'x')")


def test_prune_keeps_releases_written_after_classification(pg_url: str, tmp_path: Path) -> None:
    fill_cache(pg_url)
    classification = classify_cache(pg_url, read_catalog(make_library(tmp_path / "l.db")))
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute("INSERT INTO release (id, title) VALUES (500, 'Fetched from the API')")
    prune(pg_url, classification)
    assert release_ids(pg_url) == retained() | {500}


def test_prune_also_removes_given_releases_and_counts_them_apart(
    pg_url: str, tmp_path: Path
) -> None:
    """What `run` does: dedup's losers go in prune's swap, reported as dedup's, not prune's."""
    fill_cache(pg_url)
    classification = classify_cache(pg_url, read_catalog(make_library(tmp_path / "l.db")))
    kept, pruned = sorted(expected("KEEP")), sorted(expected("PRUNE"))
    also = [kept[0], pruned[0], 999_999]  # a keeper, a PRUNE release, one not in the cache
    summary = prune(pg_url, classification, also_remove=also)
    assert release_ids(pg_url) == retained() - {kept[0]}
    assert summary.also_removed == 2  # the PRUNE one counts as dedup's, as if dedup ran first
    assert (summary.releases_before, summary.releases_removed) == (
        len(RELEASES) - 2,
        len(pruned) - 1,
    )
    assert summary.releases_kept == len(retained()) - 1


def _indexes(url: str) -> set[str]:
    with psycopg.connect(conninfo(url)) as conn:
        return existing_indexes(conn)


def test_copy_to_builds_equal_indexed_target_and_leaves_source(
    pg_url: str, tmp_path: Path, pg_database_factory: Callable[[], str]
) -> None:
    fill_cache(pg_url)
    before = checksums(pg_url)
    classification = classify_cache(pg_url, read_catalog(make_library(tmp_path / "l.db")))
    target = pg_database_factory()
    summary = copy_to(pg_url, target, classification)
    assert checksums(pg_url) == before  # source intact
    assert summary.rows["release"] == len(retained())
    assert release_ids(target) == retained()
    # the target equals the source restricted to KEEP+REVIEW, row for row
    prune(pg_url, classification)
    copied = checksums(target)
    assert {t: v for t, v in copied.items() if t not in ARTIST_TABLES} == {
        t: v for t, v in checksums(pg_url).items() if t not in ARTIST_TABLES
    }
    # the artist tables: the artists credited on retained releases only
    assert {t: copied[t][0] for t in ARTIST_TABLES} == {
        "artist": 1,
        "artist_alias": 2,
        "artist_name_variation": 1,
        "artist_member": 0,
        "artist_url": 1,
    }
    assert migrate.check(target) == []
    assert {ix.name for ix in contract_indexes()} <= _indexes(target)


def test_copy_to_creates_a_missing_database_and_refuses_bad_targets(
    pg_url: str, tmp_path: Path, pg_database_factory: Callable[[], str]
) -> None:
    fill_cache(pg_url)
    classification = classify_cache(pg_url, read_catalog(make_library(tmp_path / "l.db")))
    scratch = pg_database_factory()  # dropped afterwards; we reuse its name for a new db
    from sqlalchemy.engine import make_url

    name = make_url(scratch).database + "_new"
    target = make_url(scratch).set(database=name).render_as_string(hide_password=False)
    try:
        summary = copy_to(pg_url, target, classification)
        assert summary.created and release_ids(target) == retained()
        with pytest.raises(InputError, match="already holds"):
            copy_to(pg_url, target, classification)
    finally:
        admin = make_url(scratch).set(database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(conninfo(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with pytest.raises(InputError, match="is the source"):
        copy_to(pg_url, pg_url, classification)
