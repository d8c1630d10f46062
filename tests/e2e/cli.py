"""Run the installed `discogs-cache` CLI as a subprocess (what a user types)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_cli(
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
    drop_env: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """`python -m discogs_cache ARGS` with the test interpreter; returns the finished process."""
    full_env = {k: v for k, v in os.environ.items() if k not in drop_env}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "discogs_cache", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )
