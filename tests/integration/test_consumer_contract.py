"""The station's lookup service (library-metadata-lookup, an asyncpg client) against the cache.

Its statements are written here as facts of its interface (what it reads and writes, with
which SQL shapes), run through asyncpg against a cache built from the real dump samples:
convert, load, then synthetic filler releases and artists (ids from 900,000,000, pseudo-word
names) so the tables are big enough for the planner to choose as on a real cache, then the
index build. Every read is EXPLAINed: no sequential scan, an index of the contract used.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest
from lxml import etree

from discogs_cache.convert import convert
from discogs_cache.db import conninfo
from discogs_cache.index import build_indexes
from discogs_cache.load import load
from tests.conftest import _create_database, _drop_database, _with_database

FILLER = 20_000
FILLER_ID = 900_000_000
SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "ze", "bu", "ha", "jo", "pe", "qu"]

# -- the service's statements (its interface, as facts) ------------------------------------

RELEASE_READ = """
SELECT r.id, r.title, r.release_year, r.artwork_url, r.released, r.artwork_checked_at,
       r.not_found, r.master_id,
       (SELECT json_agg(json_build_object('artist_id', ra.artist_id, 'artist_name',
               ra.artist_name, 'extra', ra.extra, 'role', ra.role)
               ORDER BY ra.extra, ra.artist_name)
          FROM release_artist ra WHERE ra.release_id = r.id) AS artists,
       (SELECT json_agg(json_build_object('label_id', rl.label_id, 'label_name', rl.label_name,
               'catno', rl.catno))
          FROM release_label rl WHERE rl.release_id = r.id) AS labels,
       (SELECT json_agg(json_build_object('position', rt.position, 'title', rt.title,
               'duration', rt.duration, 'sequence', rt.sequence) ORDER BY rt.sequence)
          FROM release_track rt WHERE rt.release_id = r.id) AS tracks,
       (SELECT json_agg(json_build_object('track_sequence', rta.track_sequence,
               'artist_name', rta.artist_name) ORDER BY rta.track_sequence)
          FROM release_track_artist rta WHERE rta.release_id = r.id AND rta.extra = 0)
         AS track_artists,
       (SELECT json_agg(json_build_object('track_sequence', rta.track_sequence,
               'artist_name', rta.artist_name, 'role', rta.role) ORDER BY rta.track_sequence)
          FROM release_track_artist rta WHERE rta.release_id = r.id AND rta.extra = 1)
         AS track_writers
FROM release r WHERE r.id = $1
"""
GENRE_STYLE_READ = """
SELECT (SELECT json_agg(genre) FROM release_genre WHERE release_id = $1) AS genres,
       (SELECT json_agg(style) FROM release_style WHERE release_id = $1) AS styles
"""
VIDEO_READ = (
    "SELECT sequence, src, title, duration, embed FROM release_video"
    " WHERE release_id = $1 ORDER BY sequence"
)
CREDIT_AGG = """
CROSS JOIN LATERAL (
    SELECT string_agg(ra2.artist_name, ', ' ORDER BY ra2.artist_name) AS artist_name,
           array_agg(ra2.artist_name ORDER BY ra2.artist_name) AS artist_credits
    FROM release_artist ra2 WHERE ra2.release_id = r.id AND ra2.extra = 0) agg
"""
SEARCH_RELEASES = f"""
SELECT * FROM (
    SELECT DISTINCT ON (r.id) r.id AS release_id, r.title, agg.artist_name,
           agg.artist_credits, r.artwork_url,
           (similarity(lower(f_unaccent(r.title)), lower(f_unaccent($1)))
            + similarity(lower(f_unaccent(ra.artist_name)), lower(f_unaccent($2)))) / 2.0
             AS score
    FROM release r
    JOIN release_artist ra ON ra.release_id = r.id AND ra.extra = 0
    {CREDIT_AGG}
    WHERE lower(f_unaccent(r.title)) % lower(f_unaccent($1))
      AND lower(f_unaccent(ra.artist_name)) % lower(f_unaccent($2))
    ORDER BY r.id, score DESC) sub
ORDER BY score DESC LIMIT $3
"""
SEARCH_BY_TRACK = """
WITH matching_tracks AS (
    SELECT DISTINCT rt.release_id, rt.sequence, rt.title AS track_title,
           similarity(lower(f_unaccent(rt.title)), lower(f_unaccent($1))) AS sim
    FROM release_track rt
    WHERE lower(f_unaccent(rt.title)) % lower(f_unaccent($1))
      AND (EXISTS (SELECT 1 FROM release_artist ra
                   WHERE ra.release_id = rt.release_id AND ra.extra = 0
                     AND lower(f_unaccent(ra.artist_name)) % lower(f_unaccent($3)))
           OR EXISTS (SELECT 1 FROM release_track_artist rta
                      WHERE rta.release_id = rt.release_id
                        AND rta.track_sequence = rt.sequence AND rta.extra = 0
                        AND lower(f_unaccent(rta.artist_name)) % lower(f_unaccent($3))))
    ORDER BY sim DESC LIMIT $2)
SELECT r.id AS release_id, r.title, ra.artist_name, mt.track_title,
       CASE WHEN lower(ra.artist_name) LIKE '%various%' THEN true ELSE false END
         AS is_compilation
FROM matching_tracks mt
JOIN release r ON r.id = mt.release_id
JOIN release_artist ra ON ra.release_id = r.id AND ra.extra = 0
LEFT JOIN release_track_artist rta ON rta.release_id = mt.release_id
     AND rta.track_sequence = mt.sequence AND rta.extra = 0
WHERE ($3::text IS NULL OR lower(f_unaccent(ra.artist_name)) % lower(f_unaccent($3))
       OR lower(f_unaccent(rta.artist_name)) % lower(f_unaccent($3)))
ORDER BY mt.sim DESC
"""
SEARCH_ARTISTS = """
SELECT id, name, max(score) AS score FROM (
    SELECT a.id, a.name, similarity(lower(f_unaccent(a.name)), lower(f_unaccent($1))) AS score
    FROM artist a WHERE lower(f_unaccent(a.name)) % lower(f_unaccent($1))
    UNION ALL
    SELECT a.id, a.name,
           similarity(lower(f_unaccent(anv.name)), lower(f_unaccent($1))) AS score
    FROM artist a JOIN artist_name_variation anv ON anv.artist_id = a.id
    WHERE lower(f_unaccent(anv.name)) % lower(f_unaccent($1))) sub
GROUP BY id, name ORDER BY score DESC LIMIT $2
"""
VALIDATE = [
    "SELECT EXISTS(SELECT 1 FROM release WHERE id = $1)",
    "SELECT sequence, title FROM release_track WHERE release_id = $1",
    "SELECT track_sequence, artist_name FROM release_track_artist"
    " WHERE release_id = $1 AND extra = 0",
    "SELECT artist_name FROM release_artist WHERE release_id = $1 AND extra = 0 LIMIT 1",
]
ARTIST_READ = "SELECT id, name, profile, image_url, fetched_at, not_found FROM artist WHERE id = $1"
ARTIST_CHILD_READS = [
    "SELECT alias_id, alias_name FROM artist_alias WHERE artist_id = $1",
    "SELECT name FROM artist_name_variation WHERE artist_id = $1",
    "SELECT member_id, member_name, active FROM artist_member WHERE artist_id = $1",
    "SELECT url FROM artist_url WHERE artist_id = $1",
]
NEGATIVE_HIT = """
SELECT 1 FROM lookup_negative
WHERE key_hash = $1 AND now() < attempted_at + (ttl_seconds * interval '1 second') LIMIT 1
"""
NEGATIVE_WRITE = """
INSERT INTO lookup_negative (key_hash, artist, track, artist_as_keyword, ttl_seconds)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (key_hash) DO UPDATE SET attempted_at = now(), ttl_seconds = EXCLUDED.ttl_seconds
"""
TOMBSTONE_WRITE = """
INSERT INTO release (id, title, release_year, artwork_url, released, artwork_checked_at,
                     not_found)
VALUES ($1, '', NULL, NULL, NULL, now(), TRUE)
ON CONFLICT (id) DO UPDATE SET artwork_checked_at = EXCLUDED.artwork_checked_at,
                               not_found = TRUE
"""
TOMBSTONE_PROBE = "SELECT not_found FROM release WHERE id = $1"
TOMBSTONE_DELETE = "DELETE FROM release WHERE id = $1 AND not_found = TRUE"
RELEASE_UPSERT = """
INSERT INTO release (id, title, release_year, artwork_url, released, artwork_checked_at,
                     not_found, master_id)
VALUES ($1, $2, $3, $4, $5, now(), FALSE, $6)
ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, release_year = EXCLUDED.release_year,
    artwork_url = EXCLUDED.artwork_url, released = EXCLUDED.released,
    artwork_checked_at = EXCLUDED.artwork_checked_at, not_found = FALSE,
    master_id = EXCLUDED.master_id
"""
ARTIST_UPSERT = """
INSERT INTO artist (id, name, profile, image_url, fetched_at, not_found)
VALUES ($1, $2, $3, $4, now(), FALSE)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, profile = EXCLUDED.profile,
    image_url = EXCLUDED.image_url, fetched_at = now(), not_found = FALSE
"""


# -- the cache ------------------------------------------------------------------------------


def _word(i: int, salt: int) -> str:
    x = (i * 2654435761 + salt * 40503) % 2**32
    return "".join(SYLLABLES[(x >> (4 * k)) % len(SYLLABLES)] for k in range(3 + x % 3))


def _fill(url: str) -> None:
    """Filler rows, so every table is big enough for plans like a real cache's."""
    ids = range(FILLER_ID, FILLER_ID + FILLER)
    tables: dict[str, tuple[str, Callable[[int], list[tuple[Any, ...]]]]] = {
        "release": ("id, title, released, format", lambda i: [(i, _word(i, 1), "1999", "CD")]),
        "release_artist": (
            "release_id, artist_name, artist_id, extra, role",
            lambda i: [(i, _word(i, 3).title(), i, 0, None), (i, _word(i, 4), None, 1, "Mixed By")],
        ),
        "release_label": ("release_id, label_name, catno", lambda i: [(i, _word(i, 5), "C1")]),
        "release_track": (
            "release_id, sequence, title",
            lambda i: [(i, s, f"{_word(i, 5 + s)} {_word(i, 9 + s)}") for s in (1, 2)],
        ),
        "release_track_artist": (
            "release_id, track_sequence, artist_name, extra, role",
            lambda i: [(i, 1, _word(i, 12), 0, None), (i, 1, _word(i, 13), 1, "Written-By")],
        ),
        "release_genre": ("release_id, genre", lambda i: [(i, "Rock")]),
        "release_style": ("release_id, style", lambda i: [(i, "Punk")]),
        "release_video": ("release_id, sequence, src", lambda i: [(i, 1, f"v{i}")]),
        "artist": ("id, name", lambda i: [(i, _word(i, 3).title())]),
        "artist_name_variation": ("artist_id, name", lambda i: [(i, _word(i, 14))]),
        "artist_alias": ("artist_id, alias_name", lambda i: [(i, _word(i, 15))]),
        "artist_member": ("artist_id, member_name", lambda i: [(i, _word(i, 16))]),
        "artist_url": ("artist_id, url", lambda i: [(i, f"http://x/{i}")]),
        "lookup_negative": ("key_hash", lambda i: [(i.to_bytes(32, "big"),)]),
    }
    with psycopg.connect(conninfo(url)) as conn:
        for table, (columns, rows) in tables.items():
            with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for i in ids:
                    for row in rows(i):
                        copy.write_row(row)


@pytest.fixture(scope="module")
def cache_url(
    pg_server_url: str,
    pg_template: str,
    samples_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    name = _create_database(pg_server_url, template=pg_template)
    url = _with_database(pg_server_url, name)
    out = tmp_path_factory.mktemp("consumer_csv")
    convert(samples_dir, out, workers=1)
    load(url, out)
    _fill(url)
    build_indexes(url)  # also ANALYZEs
    yield url
    _drop_database(pg_server_url, name)


def run(url: str, body: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        conn = await asyncpg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        try:
            return await body(conn)
        finally:
            await conn.close()

    return asyncio.run(main())


async def plan_of(conn: asyncpg.Connection, query: str, *args: Any) -> str:
    return "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + query, *args))


def assert_indexed(plan: str, *indexes: str) -> None:
    """No sequential scan; each of `indexes` used (an entry "a|b": either one)."""
    assert "Seq Scan" not in plan, plan
    for index in indexes:
        assert any(f" {name} " in plan or plan.endswith(name) for name in index.split("|")), plan


def _xml_release(samples_dir: Path, release_id: int) -> Any:
    xml = gzip.decompress((samples_dir / "discogs_20200806_releases.xml.gz").read_bytes())
    root = etree.fromstring(xml)
    return next(r for r in root if r.get("id") == str(release_id))


# -- reads ------------------------------------------------------------------------------


def test_release_read_with_every_child(cache_url: str, samples_dir: Path) -> None:
    """Release 10 of the samples: two catalogue numbers of one label, track writers,
    genres, styles, videos; every child comes back as the dump has it."""

    async def body(conn: asyncpg.Connection) -> Any:
        row = await conn.fetchrow(RELEASE_READ, 10)
        gs = await conn.fetchrow(GENRE_STYLE_READ, 10)
        videos = await conn.fetch(VIDEO_READ, 10)
        plans = [
            await plan_of(conn, RELEASE_READ, 10),
            await plan_of(conn, GENRE_STYLE_READ, 10),
            await plan_of(conn, VIDEO_READ, 10),
        ]
        return row, gs, videos, plans

    row, gs, videos, plans = run(cache_url, body)
    xml = _xml_release(samples_dir, 10)
    assert (row["title"], row["release_year"], row["released"]) == (
        xml.findtext("title"),
        int(xml.findtext("released")[:4]),
        xml.findtext("released"),
    )
    assert row["not_found"] is False and row["artwork_checked_at"] is None
    labels = json.loads(row["labels"])
    assert sorted((x["label_name"], x["catno"], x["label_id"]) for x in labels) == sorted(
        (x.get("name"), x.get("catno"), int(x.get("id"))) for x in xml.findall("labels/label")
    )
    artists = json.loads(row["artists"])
    main = [a["artist_name"] for a in artists if a["extra"] == 0]
    assert main == [a.findtext("name") for a in xml.findall("artists/artist")]
    credited = {a.findtext("name") for a in xml.findall("extraartists/artist")} - set(main)
    assert {a["artist_name"] for a in artists if a["extra"] == 1} == credited
    assert all(a["role"] for a in artists if a["extra"] == 1)
    tracks = json.loads(row["tracks"])
    assert [t["title"] for t in tracks] == [t.findtext("title") for t in xml.iter("track")]
    writers = json.loads(row["track_writers"])
    expected = {
        (seq, a.findtext("name"), a.findtext("role"))
        for seq, t in enumerate(xml.iter("track"), 1)
        for a in t.findall("extraartists/artist")
    }
    assert {(w["track_sequence"], w["artist_name"], w["role"]) for w in writers} == expected
    assert json.loads(gs["genres"]) == [g.text for g in xml.findall("genres/genre")]
    assert sorted(json.loads(gs["styles"])) == sorted(s.text for s in xml.findall("styles/style"))
    assert [(v["src"], v["duration"], v["embed"]) for v in videos] == [
        (v.get("src"), int(v.get("duration")), v.get("embed") == "true")
        for v in xml.findall("videos/video")
    ]
    assert_indexed(plans[0], "pk_release", "pk_release_artist", "pk_release_label")
    assert_indexed(plans[1], "pk_release_genre", "pk_release_style")
    assert_indexed(plans[2], "pk_release_video")


def test_the_three_fuzzy_searches(cache_url: str) -> None:
    async def body(conn: asyncpg.Connection) -> Any:
        results = [
            await conn.fetch(SEARCH_RELEASES, "you are lov", "lovetronik", 10),
            await conn.fetch(SEARCH_BY_TRACK, "You Are Love (Petalpusher Dub)", 40, "Lovetronic"),
            await conn.fetch(SEARCH_ARTISTS, "Mr James Barth and AD", 5),
        ]
        plans = [
            await plan_of(conn, SEARCH_RELEASES, "you are lov", "lovetronik", 10),
            await plan_of(
                conn, SEARCH_BY_TRACK, "You Are Love (Petalpusher Dub)", 40, "Lovetronic"
            ),
            await plan_of(conn, SEARCH_ARTISTS, "Mr James Barth and AD", 5),
        ]
        return results, plans

    (releases, tracks, artists), plans = run(cache_url, body)
    assert (releases[0]["release_id"], releases[0]["artist_name"]) == (10, "Lovetronic")
    assert releases[0]["artist_credits"] == ["Lovetronic"]
    assert tracks[0]["release_id"] == 10
    assert tracks[0]["track_title"] == "You Are Love (Petalpusher Dub)"
    assert (artists[0]["id"], artists[0]["name"]) == (2, "Mr. James Barth & A.D.")
    # the planner starts from whichever trigram index is more selective, then the keys
    trigram = "ix_release_title_trgm|ix_release_artist_artist_name_trgm"
    assert_indexed(plans[0], trigram, "pk_release_artist")
    assert_indexed(plans[1], "ix_release_track_title_trgm")
    assert_indexed(plans[2], "ix_artist_name_trgm", "ix_artist_name_variation_name_trgm")


def test_track_validation(cache_url: str) -> None:
    async def body(conn: asyncpg.Connection) -> Any:
        exists = await conn.fetchval(VALIDATE[0], 10)
        missing = await conn.fetchval(VALIDATE[0], 123_456_789)
        tracks = await conn.fetch(VALIDATE[1], 10)
        track_artists = await conn.fetch(VALIDATE[2], 41)
        primary = await conn.fetchrow(VALIDATE[3], 10)
        plans = [await plan_of(conn, q, 10) for q in VALIDATE]
        return exists, missing, tracks, track_artists, primary, plans

    exists, missing, tracks, track_artists, primary, plans = run(cache_url, body)
    assert (exists, missing) == (True, False)
    assert "You Are Love (Petalpusher Dub)" in {t["title"] for t in tracks}
    assert primary["artist_name"] == "Lovetronic"
    assert len(track_artists) == len({(r[0], r[1]) for r in track_artists})
    keys = ["pk_release", "pk_release_track", "pk_release_track_artist", "pk_release_artist"]
    for plan, key in zip(plans, keys, strict=True):
        assert_indexed(plan, key)


def test_artist_reads(cache_url: str) -> None:
    async def body(conn: asyncpg.Connection) -> Any:
        row = await conn.fetchrow(ARTIST_READ, 2)
        children = [await conn.fetch(q, 2) for q in ARTIST_CHILD_READS]
        plans = [await plan_of(conn, q, 2) for q in (ARTIST_READ, *ARTIST_CHILD_READS)]
        return row, children, plans

    row, (aliases, variations, members, urls), plans = run(cache_url, body)
    assert (row["name"], row["fetched_at"], row["not_found"]) == (
        "Mr. James Barth & A.D.",
        None,  # from the dump: never fetched from the API
        False,
    )
    assert {(a["alias_id"], a["alias_name"]) for a in aliases} >= {(2470, "Puente Latino")}
    assert "Mr Barth & A.D." in {v["name"] for v in variations}
    assert {(m["member_id"], m["member_name"]) for m in members} == {
        (26, "Alexi Delano"),
        (27, "Cari Lekebusch"),
    }
    assert urls == []
    keys = ["pk_artist", "pk_artist_alias", "pk_artist_name_variation", "pk_artist_member"]
    for plan, key in zip(plans, [*keys, "pk_artist_url"], strict=True):
        assert_indexed(plan, key)


# -- writes ---------------------------------------------------------------------------------

API_RELEASE = 999_000_001


async def write_release(conn: asyncpg.Connection) -> None:
    """The service's full write-back of an API release, in its order and shapes."""
    rid = API_RELEASE
    async with conn.transaction():
        await conn.execute(RELEASE_UPSERT, rid, "Homogenic", 1997, None, "1997-09-22", 7)
        await conn.execute("DELETE FROM release_artist WHERE release_id = $1", rid)
        await conn.executemany(
            "INSERT INTO release_artist (release_id, artist_id, artist_name, extra, role)"
            " VALUES ($1, $2, $3, $4, $5)",
            [
                (rid, 97, "Björk", 0, None),
                (rid, 97, "Björk", 1, "Producer"),  # the main artist is a producer too
                (rid, 97, "Björk", 1, "Arranged By"),
                (rid, 5, "Mark Bell", 1, "Producer"),
            ],
        )
        await conn.execute("DELETE FROM release_label WHERE release_id = $1", rid)
        await conn.executemany(
            "INSERT INTO release_label (release_id, label_id, label_name, catno)"
            " VALUES ($1, $2, $3, $4)",
            [
                (rid, 23, "One Little Indian", "TPLP 71"),
                (rid, 23, "One Little Indian", "TPLP 71CD"),  # one label, two catnos
                (rid, 9, "Elektra", None),
            ],
        )
        for table, column, values in (
            ("release_genre", "genre", ["Electronic", "Pop"]),
            ("release_style", "style", ["Trip Hop", "Downtempo"]),
        ):
            async with conn.transaction():
                await conn.execute(f"DELETE FROM {table} WHERE release_id = $1", rid)
                await conn.executemany(
                    f"INSERT INTO {table} (release_id, {column}) VALUES ($1, $2)",
                    [(rid, v) for v in values],
                )
        async with conn.transaction():
            await conn.execute("DELETE FROM release_video WHERE release_id = $1", rid)
            await conn.executemany(
                "INSERT INTO release_video (release_id, sequence, src, title, duration, embed)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    (rid, 1, "https://v/1", "Jóga", 305, True),
                    (rid, 2, "https://v/2", "x", 1, False),
                ],
            )
        await conn.execute("DELETE FROM release_track WHERE release_id = $1", rid)
        await conn.executemany(
            "INSERT INTO release_track (release_id, sequence, position, title, duration)"
            " VALUES ($1, $2, $3, $4, $5)",
            [(rid, 1, "1", "Hunter", "4:15"), (rid, 2, "2", "Jóga", "5:05")],
        )
        await conn.executemany(
            "INSERT INTO release_track_artist (release_id, track_sequence, artist_name)"
            " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            [(rid, 1, "Björk"), (rid, 2, "Björk"), (rid, 2, "Björk")],
        )
        await conn.execute(
            "INSERT INTO cache_metadata (release_id, source) VALUES ($1, 'api_fetch')"
            " ON CONFLICT (release_id) DO UPDATE SET cached_at = now(), source = 'api_fetch'",
            rid,
        )


def test_full_write_back_of_an_api_release(cache_url: str) -> None:
    async def body(conn: asyncpg.Connection) -> Any:
        await write_release(conn)
        await write_release(conn)  # the service rewrites a release it fetches again
        # SPEC's write path on the same release still works
        await conn.execute(
            "INSERT INTO release_artist (release_id, artist_id, artist_name, extra)"
            " VALUES ($1, 97, 'Björk', 0) ON CONFLICT (release_id, artist_name) DO NOTHING",
            API_RELEASE,
        )
        row = await conn.fetchrow(RELEASE_READ, API_RELEASE)
        gs = await conn.fetchrow(GENRE_STYLE_READ, API_RELEASE)
        videos = await conn.fetch(VIDEO_READ, API_RELEASE)
        source = await conn.fetchval(
            "SELECT source FROM cache_metadata WHERE release_id = $1", API_RELEASE
        )
        return row, gs, videos, source

    row, gs, videos, source = run(cache_url, body)
    assert (row["title"], row["released"], row["not_found"]) == ("Homogenic", "1997-09-22", False)
    assert row["artwork_checked_at"] is not None
    assert json.loads(row["artists"]) == [
        {"artist_id": 97, "artist_name": "Björk", "extra": 0, "role": "Producer, Arranged By"},
        {"artist_id": 5, "artist_name": "Mark Bell", "extra": 1, "role": "Producer"},
    ]
    assert sorted(
        (x["label_name"], x["catno"], x["label_id"]) for x in json.loads(row["labels"])
    ) == [
        ("Elektra", "", 9),
        ("One Little Indian", "TPLP 71", 23),
        ("One Little Indian", "TPLP 71CD", 23),
    ]
    assert json.loads(row["track_artists"]) == [
        {"track_sequence": 1, "artist_name": "Björk"},
        {"track_sequence": 2, "artist_name": "Björk"},
    ]
    assert row["track_writers"] is None
    assert (sorted(json.loads(gs["genres"])), sorted(json.loads(gs["styles"]))) == (
        ["Electronic", "Pop"],
        ["Downtempo", "Trip Hop"],
    )
    assert [tuple(v) for v in videos] == [
        (1, "https://v/1", "Jóga", 305, True),
        (2, "https://v/2", "x", 1, False),
    ]
    assert source == "api_fetch"


def test_artist_write_back(cache_url: str) -> None:
    async def body(conn: asyncpg.Connection) -> Any:
        aid = 999_000_097
        for _ in range(2):
            async with conn.transaction():
                await conn.execute(ARTIST_UPSERT, aid, "Björk", "Icelandic", None)
                for table, columns, rows in (
                    ("artist_alias", "artist_id, alias_id, alias_name", [(aid, 1, "Bjork")]),
                    ("artist_name_variation", "artist_id, name", [(aid, "Björk G.")]),
                    (
                        "artist_member",
                        "artist_id, member_id, member_name, active",
                        [(aid, None, "Björk", True)],
                    ),
                    ("artist_url", "artist_id, url", [(aid, "https://bjork.com")]),
                ):
                    await conn.execute(f"DELETE FROM {table} WHERE artist_id = $1", aid)
                    marks = ", ".join(f"${i}" for i in range(1, len(rows[0]) + 1))
                    await conn.executemany(
                        f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows
                    )
        row = await conn.fetchrow(ARTIST_READ, aid)
        return row, [await conn.fetch(q, aid) for q in ARTIST_CHILD_READS]

    row, (aliases, variations, members, urls) = run(cache_url, body)
    assert (row["name"], row["profile"], row["not_found"]) == ("Björk", "Icelandic", False)
    assert row["fetched_at"] is not None
    assert [tuple(r) for r in aliases] == [(1, "Bjork")]
    assert [tuple(r) for r in variations] == [("Björk G.",)]
    assert [tuple(r) for r in members] == [(None, "Björk", True)]
    assert [tuple(r) for r in urls] == [("https://bjork.com",)]


def test_tombstones(cache_url: str) -> None:
    async def body(conn: asyncpg.Connection) -> Any:
        await conn.execute(TOMBSTONE_WRITE, 999_000_404)  # a 404 for an id never cached
        await write_release(conn)
        await conn.execute(TOMBSTONE_WRITE, API_RELEASE)  # a 404 after a 200: children stay
        stone = await conn.fetchrow(RELEASE_READ, API_RELEASE)
        new = await conn.fetchrow(RELEASE_READ, 999_000_404)
        probes = [await conn.fetchval(TOMBSTONE_PROBE, i) for i in (API_RELEASE, 10, 1)]
        deleted = await conn.execute(TOMBSTONE_DELETE, 999_000_404)
        refused = await conn.execute(TOMBSTONE_DELETE, 10)
        plan = await plan_of(conn, TOMBSTONE_PROBE, 10)
        await write_release(conn)  # a recovered 200 clears the tombstone
        again = await conn.fetchval(TOMBSTONE_PROBE, API_RELEASE)
        return stone, new, probes, deleted, refused, plan, again

    stone, new, probes, deleted, refused, plan, again = run(cache_url, body)
    assert (stone["not_found"], stone["title"]) == (True, "Homogenic")
    assert stone["artwork_checked_at"] is not None
    assert len(json.loads(stone["tracks"])) == 2
    assert (new["not_found"], new["title"], new["artists"]) == (True, "", None)
    assert probes == [True, False, False]
    assert (deleted, refused) == ("DELETE 1", "DELETE 0")
    assert again is False
    assert_indexed(plan, "pk_release")


def test_negative_cache(cache_url: str) -> None:
    key, stale = b"\x01" * 32, b"\x02" * 32

    async def body(conn: asyncpg.Connection) -> Any:
        before = await conn.fetchval(NEGATIVE_HIT, key)
        await conn.execute(NEGATIVE_WRITE, key, "Björk", "Jóga", False, 604_800)
        await conn.execute(NEGATIVE_WRITE, key, "Björk", "Jóga", False, 604_800)  # upsert
        await conn.execute(NEGATIVE_WRITE, stale, None, "x", True, 0)  # expired at once
        hit = await conn.fetchval(NEGATIVE_HIT, key)
        expired = await conn.fetchval(NEGATIVE_HIT, stale)
        row = await conn.fetchrow(
            "SELECT artist, track, artist_as_keyword, ttl_seconds FROM lookup_negative"
            " WHERE key_hash = $1",
            key,
        )
        return before, hit, expired, row, await plan_of(conn, NEGATIVE_HIT, key)

    before, hit, expired, row, plan = run(cache_url, body)
    assert (before, hit, expired) == (None, 1, None)
    assert tuple(row) == ("Björk", "Jóga", False, 604_800)
    assert_indexed(plan, "pk_lookup_negative")
