"""Bulk-load the converter's CSVs into the cache (SPEC step 4).

Everything that can run at once does, each on its own connection (one transaction uses one
core): the CSVs are COPYed as-is into UNLOGGED staging tables (`staging`), several at
once, except release_track.csv (most of the bytes), which is COPYed straight into its new
table; every cache table is built and keyed beside its live one as soon as its inputs are
there (`build`, with the rules of `transform`); then one short transaction drops the live
tables and moves the new ones in (`swapin`), with the secondary indexes left to `index`.
Any failure stops the builders and rolls back, so the database is exactly as it was; the
private schemas are always dropped.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from psycopg import sql

from discogs_cache import migrate, progress
from discogs_cache.db import connect, database_errors
from discogs_cache.errors import InputError
from discogs_cache.load import build
from discogs_cache.load.staging import SPECS, StagedFile, copy_file, read_header
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


def _find_files(csv_dir: Path) -> tuple[list[StagedFile], list[str]]:
    if not csv_dir.is_dir():
        raise InputError(f"{csv_dir}: CSV directory not found")
    found, missing = [], []
    for spec in SPECS:
        path = csv_dir / spec.filename
        if path.is_file():
            read_header(path, spec)  # fail fast on a wrong header, before touching anything
            found.append(StagedFile(spec, path))
        elif spec.required:
            raise InputError(f"{path}: required file not found")
        else:
            missing.append(spec.filename)
    return found, missing


def _report_files(files: list[StagedFile]) -> None:
    for f in files:
        rate = f.bytes / 1e6 / f.seconds if f.seconds else 0.0
        progress.note(f"  {f.spec.filename}: {f.rows} rows, {rate:.1f} MB/s")


def load(
    url: str, csv_dir: Path, *, replace: bool = False, workers: int | None = None
) -> LoadSummary:
    """Load `csv_dir` into the cache at `url` (migrating it first); atomic, see module doc.

    `workers` bounds the staging COPYs running at once (default: cores, at most 4)."""
    start = time.perf_counter()
    csv_dir = Path(csv_dir)
    files, missing = _find_files(csv_dir)
    summary = LoadSummary(files=files, missing_files=missing, replaced=replace)
    migrate.ensure_schema(url)
    tag = uuid.uuid4().hex[:10]
    stage, new = f"discogs_load_{tag}", f"discogs_load_{tag}_new"
    workers = max(1, min(workers or min(os.cpu_count() or 2, 4), len(files)))
    with database_errors(url, "cannot load"):
        try:
            with connect(url, autocommit=True) as admin:
                if not replace:
                    refuse_existing(admin, url)  # fail fast; checked again under the lock
                for schema in (stage, new):
                    admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
                live, keys = build.prepare(admin, new, ALL_TABLES)
            builder = build.Builder(url, stage, new, live, keys)
            _run(builder, summary, workers)
        finally:
            with connect(url, autocommit=True) as admin:
                for schema in (new, stage):
                    admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(schema)))  # fmt: skip
    summary.seconds = time.perf_counter() - start
    return summary


def _run(b: build.Builder, summary: LoadSummary, workers: int) -> None:
    """Start every COPY and builder at once, each waiting for its inputs; then swap."""
    direct = build.direct_candidate(summary.files)
    by_name = {f.spec.name: f for f in summary.files}
    total = sum(f.path.stat().st_size for f in summary.files)
    slots = threading.Semaphore(workers)
    with (
        progress.bar(total=total, desc="COPY csv", unit="B") as bar,
        ThreadPoolExecutor(max_workers=len(ALL_TABLES) + len(summary.files)) as pool,
    ):

        def staged(name: str) -> Future[StagedFile] | None:
            f = by_name.get(name)
            if f is None or f is direct:
                return None

            def copy() -> StagedFile:
                with slots:
                    return copy_file(b.url, b.stage, f, bar.update)

            return pool.submit(copy)

        def after(
            deps: list[Future[Any] | None], task: Callable[[], TableCounts]
        ) -> Future[TableCounts]:
            def run() -> TableCounts:
                for dep in deps:
                    if dep is not None:
                        dep.result()
                return task()

            return pool.submit(run)

        order = ("release", "release_image", "release_artist", "release_label")  # critical first
        names = sorted(
            (s.name for s in SPECS),
            key=lambda n: (n not in order, order.index(n) if n in order else 0),
        )
        copies = {name: staged(name) for name in names}
        release = after(
            [copies["release"], copies["release_image"]],
            lambda: build.build_release(b, "release" in by_name, "release_image" in by_name),
        )
        futures: dict[str, Future[TableCounts]] = {"release": release}
        for target in CHILD_TARGETS:
            source = by_name.get(target.source)
            if source is not None and source is direct:
                futures[target.table] = pool.submit(
                    build.build_direct, b, source, release.result, bar.update
                )
                continue
            t = target if source is not None else None
            futures[target.table] = after(
                [copies[target.source]],
                partial(build.build_child, b, t, target.table, release.result),
            )
        futures["cache_metadata"] = after([release], lambda: build.build_metadata(b))
        try:
            wait(futures.values(), return_when=FIRST_EXCEPTION)  # fail fast, not in order
            for future in futures.values():
                error = future.exception() if future.done() else None
                if error is not None:
                    raise error
            results = {name: f.result() for name, f in futures.items()}
            with connect(b.url) as conn:
                with progress.timed("  swap"):
                    swap_in(conn, b.url, b.live, b.new, ALL_TABLES, replace=summary.replaced)
                conn.commit()
        except BaseException:
            b.cancel()
            raise
    present = {"release", "cache_metadata"} | {
        t.table for t in CHILD_TARGETS if t.source in by_name
    }
    summary.tables = [results[t] for t in _ORDER if t in present]
    _report_files(summary.files)


_ORDER = ("release", *(t.table for t in CHILD_TARGETS), "cache_metadata")

__all__ = ["LoadSummary", "TableCounts", "load"]
