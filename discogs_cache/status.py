"""What is in the cache: rows, sizes, schema revision, freshness (SPEC step 8 report).

Read-only and safe on any database: an unmigrated one reports no revision and no tables
rather than failing, so `status` is the first thing to run against an unknown URL.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from psycopg import sql

from discogs_cache import migrate
from discogs_cache.db import connect, database_errors, describe
from discogs_cache.index import contract_indexes, existing_indexes
from discogs_cache.schema import ALL_TABLES


@dataclass
class TableStatus:
    name: str
    rows: int
    table_bytes: int
    index_bytes: int


@dataclass
class Freshness:
    source: str
    releases: int
    oldest: datetime | None
    newest: datetime | None


@dataclass
class CacheStatus:
    database: str
    revision: str | None
    head: str | None
    tables: list[TableStatus] = field(default_factory=list)
    freshness: list[Freshness] = field(default_factory=list)
    missing_indexes: list[str] = field(default_factory=list)
    writer: str | None = None
    """Who holds the writers' lock now (a run, a load, ...), None when no one."""
    shadow: dict[str, Any] | None = None
    """A refresh's shadow build: in progress (a writer holds the lock) or left by a killed
    run (`run --resume` continues it, a fresh `run` drops it); never live until published."""

    @property
    def total_bytes(self) -> int:
        return sum(t.table_bytes + t.index_bytes for t in self.tables)

    size_bytes = total_bytes

    @property
    def releases(self) -> int:
        return next((t.rows for t in self.tables if t.name == "release"), 0)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["total_bytes"] = self.total_bytes
        data["releases"] = self.releases
        for item in data["freshness"]:
            for key in ("oldest", "newest"):
                item[key] = item[key].isoformat() if item[key] else None
        return data


def cache_status(url: str) -> CacheStatus:
    """Row counts, table and index sizes, revision and cache_metadata freshness."""
    from discogs_cache.pipeline.lock import lock_holder
    from discogs_cache.refresh import read_shadow

    status = CacheStatus(describe(url), migrate.current_revision(url), migrate.head_revision())
    status.writer = lock_holder(url)
    with database_errors(url, "cannot read cache status"), connect(url) as conn:
        present = {
            r[0]
            for r in conn.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = current_schema()::regnamespace"
            ).fetchall()
        }
        for table in (t for t in ALL_TABLES if t in present):
            row = conn.execute(
                sql.SQL(
                    "SELECT (SELECT count(*) FROM {t}), pg_table_size({name}::regclass), "
                    "pg_indexes_size({name}::regclass)"
                ).format(t=sql.Identifier(table), name=sql.Literal(table))
            ).fetchone()
            if row:
                status.tables.append(TableStatus(table, row[0], row[1], row[2]))
        if "cache_metadata" in present:
            rows = conn.execute(
                "SELECT source, count(*), min(cached_at), max(cached_at) FROM cache_metadata "
                "GROUP BY source ORDER BY source"
            ).fetchall()
            status.freshness = [Freshness(*r) for r in rows]
        shadow = read_shadow(conn)
        if shadow is not None:
            status.shadow = {
                "schema": shadow.schema,
                "state": "in progress" if status.writer else "left by an interrupted run",
                "started_at": shadow.started_at.isoformat(),
                "age_seconds": round(shadow.age_seconds, 1),
                "releases": shadow.releases,
                "published": shadow.published,
            }
        if present:
            have = existing_indexes(conn)
            status.missing_indexes = [i.name for i in contract_indexes() if i.name not in have]
    return status
