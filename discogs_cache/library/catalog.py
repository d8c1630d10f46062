"""Read the station catalog `library.db` (SQLite table `library`, SPEC step 1).

Every step that needs the library (artist list, classifier, demo) reads it through
`read_catalog`, so an unreadable or wrong file fails the same way everywhere.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from discogs_cache.errors import InputError

COLUMNS = (
    "id",
    "title",
    "artist",
    "call_letters",
    "artist_call_number",
    "release_call_number",
    "genre",
    "format",
    "alternate_artist_name",
)


@dataclass(frozen=True)
class CatalogEntry:
    """One album the station owns."""

    id: int
    title: str
    artist: str
    call_letters: str | None = None
    artist_call_number: str | None = None
    release_call_number: str | None = None
    genre: str | None = None
    format: str | None = None
    alternate_artist_name: str | None = None


def read_catalog(path: Path) -> list[CatalogEntry]:
    """All rows of library.db's `library` table; InputError if the file is not such a db."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: library database not found")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"{path}: cannot open library database: {exc}") from None
    try:
        available = {row[1] for row in conn.execute("PRAGMA table_info(library)")}
        missing = {"id", "title", "artist"} - available
        if not available:
            raise InputError(f"{path}: no table 'library' (is this a library.db?)")
        if missing:
            lacking = ", ".join(sorted(missing))
            raise InputError(f"{path}: table 'library' lacks column(s) {lacking}")
        cols = [c for c in COLUMNS if c in available]
        query = f"SELECT {', '.join(cols)} FROM library ORDER BY id"  # names from COLUMNS only
        return [CatalogEntry(**dict(zip(cols, row))) for row in conn.execute(query)]
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: unreadable library database: {exc}") from None
    finally:
        conn.close()
