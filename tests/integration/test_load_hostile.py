"""`load` on the converter's CSVs of real dump records with bad ids injected: each such row
is counted and skipped (direct COPY and staged files alike), never fatal to the load."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from discogs_cache.convert import convert
from discogs_cache.db import conninfo
from discogs_cache.load import load

RELEASES = "discogs_20200806_releases.xml.gz"


def _edit(
    path: Path, match: Callable[[dict[str, str]], bool], column: str, value: str
) -> dict[str, str]:
    """Set `column` to `value` in the first row `match`es; that row."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames or ()), list(reader)
    row = next(r for r in rows if match(r))
    row[column] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return row


def _keys(url: str, query: str) -> set[tuple[object, ...]]:
    with psycopg.connect(conninfo(url)) as conn:
        return set(conn.execute(query).fetchall())


TRACKS = "SELECT release_id, sequence FROM release_track"
CREDITS = "SELECT release_id, artist_name FROM release_artist"


@pytest.mark.parametrize("workers", [None, 1], ids=["default-lanes", "one-lane"])
def test_rows_with_ids_no_integer_are_counted_and_skipped(
    samples_dir: Path,
    pg_database_factory: Callable[[], str],
    tmp_path: Path,
    workers: int | None,
) -> None:
    clean_csv, bad_csv = tmp_path / "clean", tmp_path / "bad"
    convert(samples_dir / RELEASES, clean_csv, workers=1)
    shutil.copytree(clean_csv, bad_csv)
    big = str(2**31)
    _edit(bad_csv / "release.csv", lambda r: r["id"] == "1", "master_id", "abc")
    credit = _edit(
        bad_csv / "release_artist.csv", lambda r: r["release_id"] == "2", "artist_id", big
    )
    first_track = ("3", "1")
    track = _edit(
        bad_csv / "release_track.csv",
        lambda r: (r["release_id"], r["sequence"]) == first_track,
        "sequence",
        "x1",
    )
    assert (credit["release_id"], track["release_id"]) == ("2", "3")
    clean, hostile = pg_database_factory(), pg_database_factory()
    good = load(clean, clean_csv, workers=workers)
    summary = load(hostile, bad_csv, workers=workers)
    assert summary.bad_integers == {
        "release.csv": 1, "release_artist.csv": 1, "release_track.csv": 1
    }  # fmt: skip
    assert summary.loaded("release") == good.loaded("release") - 1
    ids = _keys(clean, "SELECT id FROM release") - {(1,)}
    assert _keys(hostile, "SELECT id FROM release") == ids
    credits = {k for k in _keys(clean, CREDITS) if k[0] != 1} - {(2, credit["artist_name"])}
    assert _keys(hostile, CREDITS) == credits
    tracks = {k for k in _keys(clean, TRACKS) if k[0] != 1} - {(3, 1)}
    assert _keys(hostile, TRACKS) == tracks
    release_1_tracks = len({k for k in _keys(clean, TRACKS) if k[0] == 1})
    assert summary.counts("release_track").missing_release == release_1_tracks
