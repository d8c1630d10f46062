"""Contract v2 (migration 0003): the credit tables' merge triggers, and the downgrade to 0002
on a populated cache."""

from __future__ import annotations

import psycopg
import pytest

from discogs_cache import migrate
from discogs_cache.db import conninfo
from discogs_cache.schema import MERGE_TRIGGERS


def _rows(conn: psycopg.Connection, query: str) -> list[tuple[object, ...]]:
    return list(conn.execute(query).fetchall())


@pytest.fixture
def conn(pg_url: str) -> psycopg.Connection:
    with psycopg.connect(conninfo(pg_url), autocommit=True) as c:
        c.execute("INSERT INTO release (id, title) VALUES (1, 'Album'), (2, 'Other')")
        yield c


def test_release_artist_plain_inserts_merge_main_and_extra(conn: psycopg.Connection) -> None:
    insert = (
        "INSERT INTO release_artist (release_id, artist_id, artist_name, extra, role)"
        " VALUES (%s, %s, %s, %s, %s)"
    )
    conn.execute(insert, (1, None, "Björk", 0, None))  # main credit, no id yet
    conn.execute(insert, (1, 97, "Björk", 1, "Producer"))  # the same person as producer
    conn.execute(insert, (1, 97, "Björk", 1, "Mixed By"))
    conn.execute(insert, (1, 97, "Björk", 1, "Producer"))  # already in the list
    conn.execute(insert, (1, 5, "Mark Bell", 1, "Producer, Programmed By"))
    conn.execute(insert, (1, 5, "Mark Bell", 1, "Programmed By"))
    conn.execute(insert, (2, 97, "Björk", 1, "Vocals"))  # another release: its own row
    assert _rows(conn, "SELECT * FROM release_artist ORDER BY release_id, artist_name") == [
        (1, "Björk", 97, 0, "Producer, Mixed By"),
        (1, "Mark Bell", 5, 1, "Producer, Programmed By"),
        (2, "Björk", 97, 1, "Vocals"),
    ]
    # an extra credit first, the main credit second: main wins
    conn.execute(insert, (2, 97, "Björk", 0, None))
    assert _rows(conn, "SELECT extra, role FROM release_artist WHERE release_id = 2") == [
        (0, "Vocals")
    ]
    # SPEC's write path still works (the key it names is unique)
    conn.execute(
        "INSERT INTO release_artist (release_id, artist_id, artist_name, extra)"
        " VALUES (1, 97, 'Björk', 0) ON CONFLICT (release_id, artist_name) DO NOTHING"
    )
    assert _rows(conn, "SELECT count(*) FROM release_artist") == [(3,)]


def test_release_label_two_catnos_and_exact_repeats(conn: psycopg.Connection) -> None:
    insert = (
        "INSERT INTO release_label (release_id, label_id, label_name, catno)"
        " VALUES (%s, %s, %s, %s)"
    )
    for row in [
        (1, None, "One Little Indian", "TPLP 71"),
        (1, 23, "One Little Indian", "TPLP 71CD"),
        (1, 23, "One Little Indian", "TPLP 71"),  # exact repeat: fills the id, no new row
        (1, None, "Elektra", None),  # no catalogue number: ''
        (1, 9, "Elektra", None),
    ]:
        conn.execute(insert, row)
    assert _rows(conn, "SELECT * FROM release_label ORDER BY label_name, catno") == [
        (1, "Elektra", "", 9),
        (1, "One Little Indian", "TPLP 71", 23),
        (1, "One Little Indian", "TPLP 71CD", 23),
    ]


def test_release_track_artist_on_conflict_and_role_merge(conn: psycopg.Connection) -> None:
    conn.execute("INSERT INTO release_track (release_id, sequence, title) VALUES (1, 1, 'Joga')")
    service = (
        "INSERT INTO release_track_artist (release_id, track_sequence, artist_name)"
        " VALUES (1, 1, 'Björk') ON CONFLICT DO NOTHING"
    )
    conn.execute(service)
    conn.execute(service)
    credit = (
        "INSERT INTO release_track_artist (release_id, track_sequence, artist_name, extra, role)"
        " VALUES (1, 1, %s, 1, %s)"
    )
    conn.execute(credit, ("Björk", "Written-By"))  # a writer credit beside the main one
    conn.execute(credit, ("Sjón", "Lyrics By"))
    conn.execute(credit, ("Sjón", "Written-By"))
    assert _rows(
        conn,
        "SELECT artist_name, extra, role FROM release_track_artist ORDER BY extra, artist_name",
    ) == [("Björk", 0, None), ("Björk", 1, "Written-By"), ("Sjón", 1, "Lyrics By, Written-By")]


def test_triggers_stay_in_the_schema_of_their_table(conn: psycopg.Connection) -> None:
    """A side-built copy (another schema, same triggers, as a refresh builds it) merges
    into itself and never touches the live table."""
    conn.execute("INSERT INTO release_artist (release_id, artist_name) VALUES (1, 'Live')")
    conn.execute("CREATE SCHEMA side")
    conn.execute("CREATE TABLE side.release_artist (LIKE release_artist INCLUDING ALL)")
    conn.execute(
        "CREATE TRIGGER release_artist_merge BEFORE INSERT ON side.release_artist"
        " FOR EACH ROW EXECUTE FUNCTION release_artist_merge()"
    )
    insert = (
        "INSERT INTO side.release_artist (release_id, artist_name, extra, role)"
        " VALUES (1, 'Live', %s, %s)"
    )
    conn.execute(insert, (1, "Remix"))
    conn.execute(insert, (1, "Edit"))
    assert _rows(conn, "SELECT extra, role FROM side.release_artist") == [(1, "Remix, Edit")]
    assert _rows(conn, "SELECT extra, role FROM public.release_artist") == [(0, None)]


def test_downgrade_to_0002_and_back_on_a_populated_cache(pg_url: str) -> None:
    with psycopg.connect(conninfo(pg_url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO release (id, title, released, format, not_found) VALUES"
            " (1, 'Album', '1997-09-22', 'CD', false), (2, '', NULL, NULL, true)"
        )
        conn.execute(
            "INSERT INTO release_artist (release_id, artist_name, extra, role) VALUES"
            " (1, 'Björk', 0, NULL), (1, 'Björk', 1, 'Producer')"
        )
        conn.execute(
            "INSERT INTO release_label (release_id, label_name, catno) VALUES"
            " (1, 'OLI', ''), (1, 'OLI', 'B2'), (1, 'OLI', 'A1'), (1, 'Elektra', NULL)"
        )
        conn.execute("INSERT INTO release_track (release_id, sequence, title) VALUES (1, 1, 'J')")
        conn.execute(
            "INSERT INTO release_track_artist (release_id, track_sequence, artist_name, extra)"
            " VALUES (1, 1, 'Björk', 0), (1, 1, 'Björk', 1), (1, 1, 'Sjón', 1)"
        )
        conn.execute("INSERT INTO release_genre VALUES (1, 'Electronic')")
        conn.execute("INSERT INTO artist (id, name) VALUES (97, 'Björk')")
        conn.execute("INSERT INTO lookup_negative (key_hash) VALUES ('\\x01')")
    migrate.downgrade(pg_url, "0002")
    assert migrate.current_revision(pg_url) == "0002"
    with psycopg.connect(conninfo(pg_url), autocommit=True) as conn:
        assert _rows(conn, "SELECT * FROM release") == [(1, "Album", None, None, None, None)]
        assert _rows(conn, "SELECT * FROM release_artist") == [(1, "Björk", None, 0)]
        assert _rows(conn, "SELECT * FROM release_label ORDER BY label_name") == [
            (1, "Elektra", None),
            (1, "OLI", "A1"),
        ]
        assert _rows(conn, "SELECT * FROM release_track_artist") == [(1, 1, "Björk")]
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables")}
        assert not {"release_genre", "artist", "lookup_negative"} & tables
    migrate.upgrade(pg_url)
    assert migrate.check(pg_url) == []
    with psycopg.connect(conninfo(pg_url), autocommit=True) as conn:
        catnos = _rows(conn, "SELECT catno FROM release_label ORDER BY label_name")
        assert catnos == [("",), ("A1",)]
        conn.execute(
            "INSERT INTO release_label (release_id, label_name, catno) VALUES (1, 'OLI', 'B2')"
        )
        assert _rows(conn, "SELECT count(*) FROM release_label") == [(3,)]


def test_role_aggregate_applies_the_trigger_rule_in_bulk(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT discogs_role_agg(r ORDER BY o) FROM (VALUES (1, NULL), (2, 'Producer'),"
        " (3, ''), (4, 'Mixed By'), (5, 'Producer'), (6, 'Performer [Guitar, Bass]'),"
        " (7, 'Performer [Guitar, Bass]')) AS v (o, r)"
    ).fetchone()
    assert row == ("Producer, Mixed By, Performer [Guitar, Bass]",)
    assert conn.execute(
        "SELECT discogs_role_agg(r) FROM (VALUES (NULL::text)) v (r)"
    ).fetchone() == (None,)


def test_merge_trigger_names_match_the_migration(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
    ).fetchall()
    assert dict(rows) == MERGE_TRIGGERS
