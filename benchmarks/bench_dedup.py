"""Dedup benchmark: `dedup` on a loaded, indexed synthetic cache of >= 200k releases.

Data: benchmarks/synth.py (fixed seed) loaded with `discogs_cache.load` and indexed with
`build_indexes`, into one scratch database that serves as a template; every timed run gets
its own clone (CREATE DATABASE ... TEMPLATE), so each starts from the same state.
Runs, same server, same data: `dedup` with label preferences + hierarchy under "auto"
(synth masters hold ~3.5 pressings, ~60% of releases go: auto picks "delete") and with the
copy-swap forced, to keep `swap.COPY_RATIO` honest. Normalization caches are cleared before
each run so every run pays the Python pairing cost in full.
Baseline: the bare minimum any dedup must do, one hand-written SQL statement
`DELETE FROM release WHERE id IN (ROW_NUMBER() ... > 1)` (country/tracks/id ranking, track
counts joined once, no label pairing, FK cascade does the children). The three are run in
turn, each on its own clone, `--repeat` times: min and median of each are printed.
Usage: python benchmarks/bench_dedup.py [--releases N] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from common import BENCH_DATA, ratio, report, scratch_database, server_settings
from psycopg import sql
from sqlalchemy.engine import make_url
from synth import write_synthetic_csvs

from discogs_cache import progress
from discogs_cache.db import conninfo
from discogs_cache.dedup import dedup
from discogs_cache.index import build_indexes
from discogs_cache.library.labels import LabelPreference
from discogs_cache.load import load
from discogs_cache.matcher.albums import album_artist_key, label_key
from discogs_cache.normalize import artist_key, normalize_artist, normalize_title

BARE_DEDUP = """
DELETE FROM release WHERE id IN (
    SELECT id FROM (
        SELECT r.id, row_number() OVER (
            PARTITION BY r.master_id
            ORDER BY (r.country = 'US') DESC NULLS LAST, coalesce(tc.n, 0) DESC, r.id) AS rn
        FROM release r
        LEFT JOIN (SELECT release_id, count(*) AS n FROM release_track GROUP BY release_id) tc
            ON tc.release_id = r.id
        WHERE r.master_id IS NOT NULL) ranked
    WHERE rn > 1)
"""
"""The fairest hand-written SQL for the same ranking: track counts by one grouped join (a
correlated per-row count subquery was 10-20% slower), the FK cascade for the children."""


def _admin(url: str) -> psycopg.Connection:
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    return psycopg.connect(conninfo(server), autocommit=True)


@contextmanager
def clone(template_url: str) -> Iterator[str]:
    """A throwaway copy of the template database."""
    name = f"bench_dedup_run_{uuid.uuid4().hex[:8]}"
    template = make_url(template_url).database
    with _admin(template_url) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template or "")
            )
        )
    try:
        yield make_url(template_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin(template_url) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def bare_dedup(url: str) -> tuple[float, int]:
    with psycopg.connect(conninfo(url)) as conn:
        start = time.perf_counter()
        removed = conn.execute(BARE_DEDUP).rowcount  # type: ignore[arg-type]
        conn.commit()
        return time.perf_counter() - start, removed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    progress.set_quiet(True)
    csv_dir = BENCH_DATA / f"dedup-{args.releases}"
    info = write_synthetic_csvs(csv_dir, args.releases)
    prefs = [LabelPreference(*row) for row in info.library_labels]
    print(f"# {args.releases} releases, {info.n_masters} masters, {len(prefs)} label prefs")

    runs: dict[str, list[float]] = {"auto": [], "copy": [], "bare": []}
    with scratch_database("bench_dedup") as template:
        load(template, csv_dir)
        build_indexes(template)
        print(f"# server: {server_settings(template)}")
        with psycopg.connect(conninfo(template)) as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM release ORDER BY id")]
        preferred = ids[::50]  # 2% "classifier matched", to exercise that path too
        for _ in range(args.repeat):
            for strategy in ("auto", "copy"):
                for cached in (
                    normalize_artist,
                    normalize_title,
                    artist_key,
                    album_artist_key,
                    label_key,
                ):
                    cached.cache_clear()
                with clone(template) as url:
                    start = time.perf_counter()
                    summary = dedup(
                        url,
                        label_preferences=prefs,
                        label_hierarchy=csv_dir / "label_hierarchy.csv",
                        preferred_release_ids=preferred,
                        strategy=strategy,
                    )
                    runs[strategy].append(time.perf_counter() - start)
                    if strategy == "auto":
                        shown = summary
                    else:
                        copy_removed = summary.releases_removed
            with clone(template) as url:
                seconds, bare_removed = bare_dedup(url)
                runs["bare"].append(seconds)
    print(
        f"# groups {shown.groups}, removed {shown.releases_removed} of "
        f"{shown.releases_before} (copy-swap {copy_removed}, bare SQL {bare_removed}), "
        f"auto strategy {shown.strategy}, "
        f"decided by {shown.decided_by}, {shown.label_matched} on a preferred label"
    )
    for name, label in (
        ("auto", "dedup (auto)"),
        ("copy", "dedup (forced copy-swap)"),
        ("bare", "baseline bare SQL DELETE ... row_number() > 1 (join)"),
    ):
        report(f"{label} min", min(runs[name]))
        report(f"{label} median", statistics.median(runs[name]))
    ratio("dedup auto / bare SQL delete (min)", min(runs["auto"]), min(runs["bare"]))
    ratio(
        "dedup auto / bare SQL delete (median)",
        statistics.median(runs["auto"]),
        statistics.median(runs["bare"]),
    )
    ratio("dedup copy-swap / bare SQL delete (min)", min(runs["copy"]), min(runs["bare"]))
    ratio("dedup copy-swap / dedup auto (min)", min(runs["copy"]), min(runs["auto"]))


if __name__ == "__main__":
    main()
