"""Step 6, dedup: keep one pressing per master_id, the one the station most likely owns.

The ranking (`ranking.rank_releases`) is SQLAlchemy Core over two small temporary tables:
the releases the pipeline's classifier matched to a library album (`preferred_release_ids`)
and the releases carrying the station's label for that album (`pairing`). The losers go
through the shared keep-only swap (`discogs_cache.swap`), and everything happens in one
transaction: an interrupted dedup leaves the cache as it was.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy import Column, Connection, Integer, MetaData, Table, func, insert, select

from discogs_cache import progress
from discogs_cache.db import create_engine, database_errors, describe
from discogs_cache.dedup.pairing import (
    LabelHierarchy,
    duplicated_masters,
    label_matched_releases,
    preference_index,
    read_label_hierarchy_csv,
)
from discogs_cache.dedup.ranking import (
    REASONS,
    decided_by,
    rank_releases,
    ranked_table,
    releases_to_keep,
)
from discogs_cache.library.labels import LabelPreference
from discogs_cache.migrate import ensure_schema
from discogs_cache.swap import retain_releases

__all__ = [
    "REASONS",
    "DedupSummary",
    "LabelHierarchy",
    "dedup",
    "dedup_connection",
    "rank_releases",
    "read_label_hierarchy_csv",
]


@dataclass
class DedupSummary:
    """What dedup did; `decided_by` counts groups per deciding rule (see `ranking`)."""

    groups: int = 0
    """master_ids shared by more than one release."""
    releases_before: int = 0
    releases_removed: int = 0
    decided_by: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    label_preferences: int = 0
    label_matched: int = 0
    """Releases in duplicated masters that carry the station's label for their album."""
    preferred: int = 0
    strategy: str = "none"
    seconds: float = 0.0

    def rows(self) -> list[tuple[str, object]]:
        """(name, value) lines for the CLI's report table."""
        return [
            ("groups (masters with several releases)", self.groups),
            ("releases before", self.releases_before),
            ("releases removed", self.releases_removed),
            *((f"decided by {reason}", n) for reason, n in self.decided_by.items()),
            ("label preferences", self.label_preferences),
            ("releases on a preferred label", self.label_matched),
            ("preferred releases (library matches)", self.preferred),
            ("removal strategy", self.strategy),
            ("seconds", round(self.seconds, 2)),
        ]


def _id_table(conn: Connection, name: str, ids: Iterable[int]) -> tuple[Table, int]:
    """A temporary (release_id) table filled by COPY, dropped at commit."""
    table = Table(
        name,
        MetaData(),
        Column("release_id", Integer, primary_key=True, autoincrement=False),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    table.create(conn)
    raw: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    count = 0
    with raw.cursor() as cur:
        copy_sql = sql.SQL("COPY {} (release_id) FROM STDIN").format(sql.Identifier(name))
        with cur.copy(copy_sql) as copy:
            for release_id in set(ids):
                copy.write_row((int(release_id),))
                count += 1
        cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))
    return table, count


def dedup_connection(
    conn: Connection,
    *,
    label_preferences: Iterable[LabelPreference] = (),
    hierarchy: LabelHierarchy | None = None,
    preferred_release_ids: Iterable[int] = (),
    strategy: str = "auto",
) -> DedupSummary:
    """Dedup inside the caller's transaction on a SQLAlchemy (psycopg 3) connection."""
    start = time.perf_counter()
    prefs = list(label_preferences)
    summary = DedupSummary(label_preferences=len(prefs))
    groups = select(func.count()).select_from(duplicated_masters().subquery())
    summary.groups = int(conn.execute(groups).scalar_one())
    preferred, summary.preferred = _id_table(conn, "_dedup_preferred", preferred_release_ids)
    with progress.timed("dedup: label preferences paired"):
        matched = label_matched_releases(conn, preference_index(prefs, hierarchy))
    label_match, summary.label_matched = _id_table(conn, "_dedup_label_match", matched)

    ranked = rank_releases(preferred, label_match)
    keep = Table(
        "_dedup_keep",
        MetaData(),
        Column("release_id", Integer),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    keep.create(conn)
    with progress.timed("dedup: ranked"):
        # one materialized ranking serves both the report and the keep list
        stored = ranked_table()
        stored.create(conn)
        conn.execute(insert(stored).from_select(list(ranked.c.keys()), select(ranked)))
        conn.execute(sa.text("ANALYZE _dedup_ranked"))
        for row in conn.execute(decided_by(stored)):
            summary.decided_by[row[0]] += int(row[1])
        conn.execute(insert(keep).from_select(["release_id"], releases_to_keep(stored)))
    raw: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    with progress.timed("dedup: removed the other pressings"):
        result = retain_releases(raw, "_dedup_keep", strategy=strategy)
    summary.releases_before = result.releases_before
    summary.releases_removed = result.releases_removed
    summary.strategy = result.strategy
    summary.seconds = time.perf_counter() - start
    return summary


def dedup(
    url: str,
    *,
    label_preferences: Iterable[LabelPreference] | None = None,
    label_hierarchy: Path | None = None,
    preferred_release_ids: Iterable[int] | None = None,
    strategy: str = "auto",
) -> DedupSummary:
    """Keep one release per master_id in the cache at `url`; one transaction, all or nothing."""
    hierarchy = read_label_hierarchy_csv(label_hierarchy) if label_hierarchy else None
    ensure_schema(url)
    engine = create_engine(url)
    try:
        with database_errors(url, "cannot dedup"), engine.begin() as conn:
            progress.note(f"dedup: {describe(url)}")
            return dedup_connection(
                conn,
                label_preferences=label_preferences or (),
                hierarchy=hierarchy,
                preferred_release_ids=preferred_release_ids or (),
                strategy=strategy,
            )
    finally:
        engine.dispose()
