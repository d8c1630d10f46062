"""Shared pieces of the refresh tests: two versions of the demo dump and the consumer reads.

Version 2 is version 1 with every release's `released` set to 1901 and every track title
suffixed " v2": the same releases survive classification, dedup and prune (none of them
look at those fields), so a reader can tell, from any one row, which cache it came from.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import psycopg

from discogs_cache.convert import convert
from discogs_cache.demo import demo_data

LIBRARY = demo_data() / "library.db"
V2_YEAR = 1901
V2_SUFFIX = " v2"

TRIGRAM_NAMES = (
    "ix_release_title_trgm",
    "ix_release_artist_artist_name_trgm",
    "ix_release_track_title_trgm",
    "ix_release_track_artist_artist_name_trgm",
)
INDEXES_SQL = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname = ANY(%s)"
RELEASE_SQL = "SELECT id, title, release_year FROM release WHERE id = %s"
ARTISTS_SQL = (
    "SELECT artist_name FROM release_artist WHERE release_id = %s AND extra = 0 "
    "ORDER BY artist_name"
)
TRACKS_SQL = "SELECT title FROM release_track WHERE release_id = %s ORDER BY sequence"
SEARCHES = (
    "SELECT id, title FROM release WHERE lower(f_unaccent(title)) %% lower(f_unaccent(%s)) "
    "ORDER BY similarity(lower(f_unaccent(title)), lower(f_unaccent(%s))) DESC LIMIT 5",
    "SELECT release_id, artist_name FROM release_artist "
    "WHERE lower(f_unaccent(artist_name)) %% lower(f_unaccent(%s)) "
    "ORDER BY similarity(lower(f_unaccent(artist_name)), lower(f_unaccent(%s))) DESC LIMIT 5",
    "SELECT release_id, title FROM release_track "
    "WHERE lower(f_unaccent(title)) %% lower(f_unaccent(%s)) "
    "ORDER BY similarity(lower(f_unaccent(title)), lower(f_unaccent(%s))) DESC LIMIT 5",
)


def asyncpg_sql(query: str) -> str:
    """The same statement for asyncpg: $1 placeholders, `%` unescaped (trigram operator)."""
    return query.replace("%s", "$1").replace("%%", "%")


def make_versions(base: Path) -> dict[str, Path]:
    """v1: the demo dump converted; v2: see the module docstring; half: v1 with only the
    first half of its releases (for the shrink guard)."""
    v1 = base / "v1"
    convert(demo_data() / "pre2024", v1, workers=1)
    v2 = base / "v2"
    shutil.copytree(v1, v2)
    _rewrite(v2 / "release.csv", lambda row: {**row, "released": str(V2_YEAR)})
    _rewrite(v2 / "release_track.csv", lambda row: {**row, "title": row["title"] + V2_SUFFIX})
    half = base / "half"
    shutil.copytree(v1, half)
    with (v1 / "release.csv").open(newline="", encoding="utf-8") as handle:
        ids = sorted(int(r["id"]) for r in csv.DictReader(handle))
    keep = {str(i) for i in ids[: len(ids) // 2]}
    _rewrite(half / "release.csv", lambda row: row if row["id"] in keep else None)
    return {"v1": v1, "v2": v2, "half": half}


def _rewrite(path: Path, change: Any) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = [r for r in (change(row) for row in reader) if r is not None]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def readable_ids(conn: psycopg.Connection, limit: int = 25) -> list[int]:
    """Releases with main artists and tracks (what a consumer reads)."""
    rows = conn.execute(
        "SELECT r.id FROM release r WHERE EXISTS (SELECT FROM release_track t "
        "WHERE t.release_id = r.id) AND EXISTS (SELECT FROM release_artist a "
        "WHERE a.release_id = r.id AND a.extra = 0) ORDER BY r.id LIMIT %s",
        (limit,),
    ).fetchall()
    return [r[0] for r in rows]


def judge(
    release: tuple[Any, ...] | None,
    artists: list[str],
    tracks: list[str],
    found_tracks: list[str],
    release_again: tuple[Any, ...] | None,
) -> str:
    """'v1' or 'v2' for one consistent read transaction; raises AssertionError otherwise."""
    assert release is not None, "a release vanished"
    assert artists, f"release {release[0]} without main artists"
    assert tracks, f"release {release[0]} without tracks"
    version = "v2" if release[2] == V2_YEAR else "v1"
    marks = {t.endswith(V2_SUFFIX) for t in tracks + found_tracks}
    assert marks == {version == "v2"}, f"mixed caches in one transaction: {release} {tracks}"
    assert release_again == release, "the release changed inside the transaction"
    return version
