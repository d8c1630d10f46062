"""Benchmark: `library export` of a 100k-release catalog streams in bounded memory.

Generates a deterministic catalog (fixed seed) in scratch MariaDB/MySQL databases, then, each in
its own process so peak RSS is per phase:
  * baseline: a plain buffered `SELECT` fetch of the same rows (pymysql's default cursor);
  * export_catalog of 25k and of 100k rows (server-side cursor → SQLite + FTS5).
Bounded memory shows as the export's peak RSS staying flat from 25k to 100k rows while the
buffered fetch grows with the catalog. The server's cache is warmed by one untimed read of
each catalog first; then the two phases run `--repeat` times, alternating which goes first,
and the min and median seconds (and the median peak RSS) of each are printed.
MySQL URL: $MYSQL_URL_BENCH, else $MYSQL_URL_TEST, else mysql://root@127.0.0.1:3306/mysql.
Output and the library.db go under bench-data/.
Usage: python benchmarks/bench_library.py [--repeat N] [--sizes 25000,100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pymysql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from discogs_cache.library.export import CATALOG_QUERY, export_catalog  # noqa: E402
from discogs_cache.library.mysql import connect_kwargs  # noqa: E402

OUT = ROOT / "bench-data" / "library"
SEED = 20240601
SIZES = (25_000, 100_000)
WORDS = [
    *("love", "blue", "night", "sun", "dream", "fire", "city", "song", "black", "white"),
    *("rain", "ghost", "heart", "river", "star", "road", "gold", "summer", "electric"),
    *("velvet", "ágætis", "björk", "café", "señor", "noël", "straße", "naïve"),
]
DDL = [
    "CREATE TABLE GENRE (ID INT PRIMARY KEY, REFERENCE_NAME VARCHAR(64))",
    "CREATE TABLE FORMAT (ID INT PRIMARY KEY, REFERENCE_NAME VARCHAR(64))",
    "CREATE TABLE LIBRARY_CODE (ID INT PRIMARY KEY, GENRE_ID INT, PRESENTATION_NAME"
    " VARCHAR(255), CALL_LETTERS VARCHAR(8), CALL_NUMBERS INT)",
    "CREATE TABLE LIBRARY_RELEASE (ID INT PRIMARY KEY, LIBRARY_CODE_ID INT, FORMAT_ID INT,"
    " TITLE VARCHAR(255), CALL_NUMBERS INT, ALTERNATE_ARTIST_NAME VARCHAR(255))",
]


def server_url() -> str:
    return (
        os.environ.get("MYSQL_URL_BENCH")
        or os.environ.get("MYSQL_URL_TEST")
        or "mysql://root@127.0.0.1:3306/mysql"
    )


def _db_url(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _server(url: str) -> pymysql.connections.Connection:
    kwargs = connect_kwargs(url)
    kwargs.update(use_unicode=True, autocommit=True)
    return pymysql.connect(**kwargs)


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).title()


def generate(url: str, name: str, releases: int) -> None:
    """A catalog of `releases` rows (one artist per 6 releases), always the same for a size."""
    rng = random.Random(SEED)
    conn = _server(url)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        cur.execute(f"USE `{name}`")
        for ddl in DDL:
            cur.execute(ddl + " CHARACTER SET utf8mb4")
        cur.executemany("INSERT INTO GENRE VALUES (%s, %s)", [(1, "Rock"), (2, "Jazz")])
        cur.executemany("INSERT INTO FORMAT VALUES (%s, %s)", [(1, "CD"), (2, "LP")])
        codes = [
            (i, rng.randint(1, 2), _words(rng, 2), _words(rng, 1)[:2].upper(), i % 1000)
            for i in range(1, releases // 6 + 2)
        ]
        cur.executemany("INSERT INTO LIBRARY_CODE VALUES (%s, %s, %s, %s, %s)", codes)
        for start in range(1, releases + 1, 10_000):
            rows = [
                (
                    i,
                    rng.randint(1, len(codes)),
                    rng.randint(1, 2),
                    _words(rng, rng.randint(1, 5)) + ("\ttake\\2\n" if i % 97 == 0 else ""),
                    i % 500,
                    _words(rng, 2) if i % 10 == 0 else None,
                )
                for i in range(start, min(start + 10_000, releases + 1))
            ]
            cur.executemany("INSERT INTO LIBRARY_RELEASE VALUES (%s, %s, %s, %s, %s, %s)", rows)
    conn.close()


def _current_rss_kb() -> int:
    try:
        status = Path("/proc/self/status").read_text()
        return int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS:")).split()[1])
    except (OSError, StopIteration, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def phase(kind: str, url: str, output: str) -> dict[str, float]:
    """One measured phase (run in a child process): seconds and this process's peak RSS."""
    before_kb = _current_rss_kb()  # after imports
    start = time.perf_counter()
    if kind == "buffered":
        conn = _server(url)
        with conn.cursor() as cur:
            cur.execute(CATALOG_QUERY)
            rows = len(cur.fetchall())
        conn.close()
    else:
        from discogs_cache import progress

        progress.set_quiet(True)
        rows = export_catalog(url, Path(output)).rows
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": rows,
        "seconds": seconds,
        "start_rss_mb": before_kb / 1024,
        "peak_rss_mb": peak_kb / 1024,
    }


def measure(kind: str, url: str, output: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", kind, url, str(output)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def _summary(runs: list[dict[str, float]]) -> dict[str, float]:
    """min and median seconds, median RSS figures of repeated runs of one phase."""
    seconds = [r["seconds"] for r in runs]
    return {
        "rows": runs[0]["rows"],
        "seconds": min(seconds),
        "median_seconds": statistics.median(seconds),
        "start_rss_mb": statistics.median(r["start_rss_mb"] for r in runs),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    url = server_url()
    try:
        _server(url).close()
    except pymysql.err.MySQLError as exc:
        print(f"skipped: no MySQL reachable ({exc.args[-1]})")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    names = {size: f"bench_library_{size}_{os.getpid()}" for size in sizes}
    try:
        start = time.perf_counter()
        for size, name in names.items():
            generate(url, name, size)
        print(f"generated catalogs {list(sizes)} in {time.perf_counter() - start:.1f} s")
        results = {}
        for size, name in names.items():
            db_url = _db_url(url, name)
            measure("buffered", db_url, OUT / "unused")  # untimed: warms the server's cache
            runs: dict[str, list[dict[str, float]]] = {"buffered": [], "export": []}
            for turn in range(args.repeat):  # alternating which phase goes first
                order = ("buffered", "export") if turn % 2 == 0 else ("export", "buffered")
                for kind in order:
                    runs[kind].append(measure(kind, db_url, OUT / f"library_{size}.db"))
            results[size] = {kind: _summary(r) for kind, r in runs.items()}
        print(
            f"{'rows':>8}  {'phase':<23} {'min s':>8} {'median s':>9} {'RSS before MB':>14}"
            f" {'peak RSS MB':>12}"
        )
        for res in results.values():
            for kind, label in (("buffered", "baseline buffered fetch"), ("export", "export")):
                r = res[kind]
                print(
                    f"{r['rows']:>8}  {label:<23} {r['seconds']:>8.2f} {r['median_seconds']:>9.2f}"
                    f" {r['start_rss_mb']:>14.1f} {r['peak_rss_mb']:>12.1f}"
                )
        big, small = results[sizes[-1]], results[sizes[0]]
        print(
            f"export/baseline time at {sizes[-1]} rows: "
            f"{big['export']['seconds'] / big['buffered']['seconds']:.2f}x (min), "
            f"{big['export']['median_seconds'] / big['buffered']['median_seconds']:.2f}x "
            f"(median); export RSS {sizes[0]}->{sizes[-1]} rows: "
            f"{big['export']['peak_rss_mb'] / small['export']['peak_rss_mb']:.2f}x "
            f"(buffered fetch: "
            f"{big['buffered']['peak_rss_mb'] / small['buffered']['peak_rss_mb']:.2f}x)"
        )
        size_mb = (OUT / f"library_{sizes[-1]}.db").stat().st_size / 1e6
        print(f"library.db of {sizes[-1]} rows: {size_mb:.1f} MB")
    finally:
        conn = _server(url)
        with conn.cursor() as cur:
            for name in names.values():
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--phase":
        print(json.dumps(phase(sys.argv[2], sys.argv[3], sys.argv[4])))
        sys.exit(0)
    sys.exit(main())
