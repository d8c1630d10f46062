"""Build (and drop) the contract's secondary indexes: trigram GIN and FK btree (SPEC step 5).

A bulk load is much faster without them, so `load` drops them and `build_indexes` rebuilds
whatever is missing afterwards, several at once on separate connections, the biggest one
(the track-title GIN, most of the time) with parallel workers, then ANALYZEs. The
definitions come from the ORM models, so what is built is exactly what `alembic check`
expects. Safe to re-run: existing indexes are left alone.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex

from discogs_cache import faults, progress, schema
from discogs_cache.db import connect, database_errors


@dataclass(frozen=True)
class IndexDef:
    name: str
    table: str
    ddl: str


@dataclass
class IndexSummary:
    """Which indexes were built (with seconds each) and which already existed."""

    built: dict[str, float] = field(default_factory=dict)
    existing: list[str] = field(default_factory=list)
    seconds: float = 0.0


def contract_indexes() -> list[IndexDef]:
    """Every secondary index of the schema contract (primary keys are not included)."""
    dialect = postgresql.dialect()
    return [
        IndexDef(
            str(ix.name),
            table.name,
            str(CreateIndex(ix, if_not_exists=True).compile(dialect=dialect)),
        )
        for table in schema.metadata.sorted_tables
        for ix in sorted(table.indexes, key=lambda i: str(i.name))
        if ix.name
    ]


def existing_indexes(conn: psycopg.Connection) -> set[str]:
    """Names of the valid indexes in the current schema."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND i.indisvalid"
    ).fetchall()
    return {r[0] for r in rows}


def drop_secondary_indexes(conn: psycopg.Connection) -> list[str]:
    """DROP the contract's secondary indexes of the loaded tables (`schema.ALL_TABLES`: not
    `lookup_negative`, which no load touches) on `conn` (inside the caller's transaction)."""
    present = existing_indexes(conn)
    dropped = [
        ix.name for ix in contract_indexes() if ix.name in present and ix.table in schema.ALL_TABLES
    ]
    for name in dropped:
        conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(name)))
    return dropped


def drop_indexes(url: str) -> list[str]:
    """Drop the secondary indexes before a bulk load; returns the names dropped."""
    with database_errors(url, "cannot drop indexes"), connect(url) as conn:
        dropped = drop_secondary_indexes(conn)
        conn.commit()
    return dropped


def _table_sizes(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute(
        "SELECT relname, pg_relation_size(oid) FROM pg_class "
        "WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _build_one(conn: psycopg.Connection, index: IndexDef, memory: str, workers: int) -> float:
    start = time.perf_counter()
    conn.execute(sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(memory)))
    conn.execute(sql.SQL("SET max_parallel_maintenance_workers = {}").format(sql.Literal(workers)))
    conn.execute(index.ddl)  # compiled from the ORM models, no user data
    seconds = time.perf_counter() - start
    progress.note(f"index {index.name}: {seconds:.2f} s")
    return seconds


def _build_table(
    url: str, table: str, indexes: list[tuple[IndexDef, int]], memory: str
) -> dict[str, float]:
    """One table's missing indexes, then its ANALYZE (which also samples the expression
    indexes just built). ANALYZE and CREATE INDEX on one table exclude each other, so a
    table is one task; other tables' tasks run beside it."""
    built: dict[str, float] = {}
    with connect(url, autocommit=True) as conn:
        for index, workers in indexes:
            built[index.name] = _build_one(conn, index, memory, workers)
            faults.point("indexes.after_index")  # some indexes built, not all
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    return built


def build_indexes(
    url: str, *, jobs: int | None = None, maintenance_work_mem: str = "256MB"
) -> IndexSummary:
    """Build every missing contract index and ANALYZE every table, `jobs` tables at once.

    Biggest table first; each table's ANALYZE follows its own builds, so it overlaps with
    the builds on the other tables instead of waiting for all of them.
    """
    start = time.perf_counter()
    summary = IndexSummary()
    with database_errors(url, "cannot build indexes"):
        with connect(url, autocommit=True) as conn:
            present = existing_indexes(conn)
            sizes = _table_sizes(conn)
        wanted = contract_indexes()
        summary.existing = [ix.name for ix in wanted if ix.name in present]
        missing = [ix for ix in wanted if ix.name not in present]
        missing.sort(key=lambda ix: (-sizes.get(ix.table, 0), "gin" not in ix.ddl, ix.name))
        tables = list(schema.ALL_TABLES)
        cores = os.cpu_count() or 2
        jobs = max(1, min(jobs or cores, len(tables)))
        workers = [max(0, cores // jobs - 1)] * len(missing)
        if missing:
            # the biggest build (the track-title GIN) dwarfs the rest: it gets parallel
            # workers (PostgreSQL >= 18 builds GIN in parallel) while the others share the
            # remaining jobs; the server caps the workers by table size
            workers[0] = cores
        per_table: dict[str, list[tuple[IndexDef, int]]] = {t: [] for t in tables}
        for ix, n in zip(missing, workers, strict=True):
            per_table.setdefault(ix.table, []).append((ix, n))
        first = missing[0].table if missing else None  # the biggest build's table first
        order = sorted(per_table, key=lambda t: (t != first, -sizes.get(t, 0)))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [
                pool.submit(_build_table, url, t, per_table[t], maintenance_work_mem) for t in order
            ]
            built = {name: s for f in futures for name, s in f.result().items()}
        summary.built = {ix.name: built[ix.name] for ix in missing}
    summary.seconds = time.perf_counter() - start
    return summary
