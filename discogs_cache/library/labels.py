"""Label preferences: which label the station recorded for an album (dedup's first rule).

`library_labels.csv` has the header `artist_name,release_title,label_name`; it is written
by `discogs-cache library labels` (from MySQL) and read by `dedup --library-labels`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from discogs_cache.errors import InputError

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
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    count = 0
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for pref in prefs:
            writer.writerow(pref)
            count += 1
    tmp.replace(path)
    return count
