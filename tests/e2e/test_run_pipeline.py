"""`discogs-cache run` end to end: xml, csv-dir and copy-to modes, kill + resume, the lock."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e import run_helpers as h

pytestmark = pytest.mark.e2e

N_RELEASES = 300


def _xml_args(dump: dict[str, Path], url: str, work: Path) -> tuple[object, ...]:
    """The xml-mode run every kill/resume test repeats, with CSVs and state kept in `work`."""
    return (
        "--xml", dump["xml"], "--library-db", dump["library"], "--database-url", url,
        "--keep-csv", work / "csv", "--state-file", work / "state.json",
    )  # fmt: skip


@pytest.fixture(scope="session")
def dump(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A generated dump directory (artists + labels + releases) and a library owning part."""
    from benchmarks.gen_dump import generate_dump

    root = tmp_path_factory.mktemp("dump")
    info = generate_dump(root / "xml", N_RELEASES, seed=8, shape="post2024")
    assert h.library_from_dump(info.releases, root / "library.db") > 10
    return {"xml": root / "xml", "library": root / "library.db", "root": root}


@pytest.fixture(scope="session")
def csv_dir(dump: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dump converted once (unfiltered) for the csv-dir mode tests."""
    out = tmp_path_factory.mktemp("csv")
    result = subprocess.run(
        [*h.command()[:-1], "convert", str(dump["xml"]), "-o", str(out), "-q"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def clean_xml_run(
    dump: dict[str, Path], pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, object]]:
    """One uninterrupted xml-mode run: its database's checksums are what resumes must reach."""
    from tests.conftest import _create_database, _drop_database, _with_database

    tmp = tmp_path_factory.mktemp("clean")
    name = _create_database(pg_server_url)
    url = _with_database(pg_server_url, name)
    args = _xml_args(dump, url, tmp)
    result = h.run(tmp, *args, "--summary-json", tmp / "summary.json")
    assert result.returncode == 0, result.stderr[-3000:]
    yield {
        "url": url,
        "args": args,
        "checksums": h.table_checksums(url),
        "indexes": h.index_names(url),
        "summary": json.loads((tmp / "summary.json").read_text()),
        "stdout": result.stdout,
        "tmp": tmp,
    }
    _drop_database(pg_server_url, name)


def test_xml_mode_builds_a_deduplicated_pruned_indexed_cache(
    clean_xml_run: dict[str, object],
) -> None:
    url = str(clean_xml_run["url"])
    summary = clean_xml_run["summary"]
    assert isinstance(summary, dict)
    names = [s["name"] for s in summary["steps"]]
    assert names == [
        "library", "convert", "schema", "load", "classify", "dedup", "prune", "vacuum", "indexes",
    ]  # fmt: skip
    assert {s["status"] for s in summary["steps"]} == {"ran"}
    counts = summary["classification"]
    assert counts["KEEP"] > 0 and counts["PRUNE"] > 0
    releases = h.scalar(url, "SELECT count(*) FROM release")
    assert releases == summary["releases"]
    assert isinstance(releases, int) and 0 < releases <= counts["KEEP"] + counts["REVIEW"]
    dup = h.scalar(
        url, "SELECT count(*) FROM (SELECT master_id FROM release WHERE master_id IS NOT NULL "
        "GROUP BY master_id HAVING count(*) > 1) d",
    )  # fmt: skip
    assert dup == 0
    assert h.scalar(url, "SELECT count(*) FROM cache_metadata") == releases
    assert {"ix_release_title_trgm", "ix_release_track_title_trgm"} <= h.index_names(url)
    stdout = str(clean_xml_run["stdout"])
    assert "total" in stdout and "KEEP" in stdout


def test_resume_after_a_finished_run_skips_everything(clean_xml_run: dict[str, object]) -> None:
    tmp = Path(str(clean_xml_run["tmp"]))
    args = clean_xml_run["args"]
    assert isinstance(args, tuple)
    result = h.run(tmp, *args, "--resume", "--summary-json", tmp / "again.json")
    assert result.returncode == 0, result.stderr[-3000:]
    steps = json.loads((tmp / "again.json").read_text())["steps"]
    assert {s["status"] for s in steps} == {"skipped"}
    assert h.table_checksums(str(clean_xml_run["url"])) == clean_xml_run["checksums"]


def test_csv_dir_mode_without_library_only_dedups(
    csv_dir: Path, pg_database_factory: Callable[[], str], tmp_path: Path
) -> None:
    url = pg_database_factory()
    result = h.run(
        tmp_path, "--csv-dir", csv_dir, "--database-url", url,
        "--state-file", tmp_path / "s.json", "--summary-json", tmp_path / "sum.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "sum.json").read_text())
    assert [s["name"] for s in summary["steps"]] == ["schema", "load", "dedup", "vacuum", "indexes"]
    loaded = summary["steps"][1]["details"]["rows"]["release"]
    with (csv_dir / "release.csv").open(encoding="utf-8", newline="") as handle:
        loadable = {row["id"] for row in csv.DictReader(handle) if row["title"]}
    assert loaded == len(loadable)
    assert h.scalar(url, "SELECT count(*) FROM release") == loaded - summary["dedup_removed"]


def test_csv_dir_mode_with_library_prunes(
    csv_dir: Path,
    dump: dict[str, Path],
    pg_database_factory: Callable[[], str],
    tmp_path: Path,
) -> None:
    url = pg_database_factory()
    result = h.run(
        tmp_path, "--csv-dir", csv_dir, "--library-db", dump["library"], "--database-url", url,
        "--state-file", tmp_path / "s.json", "--summary-json", tmp_path / "sum.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "sum.json").read_text())
    assert summary["classification"]["PRUNE"] > 0
    kept = h.scalar(url, "SELECT count(*) FROM release")
    assert isinstance(kept, int)
    assert kept <= summary["classification"]["KEEP"] + summary["classification"]["REVIEW"]


def test_copy_to_mode_fills_the_target_and_leaves_the_source(
    csv_dir: Path,
    dump: dict[str, Path],
    pg_database_factory: Callable[[], str],
    tmp_path: Path,
) -> None:
    source, target = pg_database_factory(), pg_database_factory()
    args = (
        "--csv-dir", csv_dir, "--library-db", dump["library"], "--database-url", source,
        "--target-db-url", target, "--state-file", tmp_path / "s.json",
        "--summary-json", tmp_path / "sum.json",
    )  # fmt: skip
    result = h.run(tmp_path, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "sum.json").read_text())
    assert [s["name"] for s in summary["steps"]][4] == "copy"
    in_source = h.scalar(source, "SELECT count(*) FROM release")
    in_target = h.scalar(target, "SELECT count(*) FROM release")
    loaded = summary["steps"][1]["details"]["rows"]["release"]
    assert in_source == loaded - summary["dedup_removed"], "the source is only deduplicated"
    assert isinstance(in_target, int) and 0 < in_target < int(str(in_source))
    assert summary["releases"] == in_target
    assert "ix_release_title_trgm" in h.index_names(target)
    first = h.table_checksums(target)
    # a fresh run into the same (now full) target replaces it with the same content
    again = h.run(tmp_path, *args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert h.table_checksums(target) == first


FAULT_POINTS = [
    "convert.after_chunk",
    "load.before_swap",
    "load.before_commit",
    "classify.midway",
    "dedup.after_ranking",
    "prune.before_commit",
    "indexes.after_index",
]
"""Points inside each step of the xml-mode run (`faults.point` calls). The run's vacuum is
"not needed after a copy-swap", so `vacuum.after_table` is killed in the csv-dir test."""


def _state_steps(path: Path) -> list[str]:
    return list(json.loads(path.read_text(encoding="utf-8"))["steps"])


@pytest.mark.slow
@pytest.mark.parametrize("point", FAULT_POINTS)
def test_kill_inside_a_step_then_resume_ends_in_the_clean_database(
    point: str,
    clean_xml_run: dict[str, object],
    dump: dict[str, Path],
    pg_database_factory: Callable[[], str],
    tmp_path: Path,
) -> None:
    url = pg_database_factory()
    args = _xml_args(dump, url, tmp_path)
    code, hits = h.kill_at(tmp_path, point, *args)
    assert (code, hits) == (-signal.SIGKILL, [point]), "killed at the named point"
    step = point.split(".")[0]
    done = _state_steps(tmp_path / "state.json")
    plan = ["library", "convert", "schema", "load", "classify", "dedup", "prune"]
    assert done == plan[: plan.index(step) if step in plan else len(plan)] + (
        ["vacuum"] if step == "indexes" else []
    ), "the state file records every step before the killed one, and not that one"
    result = h.run(tmp_path, *args, "--resume", "--summary-json", tmp_path / "sum.json")
    assert result.returncode == 0, result.stderr[-3000:]
    statuses = {
        s["name"]: s["status"] for s in json.loads((tmp_path / "sum.json").read_text())["steps"]
    }
    assert next(name for name, status in statuses.items() if status == "ran") == step
    assert h.table_checksums(url) == clean_xml_run["checksums"]
    assert h.index_names(url) == clean_xml_run["indexes"]
    leftovers = "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'discogs_load%'"
    assert h.scalar(url, leftovers) == 0, "a killed load's staging schemas are cleaned up"


@pytest.mark.slow
def test_kill_inside_vacuum_then_resume_ends_in_the_clean_database(
    csv_dir: Path, pg_database_factory: Callable[[], str], tmp_path: Path
) -> None:
    clean, killed = pg_database_factory(), pg_database_factory()
    base = ("--csv-dir", csv_dir, "--state-file")
    assert h.run(tmp_path, *base, tmp_path / "clean.json", "--database-url", clean).returncode == 0
    args = (*base, tmp_path / "state.json", "--database-url", killed)
    code, hits = h.kill_at(tmp_path, "vacuum.after_table", *args)
    assert (code, hits) == (-signal.SIGKILL, ["vacuum.after_table"])
    assert _state_steps(tmp_path / "state.json") == ["schema", "load", "dedup"]
    result = h.run(tmp_path, *args, "--resume")
    assert result.returncode == 0, result.stderr[-3000:]
    assert h.table_checksums(killed) == h.table_checksums(clean)
    assert h.index_names(killed) == h.index_names(clean)


def test_resume_without_state_file_infers_from_the_database(
    clean_xml_run: dict[str, object],
    dump: dict[str, Path],
    pg_database_factory: Callable[[], str],
    tmp_path: Path,
) -> None:
    url = pg_database_factory()
    args = _xml_args(dump, url, tmp_path)
    assert h.kill_at(tmp_path, "dedup.after_ranking", *args)[0] == -signal.SIGKILL
    (tmp_path / "state.json").unlink()
    result = h.run(tmp_path, *args, "--resume", "--summary-json", tmp_path / "sum.json")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "inferred from" in result.stderr
    statuses = {
        s["name"]: s["status"] for s in json.loads((tmp_path / "sum.json").read_text())["steps"]
    }
    assert statuses["load"] == "inferred" and statuses["convert"] == "inferred"
    assert statuses["classify"] == "ran" and statuses["dedup"] == "ran"
    assert h.table_checksums(url) == clean_xml_run["checksums"]


def test_resume_refuses_changed_inputs(
    dump: dict[str, Path], pg_database_factory: Callable[[], str], tmp_path: Path
) -> None:
    url = pg_database_factory()
    library = tmp_path / "library.db"
    shutil.copy(dump["library"], library)
    args = (
        "--xml", dump["xml"], "--library-db", library, "--database-url", url,
        "--keep-csv", tmp_path / "csv", "--state-file", tmp_path / "state.json",
    )  # fmt: skip
    assert h.kill_at(tmp_path, "load.before_swap", *args)[0] == -signal.SIGKILL
    with open(library, "ab") as handle:
        handle.write(b"\0" * 512)  # a different library now
    result = h.run(tmp_path, *args, "--resume")
    assert result.returncode == 2
    assert "cannot resume" in result.stderr and "library.db" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_concurrent_run_is_refused_at_once(
    csv_dir: Path, pg_database_factory: Callable[[], str], tmp_path: Path
) -> None:
    url = pg_database_factory()
    first = h.start(
        tmp_path, "--csv-dir", csv_dir, "--database-url", url, "--state-file", tmp_path / "a.json"
    )
    try:
        h.wait_for_line(first, "] load: starting")
        first.send_signal(signal.SIGSTOP)  # holds the lock, paused mid-run
        second = h.run(
            tmp_path, "--csv-dir", csv_dir, "--database-url", url,
            "--state-file", tmp_path / "b.json", timeout=60,
        )  # fmt: skip
        assert second.returncode == 75, second.stderr
        assert "another discogs-cache run is using" in second.stderr
        assert "Traceback" not in second.stderr
        assert not (tmp_path / "b.json").exists(), "the refused run must not write state"
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.stderr is not None
    first.stderr.read()
    assert first.wait(timeout=120) == 0
    assert os.path.exists(tmp_path / "a.json")
