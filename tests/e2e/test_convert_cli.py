"""`discogs-cache convert` as a subprocess: summary, worker-count independence, clean errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES

pytestmark = pytest.mark.e2e


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "discogs_cache", "convert", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_convert_samples_workers_1_and_2_identical(tmp_path: Path) -> None:
    library = tmp_path / "artists.txt"
    library.write_text("# station artists\nJosh Wink\nThe Persuader\n", encoding="utf-8")
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        args = (str(SAMPLES), "--output-dir", str(out), "--workers", workers, "-q")
        result = run_cli(*args, "--library-artists", str(library))
        assert result.returncode == 0, result.stderr
        assert "releases seen" in result.stdout and "1000" in result.stdout
        assert result.stderr == ""
        outs.append(out)
    files = sorted(p.name for p in outs[0].glob("*.csv"))
    assert len(files) == 15  # the release, label and artist CSVs of contract v2
    for name in files:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_convert_errors_exit_nonzero_without_traceback(tmp_path: Path) -> None:
    whole = (SAMPLES / "discogs_20200806_releases.xml.gz").read_bytes()
    truncated = tmp_path / "releases.xml.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "out"
    result = run_cli(str(truncated), "--output-dir", str(out))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "truncated" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(out.glob("*.csv"))

    missing = run_cli(str(tmp_path / "nope"), "--output-dir", str(out))
    assert missing.returncode == 2 and "no such file" in missing.stderr
