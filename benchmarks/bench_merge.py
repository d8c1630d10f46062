"""Credit merge benchmark: building `release_artist` from staging as the load does.

Contract v2 merges a name credited twice on a release (`transform.load_child` with the
target's `merge`). Three ways of building the same table, each into an empty keyless copy
of it (as `build` does), from one staged table of synthetic credits (most keys once, a few %
repeated: a main artist credited as an extra too, one person with two roles), alternated and
repeated, best of `--repeat`:

- `distinct_on`: the load before contract v2 (first row per key, no merge): the baseline;
- `merge_every_key`: contract v2's first merge, every key through the aggregates;
- `load`: `load_child` as it is now, which must give exactly `merge_every_key`'s rows
  (checked here).

Also `collapse`: `collapse_duplicates` of release_track_artist (COPYed with repeated track
credits, key then added) vs the plain ranked delete it ran before contract v2.
Usage: python benchmarks/bench_merge.py [--releases N] [--repeat N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import psycopg
from common import ratio, report, scratch_database, server_settings

from discogs_cache.db import conninfo
from discogs_cache.load.transform import CHILD_TARGETS, collapse_duplicates, load_child

TARGETS = {t.table: t for t in CHILD_TARGETS}
SETTINGS = (
    "SET work_mem = '256MB'; SET maintenance_work_mem = '512MB'; "
    "SET max_parallel_workers_per_gather = 0; SET search_path TO new, public"
)
EXPRS = (
    "s.release_id, CASE WHEN octet_length(s.artist_name) > 500 THEN left(s.artist_name, 500) "
    "ELSE s.artist_name END, NULLIF(s.artist_id, 0), "
    """CASE WHEN lower(s.extra COLLATE "C") IN ('1', 't', 'true') THEN 1 ELSE 0 END, s.role"""
)
WHERE = "s.release_id IS NOT NULL AND s.artist_name IS NOT NULL"
COLS = "release_id, artist_name, artist_id, extra, role"
DISTINCT_ON = (
    f"INSERT INTO release_artist ({COLS}) SELECT DISTINCT ON (release_id, artist_name) "
    f"{COLS} FROM (SELECT {EXPRS}, s.ctid AS ord FROM stage.release_artist s WHERE {WHERE}) "
    f"AS x ({COLS}, ord) ORDER BY release_id, artist_name, extra, ord"
)
MERGE_EVERY_KEY = (
    f"INSERT INTO release_artist ({COLS}) SELECT x.release_id, x.artist_name, "
    "(array_agg(x.artist_id) FILTER (WHERE x.artist_id IS NOT NULL))[1], min(x.extra), "
    f"discogs_role_agg(x.role) FROM (SELECT {EXPRS}, s.ctid AS ord FROM stage.release_artist s "
    f"WHERE {WHERE} ORDER BY 1, 2, 4, 6) AS x ({COLS}, ord) GROUP BY x.release_id, x.artist_name"
)
RANKED_DELETE = (  # collapse_duplicates before contract v2 (no roles to join)
    "DELETE FROM release_track_artist WHERE ctid = ANY (ARRAY(SELECT ranked.ord FROM ("
    "SELECT x.ord, row_number() OVER (PARTITION BY release_id, track_sequence, artist_name, "
    "extra ORDER BY ord) AS rn FROM (SELECT *, ctid AS ord FROM release_track_artist) AS x"
    ") AS ranked WHERE ranked.rn > 1))"
)


def fill(conn: psycopg.Connection, releases: int) -> tuple[int, int]:
    """Staged credits: per release a main artist and two extras; every 20th release credits
    its main artist as producer too, every 30th one extra person twice. Track credits: the
    same shape per track of 3 tracks (every 25th track a person twice)."""
    conn.execute("SELECT setseed(0.19)")
    conn.execute(
        "CREATE SCHEMA stage; CREATE SCHEMA new; "
        "CREATE TABLE stage.release_artist (release_id integer, artist_id integer, "
        "artist_name text, extra text, role text); "
        "CREATE TABLE new.release_artist (LIKE public.release_artist INCLUDING DEFAULTS); "
        "CREATE TABLE new.release_track_artist "
        "(LIKE public.release_track_artist INCLUDING DEFAULTS)"
    )
    conn.execute(
        "INSERT INTO stage.release_artist "
        "SELECT r, CASE WHEN k = 5 THEN 0 ELSE a END, 'Artist ' || a, e, role FROM ("
        "SELECT r, (hashint4(r * 7 + CASE WHEN k IN (0, 3) THEN 0 WHEN k IN (1, 4) THEN 1 "
        "ELSE k END) & 65535) + 1 AS a, k, CASE WHEN k = 0 THEN '0' ELSE '1' END AS e, "
        "(ARRAY[NULL, 'Producer', 'Mixed By', 'Producer', 'Written-By', 'Vocals'])[k + 1] "
        "AS role FROM generate_series(1, %s) r, generate_series(0, 5) k "
        "WHERE k < 3 OR (k = 3 AND r %% 20 = 0) OR (k = 4 AND r %% 30 = 0) "
        "OR (k = 5 AND r %% 40 = 0) ORDER BY r, k) AS c",
        [releases],
    )
    row = conn.execute(
        "SELECT count(*), count(*) - count(DISTINCT (release_id, artist_name)) "
        "FROM stage.release_artist"
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def fill_tracks(conn: psycopg.Connection, releases: int) -> None:
    conn.execute("TRUNCATE new.release_track_artist")
    conn.execute(
        "INSERT INTO new.release_track_artist (release_id, track_sequence, artist_name, extra, "
        "role) SELECT r, t, 'Artist ' || ((hashint4(r * 11 + t + k %% 2) & 65535) + 1), "
        "k %% 2, (ARRAY[NULL, 'Remix', 'Vocals'])[k + 1] FROM generate_series(1, %s) r, "
        "generate_series(1, 3) t, generate_series(0, 2) k "
        "WHERE k < 2 OR (r * 3 + t) %% 25 = 0 ORDER BY r, t, k",
        [releases],
    )


def timed(url: str, run: Callable[[psycopg.Connection], object], setup: str = "") -> float:
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute(SETTINGS)
        if setup:
            conn.execute(setup)
        start = time.perf_counter()
        run(conn)
        seconds = time.perf_counter() - start
        conn.commit()
    return seconds


def rows(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(conninfo(url)) as conn:
        return conn.execute(f"SELECT {COLS} FROM new.release_artist ORDER BY 1, 2").fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    target = TARGETS["release_artist"]
    with scratch_database("bench_merge") as url:
        print(f"# {server_settings(url)}")
        with psycopg.connect(conninfo(url)) as conn:
            staged, repeats = fill(conn, args.releases)
        print(f"# release_artist: {staged} staged rows, {repeats} of them repeat a key")
        truncate = "TRUNCATE release_artist"
        ways: dict[str, Callable[[psycopg.Connection], object]] = {
            "distinct_on": lambda c: c.execute(DISTINCT_ON),
            "merge_every_key": lambda c: c.execute(MERGE_EVERY_KEY),
            "load": lambda c: load_child(c.cursor(), "stage", target, check_release=False),
        }
        best = {name: float("inf") for name in ways}
        results = {}
        for _ in range(args.repeat):
            for name, way in ways.items():
                best[name] = min(best[name], timed(url, way, truncate))
                results[name] = rows(url)
        assert results["load"] == results["merge_every_key"], "load merges differently"
        assert len(results["load"]) == staged - repeats
        for name, seconds in best.items():
            report(f"release_artist {name} (best of {args.repeat})", seconds)
        ratio("release_artist merge_every_key / distinct_on", best["merge_every_key"],
              best["distinct_on"])  # fmt: skip
        ratio("release_artist load / distinct_on", best["load"], best["distinct_on"])
        ratio("release_artist load / merge_every_key", best["load"], best["merge_every_key"])

        tracks = TARGETS["release_track_artist"]
        collapse = {
            "ranked_delete": lambda c: c.execute(RANKED_DELETE),
            "collapse_duplicates": lambda c: collapse_duplicates(c.cursor(), tracks),
        }
        best = {name: float("inf") for name in collapse}
        for _ in range(args.repeat):
            for name, way in collapse.items():
                with psycopg.connect(conninfo(url)) as conn:
                    conn.execute(SETTINGS)
                    fill_tracks(conn, args.releases)
                best[name] = min(best[name], timed(url, way))
        for name, seconds in best.items():
            report(f"release_track_artist {name} (best of {args.repeat})", seconds)
        ratio("release_track_artist collapse_duplicates / ranked_delete",
              best["collapse_duplicates"], best["ranked_delete"])  # fmt: skip


if __name__ == "__main__":
    main()
