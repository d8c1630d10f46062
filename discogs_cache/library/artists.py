"""The library artist list: who the station owns, the converter's filter input (SPEC step 1).

library.db gives the artists; the MySQL catalog adds the names the same albums are known by
(alternate artist names, artist and release cross-references), so a Discogs credit under any
of them is kept. Each source's contribution is counted so the enrichment is visible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from discogs_cache.files import atomic_path
from discogs_cache.library import mysql
from discogs_cache.library.catalog import read_catalog

# Sources in the order they are applied; each counts only names no earlier source had.
SOURCES = ("library", "alternate_names", "artist_cross_references", "release_cross_references")
MYSQL_QUERIES = {
    "alternate_names": (
        "SELECT ALTERNATE_ARTIST_NAME FROM LIBRARY_RELEASE"
        " WHERE ALTERNATE_ARTIST_NAME IS NOT NULL AND ALTERNATE_ARTIST_NAME <> ''"
    ),
    # Both sides of an artist cross-reference ("see also"), as separate selects so a dangling
    # id on one side does not hide the other.
    "artist_cross_references": (
        "SELECT lc.PRESENTATION_NAME FROM LIBRARY_CODE_CROSS_REFERENCE x"
        " JOIN LIBRARY_CODE lc ON lc.ID = x.CROSS_REFERENCING_ARTIST_ID"
        " UNION ALL"
        " SELECT lc.PRESENTATION_NAME FROM LIBRARY_CODE_CROSS_REFERENCE x"
        " JOIN LIBRARY_CODE lc ON lc.ID = x.CROSS_REFERENCED_LIBRARY_CODE_ID"
    ),
    "release_cross_references": (
        "SELECT lc.PRESENTATION_NAME FROM RELEASE_CROSS_REFERENCE x"
        " JOIN LIBRARY_CODE lc ON lc.ID = x.CROSS_REFERENCING_ARTIST_ID"
    ),
}


@dataclass
class ArtistList:
    names: list[str] = field(default_factory=list)
    added: dict[str, int] = field(default_factory=dict)  # source -> names it added
    charset: str | None = None  # MySQL connection charset, None without MySQL
    decode_fallbacks: int = 0
    unrepresentable: int = 0
    warnings: list[str] = field(default_factory=list)


def clean_name(name: str | None) -> str:
    """Whitespace runs (tabs, newlines) become one space: the list has one name per line."""
    return " ".join(name.split()) if name else ""


class _Collector:
    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.added: dict[str, int] = {}

    def add(self, source: str, names: Iterable[str | None]) -> None:
        count = self.added.setdefault(source, 0)
        for raw in names:
            name = clean_name(raw)
            if name and name not in self.seen:
                self.seen.add(name)
                count += 1
        self.added[source] = count


def build_artist_list(library_db: Path, mysql_url: str | None = None) -> ArtistList:
    """Distinct artist names of library.db, enriched from MySQL when `mysql_url` is given."""
    entries = read_catalog(library_db)
    collector = _Collector()
    collector.add("library", (e.artist for e in entries))
    result = ArtistList()
    if mysql_url is None:
        collector.add("alternate_names", (e.alternate_artist_name for e in entries))
    else:
        _add_from_mysql(mysql_url, collector, result)
    result.names = sorted(collector.seen, key=lambda n: (n.casefold(), n))
    result.added = collector.added
    return result


def _add_from_mysql(url: str, collector: _Collector, result: ArtistList) -> None:
    conn = mysql.connect(url)
    decoder = mysql.Decoder(conn.charset)
    result.charset = conn.charset
    try:
        with mysql.mysql_errors(url, "cannot read artist names from MySQL"):
            for source, query in MYSQL_QUERIES.items():
                names = (decoder.text(row[0], source) for row in mysql.stream(conn, query))
                collector.add(source, names)
            result.unrepresentable = mysql.count_unrepresentable(
                conn, conn.charset, ["ALTERNATE_ARTIST_NAME"], "FROM LIBRARY_RELEASE"
            ) + mysql.count_unrepresentable(
                conn, conn.charset, ["PRESENTATION_NAME"], "FROM LIBRARY_CODE"
            )
    finally:
        mysql.close_quietly(conn)
    result.decode_fallbacks = decoder.fallbacks
    if decoder.fallbacks:
        result.warnings.append(decoder.describe_fallbacks())
    if result.unrepresentable:
        result.warnings.append(
            mysql.unrepresentable_warning(result.unrepresentable, "MySQL row(s)", conn.charset)
        )


def write_artist_list(names: Iterable[str], path: Path) -> int:
    """Write UTF-8, one name per line, atomically (temp file + rename); returns the count."""
    count = 0
    with atomic_path(Path(path)) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out:
        for name in names:
            if cleaned := clean_name(name):
                out.write(cleaned + "\n")
                count += 1
    return count
