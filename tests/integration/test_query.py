"""The consumer API against a small loaded cache: accents, typos, compilations, limits."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from discogs_cache import query
from discogs_cache.db import create_engine
from discogs_cache.errors import InputError

# (id, title, year, country, artwork, master, main artists, extra artists, tracks)
# tracks: (title, [track artists])
FIXTURE = [
    (
        1,
        "Homogenic",
        1997,
        "UK",
        "https://img.example/homogenic.jpg",
        10,
        ["Björk"],
        [],
        [("Hunter", []), ("Jóga", []), ("Bachelorette", [])],
    ),
    (
        2,
        "Debut",
        1993,
        "UK",
        None,
        11,
        ["Björk"],
        [],
        [("Human Behaviour", []), ("Venus As A Boy", [])],
    ),
    (
        3,
        "Substance",
        1987,
        "US",
        "https://img.example/substance.jpg",
        12,
        ["New Order"],
        [],
        [("Ceremony", []), ("Blue Monday", []), ("True Faith", [])],
    ),
    (
        4,
        "Now That's What I Call Music 1983",
        1983,
        "UK",
        None,
        None,
        ["Various"],
        [],
        [
            ("Relax", ["Frankie Goes To Hollywood"]),
            ("Blue Monday", ["New Order"]),
            ("Karma Chameleon", ["Culture Club"]),
        ],
    ),
    (
        5,
        "OK Computer",
        1997,
        "UK",
        None,
        13,
        ["Radiohead"],
        ["Nigel Godrich"],
        [("Airbag", []), ("Paranoid Android", []), ("Karma Police", [])],
    ),
    (
        6,
        "Blue Monday & Other Hits",
        1960,
        "US",
        None,
        None,
        ["Fats Domino"],
        [],
        [("Blue Monday", []), ("Blueberry Hill", [])],
    ),
    (
        7,
        "Power, Corruption & Lies",
        1983,
        "UK",
        None,
        14,
        ["New Order"],
        [],
        [("Age Of Consent", []), ("Your Silent Face", [])],
    ),
]
RADIOHEAD_BOOTLEGS = range(100, 130)  # 30 more Radiohead releases, for limits


def load_fixture_cache(url: str) -> None:
    """Insert the fixture releases (and 30 Radiohead bootlegs) into a migrated database."""
    releases, artists, tracks, track_artists = [], [], [], []
    rows = list(FIXTURE) + [
        (i, f"Live Bootleg {i}", 2000, "US", None, None, ["Radiohead"], [], [("Creep", [])])
        for i in RADIOHEAD_BOOTLEGS
    ]
    for rid, title, year, country, art, master, mains, extras, tracklist in rows:
        releases.append(
            dict(
                id=rid,
                title=title,
                release_year=year,
                country=country,
                artwork_url=art,
                master_id=master,
            )
        )
        artists += [dict(release_id=rid, artist_name=a, extra=0) for a in mains]
        artists += [dict(release_id=rid, artist_name=a, extra=1) for a in extras]
        for seq, (track, names) in enumerate(tracklist, start=1):
            tracks.append(
                dict(release_id=rid, sequence=seq, position=f"A{seq}", title=track, duration="3:00")
            )
            track_artists += [
                dict(release_id=rid, track_sequence=seq, artist_name=n) for n in names
            ]
    from discogs_cache.schema import Release, ReleaseArtist, ReleaseTrack, ReleaseTrackArtist

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.insert(Release), releases)
        conn.execute(sa.insert(ReleaseArtist), artists)
        conn.execute(sa.insert(ReleaseTrack), tracks)
        conn.execute(sa.insert(ReleaseTrackArtist), track_artists)
    engine.dispose()


def test_get_release_with_artists_tracks_and_track_artists(engine: sa.Engine) -> None:
    release = query.get_release(engine, 4)
    assert release is not None
    assert release.title == "Now That's What I Call Music 1983"
    assert release.artists == ("Various",)
    assert [t.title for t in release.tracks] == ["Relax", "Blue Monday", "Karma Chameleon"]
    assert [t.sequence for t in release.tracks] == [1, 2, 3]
    assert release.tracks[1].artists == ("New Order",)
    ok = query.get_release(engine, 5)
    assert ok is not None and ok.artists == ("Radiohead",)  # extra credits are not main artists
    assert ok.release_year == 1997 and ok.master_id == 13 and ok.artwork_url is None


def test_missing_release_is_none(engine: sa.Engine) -> None:
    assert query.get_release(engine, 999_999_999) is None
    assert query.validate_track(engine, 999_999_999, "Hunter") is None


def test_accents_and_case_are_ignored(engine: sa.Engine) -> None:
    hits = query.search_releases(engine, artist="bjork")
    assert {h.release_id for h in hits} == {1, 2}
    assert hits[0].score == pytest.approx(1.0)
    assert query.search_releases(engine, artist="BJÖRK", title="homogenic")[0].release_id == 1
    assert [m.title for m in query.search_tracks(engine, "joga")] == ["Jóga"]


def test_typos_are_found_by_similarity(engine: sa.Engine) -> None:
    hits = query.search_releases(engine, artist="Radiohed", title="OK Computr")
    assert hits[0].release_id == 5 and 0.3 < hits[0].score < 1.0
    assert query.search_releases(engine, title="Homogenik")[0].release_id == 1
    assert query.search_tracks(engine, "Paranoid Andriod")[0].release_id == 5


def test_threshold_is_per_call(engine: sa.Engine) -> None:
    assert query.search_releases(engine, title="Homogenik", threshold=0.9) == []
    assert query.search_releases(engine, title="Homogenik")[0].release_id == 1
    with pytest.raises(InputError, match="between 0 and 1"):
        query.search_releases(engine, title="x", threshold=1.5)
    with engine.begin() as conn:  # inside a caller's transaction the setting is put back
        before = conn.scalar(sa.text("SELECT current_setting('pg_trgm.similarity_threshold')"))
        assert query.search_releases(conn, title="Homogenik", threshold=0.9) == []
        after = conn.scalar(sa.text("SELECT current_setting('pg_trgm.similarity_threshold')"))
        assert after == before


def test_search_by_title_artist_and_both(engine: sa.Engine) -> None:
    new_order = query.search_releases(engine, artist="new order")
    assert {h.release_id for h in new_order} == {3, 7}
    assert all(h.artists == ("New Order",) for h in new_order)
    both = query.search_releases(engine, artist="New Order", title="Substance")
    assert [h.release_id for h in both] == [3]
    assert both[0].artwork_url == "https://img.example/substance.jpg"
    assert query.search_releases(engine, artist="Nigel Godrich") == []  # extra credit only
    with pytest.raises(InputError):
        query.search_releases(engine, artist="  ", title=None)


def test_limits_are_respected(engine: sa.Engine) -> None:
    assert len(query.search_releases(engine, artist="Radiohead")) == query.DEFAULT_LIMIT
    assert len(query.search_releases(engine, artist="Radiohead", limit=5)) == 5
    assert len(query.search_releases(engine, artist="Radiohead", limit=100)) == 31
    assert len(query.search_tracks(engine, "Creep", limit=3)) == 3
    with pytest.raises(InputError, match="limit"):
        query.search_tracks(engine, "Creep", limit=0)


def test_track_search_finds_compilation_track_artists(engine: sa.Engine) -> None:
    hits = query.search_tracks(engine, "Blue Monday")
    assert {h.release_id for h in hits} >= {3, 4, 6}
    by_new_order = query.search_tracks(engine, "blue monday", artist="new order")
    assert {h.release_id for h in by_new_order} == {3, 4}  # album track + compilation credit
    compilation = next(h for h in by_new_order if h.release_id == 4)
    assert compilation.track_artists == ("New Order",)
    assert compilation.release_artists == ("Various",)
    assert compilation.sequence == 2 and compilation.position == "A2"
    fats = query.search_tracks(engine, "Blue Monday", artist="Fats Domino")
    assert [h.release_id for h in fats] == [6]
    # a compilation's other track is not credited to New Order
    assert query.search_tracks(engine, "Relax", artist="New Order") == []


def test_validate_track_uses_normalized_titles(engine: sa.Engine) -> None:
    result = query.validate_track(engine, 1, "JOGA")
    assert result is not None and result.matched and result.score == 1.0
    assert result.track is not None and result.track.title == "Jóga"
    close = query.validate_track(engine, 5, "Paranoid Androd")
    assert close is not None and close.matched and close.score < 1.0
    miss = query.validate_track(engine, 5, "Creep")
    assert miss is not None and not miss.matched
    assert query.validate_track(engine, 4, "power corruption and lies") is not None
    assert not query.validate_track(engine, 4, "Age of Consent").matched  # type: ignore[union-attr]


def test_artwork_url(engine: sa.Engine) -> None:
    assert query.artwork_url(engine, "Bjork", "Homogenic") == "https://img.example/homogenic.jpg"
    assert query.artwork_url(engine, "Radiohead", "OK Computer") is None  # no image cached
    assert query.artwork_url(engine, "Nobody", "Nothing") is None


def test_async_variants_match_sync(pg_url: str) -> None:
    load_fixture_cache(pg_url)

    async def main() -> tuple[object, ...]:
        engine = query.async_engine(pg_url)
        try:
            return (
                await query.aget_release(engine, 4),
                await query.asearch_releases(engine, artist="bjork", limit=1),
                await query.asearch_tracks(engine, "Blue Monday", artist="New Order"),
                await query.avalidate_track(engine, 1, "Hunter"),
                await query.aartwork_url(engine, "Bjork", "Homogenic", threshold=0.5),
            )
        finally:
            await engine.dispose()

    got = asyncio.run(main())
    sync = create_engine(pg_url)
    try:
        assert got == (
            query.get_release(sync, 4),
            query.search_releases(sync, artist="bjork", limit=1),
            query.search_tracks(sync, "Blue Monday", artist="New Order"),
            query.validate_track(sync, 1, "Hunter"),
            query.artwork_url(sync, "Bjork", "Homogenic", threshold=0.5),
        )
    finally:
        sync.dispose()
