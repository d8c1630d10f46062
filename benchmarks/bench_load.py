"""Load benchmark: `load` vs a bare `COPY ... FROM STDIN (FORMAT csv)` of the same files.

Data: deterministic synthetic converter output (benchmarks/synth.py, 100k releases, ~1M
track rows) under bench-data/. Baseline, same run, same server: each CSV COPYed into a bare
table (all-text columns, no keys, logged, created in an earlier transaction), the files
COPYed at once on as many connections as the load has lanes (biggest first): what loading
costs with no transforms at all, with the same parallelism the load has. `load` runs
into a fresh migrated database. Min and median of `--repeat` runs each (the ratios use the
same statistic on both sides). Target: load <= 1.3x baseline. The index build (`index`,
which the load leaves to it) is timed separately and added: load + index is printed too.

Two floors put the ratio in context: the load's longest chain alone (release_track.csv
COPYed, keyed, checked against `release` and committed by the load's own code, nothing else
running), which no schedule can beat; and the busy core-seconds of the whole machine during
each run (Linux /proc/stat), whose ratio divided by the cores is the best any schedule could
reach with the same work. `--workers N` sets the load's lanes (default: its own choice), to
see how much the schedule matters.
Usage: python benchmarks/bench_load.py [--releases N] [--repeat N] [--workers N]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import psycopg
from common import (
    BENCH_DATA,
    peak_rss_mb,
    ratio,
    report,
    scratch_database,
    server_settings,
)
from psycopg import sql
from synth import write_synthetic_csvs

from discogs_cache import progress
from discogs_cache.db import conninfo
from discogs_cache.index import build_indexes
from discogs_cache.load import build, load
from discogs_cache.load.staging import SPECS, StagedFile
from discogs_cache.load.transform import CHILD_TARGETS

T = TypeVar("T")

FILES = tuple(spec.name for spec in SPECS)
"""The CSVs `load` reads (those present): the baseline copies exactly these."""


def files_in(csv_dir: Path) -> list[str]:
    """The names of FILES that `csv_dir` holds (the load skips absent optional ones too)."""
    return [name for name in FILES if (csv_dir / f"{name}.csv").is_file()]


def load_lanes(csv_dir: Path, workers: int | None = None) -> int:
    """The lanes `load(csv_dir, workers=workers)` runs (its own default rule)."""
    return max(1, min(workers or min(os.cpu_count() or 2, 4), len(files_in(csv_dir))))


def _copy_one(url: str, csv_dir: Path, name: str) -> None:
    statement = sql.SQL("COPY {} FROM STDIN (FORMAT csv, HEADER true)").format(
        sql.Identifier(f"bare_{name}")
    )
    with (
        psycopg.connect(conninfo(url), autocommit=True) as conn,
        conn.cursor() as cur,
        cur.copy(statement) as copy,
        open(csv_dir / f"{name}.csv", "rb") as handle,
    ):
        while block := handle.read(1 << 20):
            copy.write(block)


def bare_copy(url: str, csv_dir: Path, *, unlogged: bool = False, lanes: int = 1) -> float:
    """Seconds to COPY every CSV into bare all-text tables (created beforehand), `lanes`
    files at once, each on its own connection, biggest first."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        for name in files_in(csv_dir):
            with open(csv_dir / f"{name}.csv", newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle))
            conn.execute(
                sql.SQL("CREATE {} TABLE {} ({})").format(
                    sql.SQL("UNLOGGED" if unlogged else ""),
                    sql.Identifier(f"bare_{name}"),
                    sql.SQL(", ").join(
                        sql.SQL("{} text").format(sql.Identifier(c)) for c in header
                    ),
                )
            )
    order = sorted(files_in(csv_dir), key=lambda n: -(csv_dir / f"{n}.csv").stat().st_size)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        for future in [pool.submit(_copy_one, url, csv_dir, name) for name in order]:
            future.result()
    return time.perf_counter() - start


def busy_seconds() -> float | None:
    """Core-seconds the whole machine has spent busy so far (None off Linux)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measured(run: Callable[[], T]) -> tuple[T, float | None]:
    """(result of `run()`, machine busy core-seconds while it ran)."""
    before = busy_seconds()
    result = run()
    after = busy_seconds()
    return result, (after - before if before is not None and after is not None else None)


def track_chain_alone(url: str, csv_dir: Path) -> float:
    """Seconds of the load's longest chain with nothing else running, by the load's own
    code: release_track.csv COPYed into a new table beside the loaded cache, its primary key,
    its foreign key to the loaded `release`, commit."""
    tag = uuid.uuid4().hex[:8]
    b = build.Builder(url, f"bench_chain_{tag}_stage", f"bench_chain_{tag}")
    target = next(t for t in CHILD_TARGETS if t.table == "release_track")
    spec = next(s for s in SPECS if s.name == "release_track")
    with psycopg.connect(conninfo(url), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(b.new)))
        try:
            build.prepare(b, admin, ("release_track",))
            start = time.perf_counter()
            build.build_direct(b, target, StagedFile(spec, csv_dir / spec.filename), lambda: None)
            return time.perf_counter() - start
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(b.new)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None, help="the load's lanes")
    args = parser.parse_args()
    progress.set_quiet(True)
    csv_dir = BENCH_DATA / f"load-{args.releases}"
    info = write_synthetic_csvs(csv_dir, args.releases)
    size = sum((csv_dir / f"{n}.csv").stat().st_size for n in files_in(csv_dir))
    print(f"# {args.releases} releases, {info.track_rows} track rows, {size / 1e6:.1f} MB of CSV")
    lanes = load_lanes(csv_dir, args.workers)
    print(f"# load lanes (--workers): {args.workers or 'the load default'}: {lanes}; the "
          f"baseline COPYs on as many connections")  # fmt: skip

    baseline: list[float] = []
    unlogged: list[float] = []
    loaded: list[float] = []
    index_s: list[float] = []
    chain: list[float] = []
    cpu: dict[str, list[float]] = {"bare": [], "load": []}
    for _ in range(args.repeat):
        with scratch_database("bench_load_bare", migrated=False) as url:
            seconds, busy = measured(lambda: bare_copy(url, csv_dir, lanes=lanes))
            baseline.append(seconds)
            cpu["bare"] += [busy] if busy is not None else []
            unlogged.append(bare_copy_unlogged(url, csv_dir, lanes))
        with scratch_database("bench_load") as url:
            summary, busy = measured(lambda: load(url, csv_dir, workers=args.workers))
            cpu["load"] += [busy] if busy is not None else []
            if not loaded or summary.seconds < min(loaded):
                copies = ", ".join(f"{f.spec.name} {f.seconds:.2f}" for f in summary.files)
            loaded.append(summary.seconds)
            chain.append(track_chain_alone(url, csv_dir))
            index_s.append(build_indexes(url).seconds)
            settings = server_settings(url)
    print(f"# server: {settings}")
    print(f"# best load, seconds per file COPY (run in parallel): {copies}")
    both = [a + b for a, b in zip(loaded, index_s, strict=True)]
    for label, values in (
        ("baseline bare COPY (logged tables)", baseline),
        ("bare COPY into UNLOGGED tables (for reference)", unlogged),
        ("load (staging + transforms + keys + swap)", loaded),
        ("floor: release_track chain alone (COPY + key + foreign key + commit)", chain),
        ("index build (separately)", index_s),
        ("load + index", both),
    ):
        report(f"{label} min", min(values))
        report(f"{label} median", statistics.median(values))
    report("load rows/s (track rows, best run)", info.track_rows / min(loaded), "rows/s")
    report("peak RSS (this process)", peak_rss_mb(), "MB")
    ratio("load / bare COPY (min)", min(loaded), min(baseline), target=1.3)
    ratio("load / bare COPY (median)", statistics.median(loaded), statistics.median(baseline))
    ratio("load / bare COPY unlogged (min)", min(loaded), min(unlogged))
    ratio("floor: release_track chain alone / bare COPY (median)", statistics.median(chain),
          statistics.median(baseline))  # fmt: skip
    if cpu["bare"] and cpu["load"]:
        cores = os.cpu_count() or 1
        bare_cpu, load_cpu = statistics.median(cpu["bare"]), statistics.median(cpu["load"])
        report("machine busy during bare COPY (median)", bare_cpu, "core-s")
        report("machine busy during load (median)", load_cpu, "core-s")
        work = ratio("load / bare COPY, busy core-seconds (median)", load_cpu, bare_cpu)
        print(f"ratio floor: that work spread perfectly over {cores} cores: {work / cores:.2f}x")
    ratio("load + index / bare COPY (min)", min(both), min(baseline))


def bare_copy_unlogged(url: str, csv_dir: Path, lanes: int) -> float:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        for name in files_in(csv_dir):
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(f"bare_{name}")))
    return bare_copy(url, csv_dir, unlogged=True, lanes=lanes)


if __name__ == "__main__":
    main()
