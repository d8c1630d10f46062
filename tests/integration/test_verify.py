"""verify against a real cache: the report is right and nothing in the database changes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
from psycopg import sql

from discogs_cache.db import conninfo
from discogs_cache.schema import ALL_TABLES
from discogs_cache.verify import format_report, verify

LIBRARY_ROWS = [
    (1, "Abbey Road", "Beatles, The"),
    (2, "Hejira", "Joni Mitchell"),
    (3, "Songs For Drella", "John Cale"),
    (4, "Transformer", "Lou Reed"),
    (5, "I See A Darkness", "Will Oldham"),
    (6, "Pulp Fiction", "Soundtrack"),
]
# id, title, main credits (name, artist id), expected decision
RELEASES = [
    (1, "Abbey Road", [("The Beatles", 10)], "KEEP"),
    (2, "Rubber Soul", [("The Beatles", 10)], "PRUNE"),
    (3, "Hegyra", [("Joni Mitchell", 11)], "REVIEW"),
    (4, "Songs For Drella", [("Lou Reed", 12), ("John Cale", 13)], "KEEP"),
    (5, "I See A Darkness", [('Bonnie "Prince" Billy', 42)], "KEEP"),
    (6, "Abbey Road", [("Beatles Tribute Band", 14)], "PRUNE"),
    (7, "Pulp Fiction (Music From The Motion Picture)", [("Various", 194)], "KEEP"),
    (8, "Lulu", [("Lou Reed", 12), ("Metallica", 15)], "PRUNE"),
    (9, "Transformer (Remastered)", [("Lou Reed", 12)], "KEEP"),
]
TABLES = ALL_TABLES


def expected(decision: str) -> set[int]:
    return {r[0] for r in RELEASES if r[3] == decision}


def make_library(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE library (id INTEGER PRIMARY KEY, title TEXT, artist TEXT)")
        conn.executemany("INSERT INTO library VALUES (?, ?, ?)", LIBRARY_ROWS)
    conn.close()
    return path


def fill_cache(url: str) -> None:
    """Every release with credits, a credit from extraartists, labels, tracks, metadata."""
    with psycopg.connect(conninfo(url)) as conn:
        for rid, title, credits, _ in RELEASES:
            conn.execute(
                "INSERT INTO release (id, title, release_year, country, master_id) "
                "VALUES (%s, %s, 1990, 'US', %s)",
                (rid, title, 100 + rid),
            )
            for name, artist_id in credits:
                conn.execute(
                    "INSERT INTO release_artist (release_id, artist_name, artist_id, extra) "
                    "VALUES (%s, %s, %s, 0)",
                    (rid, name, artist_id),
                )
            conn.execute(
                "INSERT INTO release_artist (release_id, artist_name, artist_id, extra) "
                "VALUES (%s, 'George Martin', 99, 1)",
                (rid,),
            )
            conn.execute(
                "INSERT INTO release_label (release_id, label_name, catno) VALUES (%s, 'L', 'C1')",
                (rid,),
            )
            for seq in (1, 2):
                conn.execute(
                    "INSERT INTO release_track (release_id, sequence, position, title, duration) "
                    "VALUES (%s, %s, %s, %s, '3:00')",
                    (rid, seq, f"A{seq}", f"Track {seq} of {rid}"),
                )
                conn.execute(
                    "INSERT INTO release_track_artist (release_id, track_sequence, artist_name) "
                    "VALUES (%s, %s, 'Guest')",
                    (rid, seq),
                )
            conn.execute(
                "INSERT INTO cache_metadata (release_id, source) VALUES (%s, 'bulk_import')",
                (rid,),
            )
            for statement in (
                "INSERT INTO release_genre VALUES (%s, 'Rock'), (%s, 'Folk')",
                "INSERT INTO release_style VALUES (%s, 'Indie'), (%s, 'Alt')",
                "INSERT INTO release_video (release_id, sequence, src) VALUES (%s, 1, 'v'),"
                " (%s, 2, 'w')",
            ):
                conn.execute(statement, (rid, rid))
        conn.execute(
            "INSERT INTO artist_alias (artist_id, alias_name) VALUES "
            "(42, 'Will Oldham'), (42, 'Palace Music'), (14, 'Fab Faux')"
        )
        conn.execute(
            "INSERT INTO artist (id, name) VALUES (42, 'Bonnie Prince Billy'), (14, 'Faux');"
            "INSERT INTO artist_name_variation VALUES (42, 'Bonnie Billy'), (14, 'The Faux');"
            "INSERT INTO artist_member (artist_id, member_name) VALUES (14, 'A');"
            "INSERT INTO artist_url VALUES (42, 'http://42')"
        )


def checksums(url: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of every row of every cache table."""
    result = {}
    with psycopg.connect(conninfo(url)) as conn:
        for table in TABLES:
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) "
                "FROM {} t"
            ).format(sql.Identifier(table))
            row = conn.execute(query).fetchone()
            assert row is not None
            result[table] = (row[0], row[1])
    return result


def test_verify_reports_and_changes_nothing(pg_url: str, tmp_path: Path) -> None:
    fill_cache(pg_url)
    library = make_library(tmp_path / "library.db")
    before = checksums(pg_url)
    template = tmp_path / "mappings.json"
    report = verify(pg_url, library, write_mappings=template)
    assert checksums(pg_url) == before
    assert report.classification.keep_ids == expected("KEEP")
    assert report.classification.review_ids == expected("REVIEW")
    assert report.classification.prune_ids == expected("PRUNE")
    assert (report.library_albums, report.library_artists) == (6, 6)
    tables = {t.table: t for t in report.tables}
    assert tables["release"].rows == 9 and tables["release"].rows_pruned == 3
    assert tables["release_track"].rows == 18 and tables["release_track"].rows_pruned == 6
    assert tables["release_artist"].rows_pruned == 4 + 3  # main credits + extraartists
    assert report.bytes_saved > 0
    assert [(r.artist, r.best_title) for r in report.review] == [("Joni Mitchell", "Hejira")]
    text = format_report(report)
    assert "REVIEW" in text and "Joni Mitchell" in text and "estimated space saved" in text
    data = json.loads(json.dumps(report.to_json()))
    assert data["decisions"] == {"PRUNE": 3, "REVIEW": 1, "KEEP": 5}
    assert json.loads(template.read_text())["review"]["Joni Mitchell"]["best_match"] == (
        "Joni Mitchell"
    )


def test_verify_without_aliases_loses_the_alias_release(pg_url: str, tmp_path: Path) -> None:
    """The alias table is what keeps "Bonnie 'Prince' Billy" for a library "Will Oldham"."""
    fill_cache(pg_url)
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute("DELETE FROM artist_alias")
    report = verify(pg_url, make_library(tmp_path / "library.db"))
    assert 5 in report.classification.prune_ids
