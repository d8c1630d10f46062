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

from discogs_cache import progress, schema
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
    """DROP the contract's secondary indexes on `conn` (inside the caller's transaction)."""
    present = existing_indexes(conn)
    dropped = [ix.name for ix in contract_indexes() if ix.name in present]
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


def _build_one(url: str, index: IndexDef, memory: str, workers: int) -> float:
    start = time.perf_counter()
    with connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(memory)))
        conn.execute(
            sql.SQL("SET max_parallel_maintenance_workers = {}").format(sql.Literal(workers))
        )
        conn.execute(index.ddl)  # compiled from the ORM models, no user data
    seconds = time.perf_counter() - start
    progress.note(f"index {index.name}: {seconds:.2f} s")
    return seconds


def build_indexes(
    url: str, *, jobs: int | None = None, maintenance_work_mem: str = "256MB"
) -> IndexSummary:
    """Build every missing contract index (`jobs` at once, biggest table first), then ANALYZE."""
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
        cores = os.cpu_count() or 2
        jobs = max(1, min(jobs or cores, len(missing) or 1))
        workers = [max(0, cores // jobs - 1)] * len(missing)
        if missing:
            # the biggest build (the track-title GIN) dwarfs the rest: it gets parallel
            # workers (PostgreSQL >= 18 builds GIN in parallel) while the others share the
            # remaining jobs; the server caps the workers by table size
            workers[0] = cores
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {
                ix.name: pool.submit(_build_one, url, ix, maintenance_work_mem, n)
                for ix, n in zip(missing, workers, strict=True)
            }
            summary.built = {name: f.result() for name, f in futures.items()}
        with connect(url, autocommit=True) as conn:
            for table in schema.ALL_TABLES:
                conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    summary.seconds = time.perf_counter() - start
    return summary
