"""The load's credit merges on crafted rows: keys of one row (which skip discogs_role_agg) and
repeated keys (which go through it) give the contract's values, edge cases included."""

from __future__ import annotations

import psycopg

from discogs_cache.db import conninfo
from discogs_cache.load.transform import CHILD_TARGETS, collapse_duplicates, load_child

TARGETS = {t.table: t for t in CHILD_TARGETS}


def _side_built(conn: psycopg.Connection, table: str) -> None:
    """A keyless, triggerless copy of `table` first on the search path, as `build` makes."""
    conn.execute(
        f"CREATE SCHEMA new; CREATE TABLE new.{table} (LIKE public.{table} INCLUDING DEFAULTS); "
        "SET search_path TO new, public"
    )


def test_release_artist_merge_of_single_and_repeated_keys(pg_url: str) -> None:
    staged = [  # (release_id, artist_id, artist_name, extra, role), in file order
        (1, 10, "A", "0", None),
        (1, 11, "B", "1", ""),
        (1, 12, "C", "1", "Producer"),
        (2, 0, "D", "1", "Mixed By"),
        (2, 20, "D", "0", ""),
        (2, 21, "D", "1", "Producer, Mixed By"),
        (2, 21, "D", "1", "Producer"),
        (3, None, "E", "1", None),
        (3, 0, "E", "1", ""),
        (3, 30, "F", "t", "Vocals"),
        (3, 31, "F", "true", "Vocals"),
    ]
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute(
            "CREATE SCHEMA stage; CREATE TABLE stage.release_artist (release_id integer, "
            "artist_id integer, artist_name text, extra text, role text)"
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO stage.release_artist VALUES (%s, %s, %s, %s, %s)", staged)
        _side_built(conn, "release_artist")
        counts = load_child(conn.cursor(), "stage", TARGETS["release_artist"], check_release=False)
        got = conn.execute(
            "SELECT release_id, artist_name, artist_id, extra, role FROM release_artist "
            "ORDER BY 1, 2"
        ).fetchall()
    assert got == [
        (1, "A", 10, 0, None),
        (1, "B", 11, 1, None),  # one row, role '': none (as discogs_role_agg from NULL)
        (1, "C", 12, 1, "Producer"),
        # main first, then extras in file order; a role already in the list is not repeated
        (2, "D", 20, 0, "Mixed By, Producer, Mixed By"),
        (3, "E", None, 1, None),
        (3, "F", 30, 1, "Vocals"),
    ]
    assert (counts.source_rows, counts.loaded, counts.duplicates) == (11, 6, 5)


def test_track_credit_collapse_joins_roles_of_repeats_only(pg_url: str) -> None:
    copied = [  # (release_id, track_sequence, artist_name, extra, role), in file order
        (1, 1, "A", 0, "Remix"),
        (1, 1, "A", 0, ""),
        (1, 1, "A", 0, "Remix"),
        (1, 1, "A", 0, "Vocals"),
        (1, 1, "A", 1, ""),
        (1, 2, "B", 0, None),
        (1, 2, "B", 0, None),
        (2, 1, "C", 1, "Guitar"),
    ]
    with psycopg.connect(conninfo(pg_url)) as conn:
        _side_built(conn, "release_track_artist")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO release_track_artist "
                "(release_id, track_sequence, artist_name, extra, role) "
                "VALUES (%s, %s, %s, %s, %s)",
                copied,
            )
        removed = collapse_duplicates(conn.cursor(), TARGETS["release_track_artist"])
        got = conn.execute(
            "SELECT release_id, track_sequence, artist_name, extra, role "
            "FROM release_track_artist ORDER BY 1, 2, 3, 4"
        ).fetchall()
    assert removed == 4
    assert got == [
        (1, 1, "A", 0, "Remix, Vocals"),
        (1, 1, "A", 1, ""),  # a key of one row is left as it came
        (1, 2, "B", 0, None),
        (2, 1, "C", 1, "Guitar"),
    ]
