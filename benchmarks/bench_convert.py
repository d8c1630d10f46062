"""convert throughput from .gz (MB/s of XML) against `gzip -dc FILE > /dev/null`, same run.

Generates (once, cached under bench-data/) a deterministic synthetic dump of >= 400 MB of
release XML plus artists and labels, runs `discogs-cache convert DIR --library-artists ...`
(keeps ~20% of releases) as a subprocess, and samples the RSS of its whole process tree
(main, forkserver, workers) from /proc. Target: >= 150 MB/s end-to-end on 2 cores.
Each is run BENCH_CONVERT_REPEAT times (default 3), alternating, and the best run of each is
reported (the machine is shared: the load average is printed with the numbers).
Env: BENCH_CONVERT_RELEASES (default 110000), BENCH_CONVERT_WORKERS (default: all cores).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import process_tree
from gen_dump import generate_dump

ROOT = Path(__file__).resolve().parent.parent
N_RELEASES = int(os.environ.get("BENCH_CONVERT_RELEASES", "110000"))
REPEAT = max(1, int(os.environ.get("BENCH_CONVERT_REPEAT", "3")))
DATA = ROOT / "bench-data" / f"convert-{N_RELEASES}-seed42"
OUT = ROOT / "bench-data" / "convert-out"
TARGET_MB_S = 150.0
PR_SET_CHILD_SUBREAPER = 36


def children_cpu() -> float:
    """CPU seconds of all reaped descendants. As a subreaper (Linux) this process inherits and
    reaps convert's orphaned fork server and workers, so their CPU is counted exactly once."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def become_subreaper() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_orphans() -> None:
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def dataset() -> dict[str, int]:
    stamp = DATA / "dump.json"
    if stamp.exists():
        return dict(json.loads(stamp.read_text())["xml_sizes"])
    print(f"generating {N_RELEASES} synthetic releases in {DATA} ...", flush=True)
    shutil.rmtree(DATA, ignore_errors=True)
    info = generate_dump(DATA, N_RELEASES, seed=42)
    stamp.write_text(json.dumps({"xml_sizes": info.xml_sizes, "kept": info.expected_kept}))
    return info.xml_sizes


def tree_rss(root_pid: int) -> tuple[int, int]:
    """(sum of VmRSS, max VmHWM) in bytes over root_pid and all its descendants."""
    total = peak = 0
    for pid in process_tree(root_pid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        total += int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
        peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]) * 1024)
    return total, peak


def run_gzip(releases_gz: Path) -> tuple[float, float]:
    """(seconds, CPU seconds) of `gzip -dc FILE > /dev/null`."""
    start, cpu_start = time.perf_counter(), children_cpu()
    subprocess.run(["gzip", "-dc", str(releases_gz)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start, children_cpu() - cpu_start


def run_convert() -> tuple[float, float, int, int, str]:
    """(seconds, CPU seconds of the whole process tree, peak summed RSS, peak single RSS,
    the CLI's report) of one convert run."""
    shutil.rmtree(OUT, ignore_errors=True)
    command = [sys.executable, "-m", "discogs_cache", "convert", str(DATA), "--output-dir",
               str(OUT), "--library-artists", str(DATA / "library_artists.txt"), "-q"]  # fmt: skip
    if os.environ.get("BENCH_CONVERT_WORKERS"):
        command += ["--workers", os.environ["BENCH_CONVERT_WORKERS"]]
    start, cpu_start = time.perf_counter(), children_cpu()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak_sum = peak_one = 0
    while process.poll() is None:
        total, one = tree_rss(process.pid)
        peak_sum, peak_one = max(peak_sum, total), max(peak_one, one)
        time.sleep(0.1)
    convert_s = time.perf_counter() - start
    reap_orphans()
    convert_cpu = children_cpu() - cpu_start
    report = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"convert failed ({process.returncode})")
    return convert_s, convert_cpu, peak_sum, peak_one, report


def main() -> None:
    become_subreaper()
    sizes = dataset()
    releases_gz = DATA / "releases.xml.gz"
    xml_total = sum(sizes.values())
    load_before = os.getloadavg()
    gzip_runs, convert_runs = [], []
    for _ in range(REPEAT):
        gzip_runs.append(run_gzip(releases_gz))
        convert_runs.append(run_convert())
    load_after = os.getloadavg()
    gzip_s, gzip_cpu = min(gzip_runs)
    gzip_mb_s = sizes["releases.xml.gz"] / 1e6 / gzip_s
    convert_s, convert_cpu, _, _, report = min(convert_runs)
    peak_sum = max(run[2] for run in convert_runs)
    peak_one = max(run[3] for run in convert_runs)
    seen = kept = 0
    for line in report.splitlines():
        if line.startswith("releases seen"):
            seen = int(line.split()[-1])
        elif line.startswith("releases kept"):
            kept = int(line.split()[-1])
    convert_mb_s = xml_total / 1e6 / convert_s
    print(f"input: {sizes['releases.xml.gz'] / 1e6:.0f} MB releases XML + "
          f"{(xml_total - sizes['releases.xml.gz']) / 1e6:.0f} MB artists/labels XML, "
          f"{releases_gz.stat().st_size / 1e6:.0f} MB gz; kept {kept}/{seen} releases "
          f"({100 * kept / max(seen, 1):.1f}%); cores: {os.cpu_count()}")  # fmt: skip
    print(f"load average (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}, "
          f"after: {' '.join(f'{x:.2f}' for x in load_after)}; best of {REPEAT} runs each "
          f"(convert runs: {', '.join(f'{run[0]:.2f}' for run in convert_runs)} s)")  # fmt: skip
    print(f"baseline gzip -dc releases.xml.gz: {gzip_s:6.2f} s  {gzip_mb_s:7.1f} MB/s of XML; "
          f"CPU {gzip_cpu:6.2f} s = {gzip_cpu * 1e3 / (sizes['releases.xml.gz'] / 1e6):.2f} "
          "ms/MB")  # fmt: skip
    print(f"discogs-cache convert (all files): {convert_s:6.2f} s  {convert_mb_s:7.1f} MB/s of XML"
          "; "
          f"CPU {convert_cpu:6.2f} s = {convert_cpu * 1e3 / (xml_total / 1e6):.2f} ms/MB "
          f"(all processes; {xml_total / 1e6 / convert_cpu:.0f} MB per CPU-second)")  # fmt: skip
    print(f"ratio convert / gzip -dc: {convert_mb_s / gzip_mb_s:.2f}; "
          f"target {TARGET_MB_S:.0f} MB/s: {'met' if convert_mb_s >= TARGET_MB_S else 'NOT met'} "
          f"({convert_mb_s / TARGET_MB_S:.0%} of target)")  # fmt: skip
    print(f"peak RSS: {peak_sum / 2**20:.0f} MB summed over the process tree, "
          f"{peak_one / 2**20:.0f} MB largest single process (limit 300 MB)")  # fmt: skip


if __name__ == "__main__":
    main()
