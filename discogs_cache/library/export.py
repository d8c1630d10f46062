"""Export the station's MySQL catalog to `library.db` (SPEC step 1).

Rows stream through a server-side cursor into a temporary SQLite file that is renamed into
place only when complete, so a failed export never leaves a library.db that looks finished.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from pymysql.connections import Connection

from discogs_cache import progress
from discogs_cache.errors import InputError
from discogs_cache.files import atomic_path
from discogs_cache.library import mysql
from discogs_cache.library.catalog import COLUMNS

CATALOG_FROM = (
    "FROM LIBRARY_RELEASE r"
    " JOIN LIBRARY_CODE lc ON r.LIBRARY_CODE_ID = lc.ID"
    " JOIN FORMAT f ON r.FORMAT_ID = f.ID"
    " JOIN GENRE g ON lc.GENRE_ID = g.ID"
)
# Same order as catalog.COLUMNS.
CATALOG_SELECT = (
    "r.ID",
    "r.TITLE",
    "lc.PRESENTATION_NAME",
    "lc.CALL_LETTERS",
    "lc.CALL_NUMBERS",
    "r.CALL_NUMBERS",
    "g.REFERENCE_NAME",
    "f.REFERENCE_NAME",
    "r.ALTERNATE_ARTIST_NAME",
)
CATALOG_QUERY = f"SELECT {', '.join(CATALOG_SELECT)} {CATALOG_FROM} ORDER BY r.ID"
TEXT_COLUMNS = [c for c in CATALOG_SELECT if c != "r.ID"]

SQLITE_SCHEMA = """
CREATE TABLE library (
    id INTEGER PRIMARY KEY,
    title TEXT,
    artist TEXT,
    call_letters TEXT,
    artist_call_number TEXT,
    release_call_number TEXT,
    genre TEXT,
    format TEXT,
    alternate_artist_name TEXT
);
CREATE INDEX library_artist ON library (artist);
CREATE VIRTUAL TABLE library_fts USING fts5(
    title, artist, alternate_artist_name,
    content='library', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
"""
BATCH = 5000


@dataclass
class ExportSummary:
    output: Path
    rows: int = 0
    skipped: int = 0  # LIBRARY_RELEASE rows the joins dropped (no code/format/genre)
    charset: str = mysql.DEFAULT_CHARSET
    decode_fallbacks: int = 0  # values not valid in `charset`, decoded as latin-1
    unrepresentable: int = 0  # rows the server sent with '?' for characters `charset` lacks
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def export_catalog(mysql_url: str, output: Path) -> ExportSummary:
    """Write the catalog of `mysql_url` to the SQLite file `output` (atomically)."""
    output = Path(output)
    if not output.parent.is_dir():
        raise InputError(f"{output}: directory {output.parent} does not exist")
    started = time.perf_counter()
    conn = mysql.connect(mysql_url)
    summary = ExportSummary(output=output, charset=conn.charset)
    decoder = mysql.Decoder(conn.charset)
    try:
        with (
            atomic_path(output) as tmp,
            mysql.mysql_errors(mysql_url, "cannot export the catalog from MySQL"),
        ):
            with conn.cursor() as cur:
                # One snapshot for the count and the rows, so `skipped` is exact on a live
                # catalog; the client pauses between batches to write SQLite, so be patient.
                cur.execute("SET SESSION net_write_timeout = 600")
                cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            total = _count(conn, "SELECT COUNT(*) FROM LIBRARY_RELEASE")
            summary.unrepresentable = mysql.count_unrepresentable(
                conn, conn.charset, TEXT_COLUMNS, CATALOG_FROM
            )
            summary.rows = _write_sqlite(conn, decoder, tmp, total)
    finally:
        mysql.close_quietly(conn)
    summary.skipped = total - summary.rows
    summary.decode_fallbacks = decoder.fallbacks
    summary.seconds = time.perf_counter() - started
    summary.warnings = _warnings(summary, decoder)
    return summary


def _count(conn: Connection, query: str) -> int:
    with conn.cursor() as cur:
        cur.execute(query)
        row = cur.fetchone()
    return int(row[0]) if row else 0


def _write_sqlite(conn: Connection, decoder: mysql.Decoder, tmp: Path, total: int) -> int:
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    insert = f"INSERT INTO library ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    rows = 0
    try:
        db = sqlite3.connect(tmp)
        try:
            # A temp file renamed only when complete: no journal needed, fsync once at the end.
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.executescript(SQLITE_SCHEMA)
            batch: list[list[object]] = []
            with progress.bar(total=total, desc="library export", unit="rows") as bar:
                for raw in mysql.stream(conn, CATALOG_QUERY, BATCH):
                    batch.append(decoder.row(raw, where=f"LIBRARY_RELEASE.ID={raw[0]}"))
                    if len(batch) >= BATCH:
                        db.executemany(insert, batch)
                        rows += len(batch)
                        bar.update(len(batch))
                        batch.clear()
                db.executemany(insert, batch)
                rows += len(batch)
                bar.update(len(batch))
            db.execute("INSERT INTO library_fts(library_fts) VALUES ('rebuild')")
            db.commit()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise InputError(f"{tmp}: cannot write library database: {exc}") from None
    return rows


def _warnings(summary: ExportSummary, decoder: mysql.Decoder) -> list[str]:
    notes = []
    if summary.skipped:
        notes.append(
            f"{summary.skipped} LIBRARY_RELEASE row(s) have no matching LIBRARY_CODE, "
            "FORMAT or GENRE and were not exported"
        )
    if decoder.fallbacks:
        notes.append(decoder.describe_fallbacks())
    if summary.unrepresentable:
        notes.append(
            f"{summary.unrepresentable} row(s) hold characters the {summary.charset} connection "
            "cannot carry (the server sent '?'); use ?charset=utf8mb4 in the MySQL URL"
        )
    return notes
