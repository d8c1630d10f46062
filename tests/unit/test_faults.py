"""Fault-injection points kill the process exactly where named, and only there."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

SCRIPT = """
from discogs_cache import faults
for i in range(5):
    faults.point("loop.turn")
    print(i, flush=True)
faults.point("after.loop")
print("end", flush=True)
"""


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {"PATH": "/usr/bin:/bin", "DISCOGS_CACHE_FAULT_LOG": str(tmp_path / "log"), **env}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=full, timeout=60
    )


def test_unarmed_points_do_nothing(tmp_path: Path) -> None:
    done = _run(tmp_path)
    assert done.returncode == 0
    assert done.stdout.split() == ["0", "1", "2", "3", "4", "end"]
    assert not (tmp_path / "log").exists()


def test_armed_point_kills_with_sigkill_and_logs(tmp_path: Path) -> None:
    done = _run(tmp_path, DISCOGS_CACHE_FAULT="after.loop")
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["0", "1", "2", "3", "4"]
    assert (tmp_path / "log").read_text() == "after.loop\n"


def test_skip_lets_the_first_hits_pass(tmp_path: Path) -> None:
    done = _run(tmp_path, DISCOGS_CACHE_FAULT="other, loop.turn", DISCOGS_CACHE_FAULT_SKIP="3")
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["0", "1", "2"]
