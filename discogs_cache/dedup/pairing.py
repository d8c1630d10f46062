"""Which releases carry the label the station recorded for that album (dedup's label rule).

A preference names an album the catalog's way ("Beatles, The" / "Abbey Road 12\"") and a
label the station's way ("EMI"). It is paired to Discogs releases through the matcher's own
normalization (`artist_key` / `normalize_title`), and the label names are compared
through `normalize_artist` too: it folds case and accents and drops the Discogs " (n)"
suffix, which is exactly what label names need. One level of the Discogs label hierarchy
is resolved both ways: pref "EMI" accepts a release on "Parlophone" (child of EMI), pref
"Parlophone" accepts a release on "EMI" (its parent).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, and_, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from discogs_cache.errors import InputError
from discogs_cache.library.labels import LabelPreference
from discogs_cache.normalize import (
    artist_key,
    is_compilation_artist,
    normalize_artist,
    normalize_title,
)
from discogs_cache.schema import Release, ReleaseArtist, ReleaseLabel

HIERARCHY_HEADER = ("label_id", "label_name", "parent_label_id", "parent_label_name")
AlbumKey = tuple[str, str]
COMPILATION = "\x00various"
_BATCH = 10_000


@lru_cache(maxsize=1 << 18)
def album_artist_key(name: str) -> str:
    """The artist side of an album key: `normalize.artist_key`, except that every
    compilation credit is one artist, as in the matcher ("Various Artists" is "Various")."""
    return COMPILATION if is_compilation_artist(name) else artist_key(name)


@lru_cache(maxsize=1 << 16)
def label_key(name: str) -> str:
    """Case-, accent- and " (n)"-insensitive form of a label name."""
    return normalize_artist(name)


class LabelHierarchy:
    """Parent/child label names, one level, keyed by `label_key`."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.parents: dict[str, set[str]] = defaultdict(set)
        self.children: dict[str, set[str]] = defaultdict(set)
        for child, parent in pairs:
            c, p = label_key(child), label_key(parent)
            if c and p and c != p:
                self.parents[c].add(p)
                self.children[p].add(c)

    def related(self, key: str) -> set[str]:
        """The label itself, its parents and its children."""
        return {key} | self.parents.get(key, set()) | self.children.get(key, set())


def read_label_hierarchy_csv(path: Path) -> LabelHierarchy:
    """Load convert's label_hierarchy.csv; rows without a parent are skipped."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header[:4]) != HIERARCHY_HEADER:
                raise InputError(
                    f"{path}:1: expected header {','.join(HIERARCHY_HEADER)}, got {header}"
                )
            pairs = []
            for row in reader:
                if len(row) < 4:
                    raise InputError(f"{path}:{reader.line_num}: expected 4 fields, got {len(row)}")
                if row[1] and row[3]:
                    pairs.append((row[1], row[3]))
    except FileNotFoundError:
        raise InputError(f"{path}: label hierarchy file not found") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: unreadable label hierarchy CSV: {exc}") from None
    return LabelHierarchy(pairs)


def preference_index(
    prefs: Iterable[LabelPreference], hierarchy: LabelHierarchy | None = None
) -> dict[AlbumKey, set[str]]:
    """(normalized artist, normalized title) -> label keys that satisfy the station."""
    hierarchy = hierarchy or LabelHierarchy()
    index: dict[AlbumKey, set[str]] = defaultdict(set)
    for pref in prefs:
        album = (album_artist_key(pref.artist_name), normalize_title(pref.release_title))
        label = label_key(pref.label_name)
        if album[0] and album[1] and label:
            index[album] |= hierarchy.related(label)
    return dict(index)


def duplicated_masters() -> sa.Select[Any]:
    """master_ids shared by more than one release: the only groups dedup can change."""
    r = Release.__table__
    return (
        select(r.c.master_id)
        .where(r.c.master_id.is_not(None))
        .group_by(r.c.master_id)
        .having(func.count() > 1)
    )


def driver_rows(conn: Connection, query: sa.Select[Any]) -> Iterator[tuple[Any, ...]]:
    """Rows of a Core query as plain tuples straight from psycopg.

    The pairing reads every main credit of every duplicated master (~1 row per release)
    only to normalize it in Python; SQLAlchemy's Row objects cost more than the query.
    Not a server-side cursor: that makes the planner favour fast-start plans, and on
    tables a load has just written (no statistics yet) it picked a nested loop over
    release_artist x duplicated masters that ran for minutes instead of a hash join.
    """
    compiled = query.compile(dialect=conn.dialect)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(str(compiled), compiled.params)
        while batch := cur.fetchmany(_BATCH):
            yield from batch


def _album_candidates(conn: Connection, index: dict[AlbumKey, set[str]]) -> dict[int, set[str]]:
    """Releases in duplicated masters whose (main artist, title) is a preference's album."""
    r, ra = Release.__table__, ReleaseArtist.__table__
    query = (
        select(r.c.id, r.c.title, ra.c.artist_name)
        .join(ra, and_(ra.c.release_id == r.c.id, ra.c.extra == 0))
        .where(r.c.master_id.in_(duplicated_masters()))
    )
    wanted: dict[int, set[str]] = {}
    artists = {artist for artist, _ in index}
    keys: dict[str, str | None] = {}  # raw name -> album artist key, None when no preference
    for release_id, title, artist in driver_rows(conn, query):
        try:
            key = keys[artist]
        except KeyError:
            key = keys[artist] = k if (k := album_artist_key(artist)) in artists else None
        if key is None:
            continue
        labels = index.get((key, normalize_title(title)))
        if labels:
            wanted.setdefault(release_id, set()).update(labels)
    return wanted


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]


def label_matched_releases(conn: Connection, index: dict[AlbumKey, set[str]]) -> set[int]:
    """Ids of releases (in duplicated masters) that carry a preferred label for their album."""
    if not index:
        return set()
    wanted = _album_candidates(conn, index)
    rl = ReleaseLabel.__table__
    ids_param = sa.bindparam("ids", type_=ARRAY(sa.Integer))
    query = select(rl.c.release_id, rl.c.label_name).where(rl.c.release_id == sa.any_(ids_param))
    matched: set[int] = set()
    for chunk in _chunks(sorted(wanted)):
        for release_id, label in driver_rows(conn, query.params(ids=chunk)):
            if label_key(label) in wanted[release_id]:
                matched.add(release_id)
    return matched
