"""Helpers for the `discogs-cache run` end-to-end tests: subprocesses, kills, checksums."""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from lxml import etree
from psycopg import sql

from discogs_cache.db import conninfo
from discogs_cache.schema import ALL_TABLES

TABLES = ALL_TABLES
VOLATILE_TYPES = ("timestamp with time zone", "timestamp without time zone")


def env(tmp_path: Path) -> dict[str, str]:
    """No DATABASE_URL (every test passes --database-url) and a private embedded home."""
    full = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full["DISCOGS_CACHE_HOME"] = str(tmp_path / "home")
    return full


def command(*args: object) -> list[str]:
    return [sys.executable, "-m", "discogs_cache", "run", *map(str, args)]


def run(tmp_path: Path, *args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args), capture_output=True, text=True, env=env(tmp_path), timeout=timeout
    )


def start(tmp_path: Path, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(*args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env(tmp_path),
    )


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 120) -> list[str]:
    """Read the child's stderr until a line contains `needle`; the lines read so far."""
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            raise AssertionError(f"process ended before {needle!r}: {''.join(seen)[-2000:]}")
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"no {needle!r} within {timeout} s")


def kill_at(tmp_path: Path, point: str, *args: object) -> tuple[int, list[str]]:
    """Run with the fault point `point` armed (`discogs_cache.faults`): the process SIGKILLs
    itself there. Returns its return code and the points it logged reaching."""
    log = tmp_path / "faults.log"
    log.unlink(missing_ok=True)
    armed = {**env(tmp_path), "DISCOGS_CACHE_FAULT": point, "DISCOGS_CACHE_FAULT_LOG": str(log)}
    done = subprocess.run(command(*args), capture_output=True, text=True, env=armed, timeout=300)
    hits = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return done.returncode, hits


def table_checksums(url: str) -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of the sorted row texts)}; timestamps (cached_at) left out."""
    result = {}
    with psycopg.connect(conninfo(url)) as conn:
        for table in TABLES:
            cols = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = %s "
                    "AND data_type <> ALL(%s) ORDER BY ordinal_position",
                    (table, list(VOLATILE_TYPES)),
                )
            ]
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) "
                "FROM (SELECT ROW({})::text AS x FROM {}) s"
            ).format(sql.SQL(", ").join(map(sql.Identifier, cols)), sql.Identifier(table))
            row = conn.execute(query).fetchone()
            assert row is not None
            result[table] = (int(row[0]), str(row[1]))
    return result


def index_names(url: str) -> set[str]:
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indisvalid AND pg_table_is_visible(c.oid)"
        ).fetchall()
    return {r[0] for r in rows}


def scalar(url: str, query: str) -> object:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute(query).fetchone()
    return row[0] if row else None


def library_from_dump(releases_xml: Path, library_db: Path, every: int = 3) -> int:
    """A station library owning every `every`-th release of the dump (by artist and title),
    with every 2nd such title spelled differently, so KEEP, REVIEW and PRUNE all occur."""
    rows = []
    opener = gzip.open if releases_xml.suffix == ".gz" else open
    with opener(releases_xml, "rb") as handle:
        for n, (_, rel) in enumerate(etree.iterparse(handle, tag="release")):
            artist = rel.findtext("artists/artist/name")
            title = rel.findtext("title")
            if artist and title and n % every == 0:
                if n % (2 * every) == 0:
                    title = f"{title} (Deluxe Edition)"
                rows.append((len(rows) + 1, title, artist))
            rel.clear()
    library_db.unlink(missing_ok=True)
    conn = sqlite3.connect(library_db)
    with conn:
        conn.execute("CREATE TABLE library (id INTEGER PRIMARY KEY, title TEXT, artist TEXT)")
        conn.executemany("INSERT INTO library VALUES (?, ?, ?)", rows)
    conn.close()
    return len(rows)
