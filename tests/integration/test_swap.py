"""The keep-only swap: right rows survive, the contract's catalog survives, all or nothing."""

from __future__ import annotations

import psycopg
import pytest

from discogs_cache import migrate
from discogs_cache.db import conninfo
from discogs_cache.errors import InputError
from discogs_cache.index import drop_secondary_indexes
from discogs_cache.schema import CACHE_TABLES
from discogs_cache.swap import COPY_RATIO, COPY_RATIO_UNINDEXED, retain_releases

TABLES = "ARRAY['" + "','".join(CACHE_TABLES) + "']"

CATALOG_QUERIES = {
    "constraints": f"""
        SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid),
               convalidated, condeferrable, confdeltype::text
        FROM pg_constraint WHERE conrelid::regclass::text = ANY({TABLES}) ORDER BY 1, 2""",
    "indexes": f"""
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE tablename = ANY({TABLES}) ORDER BY 1, 2""",
    "columns": f"""
        SELECT a.attrelid::regclass::text, a.attnum, a.attname, format_type(a.atttypid,
               a.atttypmod), a.attnotnull, a.atthasdef, pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid
             AND d.adnum = a.attnum
        WHERE a.attrelid::regclass::text = ANY({TABLES}) AND a.attnum > 0
              AND NOT a.attisdropped ORDER BY 1, 2""",
    "tables": f"""
        SELECT relname, pg_get_userbyid(relowner), relacl::text, relkind::text,
               obj_description(oid, 'pg_class')
        FROM pg_class WHERE relname = ANY({TABLES}) ORDER BY 1""",
    "triggers": f"""
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
        WHERE tgrelid::regclass::text = ANY({TABLES}) AND NOT tgisinternal ORDER BY 1, 2""",
    "leftovers": "SELECT relname FROM pg_class WHERE relname LIKE '\\_swap\\_%' ORDER BY 1",
}


def catalog(conn: psycopg.Connection) -> dict[str, list[tuple[object, ...]]]:
    return {key: conn.execute(q).fetchall() for key, q in CATALOG_QUERIES.items()}  # type: ignore[arg-type]


def populate(conn: psycopg.Connection, ids: range) -> None:
    """Each release gets 2 artists, 1 label, 3 tracks with an artist each, metadata, a
    genre, a style, a video."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO release (id, title, country, master_id) VALUES (%s, %s, 'US', %s)",
            [(i, f"Album {i}", i // 2) for i in ids],
        )
        cur.executemany(
            "INSERT INTO release_artist (release_id, artist_name, extra) VALUES (%s, %s, %s)",
            [(i, name, extra) for i in ids for name, extra in (("Main", 0), ("Producer", 1))],
        )
        cur.executemany(
            "INSERT INTO release_label (release_id, label_name) VALUES (%s, 'Label')",
            [(i,) for i in ids],
        )
        cur.executemany(
            "INSERT INTO release_track (release_id, sequence, title) VALUES (%s, %s, %s)",
            [(i, s, f"Track {s}") for i in ids for s in (1, 2, 3)],
        )
        cur.executemany(
            "INSERT INTO release_track_artist (release_id, track_sequence, artist_name)"
            " VALUES (%s, %s, 'Guest')",
            [(i, s) for i in ids for s in (1, 2, 3)],
        )
        cur.executemany(
            "INSERT INTO cache_metadata (release_id, source) VALUES (%s, 'bulk_import')",
            [(i,) for i in ids],
        )
        for statement in (
            "INSERT INTO release_genre (release_id, genre) VALUES (%s, 'Rock')",
            "INSERT INTO release_style (release_id, style) VALUES (%s, 'Punk')",
            "INSERT INTO release_video (release_id, sequence, src) VALUES (%s, 1, 'v')",
        ):
            cur.executemany(statement, [(i,) for i in ids])


def make_keep(conn: psycopg.Connection, ids: list[int], name: str = "keep_ids") -> str:
    conn.execute(f"CREATE TEMP TABLE {name} (release_id integer)")
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {name} VALUES (%s)", [(i,) for i in ids])
    return name


def counts(conn: psycopg.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in CACHE_TABLES}  # type: ignore[index]


def release_ids(conn: psycopg.Connection, table: str = "release", col: str = "id") -> set[int]:
    return {r[0] for r in conn.execute(f"SELECT DISTINCT {col} FROM {table}")}


@pytest.fixture
def conn(pg_url: str) -> psycopg.Connection:
    with psycopg.connect(conninfo(pg_url)) as c:
        populate(c, range(1, 41))
        c.commit()
        yield c


@pytest.mark.parametrize("strategy", ["delete", "copy"])
def test_keeps_exactly_the_given_releases_and_their_children(
    conn: psycopg.Connection, strategy: str
) -> None:
    keep = [1, 2, 3, 17, 40, 40, 999]  # duplicates and unknown ids are harmless
    result = retain_releases(conn, make_keep(conn, keep), strategy=strategy)
    conn.commit()
    assert (result.releases_before, result.releases_kept, result.releases_removed) == (40, 5, 35)
    assert result.strategy == strategy
    assert result.rows_removed["release_track"] == 35 * 3
    assert result.rows_removed["release_artist"] == 35 * 2
    assert release_ids(conn) == {1, 2, 3, 17, 40}
    for table in CACHE_TABLES[1:]:
        assert release_ids(conn, table, "release_id") == {1, 2, 3, 17, 40}, table
    assert counts(conn) == {
        "release": 5,
        "release_artist": 10,
        "release_label": 5,
        "release_track": 15,
        "release_track_artist": 15,
        "release_genre": 5,
        "release_style": 5,
        "release_video": 5,
        "cache_metadata": 5,
    }
    # defaults still work after the swap (the previous system lost them)
    conn.execute("INSERT INTO release (id, title) VALUES (5000, 'x')")
    conn.execute("INSERT INTO release_artist (release_id, artist_name) VALUES (5000, 'a')")
    conn.execute("INSERT INTO cache_metadata (release_id, source) VALUES (5000, 'api_fetch')")
    row = conn.execute(
        "SELECT ra.extra, cm.cached_at IS NOT NULL FROM release_artist ra"
        " JOIN cache_metadata cm USING (release_id) WHERE release_id = 5000"
    ).fetchone()
    assert row == (0, True)


@pytest.mark.parametrize("strategy", ["copy", "delete"])
def test_swap_leaves_the_catalog_identical_and_alembic_clean(
    conn: psycopg.Connection, pg_url: str, strategy: str
) -> None:
    conn.execute("GRANT SELECT ON release, release_track TO PUBLIC")
    conn.execute("COMMENT ON TABLE release IS 'one pressing'")
    conn.commit()
    before = catalog(conn)
    assert len(before["indexes"]) == 18  # 9 PKs + 5 btree + 4 trigram GIN
    assert len(before["triggers"]) == 3  # the credit tables' merge triggers
    result = retain_releases(conn, make_keep(conn, [2, 4, 6]), strategy=strategy)
    conn.commit()
    assert result.strategy == strategy
    assert catalog(conn) == before
    conn.execute("COMMENT ON TABLE release IS NULL")  # not in the models: alembic would see it
    conn.commit()
    assert migrate.check(pg_url) == []
    # the cascade is really back: deleting a release removes its children
    conn.execute("DELETE FROM release WHERE id = 2")
    assert conn.execute("SELECT count(*) FROM release_track WHERE release_id = 2").fetchone() == (
        0,
    )
    with pytest.raises(psycopg.errors.NotNullViolation):
        conn.execute("INSERT INTO release (id, title) VALUES (7, NULL)")


def test_copy_swap_keeps_deferred_indexes_absent(conn: psycopg.Connection) -> None:
    """A swap between load and index build must not resurrect the indexes the load dropped."""
    conn.execute("DROP INDEX ix_release_title_trgm, ix_release_track_title_trgm")
    conn.commit()
    before = catalog(conn)
    retain_releases(conn, make_keep(conn, [1]), strategy="copy")
    conn.commit()
    after = catalog(conn)
    assert after == before
    assert "ix_release_title_trgm" not in {r[1] for r in after["indexes"]}


def test_interrupted_swap_leaves_the_database_as_before(pg_url: str) -> None:
    """Fail the swap after the keepers are copied (blocked DROP): nothing has changed."""
    with psycopg.connect(conninfo(pg_url)) as conn, psycopg.connect(conninfo(pg_url)) as blocker:
        populate(conn, range(1, 21))
        conn.commit()
        before_catalog, before_counts = catalog(conn), counts(conn)
        blocker.execute("SELECT 1 FROM cache_metadata LIMIT 1")  # holds a lock until rollback
        conn.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            retain_releases(conn, make_keep(conn, [1]), strategy="copy")
        conn.rollback()
        blocker.rollback()
        assert counts(conn) == before_counts
        assert catalog(conn) == before_catalog


def test_caller_transaction_is_not_committed(conn: psycopg.Connection) -> None:
    retain_releases(conn, make_keep(conn, [1, 2]), strategy="copy")
    assert counts(conn)["release"] == 2
    conn.rollback()
    assert counts(conn)["release"] == 40


def test_autocommit_connection_gets_its_own_transaction(pg_url: str) -> None:
    with psycopg.connect(conninfo(pg_url), autocommit=True) as conn:
        populate(conn, range(1, 11))
        result = retain_releases(conn, make_keep(conn, [3]))
        assert result.strategy == "copy"
    with psycopg.connect(conninfo(pg_url)) as other:
        assert release_ids(other) == {3}


def test_nothing_to_remove_touches_nothing(conn: psycopg.Connection) -> None:
    result = retain_releases(conn, make_keep(conn, list(range(1, 41))), strategy="copy")
    assert (result.strategy, result.releases_removed, result.rows_removed) == ("none", 0, {})


def test_auto_deletes_when_few_go(conn: psycopg.Connection) -> None:
    result = retain_releases(conn, make_keep(conn, list(range(1, 31))))
    assert (result.strategy, result.releases_removed) == ("delete", 10)


def test_auto_copies_when_most_go(conn: psycopg.Connection) -> None:
    result = retain_releases(conn, make_keep(conn, [7, 8]))
    assert (result.strategy, result.releases_removed) == ("copy", 38)
    assert release_ids(conn) == {7, 8}


def test_auto_copies_from_half_when_only_keys_are_left(conn: psycopg.Connection) -> None:
    """Between a load and the index build (no secondary index) copying is cheap: from
    COPY_RATIO_UNINDEXED on, auto copies; the same removal with the indexes deletes."""
    keep = list(range(1, 16))  # 25 of 40 go: 62.5%
    assert COPY_RATIO_UNINDEXED <= 25 / 40 < COPY_RATIO
    result = retain_releases(conn, make_keep(conn, keep))
    assert result.strategy == "delete"
    conn.rollback()
    drop_secondary_indexes(conn)
    before = catalog(conn)
    result = retain_releases(conn, make_keep(conn, keep), analyze=False)
    assert (result.strategy, result.releases_removed) == ("copy", 25)
    assert catalog(conn) == before, "no index comes back, every key does"
    assert release_ids(conn) == set(keep)


def test_dependent_view_falls_back_to_delete_under_auto(conn: psycopg.Connection) -> None:
    conn.execute("CREATE VIEW release_titles AS SELECT id, title FROM release")
    conn.commit()
    result = retain_releases(conn, make_keep(conn, [1]))
    assert result.strategy == "delete"
    assert release_ids(conn) == {1}
    assert conn.execute("SELECT count(*) FROM release_titles").fetchone() == (1,)
    conn.rollback()
    with pytest.raises(psycopg.errors.DependentObjectsStillExist):
        retain_releases(conn, make_keep(conn, [1], "keep2"), strategy="copy")


def test_bad_keep_table_and_strategy_are_input_errors(conn: psycopg.Connection) -> None:
    with pytest.raises(InputError, match="no_such_table"):
        retain_releases(conn, "no_such_table")
    conn.execute("CREATE TEMP TABLE wrong (id integer)")
    with pytest.raises(InputError, match="release_id"):
        retain_releases(conn, "wrong")
    with pytest.raises(InputError, match="strategy"):
        retain_releases(conn, "wrong", strategy="truncate")
