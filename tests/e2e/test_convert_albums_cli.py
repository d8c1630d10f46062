"""`discogs-cache convert --library-db` as a subprocess: the album filter's report and files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.e2e.cli import run_cli
from tests.integration.test_album_filter import write_catalogue

pytestmark = pytest.mark.e2e


def test_convert_with_the_catalogue_keeps_only_its_albums(tmp_path: Path) -> None:
    library = tmp_path / "library.db"
    write_catalogue(SAMPLES, library)
    out = tmp_path / "csv"
    result = run_cli("convert", SAMPLES, "-o", out, "--library-db", library, "-q")
    assert result.returncode == 0, result.stderr
    rows = [line.rsplit(None, 1) for line in result.stdout.splitlines()[2:] if line.strip()]
    report = {name.strip(): value for name, value in rows}
    assert report["releases by library artists"] == "430"
    assert (report["KEEP"], report["REVIEW"], report["PRUNE"]) == ("313", "0", "117")
    assert report["releases kept"] == "313"
    with (out / "release.csv").open(encoding="utf-8", newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) == 1 + 313
    saved = json.loads((out / "classification.json").read_text())
    assert saved["counts"] == {"PRUNE": 117, "REVIEW": 0, "KEEP": 313}
    assert len(saved["verdicts"]) == 313
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # spills removed

    # the same directory converted without the catalogue: no stale classification beside it
    again = run_cli("convert", SAMPLES, "-o", out, "-q")
    assert again.returncode == 0, again.stderr
    assert not (out / "classification.json").exists()


def test_mappings_without_a_catalogue_is_a_usage_error(tmp_path: Path) -> None:
    mappings = tmp_path / "m.json"
    mappings.write_text('{"keep": {}}')
    result = run_cli("convert", SAMPLES, "-o", tmp_path / "o", "--mappings", mappings)
    assert result.returncode == 2
    assert "--mappings overrides the classifier: it needs --library-db" in result.stderr
    assert "Traceback" not in result.stderr
