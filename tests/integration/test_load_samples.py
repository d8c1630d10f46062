"""Loading the real 2020 dump excerpt: an lxml-written CSV set (independent of `convert`),
and the output of `convert` itself; row counts must match what was written."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import psycopg
from lxml import etree

from discogs_cache.convert import convert
from discogs_cache.db import conninfo
from discogs_cache.load import load

RELEASES = "discogs_20200806_releases.xml.gz"


def _text(el: etree._Element, path: str) -> str:
    found = el.find(path)
    return (found.text or "") if found is not None else ""


def write_sample_csvs(xml: Path, out: Path) -> dict[str, int]:
    """release/release_artist/release_track CSVs straight from the XML; returns rows written."""
    out.mkdir()
    counts = {"release": 0, "release_artist": 0, "release_track": 0, "titled_tracks": 0}
    with (
        gzip.open(xml, "rb") as src,
        open(out / "release.csv", "w", newline="", encoding="utf-8") as rf,
        open(out / "release_artist.csv", "w", newline="", encoding="utf-8") as af,
        open(out / "release_track.csv", "w", newline="", encoding="utf-8") as tf,
    ):
        rel, art, trk = csv.writer(rf), csv.writer(af), csv.writer(tf)
        rel.writerow(["id", "title", "country", "released", "master_id"])
        art.writerow(["release_id", "artist_id", "artist_name", "extra"])
        trk.writerow(["release_id", "sequence", "position", "title", "duration"])
        for _, el in etree.iterparse(src, tag="release"):
            rid = el.get("id")
            rel.writerow([rid, _text(el, "title"), _text(el, "country"), _text(el, "released"),
                          _text(el, "master_id")])  # fmt: skip
            counts["release"] += 1
            names = {_text(a, "name") for a in el.iterfind("artists/artist")}
            for name in sorted(names):
                art.writerow([rid, "", name, 0])
                counts["release_artist"] += 1
            for seq, track in enumerate(el.iterfind("tracklist/track"), start=1):
                title = _text(track, "title")
                trk.writerow([rid, seq, _text(track, "position"), title, _text(track, "duration")])
                counts["release_track"] += 1
                counts["titled_tracks"] += bool(title)
            el.clear()
    return counts


def count(url: str, table: str) -> int:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # fixed table names
    return int(row[0]) if row else 0


def test_real_sample_via_lxml(pg_url: str, samples_dir: Path, tmp_path: Path) -> None:
    written = write_sample_csvs(samples_dir / RELEASES, tmp_path / "csv")
    summary = load(pg_url, tmp_path / "csv")
    assert written["release"] == 1000
    assert count(pg_url, "release") == summary.loaded("release") == 1000
    assert count(pg_url, "release_artist") == written["release_artist"]
    assert count(pg_url, "release_track") == written["titled_tracks"]
    assert summary.counts("release_track").empty_required == (
        written["release_track"] - written["titled_tracks"]
    )
    assert count(pg_url, "cache_metadata") == 1000


# table -> (required CSV columns, key columns): the loader's rules, restated for the check
_RULES = {
    "release_artist": (("release_id", "artist_name"), ("release_id", "artist_name")),
    "release_label": (("release_id", "label"), ("release_id", "label", "catno")),
    "release_track": (("release_id", "sequence", "title"), ("release_id", "sequence")),
    "release_track_artist": (
        ("release_id", "track_sequence", "artist_name"),
        ("release_id", "track_sequence", "artist_name", "extra"),
    ),
}


def expected_counts(csv_dir: Path, table: str) -> tuple[int, int, int]:
    """(CSV rows, rows with an empty required field, duplicate keys among the rest), counted
    from the file itself, independently of the loader."""
    required, key = _RULES[table]
    with (csv_dir / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    complete = [r for r in rows if all(r[c] for c in required)]
    keys = {tuple(r.get(c) or "" for c in key) for r in complete}  # absent extra: 0 for all
    return len(rows), len(rows) - len(complete), len(complete) - len(keys)


def test_real_sample_via_convert(pg_url: str, samples_dir: Path, tmp_path: Path) -> None:
    converted = convert(samples_dir / RELEASES, tmp_path / "csv")
    summary = load(pg_url, tmp_path / "csv")
    assert converted.releases_kept == 1000 and converted.bad_records == 0
    assert count(pg_url, "release") == summary.loaded("release") == 1000
    for table in _RULES:
        c = summary.counts(table)
        rows, empty, duplicates = expected_counts(tmp_path / "csv", table)
        assert (c.source_rows, c.empty_required, c.missing_release, c.duplicates) == (
            rows, empty, 0, duplicates,
        ), table  # fmt: skip
        assert count(pg_url, table) == c.loaded == rows - empty - duplicates
    with (tmp_path / "csv" / "release.csv").open(encoding="utf-8", newline="") as handle:
        released = [row["released"][:4] for row in csv.DictReader(handle)]
    dated = sum(1 for y in released if y.isdigit() and 1900 <= int(y) <= 2021)
    with psycopg.connect(conninfo(pg_url)) as conn:
        years = conn.execute(
            "SELECT count(*) FILTER (WHERE release_year BETWEEN 1900 AND 2021) FROM release"
        ).fetchone()
    assert years == (dated,)
