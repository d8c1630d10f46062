"""VACUUM FULL ANALYZE the cache tables (SPEC step 8): after dedup/prune they hold dead rows.

VACUUM cannot run inside a transaction, so this uses an autocommit connection; it rewrites
each table and its indexes, and reports the size before and after.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from discogs_cache import faults
from discogs_cache.db import connect, database_errors
from discogs_cache.schema import ALL_TABLES


@dataclass
class VacuumSummary:
    bytes_before: int
    bytes_after: int
    seconds: float

    @property
    def reclaimed(self) -> int:
        return self.bytes_before - self.bytes_after


def cache_bytes(url: str) -> int:
    """Bytes of the cache tables with their indexes and TOAST."""
    with database_errors(url, "cannot measure the cache"), connect(url) as conn:
        return _total_size(conn)


def _total_size(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' "
        "AND c.relname = ANY (%s)",
        [list(ALL_TABLES)],
    ).fetchone()
    return int(row[0]) if row else 0


def vacuum(url: str) -> VacuumSummary:
    """VACUUM FULL ANALYZE every cache table; returns sizes before/after."""
    start = time.perf_counter()
    with database_errors(url, "cannot vacuum"), connect(url, autocommit=True) as conn:
        before = _total_size(conn)
        for table in ALL_TABLES:
            conn.execute(sql.SQL("VACUUM (FULL, ANALYZE) {}").format(sql.Identifier(table)))
            faults.point("vacuum.after_table")  # some tables rewritten, not all
        after = _total_size(conn)
    return VacuumSummary(before, after, time.perf_counter() - start)
