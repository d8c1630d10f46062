"""The load / index / status / vacuum commands as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli import run_cli
from tests.integration.test_load import edge_case_csvs, write

pytestmark = pytest.mark.e2e


def test_load_index_status_vacuum(pg_url: str, tmp_path: Path) -> None:
    csvs = edge_case_csvs(tmp_path)
    done = run_cli("load", csvs, "--database-url", pg_url)
    assert done.returncode == 0, done.stderr
    assert "missing release" in done.stdout and "NUL byte(s) stripped" in done.stdout
    again = run_cli("load", csvs, "--database-url", pg_url)
    assert again.returncode == 1 and "\nerror: " in again.stderr
    assert "--replace" in again.stderr and "Traceback" not in again.stderr
    assert run_cli("load", csvs, "--replace", "-q", "--database-url", pg_url).returncode == 0
    idx = run_cli("index", "--database-url", pg_url)
    assert idx.returncode == 0 and "ix_release_track_title_trgm" in idx.stdout
    status = run_cli("status", "--json", "--database-url", pg_url)
    data = json.loads(status.stdout)
    assert {t["name"]: t["rows"] for t in data["tables"]}["release"] == 4
    assert data["missing_indexes"] == [] and data["revision"] == data["head"]
    assert run_cli("vacuum", "--database-url", pg_url).returncode == 0
    text = run_cli("status", "--database-url", pg_url).stdout
    assert "bulk_import: 4 releases" in text


def test_malformed_csv_exits_non_zero(pg_url: str, tmp_path: Path) -> None:
    csvs = edge_case_csvs(tmp_path)
    write(csvs, "release_label", 'release_id,label,catno\n1,"open,1\n')
    done = run_cli("load", csvs, "--database-url", pg_url)
    assert done.returncode == 2
    assert "release_label.csv:" in done.stderr and "unterminated" in done.stderr
    assert "Traceback" not in done.stderr


def test_rows_with_a_bad_id_are_skipped_and_said(pg_url: str, tmp_path: Path) -> None:
    csvs = edge_case_csvs(tmp_path)
    write(csvs, "release_track", "release_id,sequence,position,title,duration\n"
          "1,1,A1,Song,3:00\n1,99999999999,A2,Too big,\n1,2.5,A3,Not one,\n")  # fmt: skip
    done = run_cli("load", csvs, "--database-url", pg_url)
    assert done.returncode == 0, done.stderr
    assert "release_track.csv: 2 row(s) skipped: an id is not an integer in range" in done.stdout
    status = run_cli("status", "--json", "--database-url", pg_url)
    assert {t["name"]: t["rows"] for t in json.loads(status.stdout)["tables"]}["release_track"] == 1


def test_a_missing_required_file_names_it_and_changes_nothing(pg_url: str, tmp_path: Path) -> None:
    csvs = edge_case_csvs(tmp_path)
    assert run_cli("load", csvs, "--database-url", pg_url).returncode == 0
    (csvs / "release_track.csv").unlink()
    done = run_cli("load", csvs, "--replace", "--database-url", pg_url)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"error: {csvs / 'release_track.csv'}: required file not found (release.csv, "
        "release_artist.csv, release_track.csv are required; absent: release_track.csv)"
    )
    status = run_cli("status", "--json", "--database-url", pg_url)
    assert {t["name"]: t["rows"] for t in json.loads(status.stdout)["tables"]}["release_track"] == 3
