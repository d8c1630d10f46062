"""Bulk-load the converter's CSVs into the cache (SPEC step 4).

Everything that can run at once does, each on its own connection (one transaction uses one
core): the files whose values go in as they are (release_track.csv, most of the bytes,
release_label, release_track_artist, artist_alias) are COPYed straight into their new
tables, the others as-is into UNLOGGED staging tables (`staging`), starting while the
database is still being checked and migrated; every cache table is built and keyed beside
its live one as soon as its inputs are there (`build`, with the rules of `transform`); then
one short transaction drops the live tables and moves the new ones in (`swapin`), with the
secondary indexes left to `index`. Any failure stops every connection and rolls back, so
the database is exactly as it was; the private schemas are always dropped.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from discogs_cache import faults, migrate, progress
from discogs_cache.db import connect, database_errors
from discogs_cache.errors import InputError
from discogs_cache.load import build
from discogs_cache.load.lanes import Lanes, rank
from discogs_cache.load.staging import SPECS, StagedFile, read_header
from discogs_cache.load.swapin import refuse_existing, swap_in
from discogs_cache.load.transform import CHILD_TARGETS, TableCounts
from discogs_cache.schema import ALL_TABLES


@dataclass
class LoadSummary:
    """Per-table counts of loaded and skipped/collapsed/truncated rows, plus file facts."""

    tables: list[TableCounts] = field(default_factory=list)
    files: list[StagedFile] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    replaced: bool = False
    seconds: float = 0.0

    def loaded(self, table: str) -> int:
        return next((t.loaded for t in self.tables if t.table == table), 0)

    def counts(self, table: str) -> TableCounts:
        return next(t for t in self.tables if t.table == table)

    @property
    def nul_bytes(self) -> dict[str, int]:
        return {f.spec.filename: f.nul_bytes for f in self.files if f.nul_bytes}

    @property
    def bad_integers(self) -> dict[str, int]:
        """Rows skipped per file because an id held no integer in range."""
        return {f.spec.filename: f.bad_integers for f in self.files if f.bad_integers}


def _find_files(csv_dir: Path) -> tuple[list[StagedFile], list[str]]:
    if not csv_dir.is_dir():
        raise InputError(f"{csv_dir}: CSV directory not found")
    found, missing = [], []
    for spec in SPECS:
        path = csv_dir / spec.filename
        if path.is_file():
            read_header(path, spec)  # fail fast on a wrong header, before touching anything
            found.append(StagedFile(spec, path))
        else:
            missing.append(spec.filename)
    # a cache without credits or tracks is no cache: never replace one with it
    required = [s.filename for s in SPECS if s.required]
    absent = [name for name in required if name in missing]
    if absent:
        raise InputError(
            f"{csv_dir / absent[0]}: required file not found"
            f" ({', '.join(required)} are required; absent: {', '.join(absent)})"
        )
    return found, missing


def _report_files(files: list[StagedFile]) -> None:
    for f in files:
        rate = f.bytes / 1e6 / f.seconds if f.seconds else 0.0
        progress.note(f"  {f.spec.filename}: {f.rows} rows, {rate:.1f} MB/s")


def load(
    url: str, csv_dir: Path, *, replace: bool = False, workers: int | None = None
) -> LoadSummary:
    """Load `csv_dir` into the cache at `url` (migrating it first); atomic, see module doc.

    `workers` bounds the steps (COPYs, builds) running at once besides the release_track
    chain's (default: cores, at most 4)."""
    start = time.perf_counter()
    csv_dir = Path(csv_dir)
    files, missing = _find_files(csv_dir)
    summary = LoadSummary(files=files, missing_files=missing, replaced=replace)
    tag = uuid.uuid4().hex[:10]
    b = build.Builder(url, f"discogs_load_{tag}", f"discogs_load_{tag}_new")
    workers = max(1, min(workers or min(os.cpu_count() or 2, 4), len(files)))
    with database_errors(url, "cannot load"), connect(url, autocommit=True) as admin:
        for schema in (b.stage, b.new):
            admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            _run(b, admin, summary, workers)
        finally:
            left = [sql.Identifier(s) for s in (b.new, b.stage) if s not in b.dropped]
            if left:
                admin.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.SQL(", ").join(left))
                )
    summary.seconds = time.perf_counter() - start
    return summary


def _at_head(admin: psycopg.Connection) -> bool:
    """The usual case in one query: the database is at the head revision already, so
    `migrate.ensure_schema` (which would upgrade it) has nothing to do."""
    row = admin.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
    if not (row and row[0]):
        return False
    versions = [r[0] for r in admin.execute("SELECT version_num FROM alembic_version")]
    return versions == [migrate.head_revision()]


def _prepare(
    b: build.Builder, admin: psycopg.Connection, replace: bool, first: Future[None]
) -> None:
    """Migrate if needed, refuse a non-empty cache (fast; checked again under the lock),
    create the empty new tables: what the builders wait for (the staging COPYs do not).
    `first` is set once release_track's exists, so its COPY, the longest, can start."""
    try:
        if not _at_head(admin):
            migrate.ensure_schema(b.url)
        if not replace:
            refuse_existing(admin, b.url)
        tables = ("release_track", *(t for t in ALL_TABLES if t != "release_track"))

        def created(table: str) -> None:
            if table == "release_track":
                first.set_result(None)

        build.prepare(b, admin, tables, created)
    except BaseException as exc:
        if not first.done():
            first.set_exception(exc)
        raise


def _run(b: build.Builder, admin: psycopg.Connection, summary: LoadSummary, workers: int) -> None:
    """Start every COPY and builder at once, each waiting for its inputs; then swap."""
    by_name = {f.spec.name: f for f in summary.files}
    direct = {name: t for name, f in by_name.items() if (t := build.direct_target(f))}
    total = sum(f.path.stat().st_size for f in summary.files)
    b.lanes = Lanes(workers)
    track_table: Future[None] = Future()
    release_box: Future[Future[TableCounts]] = Future()  # for builders started before it

    def release_ready() -> TableCounts:
        return release_box.result().result()

    with (
        progress.bar(total=total, desc="COPY csv", unit="B") as bar,
        ThreadPoolExecutor(max_workers=_THREADS) as pool,  # one per task: tasks wait on others
    ):

        def after(deps: Sequence[Future[Any] | None], task: Callable[[], Any]) -> Future[Any]:
            def run() -> Any:
                for dep in deps:
                    if dep is not None:
                        dep.result()
                return task()

            return pool.submit(run)

        def copy(name: str) -> Any:
            if name not in direct:
                with b.lane(name):
                    return b.stage_file(by_name[name], bar.update)
            # release_track.csv, most of the bytes, starts first and at once: the longest chain
            (track_table if name == "release_track" else prepared).result()
            return build.build_copied(b, direct[name], by_name[name], release_ready, bar.update)

        prepared = pool.submit(_prepare, b, admin, summary.replaced, track_table)
        copies = {
            name: pool.submit(copy, name)
            for name in sorted(by_name, key=rank)  # started in the order they are needed
        }
        release = after(
            [prepared, copies["release"], copies.get("release_image")],
            lambda: build.build_release(b, True, "release_image" in by_name),
        )
        release_box.set_result(release)
        futures: dict[str, Future[TableCounts]] = {"release": release}
        for target in CHILD_TARGETS:
            if target.source in direct:
                futures[target.table] = copies[target.source]
                continue
            t = target if target.source in by_name else None
            futures[target.table] = after(
                [prepared, copies.get(target.source)],
                partial(build.build_child, b, t, target.table, release.result),
            )
        futures["cache_metadata"] = after([release], lambda: build.build_metadata(b))
        # staging is done with once its readers are (a direct COPY meeting a name too long
        # for its table falls back to staging): drop it while the longest builds go on
        readers = [release] + [
            futures[t.table] for t in CHILD_TARGETS if t.source not in direct or t.truncated
        ]
        after(readers, b.drop_stage)
        try:
            every: list[Future[Any]] = [prepared, *futures.values()]
            wait(every, return_when=FIRST_EXCEPTION)  # fail fast, not in order
            for future in every:
                error = future.exception() if future.done() else None
                if error is not None:
                    raise error
            results = {name: f.result() for name, f in futures.items()}
            faults.point("load.before_swap")  # every table built beside the live ones
            bar.close()  # the COPYs are done: the swap's line goes below the bar, not into it
            with connect(b.url) as conn:
                with progress.timed("  swap"):
                    swap_in(conn, b.url, b.live, b.new, ALL_TABLES, replace=summary.replaced)
                    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(b.new)))
                faults.point("load.before_commit")  # swapped in, not committed
                conn.commit()
            b.dropped.add(b.new)
        except BaseException:
            b.cancel()
            raise
    present = {"release", "cache_metadata"} | {
        t.table for t in CHILD_TARGETS if t.source in by_name
    }
    summary.tables = [results[t] for t in _ORDER if t in present]
    _report_files(summary.files)


_THREADS = 32
"""More than the tasks of a load (a COPY per file, a builder per table, a few more)."""

_ORDER = ("release", *(t.table for t in CHILD_TARGETS), "cache_metadata")

__all__ = ["LoadSummary", "TableCounts", "load"]
