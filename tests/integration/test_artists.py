"""Artist search through credits and aliases; prefix autocomplete on artists and titles."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
import sqlalchemy as sa

from discogs_cache import query
from discogs_cache.db import conninfo
from discogs_cache.errors import InputError


def test_artist_search_finds_credits_and_aliases(engine: sa.Engine, pg_url: str) -> None:
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute(
            "INSERT INTO artist_alias (artist_id, alias_name) VALUES"
            " (97, 'Bjorky'), (98, 'Joy Division')"
        )
    found = query.search_artists(engine, "bjork")
    assert [(m.name, m.via, m.artist_id) for m in found] == [
        ("Björk", "credit", None),
        ("Bjorky", "alias", 97),
    ]
    assert found[0].score == 1.0 and 0.3 <= found[1].score < 1.0
    assert [m.name for m in query.search_artists(engine, "joy divison")] == ["Joy Division"]
    assert query.search_artists(engine, "bjork", threshold=0.9, limit=5)[0].name == "Björk"
    with pytest.raises(InputError):
        query.search_artists(engine, "  ")


def test_autocomplete_ignores_case_and_accents(engine: sa.Engine) -> None:
    assert query.complete_artists(engine, "BJÖ") == ["Björk"]
    assert query.complete_artists(engine, "new") == ["New Order"]
    assert query.complete_artists(engine, "zz") == []
    assert query.complete_titles(engine, "ok c") == ["OK Computer"]
    assert query.complete_titles(engine, "Blue") == ["Blue Monday & Other Hits"]
    assert query.complete_titles(engine, "%") == []  # a pattern character is just a character
    with pytest.raises(InputError):
        query.complete_artists(engine, " ")


def test_async_variants_give_the_same_answers(pg_url: str, engine: sa.Engine) -> None:
    async def run() -> tuple[object, ...]:
        aengine = query.async_engine(pg_url)
        try:
            return (
                await query.asearch_artists(aengine, "bjork"),
                await query.acomplete_artists(aengine, "bj"),
                await query.alookup_release(aengine, "Bjork", "Homogenic"),
                await query.alookup_track(aengine, "New Order", "Blue Monday"),
            )
        finally:
            await aengine.dispose()

    assert asyncio.run(run()) == (
        query.search_artists(engine, "bjork"),
        query.complete_artists(engine, "bj"),
        query.lookup_release(engine, "Bjork", "Homogenic"),
        query.lookup_track(engine, "New Order", "Blue Monday"),
    )


def test_name_variations_are_searched_too(engine: sa.Engine, pg_url: str) -> None:
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute("INSERT INTO artist_name_variation (artist_id, name) VALUES (5, 'Radiohed')")
    found = query.search_artists(engine, "radiohead")
    assert [(m.name, m.via, m.artist_id) for m in found] == [
        ("Radiohead", "credit", None),
        ("Radiohed", "variation", 5),
    ]


def test_negative_cache_remembers_until_the_ttl(engine: sa.Engine, pg_url: str) -> None:
    assert not query.is_known_missing(engine, "The Beatles", "Unreleased Song")
    query.remember_missing(engine, "Beatles, The", "Unreleased Song (Remastered)")
    # the same normalized request, however it is spelled
    assert query.is_known_missing(engine, "the beatles", "unreleased song")
    assert not query.is_known_missing(
        engine, "the beatles", "unreleased song", artist_as_keyword=True
    )
    query.remember_missing(engine, "Nobody", None, ttl_seconds=60)
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute(
            "UPDATE lookup_negative SET attempted_at = now() - interval '2 minutes'"
            " WHERE artist = 'Nobody'"
        )
    assert not query.is_known_missing(engine, "Nobody")  # expired
    assert query.purge_expired(engine) == 1
    assert query.forget_missing(engine, "The Beatles", "Unreleased Song") is True
    assert not query.is_known_missing(engine, "The Beatles", "Unreleased Song")
    assert query.forget_missing(engine, "The Beatles", "Unreleased Song") is False
    with pytest.raises(InputError):
        query.remember_missing(engine, " ", None)
    with pytest.raises(InputError):
        query.remember_missing(engine, "x", "y", ttl_seconds=0)


def test_get_release_brings_genres_styles_and_writers(engine: sa.Engine, pg_url: str) -> None:
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute("INSERT INTO release_genre VALUES (3, 'Electronic'), (3, 'Rock')")
        conn.execute("INSERT INTO release_style VALUES (3, 'Synth-pop')")
        conn.execute(
            "INSERT INTO release_track_artist (release_id, track_sequence, artist_name, extra,"
            " role) VALUES (3, 2, 'Bernard Sumner', 1, 'Written-By'),"
            " (3, 2, 'Arthur Baker', 1, 'Producer'), (3, 2, 'Gillian Gilbert', 1, 'Lyrics By')"
        )
    sent: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    found = query.get_release(engine, 3)
    assert found is not None
    assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) == 2  # settings + it
    assert (found.genres, found.styles) == (("Electronic", "Rock"), ("Synth-pop",))
    blue_monday = found.tracks[1]
    assert blue_monday.title == "Blue Monday" and blue_monday.artists == ()
    assert blue_monday.writers == ("Bernard Sumner", "Gillian Gilbert")
    assert found.tracks[0].writers == ()
