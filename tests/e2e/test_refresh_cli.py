"""`discogs-cache run` refreshing a live cache: SIGKILL anywhere, one writer at a time.

The kill points are the deterministic fault points around every step of the refresh
(`refresh.after_<step>`: the step's work is committed, the state file does not know) and
inside the shadow creation and the publish transaction; see discogs_cache/faults.py.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from discogs_cache.pipeline.lock import pipeline_lock
from discogs_cache.pipeline.options import RunOptions
from discogs_cache.pipeline.run import run
from discogs_cache.refresh import shadow_info
from tests.conftest import _create_database, _drop_database, _with_database
from tests.e2e import run_helpers as h
from tests.e2e.cli import run_cli
from tests.integration.refresh_helpers import LIBRARY, TRIGRAM_NAMES, make_versions

pytestmark = pytest.mark.e2e

BEFORE_PUBLISH = [
    "refresh.shadow_created", "refresh.after_shadow", "refresh.after_load",
    "refresh.after_classify", "refresh.after_dedup", "refresh.after_prune",
    "refresh.after_vacuum", "refresh.after_indexes", "publish.first_pass",
    "publish.before_lock", "publish.locked", "publish.carried", "publish.swapped",
]  # fmt: skip
AFTER_PUBLISH = ["publish.committed", "refresh.after_publish", "refresh.before_cleanup"]


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_versions(tmp_path_factory.mktemp("versions"))


def _populate(url: str, csv_dir: Path, state: Path) -> None:
    run(RunOptions(database_url=url, csv_dir=csv_dir, library_db=LIBRARY, state_file=state))


@pytest.fixture(scope="module")
def expected(
    pg_server_url: str,
    pg_template: str,
    versions: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, object]]:
    """Checksums of the live cache after v1, and after an uninterrupted refresh to v2."""
    name = _create_database(pg_server_url, template=pg_template)
    url = _with_database(pg_server_url, name)
    work = tmp_path_factory.mktemp("expected")
    try:
        _populate(url, versions["v1"], work / "v1.json")
        v1 = h.table_checksums(url)
        _populate(url, versions["v2"], work / "v2.json")
        yield {"v1": v1, "v2": h.table_checksums(url)}
    finally:
        _drop_database(pg_server_url, name)


def _refresh(tmp_path: Path, url: str, csv_dir: Path, *extra: object, fault: str | None = None,
             ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    args = ("--csv-dir", csv_dir, "--library-db", LIBRARY, "--database-url", url,
            "--state-file", tmp_path / "state.json", *extra)  # fmt: skip
    env = h.env(tmp_path)
    if fault:
        env["DISCOGS_CACHE_FAULT"] = fault
    return subprocess.run(h.command(*args), capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("point", BEFORE_PUBLISH + AFTER_PUBLISH)
def test_sigkill_anywhere_leaves_the_live_cache_and_resume_publishes_the_same_cache(
    point: str,
    pg_url: str,
    versions: dict[str, Path],
    expected: dict[str, object],
    tmp_path: Path,
) -> None:
    _populate(pg_url, versions["v1"], tmp_path / "v1.json")
    assert h.table_checksums(pg_url) == expected["v1"]
    killed = _refresh(tmp_path, pg_url, versions["v2"], fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    after_kill = "v1" if point in BEFORE_PUBLISH else "v2"
    assert h.table_checksums(pg_url) == expected[after_kill]
    assert set(TRIGRAM_NAMES) <= h.index_names(pg_url)
    if point == "refresh.after_load":  # status shows the leftover, without waiting
        status = run_cli("status", "--database-url", pg_url, "--json", timeout=60)
        assert status.returncode == 0, status.stderr
        shadow = json.loads(status.stdout)["shadow"]
        assert shadow["state"] == "left by an interrupted run" and shadow["releases"] > 0
    resumed = _refresh(tmp_path, pg_url, versions["v2"], "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert h.table_checksums(pg_url) == expected["v2"]
    assert shadow_info(pg_url) is None
    assert h.scalar(pg_url, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'discogs_%'") == 0


def test_a_fresh_run_drops_a_leftover_shadow_and_never_publishes_it(
    pg_url: str, versions: dict[str, Path], expected: dict[str, object], tmp_path: Path
) -> None:
    _populate(pg_url, versions["v1"], tmp_path / "v1.json")
    killed = _refresh(tmp_path, pg_url, versions["half"], fault="refresh.after_indexes")
    assert killed.returncode == -signal.SIGKILL
    fresh = _refresh(tmp_path, pg_url, versions["v2"])  # not --resume: starts over
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "dropping the shadow build left by an earlier run" in fresh.stderr
    assert h.table_checksums(pg_url) == expected["v2"]


def test_shrink_guard_exits_non_zero_naming_both_counts(
    pg_url: str, versions: dict[str, Path], expected: dict[str, object], tmp_path: Path
) -> None:
    _populate(pg_url, versions["v1"], tmp_path / "v1.json")
    live = h.scalar(pg_url, "SELECT count(*) FROM release")
    refused = _refresh(tmp_path, pg_url, versions["half"])
    assert refused.returncode == 4, refused.stderr[-2000:]
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith("error: refusing to publish") and f"holds {live:,}" in line
    assert "--allow-shrink" in line and "Traceback" not in refused.stderr
    assert h.table_checksums(pg_url) == expected["v1"]
    allowed = _refresh(tmp_path, pg_url, versions["half"], "--resume", "--allow-shrink")
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert int(str(h.scalar(pg_url, "SELECT count(*) FROM release"))) < 0.9 * int(str(live))


WRITERS = [
    ("load", "{csv}", "--replace"),
    ("migrate",),
    ("dedup",),
    ("prune", "--library-db", "{library}"),
    ("index",),
    ("vacuum",),
    ("run", "--csv-dir", "{csv}", "--state-file", "{state}"),
]


def test_every_writer_exits_75_while_another_holds_the_lock_and_readers_do_not_wait(
    pg_url: str, versions: dict[str, Path], expected: dict[str, object], tmp_path: Path
) -> None:
    _populate(pg_url, versions["v1"], tmp_path / "v1.json")
    values = {"csv": versions["v1"], "library": LIBRARY, "state": tmp_path / "s.json"}
    with pipeline_lock(pg_url, "run"):
        for command in WRITERS:
            args = [str(a).format(**values) for a in command]
            result = run_cli(*args, "--database-url", pg_url, timeout=60)
            assert result.returncode == 75, (command, result.stderr[-2000:])
            assert "discogs-cache run (pid" in result.stderr and "writers' lock" in result.stderr
            assert "Traceback" not in result.stderr
        status = run_cli("status", "--database-url", pg_url, timeout=30)
        assert status.returncode == 0 and "writer: discogs-cache run (pid" in status.stdout
        lookup = run_cli("lookup", "release", "1", "--database-url", pg_url, timeout=30)
        assert lookup.returncode == 0, lookup.stderr
    assert h.table_checksums(pg_url) == expected["v1"]
    assert not (tmp_path / "s.json").exists()


def test_load_replace_during_a_run_exits_75_and_changes_nothing(
    pg_url: str, versions: dict[str, Path], expected: dict[str, object], tmp_path: Path
) -> None:
    _populate(pg_url, versions["v1"], tmp_path / "v1.json")
    args = ("--csv-dir", versions["v2"], "--library-db", LIBRARY, "--database-url", pg_url,
            "--state-file", tmp_path / "state.json")  # fmt: skip
    refresh = h.start(tmp_path, *args)
    try:
        h.wait_for_line(refresh, "] dedup: starting")
        refresh.send_signal(signal.SIGSTOP)  # holds the lock, paused mid-refresh
        load = run_cli("load", versions["half"], "--replace", "--database-url", pg_url,
                       timeout=60)  # fmt: skip
        assert load.returncode == 75, load.stderr[-2000:]
        assert "discogs-cache run (pid" in load.stderr
        assert h.table_checksums(pg_url) == expected["v1"]
    finally:
        refresh.send_signal(signal.SIGCONT)
    assert refresh.stderr is not None
    refresh.stderr.read()
    assert refresh.wait(timeout=300) == 0
    assert h.table_checksums(pg_url) == expected["v2"]
