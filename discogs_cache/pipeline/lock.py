"""The writers' lock: a PostgreSQL session advisory lock held by every command that writes.

Two writers on one database (a `run` and a `load --replace`, two `run`s, an artwork top-up
and a prune) would interleave their swaps, or wait on each other's table locks in cycles
PostgreSQL cannot see; so `run`, `migrate`, `load`, `dedup`, `prune`, `index` and `vacuum`
(and later the artwork top-up) take this one lock first, and the second writer stops
before touching anything (LockedError, exit 75, naming the holder). Readers never take it. The lock
lives on a dedicated connection, so it is released by the server when the process dies
(even by SIGKILL) — a killed run never leaves a stale lock behind, unlike a lock file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from discogs_cache.db import connect, describe
from discogs_cache.errors import DatabaseError, LockedError

LOCK_KEY = 0x6463_7275_6E00_0001  # "dcrun": an arbitrary constant shared by every run
APP_NAME = "discogs-cache"
_CONNECT = "cannot connect to PostgreSQL"  # how `db.connect` starts its errors


def _holder(conn: psycopg.Connection) -> str:
    """Who holds the lock (application name and backend pid), for the error message."""
    row = conn.execute(
        """
        SELECT a.application_name, a.pid
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((l.classid::bigint << 32) | l.objid::bigint) = %s
        LIMIT 1
        """,
        (LOCK_KEY,),
    ).fetchone()
    if row is None:
        return "another session"
    name, pid = row
    return f"{name or 'a session'} (server pid {pid})"


@contextmanager
def pipeline_lock(
    url: str, command: str = "run", action: str | None = None
) -> Iterator[psycopg.Connection]:
    """Hold the writers' lock on the database at `url`; LockedError at once if it is taken.
    `command` names the holder for the error another writer gets; `action` starts the
    error when the server cannot be reached ("cannot migrate the database", ...)."""
    try:
        conn = connect(url, autocommit=True)
    except DatabaseError as exc:
        if action is None:
            raise
        raise DatabaseError(str(exc).replace(_CONNECT, action, 1)) from None
    try:
        conn.execute(
            "SELECT set_config('application_name', %s, false)",
            (f"{APP_NAME} {command} (pid {os.getpid()})",),
        )
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        if not row or not row[0]:
            raise LockedError(
                f"another discogs-cache writer is using {describe(url)}: {_holder(conn)} "
                "holds the writers' lock; wait for it to finish (or stop it) and retry"
            )
        try:
            yield conn
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        conn.close()


def lock_holder(url: str) -> str | None:
    """Who holds the writers' lock on `url`, None when free; only reads pg_locks, so it
    never takes the lock (a writer starting meanwhile is not turned away)."""
    with connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND ((classid::bigint << 32) | objid::bigint) = %s",
            (LOCK_KEY,),
        ).fetchone()
        return _holder(conn) if row else None


def is_locked(url: str) -> bool:
    """True when some session holds the writers' lock on `url` (for status and tests)."""
    return lock_holder(url) is not None
