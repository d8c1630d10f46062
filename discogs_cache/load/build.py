"""Build each cache table beside the live one, in parallel, ready to be swapped in.

One transaction runs on one core, so every table is built by a connection of its own into
a fresh copy of its live table (the live definition via LIKE, created before anything is
locked) in a private "new" schema: rows moved over from staging (`transform`) or, for
release_track.csv (most of the bytes), COPYed straight from the file; then its primary key
(duplicates collapsed and counted on a violation) and its foreign key to the new `release`
(orphans deleted and counted only when adding it fails). Each builder's search_path puts
the new schema first, so the transform SQL and the catalog's key definitions resolve to the
new tables unchanged. Each builder commits its table; nothing live is touched until the
swap (`swapin`). With wal_level=minimal a table filled in the transaction that emptied it
writes no WAL.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from discogs_cache.db import connect
from discogs_cache.load.staging import RecordCounter, StagedFile, read_header, stream_copy
from discogs_cache.load.transform import (
    CHILD_TARGETS,
    TableCounts,
    Target,
    collapse_duplicates,
    load_child,
    load_metadata,
    load_release,
)

DIRECT_TABLE = "release_track"
_DIRECT = next(t for t in CHILD_TARGETS if t.table == DIRECT_TABLE)
_LIKE = (
    "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY "
    "INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS"
)


@dataclass
class Keys:
    """The live tables' primary and foreign keys: (name, definition) per table."""

    primary: dict[str, tuple[str, str]] = field(default_factory=dict)
    foreign: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


@dataclass
class Builder:
    """Shared state of one load's builders: where things are, and their open connections."""

    url: str
    stage: str
    new: str
    live: str
    keys: Keys
    conns: set[psycopg.Connection] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection that resolves unqualified names to the new tables first."""
        with connect(self.url) as conn:
            with self.lock:
                self.conns.add(conn)
            try:
                conn.execute("SET client_encoding TO 'UTF8'")
                conn.execute("SET work_mem = '256MB'")
                conn.execute("SET maintenance_work_mem = '512MB'")
                conn.execute(
                    sql.SQL("SET search_path TO {}, {}").format(
                        sql.Identifier(self.new), sql.Identifier(self.live)
                    )
                )
                yield conn
                conn.commit()
            finally:
                with self.lock:
                    self.conns.discard(conn)

    def cancel(self) -> None:
        """Interrupt every running builder (the load is failing; their errors are moot)."""
        with self.lock:
            running = list(self.conns)
        for conn in running:
            with contextlib.suppress(psycopg.Error):
                conn.cancel_safe(timeout=5)


def prepare(admin: psycopg.Connection, new: str, tables: tuple[str, ...]) -> tuple[str, Keys]:
    """Create the empty new tables and read the live keys, before anything is locked.

    Returns the live tables' schema and their keys."""
    row = admin.execute("SELECT current_schema()").fetchone()
    live = str(row[0]) if row else "public"
    keys = Keys()
    for name, table, contype, definition in admin.execute(
        "SELECT conname, conrelid::regclass::text, contype::text, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype IN ('p', 'f') AND conrelid = ANY (%s::regclass[]) "
        "ORDER BY conname",
        [list(tables)],
    ):
        if contype == "p":
            keys.primary[table] = (name, definition)
        else:
            keys.foreign.setdefault(table, []).append((name, definition))
    for table in tables:
        admin.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} {})").format(
                sql.Identifier(new, table), sql.Identifier(live, table), sql.SQL(_LIKE)
            )
        )
    return live, keys


def direct_candidate(files: list[StagedFile]) -> StagedFile | None:
    """release_track.csv when its header is exactly the table's columns (any order): COPY
    cannot skip columns, so a CSV with extra columns goes through staging instead."""
    for staged in files:
        if staged.spec.name == DIRECT_TABLE:
            header = read_header(staged.path, staged.spec)
            if sorted(header) == sorted(_DIRECT.columns) == sorted(staged.spec.columns):
                return staged
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


def add_primary_key(b: Builder, conn: psycopg.Connection, target: Target | None, table: str) -> int:
    """Add the table's key; on duplicates collapse them (returned as a count) and retry."""
    if table not in b.keys.primary:
        return 0
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
    with b.connection() as conn:
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
        orphans = add_foreign_keys(b, conn, table)
        counts.missing_release += orphans
        counts.loaded -= orphans
    return counts


def build_metadata(b: Builder) -> TableCounts:
    with b.connection() as conn:
        _start(conn, "cache_metadata")
        counts = TableCounts("cache_metadata", loaded=load_metadata(conn.cursor()))
        add_primary_key(b, conn, None, "cache_metadata")
        add_foreign_keys(b, conn, "cache_metadata")
    return counts


def build_direct(
    b: Builder,
    staged: StagedFile,
    release_ready: Callable[[], object],
    on_bytes: Callable[[int], object] | None = None,
) -> TableCounts:
    """COPY release_track.csv straight into its new table, rows with an empty required field
    skipped by COPY's WHERE (counted: the client counts the file's records); then its primary
    key (duplicates) and, once the new `release` exists, its foreign key (orphans). Unlike
    staging, duplicates are collapsed before orphans are found, so two copies of an orphan
    count as one duplicate and one orphan: the same rows are skipped either way."""
    header = read_header(staged.path, staged.spec)
    names = sql.SQL(", ").join(map(sql.Identifier, header))
    where = sql.SQL(" AND ").join(
        sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in _DIRECT.required
    )
    counts = TableCounts(DIRECT_TABLE)
    with b.connection() as conn:
        _start(conn, DIRECT_TABLE)
        counter = RecordCounter()
        statement = sql.SQL(
            "COPY {} ({}) FROM STDIN "
            "(FORMAT csv, HEADER true, FREEZE true, FORCE_NULL ({})) WHERE {}"
        ).format(sql.Identifier(DIRECT_TABLE), names, names, where)
        with conn.cursor() as cur:
            copied = stream_copy(cur, statement, staged, on_bytes, counter)
        # (a file with bare-CR line ends defeats the counter: never report fewer than COPYed)
        staged.rows = counts.source_rows = max(counter.records, copied)
        counts.empty_required = counts.source_rows - copied
        counts.duplicates = add_primary_key(b, conn, _DIRECT, DIRECT_TABLE)
        release_ready()
        # last: adding a foreign key locks the new `release` against the other builders'
        counts.missing_release = add_foreign_keys(b, conn, DIRECT_TABLE)
        counts.loaded = copied - counts.missing_release - counts.duplicates
    return counts
