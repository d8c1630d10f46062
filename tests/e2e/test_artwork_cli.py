"""`discogs-cache artwork` as a subprocess against the local fake API: pacing, kills, token."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from discogs_cache.pipeline.lock import pipeline_lock
from discogs_cache.ratelimit import RateLimiter
from tests.e2e.cli import run_cli
from tests.fakes.discogs_api import EveryRelease, FakeDiscogsAPI, catalog, expected_row
from tests.integration.test_artwork import rows, seed

pytestmark = pytest.mark.e2e

TOKEN = "tok-e2e-Zq81xYw93"
RATE, WINDOW = 150, 3.0
FAST = ("--rate", str(RATE), "--rate-window", str(WINDOW), "--backoff", "0.01")


def artwork(
    url: str, fake: FakeDiscogsAPI, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {"DISCOGS_API_URL": fake.url, "DISCOGS_TOKEN": TOKEN, **(env or {})}
    done = run_cli("artwork", "--database-url", url, *FAST, *args, env=full_env, timeout=300)
    assert TOKEN not in done.stdout + done.stderr
    return done


def test_top_up_then_nothing_left(pg_url: str) -> None:
    ids = range(1, 201)
    seed(pg_url, ids)
    with FakeDiscogsAPI(
        catalog(ids), token=TOKEN, bursts={30: 2}, limit=RATE, window=WINDOW
    ) as fake:
        first = artwork(pg_url, fake)
        second = artwork(pg_url, fake)
        dry = artwork(pg_url, fake, "--dry-run")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0].startswith("artwork: 200 releases checked in ")
    assert "not found (404)                  20" in first.stdout
    assert rows(pg_url) == {i: (*expected_row(i), True) for i in ids}
    assert second.returncode == 0 and "artwork: 0 releases checked" in second.stdout
    assert dry.stdout.startswith("artwork (dry run): 0 releases to check")
    assert len(fake.log) == 202 and fake.over_limit == 0
    assert fake.max_in_window(WINDOW) <= RATE


@pytest.mark.parametrize(
    ("point", "skip", "refetched"),
    [("artwork.after_batch", "4", 0), ("artwork.after_fetch", "54", 5)],
)
def test_kill_and_rerun_fetches_nothing_twice_that_was_stored(
    pg_url: str, tmp_path: Path, point: str, skip: str, refetched: int
) -> None:
    ids = range(1, 121)
    seed(pg_url, ids)
    log = tmp_path / "faults.log"
    fault = {"DISCOGS_CACHE_FAULT": point, "DISCOGS_CACHE_FAULT_SKIP": skip}
    with FakeDiscogsAPI(catalog(ids), token=TOKEN) as fake:
        killed = artwork(pg_url, fake, env=fault | {"DISCOGS_CACHE_FAULT_LOG": str(log)})
        stored = sum(1 for r in rows(pg_url).values() if r[2])
        rerun = artwork(pg_url, fake)
        answered = Counter(fake.answered())
    assert killed.returncode == -9 and log.read_text() == point + "\n"
    assert stored == 50  # five batches of ten were written before the kill
    assert rerun.returncode == 0, rerun.stderr
    assert f"artwork: {120 - 50} releases checked" in rerun.stdout
    assert set(answered) == set(ids)
    twice = sorted(i for i, n in answered.items() if n > 1)
    # killed after a batch: nothing twice; killed mid-batch: only the unwritten 5, once more
    assert twice == list(range(51, 51 + refetched))
    assert max(answered.values()) <= 2
    assert rows(pg_url) == {i: (*expected_row(i), True) for i in ids}


def test_wrong_token_is_one_error_line_and_no_token(pg_url: str, tmp_path: Path) -> None:
    seed(pg_url, range(1, 4))
    token_file = tmp_path / "token"
    token_file.write_text("file-token-8812\n", encoding="utf-8")
    with FakeDiscogsAPI(catalog(range(1, 4)), token="the-real-token-0000") as fake:
        by_env = artwork(pg_url, fake)
        by_file = artwork(pg_url, fake, "--token-file", str(token_file))
        assert len(fake.log) == 2
    for done in (by_env, by_file):
        assert done.returncode == 1
        assert done.stdout == ""
        lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert lines == [
            f"error: Discogs refused the token (HTTP 401) at {fake.url}/releases/1: "
            "check DISCOGS_TOKEN or --token-file"
        ]
        assert "Traceback" not in done.stderr
        assert "file-token-8812" not in done.stdout + done.stderr
        assert "the-real-token-0000" not in done.stdout + done.stderr


def test_another_writer_holds_the_lock(pg_url: str) -> None:
    seed(pg_url, range(1, 4))
    with FakeDiscogsAPI(catalog(range(1, 4)), token=TOKEN) as fake, pipeline_lock(pg_url):
        done = artwork(pg_url, fake)
        assert fake.log == []
    assert done.returncode == 75
    assert done.stderr.startswith("error: another discogs-cache writer is using ")


def test_bad_token_file_and_old_schema(pg_url: str, empty_pg_url: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("", encoding="utf-8")
    with FakeDiscogsAPI({}, token=TOKEN) as fake:
        bad_file = artwork(pg_url, fake, "--token-file", str(empty))
        no_schema = artwork(empty_pg_url, fake)
    assert (bad_file.returncode, bad_file.stderr) == (
        2,
        f"error: the token file {empty} is empty\n",
    )
    assert no_schema.returncode == 3
    assert no_schema.stderr.startswith("error: ")
    assert "discogs-cache migrate" in no_schema.stderr


def _station_service(db_url: str, api_url: str, count: int) -> None:
    """Another client of the same token (the station's lookup service): same shared budget."""
    with (
        RateLimiter(db_url, TOKEN, RATE, WINDOW) as limiter,
        httpx.Client(headers={"Authorization": f"Discogs token={TOKEN}"}) as client,
    ):
        for i in range(count):
            limiter.acquire()
            client.get(f"{api_url}/releases/{1000 + i}")


def test_top_up_and_other_clients_share_one_budget(pg_url: str) -> None:
    ids = range(1, 161)
    seed(pg_url, ids)
    ctx = multiprocessing.get_context("spawn")
    with FakeDiscogsAPI(catalog(ids), token=TOKEN, limit=RATE, window=WINDOW) as fake:
        services = [ctx.Process(target=_station_service, args=(pg_url, fake.url, 80)) for _ in "ab"]
        top_up = subprocess.Popen(
            [sys.executable, "-m", "discogs_cache", "artwork", "--database-url", pg_url, *FAST],
            env=_env(fake),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for service in services:
            service.start()
        out, err = top_up.communicate(timeout=300)
        for service in services:
            service.join(timeout=120)
        total = len(fake.log)
        busiest = fake.max_in_window(WINDOW)
    assert top_up.returncode == 0, err
    assert TOKEN not in out + err
    assert total == 160 + 2 * 80
    assert fake.over_limit == 0 and busiest <= RATE
    assert busiest >= RATE * 0.8  # the budget was used together, not left idle
    assert rows(pg_url) == {i: (*expected_row(i), True) for i in ids}


def _env(fake: FakeDiscogsAPI) -> dict[str, str]:
    import os

    return {**os.environ, "DISCOGS_API_URL": fake.url, "DISCOGS_TOKEN": TOKEN}


def test_run_artwork_tops_up_after_the_build_matches_first(
    pg_database_factory: Callable[[], str], tmp_path: Path
) -> None:
    from discogs_cache.convert import convert
    from discogs_cache.demo import demo_data

    csv_dir = tmp_path / "csv"
    convert(demo_data() / "post2024", csv_dir, workers=1)
    url = pg_database_factory()
    with FakeDiscogsAPI(EveryRelease(), token=TOKEN) as fake:
        done = run_cli(
            "run", "--csv-dir", csv_dir, "--library-db", demo_data() / "library.db",
            "--database-url", url, "--state-file", tmp_path / "s.json",
            "--artwork", "--artwork-rate", "3000",
            env={"DISCOGS_API_URL": fake.url, "DISCOGS_TOKEN": TOKEN}, timeout=600,
        )  # fmt: skip
        asked = [h.release_id for h in fake.log]
    assert done.returncode == 0, done.stderr[-3000:]
    assert TOKEN not in done.stdout + done.stderr
    stored = rows(url)
    assert len(stored) > 0 and sorted(asked) == sorted(stored)
    assert stored == {i: (*expected_row(i), True) for i in stored}
    assert f"artwork: {len(stored)} releases checked" in done.stdout
    keep = set(json.loads((tmp_path / "s.work" / "classification.json").read_text())["keep"])
    assert set(stored) <= keep  # the prune left only matches here; order: test_artwork.py


@pytest.mark.parametrize("shared", [True, False])
def test_two_top_ups_on_two_caches_share_one_budget_through_one_database(
    pg_url: str, pg_database_factory: Callable[[], str], shared: bool
) -> None:
    """Two caches, one token: with $DISCOGS_RATELIMIT_URL on one database they stay under
    the rate together; without it (the control) each books its own budget and together
    they overrun the server's limit, so this test can tell the difference."""
    from discogs_cache import migrate

    other = pg_database_factory()
    migrate.upgrade(other)
    caches = (pg_url, other)
    ids = range(1, 151)
    for url in caches:
        seed(url, ids)
    with FakeDiscogsAPI(catalog(ids), token=TOKEN, limit=RATE, window=WINDOW) as fake:
        env = _env(fake) | ({"DISCOGS_RATELIMIT_URL": pg_url} if shared else {})
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "discogs_cache", "artwork", "--database-url", url, *FAST],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for url in caches
        ]
        outputs = [p.communicate(timeout=300) for p in procs]
        busiest = fake.max_in_window(WINDOW)
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all(TOKEN not in out + err for out, err in outputs)
    for url in caches:
        assert rows(url) == {i: (*expected_row(i), True) for i in ids}
    if shared:
        assert fake.over_limit == 0 and busiest <= RATE
        assert busiest >= RATE * 0.8
    else:
        assert fake.over_limit > 0
