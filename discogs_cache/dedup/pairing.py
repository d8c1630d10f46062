"""Which releases of duplicated masters carry the station's label for their album, and
which are in the format the station owns it in (dedup's label and format rules).

A preference names an album the catalog's way ("Beatles, The" / "Abbey Road 12\"") and a
label the station's way ("EMI"); the catalogue records the owned format ("LP"). Releases
are paired with albums by the one pairing the classifier uses too
(`matcher.albums.pair_album`): the exact normalized (artist, title) key, the same key
through the credited artist's other names (`artist_alias`), else the album the classifier
matched the release to. Label names are compared through `normalize_artist` (case, accents,
the Discogs " (n)" suffix). One level of the Discogs label hierarchy is resolved both ways:
pref "EMI" accepts a release on "Parlophone" (child of EMI), pref "Parlophone" accepts a
release on "EMI" (its parent).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, and_, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from discogs_cache.errors import InputError
from discogs_cache.formats import format_family
from discogs_cache.library.labels import LabelPreference
from discogs_cache.matcher.albums import (
    COMPILATION,
    AlbumKey,
    AlbumPrefs,
    Preferences,
    album_artist_key,
    album_preferences,
    label_key,
    pair_album,
)
from discogs_cache.normalize import normalize_title
from discogs_cache.schema import ArtistAlias, Release, ReleaseArtist, ReleaseLabel

__all__ = [
    "COMPILATION",
    "AlbumKey",
    "LabelHierarchy",
    "album_artist_key",
    "label_key",
    "preference_matches",
    "preferences",
    "read_label_hierarchy_csv",
]

HIERARCHY_HEADER = ("label_id", "label_name", "parent_label_id", "parent_label_name")
_BATCH = 10_000


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


def preferences(
    prefs: Iterable[LabelPreference] = (),
    hierarchy: LabelHierarchy | None = None,
    owned_formats: Mapping[AlbumKey, Iterable[str]] | None = None,
) -> dict[AlbumKey, AlbumPrefs]:
    """Album key -> label keys that satisfy the station (hierarchy resolved) and owned
    format families."""
    related = hierarchy.related if hierarchy is not None else None
    return album_preferences(owned_formats, prefs, related)


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


def read_alias_keys(conn: Connection, artists: set[str]) -> dict[int, list[str]]:
    """artist id -> its other names whose artist key is a preference's artist (the only
    aliases that can pair a release with an album)."""
    aa = ArtistAlias.__table__
    found: dict[int, list[str]] = defaultdict(list)
    for artist_id, name in driver_rows(conn, select(aa.c.artist_id, aa.c.alias_name)):
        if album_artist_key(name) in artists:
            found[artist_id].append(name)
    return dict(found)


_Pending = tuple[str, str | None, list[tuple[str, int | None]]]
"""A release's title, format and the credits that may pair it."""


def _candidates(
    conn: Connection,
    prefs: Preferences,
    aliases: Mapping[int, list[str]],
    matched: Mapping[int, AlbumKey],
    formats: bool,
) -> Iterator[tuple[int, AlbumKey, str | None]]:
    """(release id, album, format) of the releases of duplicated masters that pair with a
    preference's album (`pair_album`). Most pair by their credited artist's own key, its
    first step, which is tried per row here; the rest (credited under another name of the
    artist, or matched by the classifier) go through `pair_album` whole. Artist ids and
    formats are only read when some alias / owned format can use them."""
    r, ra = Release.__table__, ReleaseArtist.__table__
    query = (
        select(
            r.c.id,
            r.c.title,
            r.c.format if formats else sa.null().label("format"),
            ra.c.artist_name,
            ra.c.artist_id if aliases else sa.null().label("artist_id"),
        )
        .join(ra, and_(ra.c.release_id == r.c.id, ra.c.extra == 0))
        .where(r.c.master_id.in_(duplicated_masters()))
    )
    artists = {artist for artist, _ in prefs}
    direct: dict[int, tuple[AlbumKey, str | None]] = {}
    pending: dict[int, _Pending] = {}
    keys: dict[str, str | None] = {}  # raw name -> album artist key, None when no preference
    for release_id, title, fmt, artist, artist_id in driver_rows(conn, query):
        try:
            key = keys[artist]
        except KeyError:
            key = keys[artist] = k if (k := album_artist_key(artist)) in artists else None
        if key is not None and release_id not in direct:
            album = (key, normalize_title(title))
            if album in prefs:
                direct[release_id] = (album, fmt)
                continue
        if (aliases and artist_id in aliases) or release_id in matched:
            entry = pending.get(release_id)
            if entry is None:
                pending[release_id] = (title, fmt, [(artist, artist_id)])
            else:
                entry[2].append((artist, artist_id))
    for release_id, (album, fmt) in direct.items():
        yield release_id, album, fmt
    for release_id, (title, fmt, credits) in pending.items():
        if release_id not in direct:
            paired = pair_album(title, credits, prefs, aliases, matched.get(release_id))
            if paired is not None:
                yield release_id, paired, fmt


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]


def preference_matches(
    conn: Connection, prefs: Preferences, matched: Mapping[int, AlbumKey] | None = None
) -> tuple[set[int], set[int]]:
    """Ids of releases (in duplicated masters) that carry a preferred label for their album,
    and of those in a format the station owns it in. `matched`: release id -> the album
    key the classifier matched it to (the pairing's fallback)."""
    if not prefs:
        return set(), set()
    matched = matched or {}
    aliases = read_alias_keys(conn, {artist for artist, _ in prefs})
    wanted: dict[int, frozenset[str]] = {}
    formats: set[int] = set()
    owned = any(pref.formats for pref in prefs.values())
    for rid, album, fmt in _candidates(conn, prefs, aliases, matched, owned):
        pref = prefs[album]
        if pref.labels:
            wanted[rid] = pref.labels
        if pref.formats and format_family(fmt) in pref.formats:
            formats.add(rid)
    rl = ReleaseLabel.__table__
    ids_param = sa.bindparam("ids", type_=ARRAY(sa.Integer))
    query = select(rl.c.release_id, rl.c.label_name).where(rl.c.release_id == sa.any_(ids_param))
    labels: set[int] = set()
    for chunk in _chunks(sorted(wanted)):
        for release_id, label in driver_rows(conn, query.params(ids=chunk)):
            if label_key(label) in wanted[release_id]:
                labels.add(release_id)
    return labels, formats
