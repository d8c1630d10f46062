"""Dump download throughput against a local fake bucket, as a ratio to a bare HTTP read.

Baseline, measured in the same run and alternated with the download: the same object read
with httpx into nothing (no hashing, no disk). The download adds sha256, an unbuffered write,
fsync and the rename; the ratio shows what those cost on this machine. A third variant drops
the connection twice mid-file, so the Range resume path is timed too. Loopback only: real
downloads are bound by the network, this bench bounds the client's own overhead.
Usage: python benchmarks/bench_download.py [--mb 128] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from discogs_cache import progress  # noqa: E402
from discogs_cache.discogs.download import download  # noqa: E402
from discogs_cache.discogs.http import make_client  # noqa: E402
from tests.fakes.bucket import FakeBucket, serving  # noqa: E402

KEY = "data/2026/discogs_20261101_releases.xml.gz"


def bare_read(url: str) -> float:
    started = time.perf_counter()
    with make_client(url) as client, client.stream("GET", "/" + KEY) as response:
        for _ in response.iter_bytes():
            pass
    return time.perf_counter() - started


def full_download(bucket: FakeBucket, drops: list[int]) -> float:
    dest = Path(tempfile.mkdtemp(prefix="bench-download-"))
    try:
        bucket.drops[KEY] = list(drops)
        started = time.perf_counter()
        download("2026-11", dest, ["releases"], base_url=bucket.url, backoff=0.0)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    progress.set_quiet(True)
    size = args.mb * 1024 * 1024
    bucket = FakeBucket()
    bucket.add_dump("20261101", {"releases": random.Random(7).randbytes(size)})
    times: dict[str, list[float]] = {"bare read": [], "download": [], "download, 2 drops": []}
    with serving(bucket):
        for _ in range(args.rounds):  # alternated, so load from others hits all alike
            times["bare read"].append(bare_read(bucket.url))
            times["download"].append(full_download(bucket, []))
            times["download, 2 drops"].append(full_download(bucket, [size // 3, size // 3]))
    base = min(times["bare read"])
    print(f"{args.mb} MB over loopback, best of {args.rounds} (shared CPU: numbers are noisy)")
    for name, values in times.items():
        best = min(values)
        print(f"{name:18} {size / 1e6 / best:8.0f} MB/s   {best / base:5.2f}x the bare read's time")


if __name__ == "__main__":
    main()
