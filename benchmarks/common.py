"""Shared benchmark helpers: a scratch database on the resolved server, and result lines.

Benchmarks use `$DATABASE_URL` if set, else the embedded server (the same resolution as the
CLI), create a fresh database migrated to head, and drop it at exit, so they never touch
data that matters. Numbers go to stdout as `name: value unit` lines and `ratio` lines.
"""

from __future__ import annotations

import resource
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python benchmarks/bench_x.py` from anywhere
    sys.path.insert(0, str(ROOT))

from discogs_cache import migrate  # noqa: E402
from discogs_cache.db import conninfo, describe, resolve_database_url  # noqa: E402

BENCH_DATA = ROOT / "bench-data"
"""Where benchmarks write their generated inputs (gitignored)."""


def _with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@contextmanager
def scratch_database(prefix: str, *, migrated: bool = True) -> Iterator[str]:
    """A fresh database (migrated to head unless told not to) on the resolved server."""
    server = resolve_database_url(None)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(conninfo(server), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_database(server, name)
    print(f"# scratch database {describe(url)}", flush=True)
    try:
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(conninfo(server), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def server_settings(url: str, names: tuple[str, ...] = ("server_version", "wal_level")) -> str:
    """`name=value` pairs of server settings, printed so numbers can be put in context."""
    with psycopg.connect(conninfo(url)) as conn:
        values = [
            conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(n))).fetchone() for n in names
        ]
    return " ".join(f"{n}={v[0] if v else '?'}" for n, v in zip(names, values))


def report(name: str, value: float, unit: str = "s") -> None:
    """One result line: `name: value unit`."""
    print(f"{name}: {value:.3f} {unit}", flush=True)


def ratio(name: str, value: float, baseline: float, target: float | None = None) -> float:
    """Print value/baseline (and whether it meets `target`, a maximum ratio); returns it."""
    r = value / baseline if baseline else float("inf")
    verdict = ""
    if target is not None:
        verdict = f"  (target <= {target:g}x: {'OK' if r <= target else 'MISSED'})"
    print(f"ratio {name}: {r:.2f}x{verdict}", flush=True)
    return r


def process_tree(root_pid: int) -> set[int]:
    """root_pid and all its descendants (from /proc: Linux)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in family and pid not in family:
                family.add(pid)
                changed = True
    return family


def tree_pss(root_pid: int) -> int:
    """Bytes of memory the process tree uses: the sum of each process's PSS (its private
    pages plus its share of pages it shares, e.g. with forked workers), so pages a fork
    shares are counted once, not once per process as a sum of RSS would."""
    total = 0
    for pid in process_tree(root_pid):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
                break
    return total


def peak_rss_mb() -> float:
    """Peak resident set size of this process (MB; Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """Time a block; the yielded dict gets `seconds` at exit."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - start
