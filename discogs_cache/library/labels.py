"""Label preferences: which label the station recorded for an album (dedup's first rule).

`library_labels.csv` has the header `artist_name,release_title,label_name`; it is written
by `discogs-cache library labels` (from MySQL's flowsheet) and read by `dedup --library-labels`;
`read_label_preferences(mysql_url)` gives the same rows without the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from discogs_cache import progress
from discogs_cache.errors import InputError
from discogs_cache.files import atomic_path
from discogs_cache.library import mysql

HEADER = ("artist_name", "release_title", "label_name")


class LabelPreference(NamedTuple):
    artist_name: str
    release_title: str
    label_name: str


def read_label_preferences_csv(path: Path) -> list[LabelPreference]:
    """Rows of a library_labels.csv; InputError naming file and line on a bad file."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header[:3]) != HEADER:
                raise InputError(f"{path}:1: expected header {','.join(HEADER)}, got {header}")
            prefs = []
            for row in reader:
                if len(row) < 3:
                    raise InputError(f"{path}:{reader.line_num}: expected 3 fields, got {len(row)}")
                if row[0] and row[1] and row[2]:
                    prefs.append(LabelPreference(row[0], row[1], row[2]))
            return prefs
    except FileNotFoundError:
        raise InputError(f"{path}: library labels file not found") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: unreadable library labels CSV: {exc}") from None


def write_label_preferences_csv(prefs: Iterable[LabelPreference], path: Path) -> int:
    """Write atomically (temp file + rename); returns the number of rows."""
    count = 0
    with atomic_path(Path(path)) as tmp, open(tmp, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for pref in prefs:
            writer.writerow(pref)
            count += 1
    return count


LABELS_FROM = (
    "FROM FLOWSHEET_ENTRY_PROD fe"
    " JOIN LIBRARY_RELEASE r ON r.ID = fe.LIBRARY_RELEASE_ID"
    " JOIN LIBRARY_CODE lc ON lc.ID = r.LIBRARY_CODE_ID"
)
LABELS_WHERE = "fe.LIBRARY_RELEASE_ID > 0 AND fe.LABEL_NAME IS NOT NULL AND fe.LABEL_NAME <> ''"
# No DISTINCT on the server: its case- and trailing-space-insensitive collations would merge
# spellings arbitrarily; rows stream and are made distinct exactly here.
LABELS_QUERY = (
    f"SELECT lc.PRESENTATION_NAME, r.TITLE, fe.LABEL_NAME {LABELS_FROM} WHERE {LABELS_WHERE}"
)


@dataclass
class LabelExtract:
    prefs: list[LabelPreference] = field(default_factory=list)
    flowsheet_rows: int = 0  # flowsheet entries with a label and a library release
    charset: str = ""
    decode_fallbacks: int = 0
    unrepresentable: int = 0
    warnings: list[str] = field(default_factory=list)


def extract_label_preferences(mysql_url: str) -> LabelExtract:
    """Distinct (artist, title, label) the DJs logged in the flowsheet, sorted, with counts."""
    conn = mysql.connect(mysql_url)
    decoder = mysql.Decoder(conn.charset)
    result = LabelExtract(charset=conn.charset)
    seen: set[LabelPreference] = set()
    try:
        with mysql.mysql_errors(mysql_url, "cannot read label preferences from MySQL"):
            for row in mysql.stream(conn, LABELS_QUERY):
                result.flowsheet_rows += 1
                artist, title, label = decoder.row(row, "FLOWSHEET_ENTRY_PROD")
                label = (label or "").strip()  # typed by DJs; artist/title stay as catalogued
                if artist and title and label:
                    seen.add(LabelPreference(artist, title, label))
            result.unrepresentable = mysql.count_unrepresentable(
                conn,
                conn.charset,
                ["lc.PRESENTATION_NAME", "r.TITLE", "fe.LABEL_NAME"],
                LABELS_FROM,
                LABELS_WHERE,
            )
    finally:
        mysql.close_quietly(conn)
    result.prefs = sorted(seen)
    result.decode_fallbacks = decoder.fallbacks
    if decoder.fallbacks:
        result.warnings.append(decoder.describe_fallbacks())
    if result.unrepresentable:
        result.warnings.append(
            mysql.unrepresentable_warning(result.unrepresentable, "flowsheet row(s)", conn.charset)
        )
    return result


def read_label_preferences(mysql_url: str) -> list[LabelPreference]:
    """Label preferences straight from MySQL (dedup's `--wxyc-db-url`); warnings to stderr."""
    result = extract_label_preferences(mysql_url)
    for warning in result.warnings:
        progress.note(f"warning: {warning}")
    return result.prefs


def station_label_preferences(
    csv_path: Path | None, mysql_url: str | None
) -> list[LabelPreference] | None:
    """The station's label preferences: the CSV when given, else MySQL's, else None."""
    if csv_path is not None:
        return read_label_preferences_csv(Path(csv_path))
    if mysql_url is not None:
        return read_label_preferences(mysql_url)
    return None
