"""`discogs-cache dedup` as a user runs it: CSV, MySQL and error paths."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.cli import run_cli
from tests.integration.test_dedup import R, ids, load, write_hierarchy
from tests.integration.test_dedup_fidelity import set_formats
from tests.integration.test_library import make_catalog

pytestmark = pytest.mark.e2e


def test_cli_with_library_labels_and_hierarchy(pg_url: str, tmp_path: Path) -> None:
    load(pg_url, [R(1, 100, country="US", tracks=9), R(2, 100, labels=("Parlophone",))])
    labels = tmp_path / "library_labels.csv"
    labels.write_text(
        'artist_name,release_title,label_name\n"Beatles, The",Abbey Road,EMI\n', encoding="utf-8"
    )
    hierarchy = write_hierarchy(tmp_path / "label_hierarchy.csv", [("Parlophone", "EMI")])
    proc = run_cli(
        "dedup",
        "--library-labels",
        labels,
        "--label-hierarchy",
        hierarchy,
        "--database-url",
        pg_url,
    )
    assert proc.returncode == 0, proc.stderr
    assert ids(pg_url) == {2}
    report = dict(line.rsplit(None, 1) for line in proc.stdout.splitlines()[2:])
    assert report["releases removed"] == "1"
    assert report["decided by label"] == "1"
    assert report["groups (masters with several releases)"] == "1"


def test_cli_reads_label_preferences_from_mysql(
    pg_url: str, mysql_url: str, tmp_path: Path
) -> None:
    make_catalog(mysql_url)  # the flowsheet logs Björk / Homogenic on One Little Indian
    artist = "Björk"
    load(
        pg_url,
        [
            R(1, 100, country="US", labels=("Elektra Entertainment",), title="Homogenic",
              artist=artist),
            R(2, 100, country="UK", labels=("One Little Indian",), title="Homogenic",
              artist=artist),
        ],
    )  # fmt: skip
    proc = run_cli("dedup", "--wxyc-db-url", mysql_url, "--database-url", pg_url, "-q")
    assert proc.returncode == 0, proc.stderr
    assert ids(pg_url) == {2}


def test_cli_bad_labels_file_is_a_one_line_error(pg_url: str, tmp_path: Path) -> None:
    load(pg_url, [R(1, 100), R(2, 100)])
    bad = tmp_path / "labels.csv"
    bad.write_text("artist,title\nx,y\n", encoding="utf-8")
    proc = run_cli("dedup", "--library-labels", bad, "--database-url", pg_url)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "labels.csv:1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert ids(pg_url) == {1, 2}


def test_cli_prefers_the_owned_format_from_library_db(pg_url: str, tmp_path: Path) -> None:
    load(pg_url, [R(1, 100, country="US", tracks=9), R(2, 100)])
    set_formats(pg_url, {1: "Vinyl", 2: "CD"})
    library = tmp_path / "library.db"
    with sqlite3.connect(library) as db:
        db.execute("CREATE TABLE library (id INTEGER, title TEXT, artist TEXT, format TEXT)")
        db.execute("INSERT INTO library VALUES (1, 'Abbey Road', 'Beatles, The', 'cd')")
    proc = run_cli("dedup", "--library-db", library, "--database-url", pg_url)
    assert proc.returncode == 0, proc.stderr
    assert ids(pg_url) == {2}
    report = dict(line.rsplit(None, 1) for line in proc.stdout.splitlines()[2:])
    assert report["decided by format"] == "1"
