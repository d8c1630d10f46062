"""The whole `run --xml` at scale: time, peak RSS and peak disk per step, projected to 18M.

Data (benchmarks/scale_dump.py, cached under bench-data/): N releases in the shapes of the
real excerpts (post-2024 layout), a FIXED artist pool and station catalogue (whatever N),
~20% of releases by library artists. Each size runs `discogs-cache run --xml DUMP
--library-db LIB` (the album filter unless --filter artists) as a subprocess into a fresh
database on --database-url (default: $DATABASE_URL or the embedded server), while this
process samples every 0.2 s: the summed RSS of the run's whole process tree (/proc; the
PostgreSQL server is not part of it) and the bytes on disk (every file under the run's
work dir — CSVs, spills, state — plus pg_database_size). Samples are attributed to steps by
the state file's completion times.

Printed per size: per step wall time, peak RSS, peak disk; final cache size; then the
projection to 18M releases (time linear in N; RSS as measured: no step holds per-release
state; disk as the measured ratio to final cache + kept CSVs) against the targets: <= 10 min
end to end, peak RSS <= 1 GB, peak disk <= 2x (final cache + kept CSVs). With several sizes
(e.g. --releases 1000000 2000000) the ratios between them: peak RSS within 10%, time per
release within 15%. The machine is shared: the load average is printed with the numbers.
Usage: python benchmarks/bench_scale.py [--releases N ...] [--filter albums|artists]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

FULL_DUMP = 18_000_000
TARGET_SECONDS = 600.0
TARGET_RSS = 1 << 30
TARGET_DISK_RATIO = 2.0
SAMPLE_SECONDS = 0.2


@dataclass
class Sample:
    at: float
    rss: int  # PSS summed over the process tree (shared pages once)
    disk: int
    rss_sum: int = 0  # VmRSS summed (counts pages shared by forked workers once per process)
    cpu: float = 0.0  # CPU seconds so far: the run's process tree and its database backends


@dataclass
class Measured:
    releases: int
    seconds: float
    steps: list[tuple[str, float, float, float]]  # name, start, end (epoch), seconds
    samples: list[Sample] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    csv_bytes: int = 0

    @property
    def peak_rss(self) -> int:
        return max((s.rss for s in self.samples), default=0)

    @property
    def peak_rss_sum(self) -> int:
        return max((s.rss_sum for s in self.samples), default=0)

    @property
    def peak_disk(self) -> int:
        return max((s.disk for s in self.samples), default=0)

    @property
    def cpu(self) -> float:
        return self.samples[-1].cpu if self.samples else 0.0

    def step_peaks(self, start: float, end: float) -> tuple[int, int, float]:
        """Peak memory, peak disk and CPU seconds of the samples between start and end."""
        inside = [s for s in self.samples if start <= s.at <= end]
        before = [s.cpu for s in self.samples if s.at < start]
        cpu = inside[-1].cpu - (before[-1] if before else 0.0) if inside else 0.0
        rss = max((s.rss for s in inside), default=0)
        return rss, max((s.disk for s in inside), default=0), cpu


class CpuMeter:
    """CPU seconds of a set of processes that come and go: the last value seen per pid,
    summed (a process's last tenths of a second before it exits can be missed)."""

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self.tick = os.sysconf("SC_CLK_TCK")

    def update(self, pids: set[int]) -> float:
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            self.seen[pid] = (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
        return sum(self.seen.values())


def dir_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue  # a temp file renamed or removed meanwhile
    return total


def database_bytes(url: str, name: str, backends: set[int]) -> int:
    """pg_database_size; adds the pids of the database's other backends to `backends`."""
    import psycopg

    from discogs_cache.db import conninfo

    try:
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            row = conn.execute("SELECT pg_database_size(%s)", (name,)).fetchone()
            pids = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchall()
        backends.update(int(pid) for (pid,) in pids)
        return int(row[0]) if row else 0
    except psycopg.Error:
        return 0


def run_once(n: int, keep: str, workers: int | None) -> Measured:
    """One `run --xml` of n releases into a fresh database, sampled as it goes."""
    from bench_convert import tree_rss
    from common import process_tree, scratch_database, tree_pss
    from scale_dump import build
    from sqlalchemy.engine import make_url

    data = build(n)
    with (
        scratch_database(f"bench_scale_{n}", migrated=False) as url,
        tempfile.TemporaryDirectory(dir=data) as tmp,
    ):
        work = Path(tmp)
        state, summary_file = work / "state.json", work / "summary.json"
        command = [
            sys.executable, "-m", "discogs_cache", "run", "--xml", str(data / "dump"),
            "--library-db", str(data / "library.db"), "--database-url", url,
            "--state-file", str(state), "--keep-csv", str(work / "csv"),
            "--summary-json", str(summary_file), "--filter", keep, "-q",
        ]  # fmt: skip
        if workers:
            command += ["--workers", str(workers)]
        name = str(make_url(url).database)
        samples: list[Sample] = []
        started = time.time()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        stop = threading.Event()

        def disk_sampler() -> None:  # pg_database_size is a query: not in the RSS loop
            while not stop.is_set():
                disk[0] = dir_bytes(work) + database_bytes(url, name, backends)
                time.sleep(SAMPLE_SECONDS)

        disk, backends, meter = [0], set(), CpuMeter()
        sampler = threading.Thread(target=disk_sampler, daemon=True)
        sampler.start()
        while process.poll() is None:
            summed, _ = tree_rss(process.pid)
            cpu = meter.update(process_tree(process.pid) | backends)
            samples.append(Sample(time.time(), tree_pss(process.pid), disk[0], summed, cpu))
            time.sleep(SAMPLE_SECONDS)
        stop.set()
        sampler.join()
        if process.returncode != 0:
            raise SystemExit(f"run --xml on {n} releases failed ({process.returncode})")
        seconds = time.time() - started
        recorded = json.loads(state.read_text())["steps"]
        steps = [
            (step, rec["completed_at"] - rec["seconds"], rec["completed_at"], rec["seconds"])
            for step, rec in recorded.items()
        ]
        measured = Measured(n, seconds, steps, samples, json.loads(summary_file.read_text()))
        measured.csv_bytes = dir_bytes(work / "csv")
        shutil.rmtree(work / "csv", ignore_errors=True)
    return measured


def mb(value: float) -> str:
    return f"{value / 2**20:8.1f} MB"


def report(m: Measured) -> None:
    s = m.summary
    print(f"\n## {m.releases:,} releases: {m.seconds:.1f} s end to end "
          f"({m.seconds / m.releases * 1e6:.1f} us/release), {s['releases']:,} releases left, "
          f"classification {s['classification']}, dedup removed {s['dedup_removed']}")  # fmt: skip
    print(f"{'step':10} {'seconds':>8} {'CPU s':>8} {'peak memory':>11} {'peak disk':>11}")
    for step, start, end, seconds in m.steps:
        rss, disk, cpu = m.step_peaks(start, end)
        print(f"{step:10} {seconds:8.2f} {cpu:8.2f} {mb(rss)} {mb(disk)}")
    print(f"CPU: {m.cpu:.1f} s (run's processes + its database backends), "
          f"{m.cpu / m.releases * 1e6:.1f} us/release; on 2 cores of its own the run would "
          f"take at least {m.cpu / 2:.1f} s")  # fmt: skip
    final = int(s["size_bytes"])
    print(f"peak memory of the process tree: {mb(m.peak_rss)} PSS ({mb(m.peak_rss_sum)} as "
          f"summed RSS); peak disk (work dir + database): {mb(m.peak_disk)}; final cache "
          f"{mb(final)}; kept CSVs {mb(m.csv_bytes)}")  # fmt: skip
    scale = FULL_DUMP / m.releases
    kept = (final + m.csv_bytes) * scale
    project(m.seconds * scale, m.peak_rss, m.peak_disk * scale, kept, "linear from this size")
    print(
        f"  CPU-bound estimate for 18M on 2 dedicated cores: {m.cpu * scale / 2 / 60:.1f} min "
        "(CPU seconds / 2: what the shared machine's load does not inflate)"
    )


def project(seconds: float, rss: float, disk: float, kept: float, how: str) -> None:
    """Print the 18M projection against the targets."""
    ratio = disk / max(1.0, kept)
    print(f"projection to {FULL_DUMP / 1e6:.0f}M releases ({how}): {seconds / 60:.1f} min "
          f"(target {TARGET_SECONDS / 60:.0f} min: "
          f"{'met' if seconds <= TARGET_SECONDS else 'NOT met'}); "
          f"peak memory {mb(rss).strip()} (target 1 GB: "
          f"{'met' if rss <= TARGET_RSS else 'NOT met'}); "
          f"peak disk {mb(disk).strip()} = {ratio:.2f}x (final cache + kept CSVs, "
          f"{mb(kept).strip()}) (target {TARGET_DISK_RATIO:g}x: "
          f"{'met' if ratio <= TARGET_DISK_RATIO else 'NOT met'})")  # fmt: skip


def _fit(n1: int, y1: float, n2: int, y2: float) -> float:
    """The value at FULL_DUMP of the line through (n1, y1) and (n2, y2): a fixed part
    (artists.xml, an empty database, imports) plus a part per release."""
    return y2 + (y2 - y1) / (n2 - n1) * (FULL_DUMP - n2)


def compare(runs: list[Measured]) -> None:
    base = runs[0]
    for other in runs[1:]:
        rss = other.peak_rss / base.peak_rss
        per = (other.seconds / other.releases) / (base.seconds / base.releases)
        cpu = (other.cpu / other.releases) / (base.cpu / base.releases)
        flat, linear = abs(rss - 1) <= 0.10, abs(per - 1) <= 0.15
        print(f"\nratio {other.releases:,} / {base.releases:,} releases: peak memory {rss:.3f} "
              f"(flat within 10%: {'yes' if flat else 'NO'}); time per release {per:.3f} "
              f"(linear within 15%: {'yes' if linear else 'NO'}); CPU per release "
              f"{cpu:.3f}")  # fmt: skip
        for (step, _, _, a), (_, _, _, b) in zip(base.steps, other.steps, strict=False):
            per_step = (b / other.releases) / (a / base.releases) if a else float("nan")
            print(f"  {step:10} per release {per_step:.3f}")
        n1, n2 = base.releases, other.releases
        kept1 = int(base.summary["size_bytes"]) + base.csv_bytes
        kept2 = int(other.summary["size_bytes"]) + other.csv_bytes
        project(
            _fit(n1, base.seconds, n2, other.seconds),
            max(base.peak_rss, other.peak_rss),
            _fit(n1, base.peak_disk, n2, other.peak_disk),
            _fit(n1, kept1, n2, kept2),
            f"fixed + per-release parts fitted on {n1:,} and {n2:,}",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--filter", choices=("albums", "artists"), default="albums")
    parser.add_argument("--database-url", help="server for the scratch databases")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    import common  # noqa: F401  (puts the repository on sys.path)
    from scale_dump import build

    for n in args.releases:  # generate first: the timed runs should not wait for it
        build(n)
    print(f"# filter {args.filter}; cores {os.cpu_count()}; load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)  # fmt: skip
    runs = []
    for n in args.releases:
        runs.append(run_once(n, args.filter, args.workers))
        print(f"# load average after {n:,}: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        report(runs[-1])
    compare(runs)


if __name__ == "__main__":
    main()
