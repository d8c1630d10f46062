"""The consumer write path: API-fetched releases land in one idempotent transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from discogs_cache import query
from discogs_cache.errors import InputError
from discogs_cache.schema import NAME_MAX
from discogs_cache.writeback import (
    Credit,
    NewRelease,
    NewTrack,
    astore_release,
    release_from_api,
    store_release,
)

# The shape of a Discogs API /releases/{id} answer (fields we use, plus noise).
API_PAYLOAD: dict[str, Any] = {
    "id": 249504,
    "title": "Never Gonna Give You Up",
    "year": 1987,
    "country": "UK",
    "master_id": 96559,
    "artists": [{"name": "Rick Astley", "id": 72872, "anv": "", "join": ""}],
    "extraartists": [{"name": "Stock, Aitken & Waterman", "id": 20942, "role": "Producer"}],
    "images": [
        {"type": "secondary", "uri": "https://img.example/back.jpg"},
        {"type": "primary", "uri": "https://img.example/front.jpg"},
    ],
    "tracklist": [
        {"position": "A", "title": "Never Gonna Give You Up", "duration": "3:32"},
        {
            "position": "",
            "type_": "index",
            "title": "B-Side Medley",
            "sub_tracks": [
                {
                    "position": "B.a",
                    "title": "Never Gonna Give You Up (Instrumental)",
                    "duration": "3:30",
                    "artists": [{"name": "PWL Band", "id": 1}],
                },
            ],
        },
    ],
}


def _snapshot(engine: sa.Engine, release_id: int) -> dict[str, list[tuple[Any, ...]]]:
    tables = {
        "release": "SELECT id, title, release_year, country, artwork_url, master_id FROM release"
        " WHERE id = :id",
        "release_artist": "SELECT artist_name, artist_id, extra FROM release_artist"
        " WHERE release_id = :id ORDER BY 1",
        "release_track": "SELECT sequence, position, title, duration FROM release_track"
        " WHERE release_id = :id ORDER BY 1",
        "release_track_artist": "SELECT track_sequence, artist_name FROM release_track_artist"
        " WHERE release_id = :id ORDER BY 1, 2",
        "cache_metadata": "SELECT source FROM cache_metadata WHERE release_id = :id",
    }
    with engine.connect() as conn:
        return {
            name: [tuple(r) for r in conn.execute(sa.text(sql), {"id": release_id})]
            for name, sql in tables.items()
        }


def test_api_payload_is_stored_and_readable(engine: sa.Engine) -> None:
    summary = store_release(engine, release_from_api(API_PAYLOAD))
    assert summary.created and summary.artists_added == 2 and summary.tracks == 3
    release = query.get_release(engine, 249504)
    assert release is not None
    assert release.artists == ("Rick Astley",)  # the producer is an extra credit
    assert release.artwork_url == "https://img.example/front.jpg"  # primary image wins
    assert release.release_year == 1987 and release.master_id == 96559
    assert [(t.sequence, t.position, t.title) for t in release.tracks] == [
        (1, "A", "Never Gonna Give You Up"),
        (2, None, "B-Side Medley"),
        (3, "B.a", "Never Gonna Give You Up (Instrumental)"),
    ]
    assert release.tracks[2].artists == ("PWL Band",)
    assert _snapshot(engine, 249504)["cache_metadata"] == [("api_fetch",)]
    assert query.search_tracks(engine, "never gonna give you up")[0].release_id == 249504


def test_storing_twice_is_idempotent(engine: sa.Engine) -> None:
    release = release_from_api(API_PAYLOAD)
    store_release(engine, release)
    first = _snapshot(engine, 249504)
    again = store_release(engine, release)
    assert not again.created and again.artists_added == 0
    assert _snapshot(engine, 249504) == first


def test_refetch_updates_release_replaces_tracks_keeps_artists(engine: sa.Engine) -> None:
    """A bulk-imported release refetched from the API: SPEC's upsert/replace/do-nothing rules."""
    before = query.get_release(engine, 4)
    assert before is not None and len(before.tracks) == 3
    summary = store_release(
        engine,
        NewRelease(
            id=4,
            title="Now That's What I Call Music! 1983",
            artists=(Credit("Various", 194), Credit("Various Artists")),
            tracks=(NewTrack(1, "Blue Monday", "1", "7:29", ("New Order",)),),
            release_year=1983,
        ),
    )
    assert not summary.created and summary.artists_added == 1
    after = _snapshot(engine, 4)
    assert after["release"][0][1] == "Now That's What I Call Music! 1983"
    # existing credit kept (ON CONFLICT DO NOTHING: no new row, 0 rows reported), only its
    # missing artist id filled by the merge trigger (contract v2); the new name added
    assert after["release_artist"] == [("Various", 194, 0), ("Various Artists", None, 0)]
    assert after["release_track"] == [(1, "1", "Blue Monday", "7:29")]
    assert after["release_track_artist"] == [(1, "New Order")]  # old track artists gone
    assert after["cache_metadata"] == [("api_fetch",)]


def test_bad_input_writes_nothing(engine: sa.Engine) -> None:
    before = _snapshot(engine, 5)
    with pytest.raises(InputError, match="track sequences"):
        store_release(
            engine, NewRelease(5, "OK Computer", tracks=(NewTrack(1, "a"), NewTrack(1, "b")))
        )
    with pytest.raises(InputError, match="empty title"):
        store_release(engine, NewRelease(5, "  "))
    with pytest.raises(InputError, match="id and title"):
        release_from_api({"title": "no id"})
    assert _snapshot(engine, 5) == before


def test_failure_midway_rolls_everything_back(engine: sa.Engine) -> None:
    """A database error after the release upsert leaves the previous state (one transaction)."""
    before = _snapshot(engine, 5)
    with engine.begin() as conn:  # make the track insert fail after release/artists ran
        conn.execute(sa.text("ALTER TABLE release_track ADD CONSTRAINT no_x CHECK (title <> 'x')"))
    bad = NewRelease(5, "Changed", artists=(Credit("Someone New"),), tracks=(NewTrack(1, "x"),))
    with pytest.raises(sa.exc.IntegrityError):
        store_release(engine, bad)
    assert _snapshot(engine, 5) == before


def test_long_names_are_truncated_to_the_key_width(engine: sa.Engine) -> None:
    long_name = "A" * (NAME_MAX + 50)
    summary = store_release(
        engine,
        NewRelease(
            77,
            "Long",
            artists=(Credit(long_name),),
            tracks=(NewTrack(1, "t", artists=(long_name,)),),
        ),
    )
    assert len(summary.truncated_names) == 2
    snap = _snapshot(engine, 77)
    assert snap["release_artist"][0][0] == "A" * NAME_MAX
    assert snap["release_track_artist"][0][1] == "A" * NAME_MAX


def test_inside_a_callers_transaction_and_async(engine: sa.Engine, pg_url: str) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))  # the caller's transaction is open
        store_release(conn, NewRelease(88, "Inside"))
        conn.rollback()  # the caller decides: nothing stays
    assert query.get_release(engine, 88) is None

    async def main() -> None:
        async_engine = query.async_engine(pg_url)
        try:
            await astore_release(async_engine, NewRelease(89, "Async", artists=(Credit("X"),)))
        finally:
            await async_engine.dispose()

    asyncio.run(main())
    stored = query.get_release(engine, 89)
    assert stored is not None and stored.artists == ("X",)
