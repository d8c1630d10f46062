"""The Alembic chain creates exactly the contract, and consumers' queries work against it."""

from __future__ import annotations

import psycopg
import pytest

from discogs_cache import migrate
from discogs_cache.db import conninfo

EXPECTED_INDEXES = {
    "pk_release",
    "ix_release_master_id",
    "ix_release_title_trgm",
    "pk_release_artist",
    "ix_release_artist_artist_id",
    "ix_release_artist_artist_name_trgm",
    "pk_release_label",
    "pk_release_track",
    "ix_release_track_title_trgm",
    "pk_release_track_artist",
    "ix_release_track_artist_artist_name_trgm",
    "pk_cache_metadata",
    "ix_cache_metadata_cached_at",
    "ix_cache_metadata_source",
    "pk_artist_alias",
    "ix_release_artwork_unchecked",
    "pk_release_genre",
    "pk_release_style",
    "pk_release_video",
    "pk_artist",
    "ix_artist_name_trgm",
    "pk_artist_name_variation",
    "ix_artist_name_variation_name_trgm",
    "pk_artist_member",
    "pk_artist_url",
    "pk_lookup_negative",
    "ix_lookup_negative_attempted_at",
}


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(conninfo(url), autocommit=True)


def _catalog(url: str) -> dict[str, set[str]]:
    with _connect(url) as conn:
        tables = {
            r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
        indexes = {
            r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname='public'")
        }
        exts = {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}
        funcs = {
            r[0] for r in conn.execute("SELECT proname FROM pg_proc WHERE proname='f_unaccent'")
        }
    return {"tables": tables, "indexes": indexes, "extensions": exts, "functions": funcs}


def test_upgrade_creates_every_object(empty_pg_url: str) -> None:
    assert migrate.upgrade(empty_pg_url) == migrate.head_revision()
    cat = _catalog(empty_pg_url)
    assert {"pg_trgm", "unaccent"} <= cat["extensions"]
    assert cat["functions"] == {"f_unaccent"}
    assert cat["tables"] == {
        "alembic_version",
        "release",
        "release_artist",
        "release_label",
        "release_track",
        "release_track_artist",
        "cache_metadata",
        "artist_alias",
        "release_genre",
        "release_style",
        "release_video",
        "artist",
        "artist_name_variation",
        "artist_member",
        "artist_url",
        "lookup_negative",
    }
    assert cat["indexes"] == EXPECTED_INDEXES | {"alembic_version_pkc"}


def test_round_trip_upgrade_check_downgrade_upgrade(empty_pg_url: str) -> None:
    migrate.upgrade(empty_pg_url)
    assert migrate.check(empty_pg_url) == []
    migrate.downgrade(empty_pg_url, "base")
    cat = _catalog(empty_pg_url)
    assert cat["tables"] == {"alembic_version"}
    assert cat["functions"] == set()
    assert not {"pg_trgm", "unaccent"} & cat["extensions"]
    migrate.upgrade(empty_pg_url)
    assert migrate.check(empty_pg_url) == []


def test_check_detects_drift(pg_url: str) -> None:
    with _connect(pg_url) as conn:
        conn.execute("ALTER TABLE release ALTER COLUMN title DROP NOT NULL")
    assert migrate.check(pg_url), "alembic check must notice a lost NOT NULL"


def test_f_unaccent_is_immutable_and_search_path_proof(pg_url: str) -> None:
    with _connect(pg_url) as conn:
        conn.execute("SET search_path = pg_catalog")
        assert conn.execute("SELECT public.f_unaccent('Björk Guðmundsdóttir')").fetchone() == (
            "Bjork Gudmundsdottir",
        )
        row = conn.execute(
            "SELECT provolatile, proparallel, proisstrict FROM pg_proc WHERE proname='f_unaccent'"
        ).fetchone()
    assert row == ("i", "s", True)


SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "ze", "bu", "ha", "jo", "pe", "qu"]


def _word(i: int, salt: int) -> str:
    """A deterministic pseudo-word, so trigram statistics look like real, varied names."""
    x = (i * 2654435761 + salt * 40503) % 2**32
    return "".join(SYLLABLES[(x >> (4 * k)) % len(SYLLABLES)] for k in range(3 + x % 3))


def _fill(conn: psycopg.Connection, n: int) -> None:
    with conn.cursor().copy("COPY release (id, title) FROM STDIN") as copy:
        for i in range(1, n + 1):
            copy.write_row((i, f"{_word(i, 1)} {_word(i, 2)}"))
    with conn.cursor().copy("COPY release_artist (release_id, artist_name) FROM STDIN") as copy:
        for i in range(1, n + 1):
            copy.write_row((i, f"{_word(i, 3).title()} {_word(i, 4).title()}"))
    with conn.cursor().copy("COPY release_track (release_id, sequence, title) FROM STDIN") as copy:
        for i in range(1, n + 1):
            for s in (1, 2):
                copy.write_row((i, s, f"{_word(i, 5 + s)} {_word(i, 9 + s)}"))
    with conn.cursor().copy(
        "COPY release_track_artist (release_id, track_sequence, artist_name) FROM STDIN"
    ) as copy:
        for i in range(1, n + 1):
            copy.write_row((i, 1, f"{_word(i, 12).title()} {_word(i, 13).title()}"))
    conn.execute("ANALYZE")


CONSUMER_SEARCHES = [
    ("release", "title", "ix_release_title_trgm", (1, 2)),
    ("release_artist", "artist_name", "ix_release_artist_artist_name_trgm", (3, 4)),
    ("release_track", "title", "ix_release_track_title_trgm", (6, 10)),
    ("release_track_artist", "artist_name", "ix_release_track_artist_artist_name_trgm", (12, 13)),
]


@pytest.mark.parametrize(("table", "column", "index", "salts"), CONSUMER_SEARCHES)
def test_consumer_fuzzy_search_uses_trigram_index(
    pg_url: str, table: str, column: str, index: str, salts: tuple[int, int]
) -> None:
    target = 4321
    wanted = f"{_word(target, salts[0])} {_word(target, salts[1])}"
    typo = wanted[:-1] + ("x" if wanted[-1] != "x" else "y")  # one wrong letter, accents/case off
    with _connect(pg_url) as conn:
        _fill(conn, 20000)
        query = (
            f"SELECT release_id FROM {table} "
            f"WHERE lower(f_unaccent({column})) %% lower(f_unaccent(%s)) "
            f"ORDER BY similarity(lower(f_unaccent({column})), lower(f_unaccent(%s))) DESC LIMIT 5"
        ).replace("SELECT release_id FROM release ", "SELECT id FROM release ")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + query, (typo, typo)))
        rows = [r[0] for r in conn.execute(query, (typo.upper(), typo.upper()))]
    assert f"Bitmap Index Scan on {index}" in plan, plan
    assert rows and rows[0] == target, "the typo'd, upper-cased search ranks the right row first"


def test_consumer_write_path_twice_and_cascade(pg_url: str) -> None:
    write = [
        (
            "INSERT INTO release (id, title, release_year, country, master_id)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title,"
            " release_year = EXCLUDED.release_year, country = EXCLUDED.country,"
            " master_id = EXCLUDED.master_id",
            (42, "Homogenic", 1997, "UK", 7),
        ),
        (
            "INSERT INTO release_artist (release_id, artist_id, artist_name, extra)"
            " VALUES (%s, %s, %s, 0) ON CONFLICT (release_id, artist_name) DO NOTHING",
            (42, 97, "Björk"),
        ),
        ("DELETE FROM release_track WHERE release_id = %s", (42,)),
        (
            "INSERT INTO release_track (release_id, sequence, position, title, duration)"
            " VALUES (%s, 1, 'A1', 'Hunter', '4:15'), (%s, 2, 'A2', 'Jóga', '5:05')",
            (42, 42),
        ),
        (
            "INSERT INTO cache_metadata (release_id, source) VALUES (%s, 'api_fetch')"
            " ON CONFLICT (release_id) DO UPDATE SET cached_at = now(), source = EXCLUDED.source",
            (42,),
        ),
    ]
    with psycopg.connect(conninfo(pg_url)) as conn:
        for _ in range(2):
            with conn.transaction():
                for statement, params in write:
                    conn.execute(statement, params)
        counts = [
            conn.execute(f"SELECT count(*) FROM {t} WHERE release_id = 42").fetchone()[0]  # type: ignore[index]
            for t in ("release_artist", "release_track", "cache_metadata")
        ]
        assert counts == [1, 2, 1]
        assert conn.execute("SELECT source FROM cache_metadata").fetchone() == ("api_fetch",)
        conn.execute("DELETE FROM release WHERE id = 42")
        for table in ("release_artist", "release_track", "cache_metadata"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
