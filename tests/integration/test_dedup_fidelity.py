"""Dedup keeps the station's pressing: one case per cause (issue 18), each asserting the
release that survives its master. Rows are inserted directly; the real record with
sub-tracks goes through convert's own row writer."""

from __future__ import annotations

import gzip
from array import array
from collections import defaultdict
from pathlib import Path

import psycopg
from lxml import etree

from discogs_cache.convert.releases import release_rows
from discogs_cache.db import conninfo
from discogs_cache.dedup import dedup
from discogs_cache.matcher.albums import album_key
from tests.integration.test_dedup import R, ids, load, pref

SUITE = "4497810"
"""A real record (Brandenburg Concertos, Vinyl) whose tracks are index tracks with parts."""


def set_formats(url: str, formats: dict[int, str]) -> None:
    with psycopg.connect(conninfo(url)) as conn:
        for rid, fmt in formats.items():
            conn.execute("UPDATE release SET format = %s WHERE id = %s", (fmt, rid))


def test_alias_credited_album_gets_its_label(pg_url: str) -> None:
    load(
        pg_url,
        [
            R(1, 100, country="UK", labels=("Bad Boy",), title="Press Play", artist="Diddy"),
            R(
                2,
                100,
                country="US",
                tracks=9,
                labels=("Other",),
                title="Press Play",
                artist="Diddy",
            ),
        ],
    )
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute("UPDATE release_artist SET artist_id = 5 WHERE artist_name = 'Diddy'")
        conn.execute("INSERT INTO artist_alias VALUES (5, 'Puff Daddy'), (5, 'P. Diddy')")
    summary = dedup(pg_url, label_preferences=[pref("Puff Daddy", "Press Play", "Bad Boy")])
    assert ids(pg_url) == {1}
    assert summary.decided_by["label"] == 1


def test_typod_catalogue_title_pairs_through_the_classifiers_match(pg_url: str) -> None:
    load(
        pg_url,
        [
            R(3, 300, labels=("Blue Note",), title="Blue Train", artist="John Coltrane"),
            R(4, 300, country="US", labels=("Other",), title="Blue Train", artist="John Coltrane"),
        ],
    )
    typo = album_key("John Coltrane", "Blue Trian")
    dedup(
        pg_url,
        label_preferences=[pref("John Coltrane", "Blue Trian", "Blue Note")],
        matched_albums={3: typo, 4: typo},
    )
    assert ids(pg_url) == {3}


def test_the_classifiers_match_loses_to_a_direct_pairing(pg_url: str) -> None:
    load(
        pg_url,
        [
            R(5, 500, labels=("Blue Note",), title="Blue Train", artist="John Coltrane"),
            R(
                6,
                500,
                country="US",
                labels=("Impulse!",),
                title="Blue Train",
                artist="John Coltrane (2)",
            ),
        ],
    )
    nearest = album_key("John Coltrane", "Blue Trains")  # what the classifier matched
    dedup(
        pg_url,
        label_preferences=[
            pref("John Coltrane", "Blue Train", "Blue Note"),
            pref("John Coltrane", "Blue Trains", "Impulse!"),
        ],
        matched_albums={5: nearest, 6: nearest},
    )
    assert ids(pg_url) == {5}


def test_owned_format_beats_us_and_tracks(pg_url: str) -> None:
    load(pg_url, [R(7, 700, country="US", tracks=12), R(8, 700, country="UK", tracks=10)])
    set_formats(pg_url, {7: "Vinyl", 8: "CD"})
    owned = {album_key("Beatles, The", "Abbey Road"): frozenset({"CD"})}
    summary = dedup(pg_url, owned_formats=owned)
    assert ids(pg_url) == {8}
    assert summary.decided_by["format"] == 1 and summary.format_matched == 1
    assert ("decided by format", 1) in summary.rows()


def test_label_still_beats_the_owned_format(pg_url: str) -> None:
    load(pg_url, [R(9, 900, labels=("Apple",)), R(10, 900)])
    set_formats(pg_url, {9: "Vinyl", 10: "CD"})
    owned = {album_key("The Beatles", "Abbey Road"): frozenset({"CD"})}
    summary = dedup(pg_url, label_preferences=[pref("Beatles", "Abbey Road", "Apple")],
                    owned_formats=owned)  # fmt: skip
    assert ids(pg_url) == {9}
    assert summary.decided_by["label"] == 1


def _suite_rows(samples_dir: Path) -> dict[str, list[tuple]]:
    with gzip.open(samples_dir / "discogs_20200806_releases.xml.gz", "rb") as src:
        for _, el in etree.iterparse(src, tag="release"):
            if el.get("id") == SUITE:
                rows: dict[str, list[tuple]] = defaultdict(list)
                release_rows(el, rows, array("q"))
                return rows
            el.clear()
    raise AssertionError(f"release {SUITE} not in the sample")


def test_index_rows_are_not_playable_tracks(pg_url: str, samples_dir: Path) -> None:
    rows = _suite_rows(samples_dir)
    tracks = rows["release_track"]
    assert (len(tracks), sum(1 for t in tracks if not t[2] and not t[4])) == (23, 6)
    # a rival pressing of the same master with 18 plain tracks: more than the suite's 17
    # playable ones (its sub-tracks), fewer than its 23 rows
    load(pg_url, [R(int(SUITE), 1234, tracks=0, title="Brandenburg"),
                  R(11, 1234, tracks=18, title="Brandenburg")])  # fmt: skip
    with psycopg.connect(conninfo(pg_url)) as conn:
        for rid, seq, position, title, duration in tracks:
            conn.execute(
                "INSERT INTO release_track VALUES (%s, %s, %s, %s, %s)",
                (int(rid), int(seq), position, title, duration),
            )
        conn.execute("SELECT 1 FROM release_track WHERE release_id = %s", (int(SUITE),))
    summary = dedup(pg_url)
    assert ids(pg_url) == {11}
    assert summary.decided_by["tracks"] == 1
