"""A monthly refresh under live consumers: readers, writers and the shrink guard.

A populated cache (demo dump v1) is refreshed by `run` with v2 (same releases, marked rows,
see refresh_helpers) while consumers read and write it, as SPEC "Consumers" describes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest

from discogs_cache.db import conninfo, create_engine
from discogs_cache.lookup_tables import check_database
from discogs_cache.pipeline.options import RunOptions
from discogs_cache.pipeline.run import run
from discogs_cache.pipeline.steps import STEPS, Context
from discogs_cache.refresh import SHADOW_SCHEMA, ShrinkRefused, shadow_info
from discogs_cache.writeback import Credit, NewRelease, NewTrack, store_release
from tests.e2e.run_helpers import index_names, table_checksums
from tests.integration.refresh_helpers import (
    ARTISTS_SQL,
    INDEXES_SQL,
    LIBRARY,
    RELEASE_SQL,
    SEARCHES,
    TRACKS_SQL,
    TRIGRAM_NAMES,
    asyncpg_sql,
    judge,
    make_versions,
    readable_ids,
)


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_versions(tmp_path_factory.mktemp("refresh"))


def _options(url: str, csv_dir: Path, state: Path, **extra: Any) -> RunOptions:
    return RunOptions(
        database_url=url, csv_dir=csv_dir, library_db=LIBRARY, state_file=state, **extra
    )


def _scalar(url: str, query: str, *args: object) -> Any:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute(query, args or None).fetchone()
    return row[0] if row else None


class Readers:
    """Consumer readers looping over the consumer queries, one transaction per read."""

    def __init__(self, url: str, ids: list[int]) -> None:
        self.url, self.ids = url, ids
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.seen: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def record(self, who: str, version: str) -> None:
        with self.lock:
            self.seen[who, version] += 1

    def fail(self, who: str, exc: BaseException) -> None:
        with self.lock:
            self.errors.append(f"{who}: {type(exc).__name__}: {exc}")

    def reads(self, who: str) -> int:
        with self.lock:
            return sum(n for (w, _), n in self.seen.items() if w == who)

    def psycopg_reader(self, who: str) -> None:
        rng = random.Random(who)
        with psycopg.connect(conninfo(self.url), autocommit=True) as conn:
            while not self.stop.is_set():
                try:
                    with conn.transaction():
                        self.record(who, self._read_psycopg(conn, rng.choice(self.ids)))
                except Exception as exc:
                    self.fail(who, exc)
                time.sleep(0.002)

    def _read_psycopg(self, conn: psycopg.Connection, rid: int) -> str:
        present = conn.execute(INDEXES_SQL, (list(TRIGRAM_NAMES),)).fetchone()
        assert present == (4,), f"trigram indexes present: {present}"
        release = conn.execute(RELEASE_SQL, (rid,)).fetchone()
        artists = [r[0] for r in conn.execute(ARTISTS_SQL, (rid,))]
        tracks = [r[0] for r in conn.execute(TRACKS_SQL, (rid,))]
        found: list[str] = []
        for query, term in zip(SEARCHES, (release and release[1], artists[:1], tracks[:1])):
            value = term[0] if isinstance(term, list) else term
            rows = conn.execute(query, (value or "x", value or "x")).fetchall()
            if query is SEARCHES[2]:
                found = [r[1] for r in rows]
        again = conn.execute(RELEASE_SQL, (rid,)).fetchone()
        return judge(release, artists, tracks, found, again)

    def asyncpg_reader(self, who: str) -> None:
        asyncio.run(self._asyncpg_loop(who))

    async def _asyncpg_loop(self, who: str) -> None:
        rng = random.Random(who)
        dsn = conninfo(self.url)
        conn = await asyncpg.connect(dsn, statement_cache_size=100)  # the cache ON
        try:
            while not self.stop.is_set():
                try:
                    async with conn.transaction():
                        version = await self._read_asyncpg(conn, rng.choice(self.ids))
                    self.record(who, version)
                except Exception as exc:
                    self.fail(who, exc)
                await asyncio.sleep(0.002)
        finally:
            await conn.close()

    async def _read_asyncpg(self, conn: asyncpg.Connection, rid: int) -> str:
        present = await conn.fetchval(asyncpg_sql(INDEXES_SQL), list(TRIGRAM_NAMES))
        assert present == 4, f"trigram indexes present: {present}"
        rel = await conn.fetchrow(asyncpg_sql(RELEASE_SQL), rid)
        release = tuple(rel) if rel is not None else None
        artists = [r[0] for r in await conn.fetch(asyncpg_sql(ARTISTS_SQL), rid)]
        tracks = [r[0] for r in await conn.fetch(asyncpg_sql(TRACKS_SQL), rid)]
        terms = (
            release[1] if release else "x",
            artists[0] if artists else "x",
            tracks[0] if tracks else "x",
        )
        found: list[str] = []
        for n, (query, term) in enumerate(zip(SEARCHES, terms, strict=True)):
            rows = await conn.fetch(asyncpg_sql(query), term)
            if n == 2:
                found = [r[1] for r in rows]
        again = await conn.fetchrow(asyncpg_sql(RELEASE_SQL), rid)
        return judge(release, artists, tracks, found, tuple(again) if again else None)


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_readers_during_a_refresh_see_one_whole_cache_and_no_error(
    pg_url: str, versions: dict[str, Path], tmp_path: Path
) -> None:
    run(_options(pg_url, versions["v1"], tmp_path / "v1.json"))
    with psycopg.connect(conninfo(pg_url)) as conn:
        ids = readable_ids(conn)
    assert len(ids) == 25
    readers = Readers(pg_url, ids)
    names = {"psycopg-1": readers.psycopg_reader, "psycopg-2": readers.psycopg_reader,
             "asyncpg": readers.asyncpg_reader}  # fmt: skip
    threads = [threading.Thread(target=f, args=(n,), daemon=True) for n, f in names.items()]
    for t in threads:
        t.start()
    try:
        _wait_for(lambda: all(readers.reads(n) >= 5 for n in names) or bool(readers.errors))
        summary = run(_options(pg_url, versions["v2"], tmp_path / "v2.json"))
        after = {n: readers.reads(n) for n in names}
        _wait_for(lambda: all(readers.reads(n) >= after[n] + 5 for n in names)
                  or bool(readers.errors))  # fmt: skip
    finally:
        readers.stop.set()
        for t in threads:
            t.join(timeout=30)
    assert readers.errors == []
    for name in names:  # each reader saw the old cache, then the new one
        assert readers.seen[name, "v1"] >= 5 and readers.seen[name, "v2"] >= 5, readers.seen
    assert summary.releases == _scalar(pg_url, "SELECT count(*) FROM release")
    assert _scalar(pg_url, "SELECT count(*) FROM release WHERE release_year = 1901") == (
        summary.releases
    )
    assert shadow_info(pg_url) is None  # published, then dropped


def _api_release(rid: int, title: str) -> NewRelease:
    return NewRelease(
        id=rid,
        title=title,
        artists=(Credit("API Artist"), Credit("API Producer", extra=True)),
        tracks=(NewTrack(1, f"{title} one", "A1"), NewTrack(2, f"{title} two", "A2")),
        artwork_url=f"https://img.example/{rid}.jpg",
    )


def test_consumer_writes_before_and_during_a_refresh_survive(
    pg_url: str, versions: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(_options(pg_url, versions["v1"], tmp_path / "v1.json"))
    with psycopg.connect(conninfo(pg_url)) as conn:
        bulk = readable_ids(conn, 4)
        bulk_credits = conn.execute(
            "SELECT count(*) FROM release_artist WHERE release_id = %s", (bulk[2],)
        ).fetchone()[0]  # type: ignore[index]
    engine = create_engine(pg_url)
    try:
        store_release(engine, _api_release(990_000_001, "Before The Refresh"))
        with engine.begin() as db:  # artwork back-patched onto bulk releases
            for rid in bulk[:2]:
                db.exec_driver_sql(
                    "UPDATE release SET artwork_url = %s WHERE id = %s", (f"https://a/{rid}", rid)
                )
        dedup = STEPS["dedup"]

        def dedup_while_consumers_write(ctx: Context) -> Any:
            store_release(engine, _api_release(990_000_002, "During The Refresh"))
            store_release(engine, _api_release(bulk[2], "Fresh From The API"))
            with engine.begin() as db:
                db.exec_driver_sql(
                    "UPDATE release SET artwork_url = 'https://a/during' WHERE id = %s",
                    (bulk[3],),
                )
            return dedup(ctx)

        monkeypatch.setitem(STEPS, "dedup", dedup_while_consumers_write)
        summary = run(_options(pg_url, versions["v2"], tmp_path / "v2.json"))
    finally:
        engine.dispose()
    assert summary.carried == {"api_fetch": 2, "recent": 1, "artwork": 3, "checked": 0}
    for rid, title in ((990_000_001, "Before The Refresh"), (990_000_002, "During The Refresh"),
                       (bulk[2], "Fresh From The API")):  # fmt: skip
        assert _scalar(pg_url, "SELECT title FROM release WHERE id = %s", rid) == title
        assert _scalar(pg_url, "SELECT count(*) FROM release_track WHERE release_id = %s", rid) == 2
        credits = 2 if rid > 990_000_000 else 2 + bulk_credits  # write-backs add, never drop
        assert _scalar(
            pg_url, "SELECT count(*) FROM release_artist WHERE release_id = %s", rid
        ) == (credits)
        assert _scalar(pg_url, "SELECT source FROM cache_metadata WHERE release_id = %s", rid) == (
            "api_fetch"
        )
    for rid, url in ((bulk[0], f"https://a/{bulk[0]}"), (bulk[1], f"https://a/{bulk[1]}"),
                     (bulk[3], "https://a/during")):  # fmt: skip
        assert _scalar(pg_url, "SELECT artwork_url FROM release WHERE id = %s", rid) == url
        assert _scalar(pg_url, "SELECT release_year FROM release WHERE id = %s", rid) == 1901
    # the carried releases' derived lookup rows are exactly what a rebuild gives
    assert set(check_database(pg_url).values()) == {(0, 0)}
    # the next refresh, told to drop them, lets the API-only releases go
    dropped = run(_options(pg_url, versions["v2"], tmp_path / "v3.json", drop_api_fetched=True))
    assert dropped.carried["api_fetch"] == 0
    assert _scalar(pg_url, "SELECT count(*) FROM release WHERE id > 990000000") == 0
    assert _scalar(pg_url, "SELECT artwork_url FROM release WHERE id = %s", bulk[0]) == (
        f"https://a/{bulk[0]}"
    )


def test_shrink_guard_refuses_then_allow_shrink_publishes_the_kept_build(
    pg_url: str, versions: dict[str, Path], tmp_path: Path
) -> None:
    first = run(_options(pg_url, versions["v1"], tmp_path / "v1.json"))
    before = table_checksums(pg_url)
    state = tmp_path / "half.json"
    with pytest.raises(ShrinkRefused) as info:
        run(_options(pg_url, versions["half"], state))
    shadow = shadow_info(pg_url)
    assert shadow is not None and shadow.releases is not None and not shadow.published
    message = str(info.value)
    assert f"{shadow.releases:,} releases" in message and f"holds {first.releases:,}" in message
    assert info.value.exit_code == 4 and SHADOW_SCHEMA in message
    assert shadow.releases < 0.9 * (first.releases or 0)
    assert table_checksums(pg_url) == before  # the live cache is untouched
    resumed = run(dataclasses.replace(
        _options(pg_url, versions["half"], state), resume=True, allow_shrink=True
    ))  # fmt: skip
    statuses = {s.name: s.status for s in resumed.steps}
    assert statuses["load"] == "skipped" and statuses["publish"] == "ran"
    assert resumed.releases == shadow.releases
    assert _scalar(pg_url, "SELECT count(*) FROM release") == shadow.releases
    assert shadow_info(pg_url) is None


def test_first_build_on_an_empty_database_goes_through_the_shadow(
    empty_pg_url: str, versions: dict[str, Path], tmp_path: Path
) -> None:
    summary = run(_options(empty_pg_url, versions["v1"], tmp_path / "s.json"))
    names = [s.name for s in summary.steps]
    assert names[:2] == ["schema", "shadow"] and names[-1] == "publish"
    assert summary.releases and summary.releases == _scalar(
        empty_pg_url, "SELECT count(*) FROM release"
    )
    assert summary.carried == {"api_fetch": 0, "recent": 0, "artwork": 0, "checked": 0}
    assert (
        _scalar(
            empty_pg_url,
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname = ANY(%s)",
            list(TRIGRAM_NAMES),
        )
        == 4
    )


class _Stop(Exception):
    pass


def test_resume_without_state_file_adopts_only_its_own_shadow(
    pg_url: str, versions: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(_options(pg_url, versions["v1"], tmp_path / "v1.json"))
    live = _scalar(pg_url, "SELECT count(*) FROM release")

    def stop(ctx: Context) -> Any:
        raise _Stop

    monkeypatch.setitem(STEPS, "publish", stop)
    with pytest.raises(_Stop):  # a "half" build, complete but for its publish
        run(_options(pg_url, versions["half"], tmp_path / "half.json"))
    monkeypatch.undo()
    half = shadow_info(pg_url)
    assert half is not None and half.releases and half.releases < live
    with pytest.raises(_Stop):
        monkeypatch.setitem(STEPS, "publish", stop)
        run(_options(pg_url, versions["v2"], tmp_path / "none.json", resume=True))
    monkeypatch.undo()
    mine = shadow_info(pg_url)
    assert mine is not None and mine.build_id != half.build_id, "another run's build adopted"
    (tmp_path / "none.json").unlink()  # no state file: resumed from the database alone
    resumed = run(_options(pg_url, versions["v2"], tmp_path / "none.json", resume=True))
    statuses = {s.name: s.status for s in resumed.steps}
    assert statuses["shadow"] == "inferred" and statuses["load"] == "inferred"
    assert statuses["publish"] == "ran"
    assert resumed.releases == live
    assert _scalar(pg_url, "SELECT count(*) FROM release WHERE release_year = 1901") == live


def _refresh_after(url: str, versions: dict[str, Path], tmp_path: Path, *ddl: str) -> Any:
    """Build v1, let a consumer run `ddl` on the live cache, refresh to v2: the summary."""
    run(_options(url, versions["v1"], tmp_path / "v1.json"))
    with psycopg.connect(conninfo(url)) as conn:
        for statement in ddl:
            conn.execute(statement)
    return run(_options(url, versions["v2"], tmp_path / "v2.json"))


def test_publish_keeps_grants_comments_and_triggers_of_the_live_tables(
    pg_url: str, versions: dict[str, Path], tmp_path: Path
) -> None:
    summary = _refresh_after(
        pg_url,
        versions,
        tmp_path,
        "GRANT SELECT ON release TO PUBLIC",
        "COMMENT ON TABLE release IS 'the station cache'",
        "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.country := coalesce(NEW.country, 'stamped'); RETURN NEW; END $$",
        "CREATE TRIGGER release_stamp BEFORE INSERT ON release FOR EACH ROW EXECUTE "
        "FUNCTION stamp()",
    )
    assert {s.name: s.details for s in summary.steps}["publish"]["strategy"] == "swap"
    assert _scalar(pg_url, "SELECT has_table_privilege('public', 'release', 'SELECT')")
    assert _scalar(pg_url, "SELECT obj_description('release'::regclass)") == "the station cache"
    with psycopg.connect(conninfo(pg_url)) as conn:
        conn.execute("INSERT INTO release (id, title) VALUES (-1, 'x')")
        row = conn.execute("SELECT country FROM release WHERE id = -1").fetchone()
    assert row == ("stamped",)
    assert _scalar(pg_url, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'discogs%%'") == 0


def test_a_view_on_the_live_tables_makes_the_publish_copy_rows_in_place(
    pg_url: str, versions: dict[str, Path], tmp_path: Path
) -> None:
    summary = _refresh_after(
        pg_url,
        versions,
        tmp_path,
        "CREATE VIEW release_years AS SELECT id, release_year FROM release",
    )
    assert {s.name: s.details for s in summary.steps}["publish"]["strategy"] == "insert"
    assert _scalar(pg_url, "SELECT count(*) FROM release_years WHERE release_year = 1901") == (
        summary.releases
    )
    assert set(TRIGRAM_NAMES) <= index_names(pg_url)
