"""Put the tables built beside (`build`) in place of the live ones, in one short transaction.

Under an exclusive lock: refuse a non-empty cache unless replacing, drop the contract's
secondary indexes (`index` rebuilds them), drop the live tables and move the new ones into
their schema. What `CREATE TABLE ... LIKE` does not carry over (owner, grants, table
comment, triggers, NOT NULL constraint names, unique/exclusion constraints, indexes outside
the contract) is read from the catalog first and replayed by `discogs_cache.swap`'s
helpers; the builders already made the keys under their live names. If a live table cannot
be dropped (a view or a foreign table's key depends on it), the rows are copied into the
live tables instead. Nothing is committed here: the caller commits or rolls back.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from discogs_cache import lookup_tables
from discogs_cache.db import describe
from discogs_cache.errors import CacheError
from discogs_cache.index import drop_secondary_indexes
from discogs_cache.swap import TableDDL, capture_table_ddl, restore_table_extras


def refuse_existing(conn: psycopg.Connection, url: str) -> None:
    """CacheError when the cache already holds data (the caller did not ask to replace)."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM release), EXISTS (SELECT 1 FROM artist_alias)"
    ).fetchone()
    if row and (row[0] or row[1]):
        raise CacheError(
            f"{describe(url)} already holds {row[0]} releases; "
            "use --replace to truncate and reload (nothing was changed)"
        )


def swap_in(
    conn: psycopg.Connection,
    url: str,
    live: str,
    new: str,
    tables: tuple[str, ...],
    *,
    replace: bool,
) -> str:
    """Replace `tables` (parents first) by their namesakes of schema `new`; returns
    "swap", or "insert" when the rows had to be copied into the live tables."""
    conn.execute(
        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
            sql.SQL(", ").join(sql.Identifier(live, t) for t in tables)
        )
    )
    if not replace:
        refuse_existing(conn, url)
    drop_secondary_indexes(conn)
    ddl = {t: capture_table_ddl(conn, t) for t in tables}
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("DROP TABLE {}").format(
                    sql.SQL(", ").join(sql.Identifier(live, t) for t in tables)
                )
            )
            for table in tables:
                conn.execute(
                    sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                        sql.Identifier(new, table), sql.Identifier(live)
                    )
                )
            for table in tables:
                _restore(conn, ddl[table])
        return "swap"
    except psycopg.errors.DependentObjectsStillExist:
        copy_in_place(conn, live, new, tables)
        return "insert"


def _restore(conn: psycopg.Connection, d: TableDDL) -> None:
    for name, contype, definition in d.constraints:
        if contype in ("u", "x"):  # keys were built beside; checks came with LIKE
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(d.schema, d.name), sql.Identifier(name), sql.SQL(definition)
                )
            )
    restore_table_extras(conn, d)


def copy_in_place(conn: psycopg.Connection, live: str, new: str, tables: tuple[str, ...]) -> None:
    """The slow path: empty the live tables and insert the new rows, parents first (the
    derived rows come with them: the lookup triggers stay off meanwhile)."""
    lookup_tables.bulk(conn)
    conn.execute(
        sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(live, t) for t in tables))
    )
    for table in tables:
        rows = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
            [sql.Identifier(new, table).as_string(conn)],
        ).fetchall()
        cols = sql.SQL(", ").join(sql.Identifier(r[0]) for r in rows)
        conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                sql.Identifier(live, table), cols, cols, sql.Identifier(new, table)
            )
        )
    lookup_tables.bulk(conn, on=False)
