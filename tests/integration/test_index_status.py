"""load + index + vacuum + status on real PostgreSQL: the contract holds after a bulk load."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import psycopg

from discogs_cache import migrate
from discogs_cache.db import conninfo
from discogs_cache.index import build_indexes, contract_indexes, drop_indexes
from discogs_cache.load import load
from discogs_cache.schema import ALL_TABLES
from discogs_cache.status import cache_status
from discogs_cache.vacuum import vacuum

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from synth import write_synthetic_csvs


def test_load_then_index_satisfies_the_contract(pg_url: str, tmp_path: Path) -> None:
    info = write_synthetic_csvs(tmp_path, 300)
    summary = load(pg_url, tmp_path)
    assert summary.loaded("release") == 300
    assert summary.loaded("release_track") == info.rows["release_track"]
    with (tmp_path / "release_artist.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    credits = {(r["release_id"], r["artist_name"]) for r in rows if r["artist_name"]}
    assert len(credits) < len(rows) == info.rows["release_artist"]  # the file has duplicates
    assert summary.loaded("release_artist") == len(credits)  # collapsed to one per name
    names = {ix.name for ix in contract_indexes()}
    loaded = {ix.name for ix in contract_indexes() if ix.table in ALL_TABLES}
    assert names - loaded == {"ix_lookup_negative_attempted_at"}  # consumers' table: kept
    assert set(cache_status(pg_url).missing_indexes) == loaded  # load dropped all of its own
    first = build_indexes(pg_url, jobs=2)
    assert set(first.built) == loaded
    assert migrate.check(pg_url) == []
    again = build_indexes(pg_url)
    assert again.built == {} and set(again.existing) == names
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute(
            "EXPLAIN SELECT id FROM release WHERE lower(f_unaccent(title)) % lower(f_unaccent('x'))"
        ).fetchall()
    assert "ix_release_title_trgm" in "\n".join(r[0] for r in plan)


def test_drop_indexes_then_rebuild(pg_url: str) -> None:
    dropped = drop_indexes(pg_url)
    assert set(dropped) == {ix.name for ix in contract_indexes() if ix.table in ALL_TABLES}
    assert migrate.check(pg_url) != []
    build_indexes(pg_url)
    assert migrate.check(pg_url) == []


def test_status_and_vacuum(pg_url: str, tmp_path: Path) -> None:
    write_synthetic_csvs(tmp_path, 50)
    load(pg_url, tmp_path)
    status = cache_status(pg_url)
    assert status.revision == status.head == migrate.head_revision()
    rows = {t.name: t.rows for t in status.tables}
    assert rows["release"] == 50 and rows["cache_metadata"] == 50
    assert [(f.source, f.releases) for f in status.freshness] == [("bulk_import", 50)]
    assert status.to_json()["total_bytes"] == status.total_bytes > 0
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute("DELETE FROM release WHERE id IN (SELECT id FROM release LIMIT 40)")
    result = vacuum(pg_url)
    assert result.bytes_after < result.bytes_before
    assert {t.name: t.rows for t in cache_status(pg_url).tables}["release"] == 10


def test_status_of_an_unmigrated_database(empty_pg_url: str) -> None:
    status = cache_status(empty_pg_url)
    assert status.revision is None and status.tables == [] and status.missing_indexes == []
