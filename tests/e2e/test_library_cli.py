"""`discogs-cache library export|artists|labels` as a user runs them, against real MariaDB."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from discogs_cache.library.labels import read_label_preferences_csv
from tests.integration.test_library import (
    EXPECTED_LABELS,
    EXPECTED_LIBRARY,
    library_rows,
    make_catalog,
    with_charset,
)

pytestmark = pytest.mark.e2e


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "discogs_cache", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # five CLI start-ups: ~13 s on the shared 2-core box
def test_export_artists_labels(mysql_url: str, tmp_path: Path) -> None:
    make_catalog(mysql_url, "latin1")
    url = with_charset(mysql_url, "latin1")
    db = tmp_path / "library.db"
    done = cli("library", "export", "--mysql-url", url, "--output", db)
    assert done.returncode == 0, done.stderr
    assert library_rows(db) == EXPECTED_LIBRARY
    assert "6 releases (1 skipped, 0 decoded as latin-1, 0 with '?', charset latin1)" in done.stdout
    assert "warning: 1 LIBRARY_RELEASE row(s) have no matching" in done.stderr

    artists = tmp_path / "library_artists.txt"
    done = cli("library", "artists", "--library-db", db, "--mysql-url", url, "-o", artists)
    assert done.returncode == 0, done.stderr
    assert artists.read_text(encoding="utf-8").splitlines()[:3] == [
        "Beatles, The",
        "Björk",
        "Björk Guðmundsdóttir",
    ]
    assert len(artists.read_text(encoding="utf-8").splitlines()) == 12
    table = done.stdout.splitlines()
    assert [line.split() for line in table[2:6]] == [
        ["library", "4"],
        ["alternate_names", "4"],
        ["artist_cross_references", "2"],
        ["release_cross_references", "2"],
    ]

    done = cli("library", "artists", "--library-db", db, "-o", artists, "-q")
    assert done.returncode == 0, done.stderr
    assert len(artists.read_text(encoding="utf-8").splitlines()) == 7

    labels = tmp_path / "library_labels.csv"
    done = cli("library", "labels", "--mysql-url", url, "--output", labels)
    assert done.returncode == 0, done.stderr
    assert [tuple(p) for p in read_label_preferences_csv(labels)] == EXPECTED_LABELS
    assert "6 label preferences from 7 flowsheet entries" in done.stdout


@pytest.mark.parametrize("command", ["export", "labels"])
def test_bad_credentials_and_missing_tables(mysql_url: str, tmp_path: Path, command: str) -> None:
    out = tmp_path / "out"
    bad = make_url(mysql_url).set(password="hunter2-secret").render_as_string(False)
    done = cli("library", command, "--mysql-url", bad, "--output", out)
    assert done.returncode == 3
    assert "hunter2-secret" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines()[-1].startswith("error: cannot connect to MySQL at ")
    assert "Traceback" not in done.stderr

    done = cli("library", command, "--mysql-url", mysql_url, "--output", out)  # no tables yet
    assert done.returncode == 3
    assert "doesn't exist" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server(tmp_path: Path) -> None:
    out = tmp_path / "library.db"
    url = "mysql://dj:hunter2-secret@127.0.0.1:1/wxycmusic"
    done = cli("library", "export", "--mysql-url", url, "--output", out)
    assert done.returncode == 3
    assert "error: cannot connect to MySQL at 127.0.0.1:1/wxycmusic: (2003)" in done.stderr
    assert "hunter2-secret" not in done.stderr
    assert not out.exists()
