"""`discogs-cache download` as a user runs it, against a fake bucket serving the real samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.e2e.cli import run_cli
from tests.fakes.bucket import FakeBucket

pytestmark = pytest.mark.e2e


def _samples() -> dict[str, bytes]:
    kinds = ("releases", "artists", "labels")
    return {k: (SAMPLES / f"discogs_20200806_{k}.xml.gz").read_bytes() for k in kinds}


def _error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr
    assert [line for line in lines if line.startswith("error:")] == [lines[-1]], stderr
    return lines[-1]


def test_download_then_convert_reads_dest_as_is(fake_bucket: FakeBucket, tmp_path: Path) -> None:
    fake_bucket.add_dump("20200806", _samples())
    fake_bucket.drops["data/2020/discogs_20200806_releases.xml.gz"] = [300_000]
    env = {"DISCOGS_DUMPS_URL": fake_bucket.url}
    dest = tmp_path / "dump"
    result = run_cli("download", "--dest", dest, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "resuming at byte 300000" in result.stderr
    assert "MB/s" in result.stderr or "kB/s" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[2].split() == [
        "discogs_20200806_releases.xml.gz",
        "739.3",
        "kB",
        "downloaded",
        "1",
    ]
    assert lines[-1] == f"next: discogs-cache run --xml {dest} ..."
    assert [h.range for h in fake_bucket.gets("releases.xml.gz")] == [None, "bytes=300000-"]

    again = run_cli("download", "--month", "2020-08", "--dest", dest, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("already present and verified, skipped") == 3
    assert len(fake_bucket.gets(".xml.gz")) == 4  # the second run fetched nothing

    convert = run_cli("convert", dest, "--output-dir", tmp_path / "csv", "-q", timeout=300)
    assert convert.returncode == 0, convert.stderr
    assert "1000" in convert.stdout


def test_download_errors_are_one_line(fake_bucket: FakeBucket, tmp_path: Path) -> None:
    fake_bucket.add_dump("20200806", _samples(), wrong="labels")
    env = {"DISCOGS_DUMPS_URL": fake_bucket.url}
    bad = run_cli("download", "--month", "2020-8", "--dest", tmp_path, env=env)
    assert bad.returncode == 2
    assert _error_line(bad.stderr).startswith("error: --month '2020-8': expected YYYY-MM")
    missing = run_cli("download", "--month", "2021-08", "--dest", tmp_path, env=env)
    assert missing.returncode == 2
    assert "no Discogs dump for that month" in _error_line(missing.stderr)
    mismatch = run_cli("download", "--kinds", "labels", "--dest", tmp_path, env=env)
    assert mismatch.returncode == 1
    assert "discogs_20200806_labels.xml.gz: sha256" in _error_line(mismatch.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["discogs_20200806_CHECKSUM.txt"]


def test_killed_download_resumes_from_its_partial(fake_bucket: FakeBucket, tmp_path: Path) -> None:
    fake_bucket.add_dump("20200806", _samples())
    env = {"DISCOGS_DUMPS_URL": fake_bucket.url}
    kill = {**env, "DISCOGS_CACHE_FAULT": "download.chunk", "DISCOGS_CACHE_FAULT_SKIP": "3"}
    killed = run_cli("download", "--kinds", "releases", "--dest", tmp_path, env=kill)
    assert killed.returncode == -9, killed.stderr
    part = tmp_path / ".discogs_20200806_releases.xml.gz.part"
    kept = part.stat().st_size
    assert 0 < kept < 757_043
    assert not (tmp_path / "discogs_20200806_releases.xml.gz").exists()
    done = run_cli("download", "--kinds", "releases", "--dest", tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert [h.range for h in fake_bucket.gets("releases.xml.gz")] == [None, f"bytes={kept}-"]
    final = tmp_path / "discogs_20200806_releases.xml.gz"
    assert final.read_bytes() == (SAMPLES / "discogs_20200806_releases.xml.gz").read_bytes()
    assert not part.exists()
