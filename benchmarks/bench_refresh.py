"""Refresh benchmark: a monthly `run` over a live, written-to cache vs a cold build.

Data: the synthetic converter output of bench_pipeline (benchmarks/synth.py, 200k releases
by default) with its station library and label preferences. Measured in one run, on one
server, alternated and repeated (`--rounds`), so the ratios compare like with like:

- cold: `run --csv-dir` into a fresh, empty database (the reader below runs meanwhile, on
  the live cache, so both builds share the machine with it);
- refresh: the same `run` over a populated cache that consumers have written to (API-fetched
  releases through the write-back path, artwork back-patched onto 10% of the bulk releases)
  while a consumer process reads it.
  Targets: refresh / cold <= 1.2x; the publish's exclusive locks held < 1 s;
- readers: a separate process loops over the consumer queries (release by id with main
  artists and tracks, the three trigram searches) in one transaction each; its p95 latency
  during the refresh against its p95 on the idle cache, measured just before (target <= 2x).

The machine is shared: absolute seconds are noisy, the ratios less so.
Usage: python benchmarks/bench_refresh.py [--releases N] [--rounds R] [--api-writes W]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import csv_inputs
from common import ratio, report, scratch_database, server_settings

TARGET_REFRESH_RATIO = 1.2
TARGET_LOCK_SECONDS = 1.0
TARGET_READER_RATIO = 2.0

_READ = (
    ("SELECT id, title, release_year FROM release WHERE id = %s", "id"),
    ("SELECT artist_name FROM release_artist WHERE release_id = %s AND extra = 0", "id"),
    ("SELECT title FROM release_track WHERE release_id = %s ORDER BY sequence", "id"),
    ("SELECT id FROM release WHERE lower(f_unaccent(title)) %% lower(f_unaccent(%s)) "
     "ORDER BY similarity(lower(f_unaccent(title)), lower(f_unaccent(%s))) DESC LIMIT 10",
     "title"),
    ("SELECT release_id FROM release_artist WHERE lower(f_unaccent(artist_name)) %% "
     "lower(f_unaccent(%s)) LIMIT 10", "artist"),
    ("SELECT release_id FROM release_track WHERE lower(f_unaccent(title)) %% "
     "lower(f_unaccent(%s)) LIMIT 10", "track"),
)  # fmt: skip


def reader(url: str, ids: list[int], stop: Any, out: Any) -> None:
    """A consumer in its own process: (start time, seconds) of every read transaction."""
    import psycopg

    from discogs_cache.db import conninfo

    rng = random.Random(1)
    samples: list[tuple[float, float]] = []
    errors = 0
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        while not stop.is_set():
            rid = rng.choice(ids)
            start = time.perf_counter()
            try:
                with conn.transaction():
                    row = conn.execute(_READ[0][0], (rid,)).fetchone()
                    artist = conn.execute(_READ[1][0], (rid,)).fetchone()
                    track = conn.execute(_READ[2][0], (rid,)).fetchone()
                    terms = {"id": rid, "title": row[1] if row else "love",
                             "artist": artist[0] if artist else "love",
                             "track": track[0] if track else "love"}  # fmt: skip
                    for query, key in _READ[3:]:
                        conn.execute(query, (terms[key], terms[key])[: query.count("%s")])
            except psycopg.Error:
                errors += 1
            samples.append((time.time(), time.perf_counter() - start))
            time.sleep(0.005)
    out.put((samples, errors))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def _options(url: str, csv_dir: Path, library: Path, labels: Path, state: Path) -> Any:
    from discogs_cache.pipeline.options import RunOptions

    return RunOptions(database_url=url, csv_dir=csv_dir, library_db=library,
                      library_labels=labels, state_file=state)  # fmt: skip


def consumer_writes(url: str, api_writes: int) -> None:
    """What a month of consumers leaves: API-fetched releases and back-patched artwork."""
    from discogs_cache.db import connect, create_engine
    from discogs_cache.writeback import Credit, NewRelease, NewTrack, store_release

    engine = create_engine(url)
    try:
        for n in range(api_writes):
            rid = 2_000_000_000 - n
            store_release(engine, NewRelease(
                id=rid, title=f"api release {n}", artists=(Credit(f"api artist {n}"),),
                tracks=tuple(NewTrack(s, f"api track {n}.{s}") for s in range(1, 9)),
                artwork_url=f"https://img.example/{rid}.jpg",
            ))  # fmt: skip
    finally:
        engine.dispose()
    with connect(url) as conn:
        conn.execute(
            "UPDATE release SET artwork_url = 'https://img.example/' || id || '.jpg' "
            "WHERE id %% 10 = 0 AND id < 2000000000 - %s",
            (api_writes,),
        )
        conn.commit()


def sample_ids(url: str) -> list[int]:
    from discogs_cache.db import connect

    with connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT id FROM release TABLESAMPLE SYSTEM (5) WHERE id < 2000000000 LIMIT 2000"
        )]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--api-writes", type=int, default=300)
    parser.add_argument("--idle-seconds", type=float, default=8.0)
    args = parser.parse_args()

    from discogs_cache import progress
    from discogs_cache.pipeline.run import run

    progress.set_quiet(True)
    csv_dir, library, labels = csv_inputs(args.releases)
    print(f"# releases: {args.releases}, rounds: {args.rounds}", flush=True)
    colds: list[float] = []
    refreshes: list[float] = []
    locks: list[float] = []
    idle_p95: list[float] = []
    busy_p95: list[float] = []
    ctx = mp.get_context("spawn")
    with (
        scratch_database("bench_refresh_live", migrated=False) as live,
        tempfile.TemporaryDirectory() as tmp,
    ):
        print(f"# {server_settings(live)}", flush=True)
        first = run(_options(live, csv_dir, library, labels, Path(tmp) / "first.json"))
        print(f"# live cache: {first.releases} releases", flush=True)
        consumer_writes(live, args.api_writes)
        ids = sample_ids(live)
        for n in range(args.rounds):
            stop, out = ctx.Event(), ctx.Queue()
            proc = ctx.Process(target=reader, args=(live, ids, stop, out))
            proc.start()  # reading all along: the cold build competes with it too
            time.sleep(1.0)  # connected and warm
            with scratch_database("bench_refresh_cold", migrated=False) as cold_url:
                cold = run(_options(cold_url, csv_dir, library, labels, Path(tmp) / f"c{n}.json"))
            colds.append(cold.seconds)
            report(f"round {n + 1} cold build", cold.seconds)
            idle_from = time.time()
            time.sleep(args.idle_seconds)
            busy_from = time.time()
            refresh = run(_options(live, csv_dir, library, labels, Path(tmp) / f"r{n}.json"))
            busy_to = time.time()
            stop.set()
            samples, errors = out.get(timeout=60)
            proc.join(timeout=60)
            refreshes.append(refresh.seconds)
            locks.append(refresh.lock_seconds or 0.0)
            idle = [s for t, s in samples if idle_from <= t < busy_from]
            busy = [s for t, s in samples if busy_from <= t < busy_to]
            idle_p95.append(p95(idle))
            busy_p95.append(p95(busy))
            report(f"round {n + 1} refresh", refresh.seconds)
            report(f"round {n + 1} publish exclusive-lock hold", refresh.lock_seconds or 0.0)
            report(f"round {n + 1} reader p95 idle ({len(idle)} reads)", idle_p95[-1] * 1000, "ms")
            report(f"round {n + 1} reader p95 during refresh ({len(busy)} reads)",
                   busy_p95[-1] * 1000, "ms")  # fmt: skip
            report(f"round {n + 1} reader max during refresh", max(busy) * 1000, "ms")
            phases = {s.name: s.details for s in refresh.steps}["publish"].get("phases")
            print(f"# round {n + 1}: reader errors {errors}; carried {refresh.carried}; "
                  f"publish phases (s) {phases}", flush=True)  # fmt: skip
    cold_s, refresh_s = statistics.median(colds), statistics.median(refreshes)
    report("cold build (median)", cold_s)
    report("refresh (median)", refresh_s)
    ratio("refresh / cold build", refresh_s, cold_s, target=TARGET_REFRESH_RATIO)
    ratio("publish lock hold (max) / 1 s", max(locks), TARGET_LOCK_SECONDS, target=1.0)
    ratio("reader p95 during refresh / idle (median of rounds)",
          statistics.median(busy_p95), statistics.median(idle_p95),
          target=TARGET_READER_RATIO)  # fmt: skip


if __name__ == "__main__":
    main()
