"""The derived lookup tables stay equal to a rebuild through load, write-backs, prune, copy-to.

Write-backs are the plain SQL of SPEC "Consumers" (no library involved): what they write is
found by the exact-key path at once, and a delete removes it.
"""

from __future__ import annotations

import gzip
import re
import sys
import threading
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from discogs_cache import lookup_tables, migrate, query
from discogs_cache.db import conninfo
from discogs_cache.library.catalog import read_catalog
from discogs_cache.load import load
from discogs_cache.normalize import artist_key, normalize_title
from discogs_cache.prune import copy_to, prune
from discogs_cache.verify import classify_cache
from discogs_cache.writeback import Credit, NewRelease, NewTrack, store_release
from tests.conftest import SAMPLES
from tests.integration.test_verify import fill_cache, make_library

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from synth import write_synthetic_csvs

CLEAN = {"release_key": (0, 0), "track_key": (0, 0), "lookup_artist_name": (0, 0)}

WRITE_BACK = """
INSERT INTO release (id, title, release_year, country) VALUES (%(id)s, %(title)s, 1987, 'UK')
ON CONFLICT (id) DO UPDATE SET title = excluded.title;
INSERT INTO release_artist (release_id, artist_name, extra) VALUES (%(id)s, %(artist)s, 0)
ON CONFLICT (release_id, artist_name) DO NOTHING;
DELETE FROM release_track_artist WHERE release_id = %(id)s;
DELETE FROM release_track WHERE release_id = %(id)s;
INSERT INTO release_track (release_id, sequence, position, title)
VALUES (%(id)s, 1, 'A1', %(track)s), (%(id)s, 2, 'A2', 'Slipping Away');
INSERT INTO release_track_artist (release_id, track_sequence, artist_name)
VALUES (%(id)s, 2, 'Guest Singer');
INSERT INTO cache_metadata (release_id, source) VALUES (%(id)s, 'api_fetch')
ON CONFLICT (release_id) DO UPDATE SET source = 'api_fetch', cached_at = now();
"""


def check(url: str) -> dict[str, tuple[int, int]]:
    with psycopg.connect(conninfo(url)) as conn:
        return lookup_tables.check(conn)


def _write_back(url: str, **values: object) -> None:
    with psycopg.connect(conninfo(url)) as conn:
        for statement in WRITE_BACK.strip().split(";\n"):
            conn.execute(statement, values)


def test_plain_sql_write_back_is_found_at_once_and_delete_removes_it(
    engine: sa.Engine, pg_url: str
) -> None:
    assert check(pg_url) == CLEAN
    release = {"id": 777, "title": "Whenever You Need Somebody (Remastered)", "track": "Together"}
    _write_back(pg_url, artist="Rick Astley", **release)
    found = query.lookup_release(engine, "rick astley", "Whenever You Need Somebody")
    assert found.exact and [m.release_id for m in found.matches] == [777]
    tracks = query.lookup_track(engine, "RICK ASTLEY", "together")
    assert tracks.exact and [(m.release_id, m.sequence) for m in tracks.matches] == [(777, 1)]
    guest = query.lookup_track(engine, "Guest Singer", "Slipping Away")
    assert guest.exact and [(m.release_id, m.sequence) for m in guest.matches] == [(777, 2)]
    assert [m.release_id for m in query.search_releases(engine, artist="Rick Astlye")] == [777]
    assert check(pg_url) == CLEAN

    # the tracklist replaced, the title changed: old keys gone, new ones there
    _write_back(pg_url, artist="Rick Astley", id=777, title="Hold Me In Your Arms", track="Dial")
    assert not query.lookup_track(engine, "Rick Astley", "Together").exact
    assert query.lookup_track(engine, "Rick Astley", "Dial").exact
    assert not query.lookup_release(engine, "Rick Astley", "Whenever You Need Somebody").exact
    assert query.lookup_release(engine, "Rick Astley", "Hold Me In Your Arms").exact
    assert check(pg_url) == CLEAN

    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute("DELETE FROM release WHERE id = 777")
    gone = query.lookup_release(engine, "Rick Astley", "Hold Me In Your Arms")
    assert not gone.exact and gone.matches == []
    assert query.search_releases(engine, artist="Rick Astley") == []
    assert check(pg_url) == CLEAN
    with psycopg.connect(conninfo(pg_url)) as conn:
        assert conn.execute(
            "SELECT count(*) FROM lookup_artist_name WHERE name = 'rick astley'"
        ).fetchone() == (0,)


def test_library_write_back_and_credit_changes_keep_the_tables_exact(
    engine: sa.Engine, pg_url: str
) -> None:
    new = NewRelease(
        id=900,
        title="Technique",
        artists=(Credit("New Order"), Credit("Stephen Hague", extra=True)),
        tracks=(NewTrack(1, "Fine Time"), NewTrack(2, "Round & Round", artists=("Guest",))),
    )
    store_release(engine, new)
    store_release(engine, new)  # idempotent: same derived rows
    assert check(pg_url) == CLEAN
    assert query.lookup_track(engine, "New Order", "Round and Round").exact
    with psycopg.connect(conninfo(pg_url)) as conn:
        names = "SELECT refs FROM lookup_artist_name WHERE name = 'new order'"
        before = conn.execute(names).fetchone()
        conn.execute("UPDATE release_artist SET extra = 1 WHERE release_id = 900")
        conn.execute("DELETE FROM release_track_artist WHERE release_id = 900")
        conn.commit()
        assert conn.execute(names).fetchone() == (before[0] - 1,)  # type: ignore[index]
    assert not query.lookup_release(engine, "New Order", "Technique").exact
    assert check(pg_url) == CLEAN


def test_load_builds_them_and_check_sees_a_drift(pg_url: str, tmp_path: Path) -> None:
    write_synthetic_csvs(tmp_path, 300)
    load(pg_url, tmp_path)
    assert check(pg_url) == CLEAN
    with psycopg.connect(conninfo(pg_url)) as conn:
        counts = [
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in ("release_key", "track_key", "lookup_artist_name")
        ]
        assert all(counts), counts
        conn.execute("SET discogs_cache.bulk_lookup = on")  # a write that skips the triggers
        conn.execute("DELETE FROM release_key WHERE release_id = (SELECT min(id) FROM release)")
        conn.commit()
    drift = check(pg_url)
    assert drift["release_key"][0] > 0 and drift["release_key"][1] == 0
    with psycopg.connect(conninfo(pg_url)) as conn:
        lookup_tables.rebuild(conn)
        conn.commit()
    assert check(pg_url) == CLEAN


@pytest.mark.parametrize("strategy", ["delete", "copy"])
def test_prune_and_copy_to_trim_them(
    pg_url: str, pg_database_factory: object, tmp_path: Path, strategy: str
) -> None:
    fill_cache(pg_url)
    assert check(pg_url) == CLEAN
    classification = classify_cache(pg_url, read_catalog(make_library(tmp_path / "l.db")))
    target = pg_database_factory()  # type: ignore[operator]
    copy_to(pg_url, target, classification)
    assert check(target) == CLEAN
    prune(pg_url, classification, strategy=strategy)
    assert check(pg_url) == CLEAN
    with psycopg.connect(conninfo(pg_url)) as conn:
        kept = conn.execute("SELECT count(DISTINCT release_id) FROM release_key").fetchone()
        assert kept == conn.execute("SELECT count(*) FROM release").fetchone()
        # the triggers are on again after the bulk step
        conn.execute("DELETE FROM release_artist WHERE extra = 0")
        assert conn.execute("SELECT count(*) FROM release_key").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM lookup_artist_name").fetchone() == (0,)


def test_upgrade_derives_existing_rows_and_downgrade_removes_everything(
    empty_pg_url: str,
) -> None:
    migrate.upgrade(empty_pg_url, "0005")
    fill_cache(empty_pg_url)
    migrate.upgrade(empty_pg_url, "0006")
    assert check(empty_pg_url) == CLEAN
    assert migrate.check(empty_pg_url) == []
    migrate.downgrade(empty_pg_url, "0005")
    with psycopg.connect(conninfo(empty_pg_url)) as conn:
        leftovers = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname IN"
            " ('release_key', 'track_key', 'lookup_artist_name')"
            " UNION ALL SELECT count(*) FROM pg_proc WHERE proname LIKE 'lookup%%'"
            " UNION ALL SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'lookup%%'"
        ).fetchall()
        assert leftovers == [(0,), (0,), (0,)]
        conn.execute("DELETE FROM release")  # the base tables work without the triggers
    migrate.upgrade(empty_pg_url)
    assert check(empty_pg_url) == CLEAN


def _sample_names() -> tuple[set[str], set[str]]:
    """Artist names and titles of the real dump excerpts."""
    artists: set[str] = set()
    titles: set[str] = set()
    name = re.compile(rb"<name>([^<]*)</name>")
    title = re.compile(rb"<title>([^<]*)</title>")
    for path in sorted(Path(SAMPLES).glob("*releases*.xml.gz")):
        data = gzip.decompress(path.read_bytes())
        artists |= {m.decode() for m in name.findall(data)}
        titles |= {m.decode() for m in title.findall(data)}
    return artists, titles


def test_sql_keys_equal_normalize_on_real_names(pg_url: str) -> None:
    """The SQL twins give `normalize`'s keys on every artist name and title of the samples."""
    import html

    artists, titles = _sample_names()
    artists = {html.unescape(a) for a in artists if a.strip()}
    titles = {html.unescape(t) for t in titles if t.strip()}
    assert len(artists) > 1000 and len(titles) > 5000
    with psycopg.connect(conninfo(pg_url)) as conn:
        sql_artists = dict(
            conn.execute(
                "SELECT n, public.lookup_artist_key(n) FROM unnest(%s::text[]) n",
                (sorted(artists),),
            ).fetchall()
        )
        sql_titles = dict(
            conn.execute(
                "SELECT n, public.lookup_title_key(n) FROM unnest(%s::text[]) n", (sorted(titles),)
            ).fetchall()
        )
    bad_artists = [a for a in artists if sql_artists[a] != artist_key(a)]
    bad_titles = [t for t in titles if sql_titles[t] != normalize_title(t)]
    assert (sorted(bad_artists)[:10], sorted(bad_titles)[:10]) == ([], [])


def test_a_lookup_past_its_timeout_fails_clearly(engine: sa.Engine, pg_url: str) -> None:
    locked = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        with psycopg.connect(conninfo(pg_url)) as conn:
            conn.execute("LOCK TABLE release IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(30)
        with pytest.raises(query.LookupTimeout, match=r"0\.2 s statement timeout"):
            query.lookup_release(engine, "Björk", "Homogenic", timeout=0.2)
    finally:
        release.set()
        holder.join()
    assert query.lookup_release(engine, "Björk", "Homogenic").exact
