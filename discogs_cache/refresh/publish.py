"""Publish a finished shadow build: the live cache becomes the new one in one transaction.

Readers see the old cache until the commit and the whole new one after it, never a mix: the
transaction first takes ACCESS EXCLUSIVE locks on every live table the build replaces, so a
reader's transaction that already read one of them holds the publish back until it ends,
and a reader that starts later waits (briefly) for the commit. What consumers wrote is
carried over (`carry`) in a first pass before the locks and a short second one under them
(what was written meanwhile); then the publish moves the live tables out (to
`discogs_cache_prev`, dropped after the commit) and the shadow ones into the live schema
(`ALTER TABLE ... SET SCHEMA`: a catalog change, no data is copied, the indexes and keys
move with their tables), replays what the live tables had that the build
cannot know (owner, grants, table comments: `swap.restore_table_extras`; the triggers were
copied into the shadow when it was made), and
marks the shadow published. If a view or another table's foreign key depends on a live
table, so it cannot be dropped, the rows are copied into the live tables instead (slower,
still one transaction).

Lock waits are bounded: `lock_timeout` stays below the server's `deadlock_timeout`, so when
a reader's transaction needs a table the publish already holds, the publish gives up and
releases everything before the server would pick a victim (the reader never gets an
error), then retries after a pause. The shrink guard runs first, outside any lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql

from discogs_cache import faults, progress
from discogs_cache.db import connect, database_errors, describe
from discogs_cache.errors import CacheError, DatabaseError
from discogs_cache.load.swapin import copy_in_place
from discogs_cache.refresh.carry import CarrySummary, carry_over
from discogs_cache.refresh.shadow import (
    RETIRED,
    SHADOW_SCHEMA,
    live_schema,
    mark_published,
    read_shadow,
)
from discogs_cache.swap import TableDDL, capture_table_ddl, restore_table_extras

MIN_KEEP_RATIO = 0.9
LOCK_TIMEOUT_MS = 400
"""Per lock wait; kept below deadlock_timeout (1 s by default), see the module doc."""
ATTEMPTS = 50
SECOND_PASS_MARGIN = "60 seconds"
"""Writes cached this long before the first carry-over pass are looked at again under the
locks (a consumer's transaction stamps cached_at when it starts, not when it commits)."""


class ShrinkRefused(CacheError):
    """The new cache would hold far fewer releases than the live one."""

    exit_code = 4


@dataclass
class PublishSummary:
    database: str
    live_releases: int = 0
    new_releases: int = 0
    carried: CarrySummary = field(default_factory=CarrySummary)
    tables: list[str] = field(default_factory=list)
    strategy: str = "swap"
    attempts: int = 0
    lock_seconds: float = 0.0
    """How long the successful attempt held the exclusive locks (lock granted to commit)."""
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds of the first carry-over pass, and of the locked carry-over, swap and commit."""
    already: bool = False
    """The build had been published before (a resumed run killed after the commit)."""

    def outputs(self) -> dict[str, Any]:
        return {
            "releases": self.new_releases,
            "live_before": self.live_releases,
            "carried": self.carried.counts(),
            "lock_seconds": round(self.lock_seconds, 4),
            "attempts": self.attempts,
            "strategy": self.strategy,
            "phases": {k: round(v, 4) for k, v in self.phases.items()},
        }


def _count(conn: psycopg.Connection, schema: str, table: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
    ).fetchone()
    return int(row[0]) if row else 0


def _missing_api_fetched(conn: psycopg.Connection, live: str, schema: str) -> int:
    row = conn.execute(
        sql.SQL(
            "SELECT count(*) FROM {lm} m WHERE m.source = 'api_fetch'"
            " AND NOT EXISTS (SELECT FROM {nr} n WHERE n.id = m.release_id)"
        ).format(lm=sql.Identifier(live, "cache_metadata"), nr=sql.Identifier(schema, "release"))
    ).fetchone()
    return int(row[0]) if row else 0


def check_shrink(
    conn: psycopg.Connection,
    url: str,
    live: str,
    schema: str,
    *,
    min_keep_ratio: float,
    drop_api_fetched: bool,
) -> tuple[int, int]:
    """(live releases, releases after the publish); ShrinkRefused below `min_keep_ratio`."""
    live_count = _count(conn, live, "release")
    new_count = _count(conn, schema, "release")
    if not drop_api_fetched:
        new_count += _missing_api_fetched(conn, live, schema)
    conn.rollback()
    if live_count and new_count < min_keep_ratio * live_count:
        raise ShrinkRefused(
            f"refusing to publish: the new cache would hold {new_count:,} releases, the live "
            f"cache at {describe(url)} holds {live_count:,} (below --min-keep-ratio "
            f"{min_keep_ratio:g}); the build is kept in schema {schema}: check the dump, then "
            "`discogs-cache run ... --resume --allow-shrink` publishes it"
        )
    return live_count, new_count


def publish(
    url: str,
    *,
    schema: str = SHADOW_SCHEMA,
    min_keep_ratio: float = MIN_KEEP_RATIO,
    allow_shrink: bool = False,
    drop_api_fetched: bool = False,
    lock_timeout_ms: int = LOCK_TIMEOUT_MS,
    attempts: int = ATTEMPTS,
) -> PublishSummary:
    """Make the shadow build at `url` the live cache (see the module doc)."""
    summary = PublishSummary(describe(url))
    with database_errors(url, "cannot publish the new cache"), connect(url) as conn:
        info = read_shadow(conn, schema)
        if info is None:
            raise CacheError(f"no shadow build to publish in {describe(url)} (schema {schema})")
        live = live_schema(conn)
        summary.tables = [t for t in info.tables]
        if info.published:
            summary.already = True
            summary.new_releases = _count(conn, live, "release")
            return summary
        summary.live_releases, summary.new_releases = check_shrink(
            conn,
            url,
            live,
            schema,
            min_keep_ratio=0.0 if allow_shrink else min_keep_ratio,
            drop_api_fetched=drop_api_fetched,
        )
        timeout = _lock_timeout(conn, lock_timeout_ms)
        # the bulk of the carry-over before any lock (committed into the shadow); the pass
        # under the locks then only finds what consumers wrote since (from a margin before
        # this pass: a write transaction stamps cached_at when it starts)
        row = conn.execute("SELECT now() - %s::interval", (SECOND_PASS_MARGIN,)).fetchone()
        assert row is not None
        begun = time.perf_counter()
        first = carry_over(
            conn, live, schema, summary.tables, info.started_at, drop_api_fetched=drop_api_fetched
        )
        conn.commit()
        summary.phases["first_pass"] = time.perf_counter() - begun
        faults.point("publish.first_pass")
        for attempt in range(1, attempts + 1):
            summary.attempts = attempt
            try:
                _publish_once(conn, live, schema, row[0], timeout, drop_api_fetched, summary)
                summary.carried = first.add(summary.carried)
                break
            except psycopg.errors.LockNotAvailable:
                conn.rollback()
                progress.note(f"publish: tables busy (attempt {attempt}), retrying")
                time.sleep(min(0.05 * attempt, 1.0))
        else:
            raise DatabaseError(
                f"cannot publish the new cache at {describe(url)}: the live tables stayed "
                f"locked by other sessions through {attempts} attempts; the build is kept, "
                "`run --resume` retries"
            )
        summary.new_releases = _count(conn, live, "release")
        conn.rollback()
    return summary


def _lock_timeout(conn: psycopg.Connection, wanted_ms: int) -> int:
    """`wanted_ms`, but below half the server's deadlock_timeout (see module doc)."""
    row = conn.execute(
        "SELECT extract(epoch FROM current_setting('deadlock_timeout')::interval) * 1000"
    ).fetchone()
    conn.rollback()
    deadlock_ms = int(row[0]) if row else 1000
    return max(10, min(wanted_ms, deadlock_ms // 2))


def _publish_once(
    conn: psycopg.Connection,
    live: str,
    schema: str,
    started: Any,
    timeout_ms: int,
    drop_api_fetched: bool,
    summary: PublishSummary,
) -> None:
    tables = summary.tables
    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{timeout_ms}ms")))
    present = [
        t for t in tables
        if (r := conn.execute("SELECT to_regclass(%s)", (f"{live}.{t}",)).fetchone()) and r[0]
    ]  # fmt: skip
    # catalog reads before the locks: what to replay, and whether the tables can move
    ddl = {t: capture_table_ddl(conn, t) for t in present}
    movable = not _outside_dependents(conn, live, present)
    faults.point("publish.before_lock")
    if present:
        conn.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                sql.SQL(", ").join(sql.Identifier(live, t) for t in present)
            )
        )
    locked = time.perf_counter()
    faults.point("publish.locked")
    summary.carried = carry_over(
        conn, live, schema, tables, started, drop_api_fetched=drop_api_fetched
    )
    faults.point("publish.carried")
    carried = time.perf_counter()
    if movable:
        _swap(conn, live, schema, tables, present, ddl)
        summary.strategy = "swap"
    else:
        progress.note("publish: a view or another table's key depends on the live tables")
        copy_in_place(conn, live, schema, tuple(tables))
        summary.strategy = "insert"
    faults.point("publish.swapped")
    mark_published(conn, schema)
    swapped = time.perf_counter()
    conn.commit()
    summary.lock_seconds = time.perf_counter() - locked
    summary.phases.update(
        locked_carry=carried - locked,
        locked_swap=swapped - carried,
        locked_commit=time.perf_counter() - swapped,
    )
    progress.note(
        f"publish: locks held {summary.lock_seconds:.3f} s (carry-over {carried - locked:.3f}"
        f" s, swap {swapped - carried:.3f} s, commit {time.perf_counter() - swapped:.3f} s)"
    )
    faults.point("publish.committed")
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(RETIRED)))
    conn.commit()


def _swap(
    conn: psycopg.Connection,
    live: str,
    schema: str,
    tables: list[str],
    present: list[str],
    ddl: dict[str, TableDDL],
) -> None:
    """Old tables out to `RETIRED` (dropped after the commit: unlinking their files would
    lengthen the locked commit), new ones in, then what the live tables had replayed."""
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(RETIRED)))
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(RETIRED)))
    for table in present:
        conn.execute(
            sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                sql.Identifier(live, table), sql.Identifier(RETIRED)
            )
        )
    for table in tables:
        conn.execute(
            sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                sql.Identifier(schema, table), sql.Identifier(live)
            )
        )
    for table in present:  # indexes, keys and triggers came with the tables
        restore_table_extras(conn, replace(ddl[table], indexes=[], triggers=[]))


def _outside_dependents(conn: psycopg.Connection, live: str, present: list[str]) -> bool:
    """Whether a view, or a foreign key of a table the build does not replace, depends on
    a live table: moving the table away would leave them pointing at the old one."""
    if not present:
        return False
    names = [sql.Identifier(live, t).as_string(conn) for t in present]
    row = conn.execute(
        """
        WITH t AS (SELECT n::regclass AS oid FROM unnest(%s::text[]) n)
        SELECT EXISTS (
            SELECT FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
            WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid IN (SELECT oid FROM t)
              AND r.ev_class NOT IN (SELECT oid FROM t)
        ) OR EXISTS (
            SELECT FROM pg_constraint c WHERE c.contype = 'f'
              AND c.confrelid IN (SELECT oid FROM t) AND c.conrelid NOT IN (SELECT oid FROM t)
        )
        """,
        (names,),
    ).fetchone()
    return bool(row and row[0])
