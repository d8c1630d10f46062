"""`pipeline.run` in-process on the shipped demo sample, and inference from the database."""

from __future__ import annotations

import filecmp
import gzip
from pathlib import Path

import psycopg
import pytest

from discogs_cache.convert import convert
from discogs_cache.db import conninfo
from discogs_cache.demo import demo_data
from discogs_cache.index import build_indexes
from discogs_cache.load import load
from discogs_cache.pipeline.infer import infer_completed
from discogs_cache.pipeline.options import RunOptions
from discogs_cache.pipeline.run import run
from discogs_cache.pipeline.state import load_state

LIBRARY = demo_data() / "library.db"


@pytest.fixture(scope="module")
def demo_csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both shapes of the demo dump converted without a filter."""
    out = {}
    for shape in ("pre2024", "post2024"):
        out[shape] = tmp_path_factory.mktemp(shape)
        convert(demo_data() / shape, out[shape], workers=1)
    return out


def _count(url: str, query: str) -> int:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def test_demo_sample_is_small_and_both_shapes_give_the_same_releases(
    demo_csvs: dict[str, Path],
) -> None:
    total = sum(p.stat().st_size for p in demo_data().rglob("*") if p.is_file())
    assert total < 1_000_000
    for name in ("release", "release_artist", "release_track", "release_label"):
        assert filecmp.cmp(
            demo_csvs["pre2024"] / f"{name}.csv", demo_csvs["post2024"] / f"{name}.csv", False
        ), name
    assert (demo_csvs["pre2024"] / "release.csv").read_text().count("\n") > 250
    with gzip.open(demo_data() / "post2024" / "releases.xml.gz", "rt") as handle:
        post = handle.read()
    assert "<images>" not in post and "<series>" in post and "<anv/>" not in post


def test_infer_completed_follows_the_database(pg_url: str, demo_csvs: dict[str, Path]) -> None:
    options = RunOptions(database_url=pg_url, csv_dir=demo_csvs["pre2024"])
    assert set(infer_completed(pg_url, options)) == {"schema"}
    load(pg_url, demo_csvs["pre2024"], replace=True)
    inferred = infer_completed(pg_url, options)
    assert inferred["load"]["rows"]["release"] == 300
    assert "dedup" not in inferred, "the sample has masters with several pressings"
    assert "indexes" not in inferred, "the load drops the secondary indexes"
    build_indexes(pg_url)
    assert "indexes" in infer_completed(pg_url, options)


def test_infer_on_an_unmigrated_database_is_nothing(empty_pg_url: str, tmp_path: Path) -> None:
    options = RunOptions(database_url=empty_pg_url, csv_dir=tmp_path)
    assert infer_completed(empty_pg_url, options) == {}


def test_run_csv_dir_in_process(pg_url: str, demo_csvs: dict[str, Path], tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    summary = run(
        RunOptions(
            database_url=pg_url,
            csv_dir=demo_csvs["post2024"],
            library_db=LIBRARY,
            state_file=state_file,
        )
    )
    releases = _count(pg_url, "SELECT count(*) FROM release")
    assert summary.releases == releases > 0
    assert summary.classification["KEEP"] >= releases - summary.classification["REVIEW"]
    assert summary.dedup_removed and summary.dedup_removed > 0
    assert summary.size_bytes and summary.size_bytes > 0
    assert _count(pg_url, "SELECT count(*) FROM release WHERE id = 1") == 1  # owned via alias
    state = load_state(state_file)
    assert state is not None
    assert list(state.steps) == [
        "schema", "load", "classify", "dedup", "prune", "vacuum", "indexes",
    ]  # fmt: skip
    assert "KEEP" in summary.format() and summary.to_json()["releases"] == releases


def test_run_applies_artist_mappings(
    pg_url: str, demo_csvs: dict[str, Path], tmp_path: Path
) -> None:
    """A confirmed "prune" decision overrides the classifier's KEEP in the pipeline."""
    mappings = tmp_path / "mappings.json"
    mappings.write_text('{"keep": {}, "prune": {"The Persuader": "not ours after all"}}')
    summary = run(
        RunOptions(
            database_url=pg_url,
            csv_dir=demo_csvs["pre2024"],
            library_db=LIBRARY,
            mappings=mappings,
            state_file=tmp_path / "state.json",
        )
    )
    assert summary.releases == _count(pg_url, "SELECT count(*) FROM release") > 0
    assert _count(pg_url, "SELECT count(*) FROM release WHERE id = 1") == 0
