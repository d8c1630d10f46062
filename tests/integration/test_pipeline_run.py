"""`pipeline.run` in-process on the shipped demo sample, and inference from the database."""

from __future__ import annotations

import dataclasses
import filecmp
import gzip
from collections.abc import Callable
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
from discogs_cache.pipeline.steps import STEPS, Context, dedup_deferred
from discogs_cache.status import cache_status
from tests.e2e.run_helpers import table_checksums

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
    # the demo sample and catalog are fixed: 300 releases, 119 owned, 23 dedup losers
    assert summary.releases == releases == 112
    assert summary.classification == {"PRUNE": 181, "REVIEW": 0, "KEEP": 119}
    assert summary.dedup_removed == 23
    assert summary.size_bytes == cache_status(pg_url).total_bytes
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


class _Killed(Exception):
    pass


def test_resume_between_dedup_and_prune_ends_in_the_clean_database(
    pg_database_factory: Callable[[], str],
    demo_csvs: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """dedup only ranks when prune follows; a run stopped before prune's swap must resume
    with dedup's saved losers, and both counts must match an uninterrupted run's."""
    clean_url, url = pg_database_factory(), pg_database_factory()

    def options(db: str, state: str) -> RunOptions:
        return RunOptions(
            database_url=db,
            csv_dir=demo_csvs["post2024"],
            library_db=LIBRARY,
            state_file=tmp_path / state,
        )

    clean = run(options(clean_url, "clean.json"))

    def stop(ctx: Context) -> None:
        raise _Killed

    monkeypatch.setitem(STEPS, "prune", stop)
    with pytest.raises(_Killed):
        run(options(url, "state.json"))
    monkeypatch.undo()
    state = load_state(tmp_path / "state.json")
    assert state is not None and dedup_deferred(state.steps["dedup"].outputs)
    duplicated = (
        "SELECT count(*) FROM (SELECT master_id FROM release WHERE master_id IS NOT NULL"
        " GROUP BY master_id HAVING count(*) > 1) d"
    )
    assert _count(url, duplicated) > 0, "dedup ranked but left the removal to prune"
    resumed = run(dataclasses.replace(options(url, "state.json"), resume=True))
    statuses = {s.name: s.status for s in resumed.steps}
    assert (statuses["dedup"], statuses["prune"]) == ("skipped", "ran")
    assert table_checksums(url) == table_checksums(clean_url)
    assert _count(url, duplicated) == 0
    assert resumed.dedup_removed == clean.dedup_removed
    details = [{s.name: s.details for s in summary.steps} for summary in (clean, resumed)]
    assert details[0]["prune"] == details[1]["prune"]
    assert details[0]["prune"]["removed"] + clean.dedup_removed + clean.releases == 300


@pytest.mark.parametrize(
    ("last_swap", "full"), [({"prune": {"strategy": "copy"}}, False), ({}, True)]
)
def test_vacuum_step_rewrites_only_what_a_copy_swap_did_not(
    pg_url: str, tmp_path: Path, last_swap: dict[str, dict[str, str]], full: bool
) -> None:
    ctx = Context(
        options=RunOptions(database_url=pg_url, csv_dir=tmp_path),
        url=pg_url,
        work_dir=tmp_path,
        csv_dir=tmp_path,
        outputs={"dedup": {"strategy": "delete"}, **last_swap},
    )
    with psycopg.connect(conninfo(pg_url)) as conn:
        before = conn.execute(
            "SELECT relfilenode FROM pg_class WHERE relname = 'release'"
        ).fetchone()
    outputs = STEPS["vacuum"](ctx).outputs
    with psycopg.connect(conninfo(pg_url)) as conn:
        after = conn.execute(
            "SELECT relfilenode FROM pg_class WHERE relname = 'release'"
        ).fetchone()
    assert (before != after) is full, "VACUUM FULL writes a new relfilenode"
    assert ("after_bytes" in outputs) is full and ("full" in outputs) is not full


def test_unreadable_library_db_fails_in_classify_with_the_load_kept(
    pg_url: str, demo_csvs: dict[str, Path], tmp_path: Path
) -> None:
    """The library index is built beside the load; a bad library.db still stops the run at
    classify with the catalog's own error, and the loaded cache and state stay valid."""
    from discogs_cache.errors import InputError

    bad = tmp_path / "library.db"
    bad.write_bytes(b"this is not a sqlite database" * 100)
    state_file = tmp_path / "state.json"
    options = RunOptions(
        database_url=pg_url,
        csv_dir=demo_csvs["post2024"],
        library_db=bad,
        state_file=state_file,
    )
    with pytest.raises(InputError, match=r"library\.db"):
        run(options)
    state = load_state(state_file)
    assert state is not None and list(state.steps) == ["schema", "load"]
    assert _count(pg_url, "SELECT count(*) FROM release") > 0


def test_classify_cache_takes_entries_or_their_index(
    pg_url: str, demo_csvs: dict[str, Path]
) -> None:
    from discogs_cache.library.catalog import read_catalog
    from discogs_cache.matcher import build_index
    from discogs_cache.verify import classify_cache

    load(pg_url, demo_csvs["pre2024"])
    entries = read_catalog(LIBRARY)
    by_entries = classify_cache(pg_url, entries)
    by_index = classify_cache(pg_url, build_index(entries))
    assert by_entries.verdicts == by_index.verdicts and by_entries.counts()["KEEP"] > 0
