"""The derived lookup tables (migration 0006): how they are computed, rebuilt and checked.

`release_key`, `track_key` and `lookup_artist_name` are functions of the release tables.
Plain-SQL writes keep them true through the migration's statement triggers; bulk steps turn
those off for their transaction (`bulk`) and compute the tables set-based with the SELECTs
below, which are the triggers' rules for every release at once: the load fills them beside
the live tables (`load.build`), prune's swap trims the release-keyed two and `recount_names`
redoes the distinct names, copy-to `rebuild`s them in the target. `check` compares each
table with what a rebuild would give, row for row.

All SQL is unqualified (the search_path picks the schema: the live one, or a shadow build's)
except the key functions, which the migration creates in `public` like `f_unaccent`.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from discogs_cache.db import connect, database_errors

BULK_SETTING = "discogs_cache.bulk_lookup"
"""While 'on' (transaction-local), the lookup triggers do nothing: a bulk step rebuilds."""

_TRACK_ROWS = """
WITH t AS MATERIALIZED (
    SELECT release_id, sequence, public.lookup_title_key(title) AS title_key
    FROM release_track
), credits AS MATERIALIZED (
    SELECT t.release_id, t.sequence, a.artist_name, t.title_key
    FROM t JOIN release_artist a ON a.release_id = t.release_id AND a.extra = 0
    UNION
    SELECT ta.release_id, ta.track_sequence, ta.artist_name, t.title_key
    FROM release_track_artist ta
    JOIN t ON t.release_id = ta.release_id AND t.sequence = ta.track_sequence
    WHERE ta.extra = 0
), names AS MATERIALIZED (
    SELECT n, public.lookup_artist_key(n) AS k FROM (SELECT DISTINCT artist_name FROM credits) d (n)
)
SELECT c.release_id, c.sequence, c.artist_name, names.k, c.title_key
FROM credits c JOIN names ON names.n = c.artist_name
"""

_RELEASE_ROWS = """
SELECT a.release_id, a.artist_name, lower(public.f_unaccent(a.artist_name)),
       public.lookup_artist_key(a.artist_name), public.lookup_title_key(r.title)
FROM release_artist a JOIN release r ON r.id = a.release_id
WHERE a.extra = 0
"""

_NAME_ROWS = """
SELECT lower(public.f_unaccent(artist_name)), count(*)::integer
FROM release_artist WHERE extra = 0 GROUP BY 1
"""


@dataclass(frozen=True)
class Derived:
    """One derived table: its columns and the SELECT that computes all its rows."""

    table: str
    columns: tuple[str, ...]
    rows: str


DERIVED = (
    Derived(
        "release_key",
        ("release_id", "artist_name", "artist_folded", "artist_key", "title_key"),
        _RELEASE_ROWS,
    ),
    Derived(
        "track_key",
        ("release_id", "sequence", "artist_name", "artist_key", "title_key"),
        _TRACK_ROWS,
    ),
    Derived("lookup_artist_name", ("name", "refs"), _NAME_ROWS),
)
"""In build order (the names count release_artist directly, so none waits for another)."""


def bulk(conn: psycopg.Connection, on: bool = True) -> None:
    """Turn the lookup triggers off (or back on) for the rest of the current transaction."""
    conn.execute("SELECT set_config(%s, %s, true)", (BULK_SETTING, "on" if on else "off"))


def _columns(d: Derived) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, d.columns))


def fill(conn: psycopg.Connection, d: Derived) -> int:
    """INSERT every row of `d` into its (empty) table; returns how many."""
    cur = conn.execute(
        sql.SQL("INSERT INTO {} ({}) ").format(sql.Identifier(d.table), _columns(d))
        + sql.SQL(d.rows)  # fixed SQL of this module
    )
    return cur.rowcount


def recount_names(conn: psycopg.Connection) -> int:
    """Recompute `lookup_artist_name` (after a bulk step removed releases); returns rows."""
    names = DERIVED[2]
    bulk(conn)
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(names.table)))
    count = fill(conn, names)
    bulk(conn, on=False)
    return count


def rebuild(conn: psycopg.Connection) -> dict[str, int]:
    """Recompute every derived table from the release tables (same transaction)."""
    bulk(conn)
    conn.execute(
        sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(d.table) for d in DERIVED))
    )
    counts = {d.table: fill(conn, d) for d in DERIVED}
    bulk(conn, on=False)
    return counts


def check(conn: psycopg.Connection) -> dict[str, tuple[int, int]]:
    """Per derived table, (rows a rebuild would add, rows it would remove): all zeros when
    the tables are exactly what a rebuild gives."""
    result: dict[str, tuple[int, int]] = {}
    for d in DERIVED:
        table = sql.SQL("SELECT {} FROM {}").format(_columns(d), sql.Identifier(d.table))
        rows = sql.SQL(d.rows)  # fixed SQL of this module
        row = conn.execute(
            sql.SQL(
                "SELECT (SELECT count(*) FROM (({rows}) EXCEPT ALL ({table})) AS missing), "
                "(SELECT count(*) FROM (({table}) EXCEPT ALL ({rows})) AS extra)"
            ).format(rows=rows, table=table)
        ).fetchone()
        assert row is not None
        result[d.table] = (int(row[0]), int(row[1]))
    return result


def check_database(url: str) -> dict[str, tuple[int, int]]:
    """`check` on the cache at `url` (read-only)."""
    with database_errors(url, "cannot check the lookup tables"), connect(url) as conn:
        return check(conn)
