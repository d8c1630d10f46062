"""Apply a classification: delete PRUNE releases in place, or copy KEEP+REVIEW elsewhere.

In place, only the ids the classifier called PRUNE go: REVIEW and any release written after
the classification (an API write-back) are kept. The removal is `swap.retain_releases`
(copy-swap when most go), in one transaction; `also_remove` lets `run` drop dedup's losers
in that same swap (counted apart). `copy_to` never writes to the source: it
streams the retained rows table by table (binary COPY from one consistent snapshot) into a
target migrated to head, in one target transaction, then builds the target's indexes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from discogs_cache import faults, migrate, progress, schema
from discogs_cache.db import connect, conninfo, database_errors, describe
from discogs_cache.errors import InputError
from discogs_cache.index import build_indexes, drop_secondary_indexes
from discogs_cache.matcher import Classification
from discogs_cache.swap import retain_releases

_REMOVE_TABLE = "discogs_remove_ids"
_KEEP_TABLE = "discogs_keep_ids"


@dataclass
class PruneSummary:
    releases_before: int
    releases_removed: int
    """Releases removed as PRUNE (not counting `also_removed`)."""
    releases_kept: int
    strategy: str
    rows_removed: dict[str, int] = field(default_factory=dict)
    """Rows removed per table, `also_remove`'s releases included."""
    seconds: float = 0.0
    also_removed: int = 0
    """Releases of `also_remove` that were in the cache (removed whatever their verdict)."""


@dataclass
class CopySummary:
    target: str
    created: bool
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _temp_ids(conn: psycopg.Connection, table: str, ids: Iterable[int]) -> None:
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} (release_id integer PRIMARY KEY) ON COMMIT DROP").format(
            sql.Identifier(table)
        )
    )
    copy_sql = sql.SQL("COPY {} (release_id) FROM STDIN").format(sql.Identifier(table))
    with conn.cursor().copy(copy_sql) as copy:
        copy.write("".join(f"{int(rid)}\n" for rid in sorted(set(ids))))  # integers only
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))


def prune(
    url: str,
    classification: Classification,
    *,
    strategy: str = "auto",
    also_remove: Iterable[int] = (),
    analyze: bool = True,
) -> PruneSummary:
    """Delete the PRUNE releases (children follow); REVIEW and unclassified ones stay.

    `also_remove` (dedup's losers, in `run`) go in the same swap whatever their verdict;
    they are counted in `also_removed`, not in `releases_removed`, so the two reports
    match running dedup first and prune after. `analyze` as in `swap.retain_releases`.
    """
    also = {int(i) for i in also_remove}
    pruned_only = {int(i) for i in classification.prune_ids} - also
    remove = sql.Identifier(_REMOVE_TABLE)
    with database_errors(url, "cannot prune"), connect(url) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {} (release_id integer NOT NULL, also boolean NOT NULL)"
                " ON COMMIT DROP"  # unique by construction; only ever hash-joined
            ).format(remove)
        )
        with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(remove)) as copy:
            copy.write("".join(f"{i}\tf\n" for i in pruned_only))  # integers only
            copy.write("".join(f"{i}\tt\n" for i in also))
        conn.execute(sql.SQL("ANALYZE {}").format(remove))
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {keep} ON COMMIT DROP AS SELECT r.id AS release_id"
                " FROM release r WHERE NOT EXISTS"
                " (SELECT FROM {remove} x WHERE x.release_id = r.id)"
            ).format(keep=sql.Identifier(_KEEP_TABLE), remove=remove)
        )
        row = conn.execute(
            sql.SQL(
                "SELECT count(*) FROM {remove} x JOIN release r ON r.id = x.release_id WHERE x.also"
            ).format(remove=remove)
        ).fetchone()
        also_removed = int(row[0]) if row else 0
        result = retain_releases(conn, _KEEP_TABLE, strategy=strategy, analyze=analyze)
        faults.point("prune.before_commit")  # the swap done inside the open transaction
        conn.commit()
    pruned = result.releases_removed - also_removed
    progress.note(
        f"prune: removed {pruned:,} of {result.releases_before - also_removed:,} releases "
        + (f"(and {also_removed:,} dedup losers) " if also_removed else "")
        + f"({result.strategy}) in {result.seconds:.1f} s"
    )
    return PruneSummary(
        releases_before=result.releases_before - also_removed,
        releases_removed=pruned,
        releases_kept=result.releases_kept,
        strategy=result.strategy,
        rows_removed=result.rows_removed,
        seconds=result.seconds,
        also_removed=also_removed,
    )


def _same_database(a: str, b: str) -> bool:
    pa, pb = make_url(a), make_url(b)
    return (pa.host or "", pa.port or 5432, pa.database) == (
        pb.host or "",
        pb.port or 5432,
        pb.database,
    )


def ensure_database(url: str) -> bool:
    """Create the database named in `url` on its server if missing; True if created."""
    parsed = make_url(url)
    if not parsed.database:
        raise InputError(f"target URL names no database: {describe(url)}")
    admin_url = parsed.set(database="postgres").render_as_string(hide_password=False)
    with (
        database_errors(url, "cannot create the target database"),
        psycopg.connect(conninfo(admin_url), autocommit=True, connect_timeout=10) as admin,
    ):
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if exists:
            return False
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(parsed.database)))
    return True


def _columns(table: str) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c.name) for c in schema.metadata.tables[table].columns)


def _select_retained(table: str) -> sql.Composed:
    """COPY ... TO STDOUT of the rows of `table` that belong to a retained release."""
    cols = sql.SQL(", ").join(
        sql.Identifier("t", c.name) for c in schema.metadata.tables[table].columns
    )
    keep = sql.Identifier(_KEEP_TABLE)
    if table in schema.ARTIST_TABLES:  # the artists credited on a retained release
        where = sql.SQL(
            "EXISTS (SELECT 1 FROM release_artist ra JOIN {keep} k ON k.release_id = ra.release_id"
            " WHERE ra.artist_id = {column})"
        ).format(keep=keep, column=sql.Identifier("t", "id" if table == "artist" else "artist_id"))
    else:
        column = sql.Identifier("t", "id" if table == "release" else "release_id")
        where = sql.SQL("EXISTS (SELECT 1 FROM {keep} k WHERE k.release_id = {column})").format(
            keep=keep, column=column
        )
    return sql.SQL(
        "COPY (SELECT {cols} FROM {table} t WHERE {where}) TO STDOUT (FORMAT binary)"
    ).format(cols=cols, table=sql.Identifier(table), where=where)


def copy_to(source_url: str, target_url: str, classification: Classification) -> CopySummary:
    """Copy KEEP+REVIEW releases (all tables) into `target_url`; the source is not modified."""
    if _same_database(source_url, target_url):
        raise InputError(f"--copy-to target is the source database ({describe(target_url)})")
    start = time.perf_counter()
    created = ensure_database(target_url)
    migrate.upgrade(target_url)
    summary = CopySummary(describe(target_url), created)
    with (
        database_errors(source_url, "cannot read the source cache"),
        connect(source_url) as src,
        database_errors(target_url, "cannot write the target cache"),
        connect(target_url) as dst,
    ):
        src.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        _temp_ids(src, _KEEP_TABLE, classification.retain_ids)
        row = dst.execute("SELECT count(*) FROM release").fetchone()
        if row and row[0]:
            raise InputError(
                f"--copy-to target {describe(target_url)} already holds {row[0]:,} releases"
            )
        drop_secondary_indexes(dst)
        _merge_triggers(dst, enable=False)  # the rows are the source's: unique already
        for table in schema.ALL_TABLES:
            target_copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
                sql.Identifier(table), _columns(table)
            )
            with (
                src.cursor().copy(_select_retained(table)) as out,
                dst.cursor().copy(target_copy) as into,
            ):
                for chunk in out:
                    into.write(chunk)
            count = dst.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            summary.rows[table] = int(count[0]) if count else 0
            progress.note(f"copy-to: {table} {summary.rows[table]:,} rows")
        _merge_triggers(dst, enable=True)
        dst.commit()
        src.rollback()
    build_indexes(target_url)
    summary.seconds = time.perf_counter() - start
    return summary


def _merge_triggers(conn: psycopg.Connection, *, enable: bool) -> None:
    """Switch the credit tables' merge triggers (in the caller's transaction): each costs a
    key lookup per row, which a copy of rows that are unique already does not need."""
    action = sql.SQL("ENABLE" if enable else "DISABLE")
    for table, trigger in schema.MERGE_TRIGGERS.items():
        conn.execute(
            sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
                sql.Identifier(table), action, sql.Identifier(trigger)
            )
        )
