"""Step 6, dedup: keep one pressing per master_id, the one the station most likely owns.

The ranking (`ranking.rank_releases`) is SQLAlchemy Core over small temporary tables: the
releases the pipeline's classifier matched to a library album (`preferred_release_ids`),
the releases carrying the station's label for that album and those in the format the
station owns it in (`pairing`). The losers go
through the shared keep-only swap (`discogs_cache.swap`), and everything happens in one
transaction: an interrupted dedup leaves the cache as it was. `dedup_losers` ranks without
removing anything, for `run`, which removes the losers in the same swap as the pruned
releases (one rewrite of the tables instead of two).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    func,
    insert,
    select,
    text,
)

from discogs_cache import faults, progress
from discogs_cache.db import describe, engine_for
from discogs_cache.dedup.pairing import (
    AlbumKey,
    LabelHierarchy,
    driver_rows,
    duplicated_masters,
    preference_matches,
    preferences,
    read_label_hierarchy_csv,
)
from discogs_cache.dedup.ranking import (
    KEY_COLUMNS,
    REASONS,
    decided_by,
    keys_table,
    rank_releases,
    ranked_table,
    ranking_keys,
    releases_to_keep,
)
from discogs_cache.library.labels import LabelPreference
from discogs_cache.matcher.albums import Preferences
from discogs_cache.migrate import ensure_schema
from discogs_cache.schema import Release
from discogs_cache.swap import retain_releases

DEFERRED = "deferred"
"""`DedupSummary.strategy` of `dedup_losers`: ranked, nothing removed (the caller removes)."""

__all__ = [
    "DEFERRED",
    "REASONS",
    "DedupSummary",
    "LabelHierarchy",
    "dedup",
    "dedup_connection",
    "dedup_losers",
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
    format_matched: int = 0
    """Releases in duplicated masters in a format the station owns their album in."""
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
            ("releases in an owned format", self.format_matched),
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
    unique = {int(i) for i in ids}
    with raw.cursor() as cur:
        copy_sql = sql.SQL("COPY {} (release_id) FROM STDIN").format(sql.Identifier(name))
        with cur.copy(copy_sql) as copy:
            copy.write("".join(f"{i}\n" for i in unique))  # one text block: integers only
        cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))
    return table, len(unique)


Matched = Mapping[int, AlbumKey]
"""Release id -> the library album (key) the classifier matched it to: pairing's fallback."""


def _pair(conn: Connection, prefs: Preferences, matched: Matched) -> tuple[set[int], set[int]]:
    with progress.timed("dedup: label and format preferences paired"):
        return preference_matches(conn, prefs, matched)


def _pair_beside(
    engine: Engine, snapshot: str, prefs: Preferences, matched: Matched
) -> tuple[set[int], set[int]]:
    """The pairing on a second connection that sees exactly what the ranking's connection
    sees (its exported snapshot), so the pairing's Python work overlaps with the SQL."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as other:
        raw: psycopg.Connection = other.connection.driver_connection  # type: ignore[assignment]
        other.exec_driver_sql(
            sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)).as_string(raw)
        )
        found = _pair(other, prefs, matched)
        other.rollback()
    return found


RANKED_TABLES = ("release", "release_artist", "release_label", "release_track")


def _analyze_fresh_tables(conn: Connection) -> None:
    """ANALYZE the tables the ranking reads that have never been analyzed (right after a
    load, before autovacuum gets to them): without statistics the planner has picked a
    nested loop over release_artist x duplicated masters that took minutes, not seconds."""
    fresh = (
        conn.execute(
            text("SELECT relname FROM pg_class WHERE relname = ANY(:names) AND reltuples < 0"),
            {"names": list(RANKED_TABLES)},
        )
        .scalars()
        .all()
    )
    raw: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    with raw.cursor() as cur:
        for name in fresh:
            cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))


@dataclass
class _Inputs:
    """What the ranking needs besides the cache: the station's preferences per album."""

    prefs: Preferences
    label_preferences: int
    preferred: Iterable[int]
    matched: Matched


def _inputs(
    label_preferences: Iterable[LabelPreference] | None,
    hierarchy: LabelHierarchy | None,
    owned_formats: Mapping[AlbumKey, Iterable[str]] | None,
    preferred_release_ids: Iterable[int] | None,
    matched_albums: Matched | None,
) -> _Inputs:
    labels = list(label_preferences or ())
    return _Inputs(
        preferences(labels, hierarchy, owned_formats),
        len(labels),
        preferred_release_ids or (),
        matched_albums or {},
    )


def _rank(
    conn: Connection, inputs: _Inputs, engine: Engine | None = None
) -> tuple[DedupSummary, Table]:
    """Materialize the ranking (temporary `_dedup_ranked`) and count the deciding rules.

    With an `engine` (and preferences), the label and format pairing runs on a second
    connection while this one computes the other keys: the two take about as long.
    """
    prefs, matched = inputs.prefs, inputs.matched
    summary = DedupSummary(label_preferences=inputs.label_preferences)
    _analyze_fresh_tables(conn)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pairing = None
        if engine is not None and prefs:
            snapshot = str(conn.execute(select(func.pg_export_snapshot())).scalar_one())
            pairing = pool.submit(_pair_beside, engine, snapshot, prefs, matched)
        groups = select(func.count()).select_from(duplicated_masters().subquery())
        summary.groups = int(conn.execute(groups).scalar_one())
        preferred, summary.preferred = _id_table(conn, "_dedup_preferred", inputs.preferred)
        keys = keys_table()
        keys.create(conn)
        with progress.timed("dedup: keys computed"):
            conn.execute(insert(keys).from_select(list(KEY_COLUMNS), ranking_keys(preferred)))
        labels, formats = pairing.result() if pairing else _pair(conn, prefs, matched)
    label_match, summary.label_matched = _id_table(conn, "_dedup_label_match", labels)
    format_match, summary.format_matched = _id_table(conn, "_dedup_format_match", formats)

    ranked = rank_releases(label_match=label_match, keys=keys, format_match=format_match)
    with progress.timed("dedup: ranked"):
        # one materialized ranking serves both the report and the keep list
        stored = ranked_table()
        stored.create(conn)
        conn.execute(insert(stored).from_select(list(ranked.c.keys()), select(ranked)))
        for row in conn.execute(decided_by(stored)):
            summary.decided_by[row[0]] += int(row[1])
    faults.point("dedup.after_ranking")  # ranked, nothing removed or saved yet
    return summary, stored


def dedup_connection(
    conn: Connection,
    *,
    label_preferences: Iterable[LabelPreference] = (),
    hierarchy: LabelHierarchy | None = None,
    preferred_release_ids: Iterable[int] = (),
    owned_formats: Mapping[AlbumKey, Iterable[str]] | None = None,
    matched_albums: Matched | None = None,
    strategy: str = "auto",
) -> DedupSummary:
    """Dedup inside the caller's transaction on a SQLAlchemy (psycopg 3) connection."""
    start = time.perf_counter()
    inputs = _inputs(
        label_preferences, hierarchy, owned_formats, preferred_release_ids, matched_albums
    )
    ranking = _rank(conn, inputs)
    return _remove_losers(conn, *ranking, strategy=strategy, start=start)


def _remove_losers(
    conn: Connection, summary: DedupSummary, stored: Table, *, strategy: str, start: float
) -> DedupSummary:
    keep = Table(
        "_dedup_keep",
        MetaData(),
        Column("release_id", Integer),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    keep.create(conn)
    conn.execute(insert(keep).from_select(["release_id"], releases_to_keep(stored)))
    raw: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    with progress.timed("dedup: removed the other pressings"):
        result = retain_releases(raw, "_dedup_keep", strategy=strategy)
    summary.releases_before = result.releases_before
    summary.releases_removed = result.releases_removed
    summary.strategy = result.strategy
    summary.seconds = time.perf_counter() - start
    return summary


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    """An engine on the migrated cache at `url`, driver errors as one-line DatabaseErrors."""
    ensure_schema(url)
    with engine_for(url, "cannot dedup") as engine:
        yield engine


def dedup(
    url: str,
    *,
    label_preferences: Iterable[LabelPreference] | None = None,
    label_hierarchy: Path | None = None,
    preferred_release_ids: Iterable[int] | None = None,
    owned_formats: Mapping[AlbumKey, Iterable[str]] | None = None,
    matched_albums: Matched | None = None,
    strategy: str = "auto",
) -> DedupSummary:
    """Keep one release per master_id in the cache at `url`; one transaction, all or nothing.

    `owned_formats` (album key -> format families, `LibraryIndex.owned_formats`) and
    `matched_albums` (release id -> album key the classifier matched) feed the format rule
    and the pairing's fallback."""
    hierarchy = read_label_hierarchy_csv(label_hierarchy) if label_hierarchy else None
    inputs = _inputs(
        label_preferences, hierarchy, owned_formats, preferred_release_ids, matched_albums
    )
    start = time.perf_counter()
    with _engine(url) as engine, engine.begin() as conn:
        progress.note(f"dedup: {describe(url)}")
        ranking = _rank(conn, inputs, engine)
        return _remove_losers(conn, *ranking, strategy=strategy, start=start)


def dedup_losers(
    url: str,
    *,
    label_preferences: Iterable[LabelPreference] | None = None,
    label_hierarchy: Path | None = None,
    preferred_release_ids: Iterable[int] | None = None,
    owned_formats: Mapping[AlbumKey, Iterable[str]] | None = None,
    matched_albums: Matched | None = None,
) -> tuple[DedupSummary, list[int]]:
    """What `dedup` would remove (the runners-up, sorted), without removing anything.

    The summary's `releases_removed` is the number of losers and its strategy `DEFERRED`:
    the caller removes them (`prune(..., also_remove=losers)`), against an unchanged cache.
    """
    hierarchy = read_label_hierarchy_csv(label_hierarchy) if label_hierarchy else None
    inputs = _inputs(
        label_preferences, hierarchy, owned_formats, preferred_release_ids, matched_albums
    )
    start = time.perf_counter()
    with _engine(url) as engine, engine.connect() as conn:
        progress.note(f"dedup: {describe(url)} (ranking only)")
        summary, stored = _rank(conn, inputs, engine)
        lost = select(stored.c.id).where(stored.c.rank > 1).order_by(stored.c.id)
        losers = [int(r[0]) for r in driver_rows(conn, lost)]
        before = conn.execute(select(func.count()).select_from(Release.__table__))
        summary.releases_before = int(before.scalar_one())
        conn.rollback()  # read-only: the temporary tables go with the transaction
    summary.releases_removed = len(losers)
    summary.strategy = DEFERRED
    summary.seconds = time.perf_counter() - start
    return summary, losers
