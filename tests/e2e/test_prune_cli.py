"""verify / prune through the installed CLI, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from discogs_cache.db import conninfo
from tests.integration.test_verify import expected, fill_cache, make_library

pytestmark = pytest.mark.e2e


def cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "discogs_cache", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def release_ids(url: str) -> set[int]:
    with psycopg.connect(conninfo(url)) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM release")}


def test_verify_then_prune(pg_url: str, tmp_path: Path) -> None:
    fill_cache(pg_url)
    library = make_library(tmp_path / "library.db")
    report = tmp_path / "report.json"
    done = cli("verify", "--library-db", str(library), "--report-json", str(report), url=pg_url)
    assert done.returncode == 0, done.stderr
    assert "Joni Mitchell" in done.stdout and "estimated space saved" in done.stdout
    assert json.loads(report.read_text())["decisions"]["PRUNE"] == 3
    assert len(release_ids(pg_url)) == 9  # verify changed nothing

    done = cli("prune", "--library-db", str(library), "--copy-to", pg_url, "--strategy",
               "delete", url=pg_url)  # fmt: skip
    assert done.returncode == 2 and "mutually exclusive" in done.stderr
    assert "Traceback" not in done.stderr

    mappings = tmp_path / "m.json"
    mappings.write_text(json.dumps({"prune": {"Joni Mitchell": None}}))
    done = cli("prune", "--library-db", str(library), "--mappings", str(mappings), url=pg_url)
    assert done.returncode == 0, done.stderr
    assert release_ids(pg_url) == expected("KEEP")  # the mapping pruned the REVIEW release


def test_prune_with_a_bad_library_fails_cleanly(pg_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "library.db"
    bad.write_text("not sqlite")
    done = cli("prune", "--library-db", str(bad), url=pg_url)
    assert done.returncode == 2 and done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
