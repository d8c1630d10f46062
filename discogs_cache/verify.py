"""Classify the cache against the station's albums and report, changing nothing (SPEC step 7).

`classify_cache` is what prune, copy-to and the pipeline (before dedup) call; `verify` adds
the dry-run report: table rows and sizes, the share PRUNE would delete, REVIEW by artist.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from discogs_cache import faults, progress
from discogs_cache.db import connect, database_errors, describe
from discogs_cache.library.catalog import CatalogEntry, read_catalog
from discogs_cache.library.labels import LabelPreference
from discogs_cache.matcher import (
    ArtistMappings,
    Classification,
    Credit,
    Decision,
    ReleaseRecord,
    build_index,
    classify_rows,
    load_mappings,
    write_template,
)
from discogs_cache.matcher.albums import album_preferences
from discogs_cache.matcher.classify import ReleaseRow
from discogs_cache.matcher.library_index import LibraryIndex
from discogs_cache.matcher.run import album_records, contested_albums
from discogs_cache.matcher.settle import settle_albums
from discogs_cache.schema import CACHE_TABLES

RELEASE_ROWS = (
    "SELECT r.id, r.title, ra.artist_name, ra.artist_id FROM release r "
    "LEFT JOIN release_artist ra ON ra.release_id = r.id AND ra.extra = 0 "
    "ORDER BY r.id, ra.artist_name"
)
"""Every release with its main credits (extra=0), one row per credit, in id order."""


def read_aliases(conn: psycopg.Connection) -> dict[int, list[str]]:
    """artist_alias as {artist_id: [alias names]} (empty when convert had no artists.xml)."""
    aliases: dict[int, list[str]] = defaultdict(list)
    for artist_id, name in conn.execute("SELECT artist_id, alias_name FROM artist_alias"):
        aliases[artist_id].append(name)
    return dict(aliases)


def read_releases(conn: psycopg.Connection, ids: Sequence[int]) -> list[ReleaseRecord]:
    """The releases `ids` with what settling their albums needs: main credits, master,
    format and labels (three indexed lookups; only retained releases get here)."""
    credits: dict[int, list[Credit]] = defaultdict(list)
    labels: dict[int, list[str]] = defaultdict(list)
    for rid, name, artist_id in conn.execute(
        "SELECT release_id, artist_name, artist_id FROM release_artist "
        "WHERE extra = 0 AND release_id = ANY(%s) ORDER BY release_id, artist_name",
        (list(ids),),
    ):
        credits[rid].append(Credit(name, artist_id or None))
    for rid, label in conn.execute(
        "SELECT release_id, label_name FROM release_label WHERE release_id = ANY(%s)", (list(ids),)
    ):
        labels[rid].append(label)
    rows = conn.execute(
        "SELECT id, title, master_id, format FROM release WHERE id = ANY(%s) ORDER BY id",
        (list(ids),),
    )
    return [
        ReleaseRecord(rid, title, tuple(credits[rid]), master_id, fmt, tuple(labels[rid]))
        for rid, title, master_id, fmt in rows
    ]


def classify_cache(
    url: str,
    library: Sequence[CatalogEntry] | LibraryIndex,
    mappings: ArtistMappings | None = None,
    *,
    label_preferences: Iterable[LabelPreference] = (),
    related_labels: Callable[[str], Iterable[str]] | None = None,
) -> Classification:
    """Classify every release of the cache at `url` (read-only) against the catalog's
    entries, or against their index when the caller built it already (the pipeline does,
    beside the load); then settle each album's masters (`settle.settle_albums`), ties
    broken by the station's label (`label_preferences`, `related_labels` giving a label's
    parents and children) and the format it owns.

    The rows of one query stream from a server-side cursor straight into the classifier: no
    object per release is built before its verdict."""
    with progress.timed("verify: classify releases"):
        index = library if isinstance(library, LibraryIndex) else build_index(library)
        preferences = album_preferences(index.owned_formats, label_preferences, related_labels)
        with database_errors(url, "cannot read the cache"), connect(url) as conn:
            conn.read_only = True
            aliases = read_aliases(conn)
            with conn.cursor(name="discogs_verify_releases", binary=True) as cur:
                cur.itersize = 20_000
                cur.execute(RELEASE_ROWS)
                rows = _with_fault_point(cur) if faults.armed() else cur
                classification = classify_rows(index, rows, aliases=aliases, mappings=mappings)
            albums = contested_albums(classification.verdicts, bool(preferences))
            matched = {
                v.release_id: v
                for v in classification.verdicts
                if v.decision != Decision.PRUNE and (v.match_artist, v.match_title or "") in albums
            }
            releases = read_releases(conn, sorted(matched))
            conn.rollback()
        records = album_records(releases, matched, preferences, aliases)
        classification = classification.demoted(settle_albums(records, preferences))
    progress.note(f"verify: {len(classification.verdicts):,} releases classified")
    return classification


def _with_fault_point(rows: Iterable[ReleaseRow]) -> Iterator[ReleaseRow]:
    """The rows, passing `classify.midway` after the first 32 (only when a fault is armed:
    the unarmed path streams the cursor itself)."""
    for n, row in enumerate(rows, 1):
        if n == 32:
            faults.point("classify.midway")
        yield row


@dataclass
class TableStat:
    table: str
    rows: int
    bytes: int
    rows_pruned: int

    @property
    def share_pruned(self) -> float:
        return self.rows_pruned / self.rows if self.rows else 0.0

    @property
    def bytes_saved(self) -> int:
        return int(self.bytes * self.share_pruned)


@dataclass
class ReviewArtist:
    """REVIEW releases of one Discogs artist with its best library match."""

    artist: str
    releases: int
    best_artist: str | None
    best_title: str | None
    score: float


@dataclass
class VerifyReport:
    database: str
    library_albums: int
    library_artists: int
    classification: Classification
    tables: list[TableStat] = field(default_factory=list)
    review: list[ReviewArtist] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return self.classification.counts()

    @property
    def bytes_saved(self) -> int:
        return sum(t.bytes_saved for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "library_albums": self.library_albums,
            "library_artists": self.library_artists,
            "releases": len(self.classification.verdicts),
            "decisions": self.counts,
            "tables": [
                {**vars(t), "share_pruned": round(t.share_pruned, 4), "bytes_saved": t.bytes_saved}
                for t in self.tables
            ],
            "estimated_bytes_saved": self.bytes_saved,
            "review": [vars(r) for r in self.review],
        }


def review_by_artist(classification: Classification) -> list[ReviewArtist]:
    """REVIEW verdicts grouped by the deciding Discogs credit, most releases first."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for v in classification.verdicts:
        if v.decision == Decision.REVIEW:
            groups[v.credit or "(no credit)"].append(v)
    result = []
    for artist, verdicts in groups.items():
        best = max(verdicts, key=lambda v: v.score)
        result.append(
            ReviewArtist(artist, len(verdicts), best.match_artist, best.match_title, best.score)
        )
    return sorted(result, key=lambda r: (-r.releases, r.artist))


def table_stats(conn: psycopg.Connection, prune_ids: Iterable[int]) -> list[TableStat]:
    """Rows, on-disk bytes and rows that PRUNE would delete, per cache table."""
    conn.execute("CREATE TEMP TABLE discogs_verify_prune (release_id integer) ON COMMIT DROP")
    with conn.cursor().copy("COPY discogs_verify_prune (release_id) FROM STDIN") as copy:
        for rid in prune_ids:
            copy.write_row((rid,))
    conn.execute("ANALYZE discogs_verify_prune")
    stats = []
    for table in CACHE_TABLES:
        column = "id" if table == "release" else "release_id"
        query = sql.SQL(
            "SELECT count(*), count(p.release_id), pg_total_relation_size({name}::regclass) "
            "FROM {table} t LEFT JOIN discogs_verify_prune p ON p.release_id = t.{column}"
        ).format(
            name=sql.Literal(table), table=sql.Identifier(table), column=sql.Identifier(column)
        )
        row = conn.execute(query).fetchone()
        assert row is not None
        stats.append(TableStat(table, int(row[0]), int(row[2]), int(row[1])))
    return stats


def verify(
    url: str,
    library_db: Path,
    *,
    mappings_path: Path | None = None,
    write_mappings: Path | None = None,
) -> VerifyReport:
    """Classify and measure; nothing in the cache changes (the temp table is rolled back)."""
    entries = read_catalog(library_db)
    mappings = load_mappings(mappings_path)
    classification = classify_cache(url, entries, mappings)
    index_artists = {e.artist for e in entries}
    report = VerifyReport(
        database=describe(url),
        library_albums=len({(e.artist, e.title) for e in entries}),
        library_artists=len(index_artists),
        classification=classification,
        review=review_by_artist(classification),
    )
    with database_errors(url, "cannot measure the cache"), connect(url) as conn:
        report.tables = table_stats(conn, classification.prune_ids)
        conn.rollback()
    if write_mappings is not None:
        write_template(
            write_mappings,
            {
                r.artist: {"best_match": r.best_artist, "score": r.score, "releases": r.releases}
                for r in report.review
            },
            mappings,
        )
    return report


def format_report(report: VerifyReport, review_limit: int = 50) -> str:
    """The human-readable dry-run report."""
    counts = report.counts
    total = sum(counts.values())
    lines = [
        f"cache {report.database}: {total:,} releases classified against "
        f"{report.library_albums:,} library albums by {report.library_artists:,} artists",
        "",
        progress.format_table(
            ("decision", "releases", "share"),
            [(d, n, f"{n / total:.1%}" if total else "-") for d, n in counts.items()],
        ),
        "",
        progress.format_table(
            ("table", "rows", "size", "rows pruned", "share"),
            [
                (
                    t.table,
                    t.rows,
                    progress.human_bytes(t.bytes),
                    t.rows_pruned,
                    f"{t.share_pruned:.1%}",
                )
                for t in report.tables
            ],
        ),
        f"estimated space saved: {progress.human_bytes(report.bytes_saved)}",
    ]
    if report.review:
        lines += ["", f"REVIEW ({counts['REVIEW']} releases, never deleted) by Discogs artist:"]
        rows = [
            (r.artist, r.releases, f"{r.best_artist or ''} - {r.best_title or ''}", r.score)
            for r in report.review[:review_limit]
        ]
        lines.append(progress.format_table(("artist", "releases", "best match", "score"), rows))
        if len(report.review) > review_limit:
            lines.append(f"... and {len(report.review) - review_limit} more artists")
    reasons = Counter(v.reason for v in report.classification.verdicts)
    lines += ["", "by reason: " + ", ".join(f"{k} {n}" for k, n in reasons.most_common())]
    return "\n".join(lines)
