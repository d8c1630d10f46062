"""Build each cache table beside the live one, in parallel, ready to be swapped in.

One transaction runs on one core, so every table is built by a connection of its own into
a fresh copy of its live table (the live definition via LIKE, created before anything is
locked) in a private "new" schema: a file whose values go in as they are (release_track,
most of the bytes, and the other `direct` targets) is COPYed straight into it, the others
are moved over from staging (`transform`); then its primary key (duplicates collapsed and
counted) and its foreign key to the new `release` (orphans deleted and counted only when
adding it fails). Each builder's search_path puts the new schema first, so the transform SQL
and the catalog's key definitions resolve to the new tables unchanged. Each builder commits
its table; nothing live is touched until the swap (`swapin`). With wal_level=minimal a table
filled in the transaction that emptied it writes no WAL.

Every step holds one of the load's `lanes` while it runs its SQL (not while it waits for
another table), so the steps share the cores in the order the load needs them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from discogs_cache.db import connect
from discogs_cache.load.lanes import Lanes
from discogs_cache.load.staging import (
    BadInteger,
    RecordCounter,
    StagedFile,
    copy_file,
    read_header,
    stream_copy,
)
from discogs_cache.load.transform import (
    CHILD_TARGETS,
    TableCounts,
    Target,
    collapse_duplicates,
    load_child,
    load_metadata,
    load_release,
)

_LIKE = (
    "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY "
    "INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS"
)


@dataclass
class Keys:
    """The live tables' primary and foreign keys: (name, definition) per table."""

    primary: dict[str, tuple[str, str]] = field(default_factory=dict)
    foreign: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


class LoadCancelled(Exception):
    """A builder asked for a connection after the load had failed."""


@dataclass
class Builder:
    """Shared state of one load's builders: where things are, and their open connections."""

    url: str
    stage: str
    new: str
    live: str = ""
    keys: Keys = field(default_factory=Keys)
    conns: set[psycopg.Connection] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: bool = False
    dropped: set[str] = field(default_factory=set)
    """Private schemas already dropped."""
    lanes: Lanes | None = None
    """Shared out between the steps; None: no limit."""

    def lane(self, table: str) -> contextlib.AbstractContextManager[None]:
        """What a step building (or staging for) `table` holds while it works."""
        return self.lanes.for_table(table) if self.lanes else contextlib.nullcontext()

    @contextlib.contextmanager
    def connection(self, *, build: bool = True) -> Iterator[psycopg.Connection]:
        """A connection that `cancel` can interrupt, committed when the block ends; a
        builder's (`build`) resolves unqualified names to the new tables first."""
        with connect(self.url) as conn:
            with self.lock:
                if self.cancelled:  # a task that had not started yet: the load failed
                    raise LoadCancelled
                self.conns.add(conn)
            try:
                conn.execute("SET client_encoding TO 'UTF8'")
                if build:
                    # one round trip; the builders are the parallelism: workers inside a
                    # builder's sorts and scans only add costs on cores that are busy already
                    conn.execute(
                        sql.SQL(
                            "SET work_mem = '256MB'; SET maintenance_work_mem = '512MB'; "
                            "SET max_parallel_workers_per_gather = 0; "
                            "SET max_parallel_maintenance_workers = 0; SET search_path TO {}, {}"
                        ).format(sql.Identifier(self.new), sql.Identifier(self.live))
                    )
                yield conn
                conn.commit()
            finally:
                with self.lock:
                    self.conns.discard(conn)

    def cancel(self) -> None:
        """Interrupt every running connection (the load is failing; their errors are moot)."""
        with self.lock:
            self.cancelled = True
            running = list(self.conns)
        for conn in running:
            with contextlib.suppress(psycopg.Error):
                conn.cancel_safe(timeout=5)

    def stage_file(
        self, staged: StagedFile, on_bytes: Callable[[int], object] | None = None
    ) -> StagedFile:
        """COPY one file into its staging table."""
        with self.connection(build=False) as conn:
            return copy_file(conn, self.stage, staged, on_bytes)

    def drop_stage(self) -> None:
        """Drop the staging schema (its readers are done)."""
        with self.connection(build=False) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(self.stage)))
        self.dropped.add(self.stage)


def prepare(
    b: Builder,
    admin: psycopg.Connection,
    tables: tuple[str, ...],
    on_created: Callable[[str], object] | None = None,
) -> None:
    """Read the live schema and keys into `b`, then create the empty new tables in the
    order given (`on_created` after each), before anything is locked."""
    row = admin.execute("SELECT current_schema()").fetchone()
    b.live = str(row[0]) if row else "public"
    for name, table, contype, definition in admin.execute(
        "SELECT conname, conrelid::regclass::text, contype::text, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype IN ('p', 'f') AND conrelid = ANY (%s::regclass[]) "
        "ORDER BY conname",
        [list(tables)],
    ):
        if contype == "p":
            b.keys.primary[table] = (name, definition)
        else:
            b.keys.foreign.setdefault(table, []).append((name, definition))
    for table in tables:
        admin.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} {})").format(
                sql.Identifier(b.new, table), sql.Identifier(b.live, table), sql.SQL(_LIKE)
            )
        )
        if on_created is not None:
            on_created(table)


def direct_target(staged: StagedFile) -> Target | None:
    """The target `staged` can be COPYed straight into: its header is exactly the target's
    `direct` columns (any order; optional ones may be missing: the table default applies).
    COPY cannot skip columns, so a file with extra columns
    goes through staging instead."""
    for target in CHILD_TARGETS:
        if target.source == staged.spec.name and target.direct is not None:
            header = set(read_header(staged.path, staged.spec))
            fits = header <= set(target.direct) and set(target.required) <= header
            return target if fits else None
    return None


def _start(conn: psycopg.Connection, table: str) -> None:
    # a new file in this transaction: what is written next skips WAL at wal_level=minimal
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))


def _alter(conn: psycopg.Connection, table: str, name: str, definition: str) -> None:
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.Identifier(table),
            sql.Identifier(name),
            sql.SQL(definition),  # from the catalog
        )
    )


def add_primary_key(
    b: Builder,
    conn: psycopg.Connection,
    target: Target | None,
    table: str,
    *,
    collapse_first: bool = False,
) -> int:
    """Add the table's key; on duplicates collapse them (returned as a count) and retry.
    `collapse_first` collapses before trying, where duplicates are expected."""
    if table not in b.keys.primary:
        return 0
    if collapse_first and target is not None:
        removed = collapse_duplicates(conn.cursor(), target)
        _alter(conn, table, *b.keys.primary[table])
        return removed
    try:
        with conn.transaction():
            _alter(conn, table, *b.keys.primary[table])
        return 0
    except psycopg.errors.UniqueViolation:
        if target is None:
            raise
        removed = collapse_duplicates(conn.cursor(), target)
        _alter(conn, table, *b.keys.primary[table])
        return removed


def add_foreign_keys(b: Builder, conn: psycopg.Connection, table: str) -> int:
    """Add the table's `release_id` foreign keys; when rows point at a missing release,
    delete them (returned as a count) and retry: one validation scan in the usual case."""
    orphans = 0
    for name, definition in b.keys.foreign.get(table, []):
        try:
            with conn.transaction():
                _alter(conn, table, name, definition)
        except psycopg.errors.ForeignKeyViolation:
            cur = conn.execute(
                sql.SQL(
                    "DELETE FROM {} s WHERE NOT EXISTS "
                    "(SELECT 1 FROM release r WHERE r.id = s.release_id)"
                ).format(sql.Identifier(table))
            )
            orphans += cur.rowcount
            _alter(conn, table, name, definition)
    return orphans


def build_release(b: Builder, has_release: bool, has_images: bool) -> TableCounts:
    with b.connection() as conn, b.lane("release"):
        _start(conn, "release")
        counts = load_release(conn.cursor(), b.stage, has_images) if has_release else None
        add_primary_key(b, conn, None, "release")
    return counts or TableCounts("release")


def build_child(
    b: Builder, target: Target | None, table: str, release_ready: Callable[[], object]
) -> TableCounts:
    """A child table from its staged CSV (or empty when the CSV is absent), keyed; only the
    foreign key waits for the new `release` (orphans are found by adding it)."""
    with b.connection() as conn:
        with b.lane(table):
            _start(conn, table)
            counts = (
                load_child(conn.cursor(), b.stage, target, check_release=False)
                if target
                else TableCounts(table)
            )
            collapsed = add_primary_key(b, conn, target, table)
        counts.duplicates += collapsed
        counts.loaded -= collapsed
        release_ready()
        with b.lane(table):
            orphans = add_foreign_keys(b, conn, table)
        counts.missing_release += orphans
        counts.loaded -= orphans
    return counts


def build_metadata(b: Builder) -> TableCounts:
    with b.connection() as conn, b.lane("cache_metadata"):
        _start(conn, "cache_metadata")
        counts = TableCounts("cache_metadata", loaded=load_metadata(conn.cursor()))
        add_primary_key(b, conn, None, "cache_metadata")
        add_foreign_keys(b, conn, "cache_metadata")
    return counts


class NeedsStaging(Exception):
    """A direct COPY met a name longer than its column or an id that is no integer: the file
    needs staging (truncation, or skipping the row)."""


def build_direct(
    b: Builder,
    target: Target,
    staged: StagedFile,
    release_ready: Callable[[], object],
    on_bytes: Callable[[int], object] | None = None,
) -> TableCounts:
    """COPY a `direct` target's file straight into its new table, rows with an empty
    required field skipped by COPY's WHERE (counted: the client counts the file's records);
    then its primary key (duplicates) and, once the new `release` exists, its foreign key
    (orphans). Unlike staging, duplicates are collapsed before orphans are found, so two
    copies of an orphan count as one duplicate and one orphan: the same rows are skipped
    either way. NeedsStaging when a value does not fit
    (nothing is committed then); PostgreSQL itself cuts a name whose excess is only spaces,
    which is then not counted as truncated."""
    header = read_header(staged.path, staged.spec)
    names = sql.SQL(", ").join(sql.Identifier(target.table_column(c)) for c in header)
    nullable = sql.SQL(", ").join(
        sql.Identifier(target.table_column(c)) for c in header if c not in target.empty_strings
    )
    empty = [target.table_column(c) for c in header if c in target.empty_strings]
    force_empty = (
        sql.SQL(", FORCE_NOT_NULL ({})").format(sql.SQL(", ").join(map(sql.Identifier, empty)))
        if empty
        else sql.SQL("")
    )
    where = sql.SQL(" AND ").join(
        sql.SQL("{} IS NOT NULL").format(sql.Identifier(target.table_column(c)))
        for c in target.required
    )
    counts = TableCounts(target.table)
    with b.connection() as conn:
        _start(conn, target.table)
        counter = RecordCounter()
        statement = sql.SQL(
            "COPY {} ({}) FROM STDIN "
            "(FORMAT csv, HEADER true, FREEZE true, FORCE_NULL ({}){}) WHERE {}"
        ).format(sql.Identifier(target.table), names, nullable, force_empty, where)
        try:
            with b.lane(target.table), conn.cursor() as cur:
                start = time.perf_counter()
                copied = stream_copy(cur, statement, staged, on_bytes, counter)
                staged.seconds = time.perf_counter() - start
        except (psycopg.errors.StringDataRightTruncation, BadInteger):
            raise NeedsStaging(staged.path) from None
        # (a file with bare-CR line ends defeats the counter: never report fewer than COPYed)
        staged.rows = counts.source_rows = max(counter.records, copied)
        counts.empty_required = counts.source_rows - copied
        with b.lane(target.table):
            counts.duplicates = add_primary_key(
                b, conn, target, target.table, collapse_first=target.dedupe_first
            )
        release_ready()
        # last: adding a foreign key locks the new `release` against the other builders'
        with b.lane(target.table):
            counts.missing_release = add_foreign_keys(b, conn, target.table)
        counts.loaded = copied - counts.missing_release - counts.duplicates
    return counts


def build_copied(
    b: Builder,
    target: Target,
    staged: StagedFile,
    release_ready: Callable[[], object],
    on_bytes: Callable[[int], object] | None = None,
) -> TableCounts:
    """`build_direct`, or when a name is too long for the table (rare), staging and
    `build_child`, which truncates and counts it."""
    try:
        return build_direct(b, target, staged, release_ready, on_bytes)
    except NeedsStaging:
        staged.bytes = staged.nul_bytes = 0  # counted again by the staging COPY
        with b.lane(staged.spec.name):
            b.stage_file(staged)
        return build_child(b, target, target.table, release_ready)
