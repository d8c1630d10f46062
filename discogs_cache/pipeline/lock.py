"""The pipeline lock: a PostgreSQL session advisory lock held for the whole run.

Two runs loading, deduplicating and pruning the same database at once would interleave
their TRUNCATEs and DELETEs; the second one must stop before touching anything. The lock
lives on a dedicated connection, so it is released by the server when the process dies
(even by SIGKILL) — a killed run never leaves a stale lock behind, unlike a lock file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from discogs_cache.db import connect, describe
from discogs_cache.errors import LockedError

LOCK_KEY = 0x6463_7275_6E00_0001  # "dcrun": an arbitrary constant shared by every run
APP_NAME = "discogs-cache run"


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
def pipeline_lock(url: str) -> Iterator[psycopg.Connection]:
    """Hold the run lock on the database at `url`; LockedError at once if it is taken."""
    conn = connect(url, autocommit=True)
    try:
        conn.execute(
            "SELECT set_config('application_name', %s, false)",
            (f"{APP_NAME} (pid {os.getpid()})",),
        )
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        if not row or not row[0]:
            raise LockedError(
                f"another discogs-cache run is using {describe(url)}: {_holder(conn)} "
                "holds the pipeline lock; wait for it to finish (or stop it) and retry"
            )
        try:
            yield conn
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        conn.close()


def is_locked(url: str) -> bool:
    """True when some session holds the run lock on `url` (for status and tests)."""
    with connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        if row and row[0]:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
            return False
        return True
