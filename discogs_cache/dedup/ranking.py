"""The ranking of pressings within a master, as SQLAlchemy Core window queries.

Within each master_id shared by several releases, ROW_NUMBER() OVER (PARTITION BY master_id
ORDER BY ...) ranks by, in order:

1. preferred   the classifier matched the release to a library album (the pipeline passes
               these in: dedup must never drop the pressing that makes an album "owned");
2. has tracks  a release with no playable track ranks last (among equally preferred ones);
3. label       it carries the label the station recorded for that album;
4. format      its format (`release.format`) is one the station owns the album in
               (`discogs_cache.formats`: an owned CD prefers a CD, an owned LP a Vinyl);
5. US          country = 'US';
6. tracks      more playable tracks: a row with a position or a duration. convert writes an
               index track (the heading of a suite) as a row with neither, followed by its
               sub-tracks, and skips plain headings: sub-tracks count, index rows do not;
7. id          lowest id.

Rank 1 is kept. `lead()` over the same window gives the runner-up's keys, so the first key
on which they differ is the rule that decided the group (the report's "decided by").
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import case, func, select

from discogs_cache.dedup.pairing import duplicated_masters
from discogs_cache.schema import Release, ReleaseTrack

RANK_KEYS = (
    ("preferred", "preferred"),
    ("has_tracks", "tracks"),
    ("label_match", "label"),
    ("format_match", "format"),
    ("us", "US"),
    ("track_count", "tracks"),
)
"""Ranking keys (all "higher wins") in order, with the reason name each one reports.

The one list of the order: `rank_releases` builds its ORDER BY from it (then lowest id)."""

REASONS = ("preferred", "label", "format", "US", "tracks", "id")


KEY_COLUMNS = ("id", "master_id", "preferred", "us", "track_count")
"""What `ranking_keys` computes per release: every key but the label and format (see
`rank_releases`); `track_count` counts playable tracks."""


def ranking_keys(preferred: sa.FromClause | None = None) -> sa.Select[Any]:
    """Releases of duplicated masters with the keys SQL computes: preferred, US, playable
    tracks.

    `preferred` is a table (typically temporary) with a unique `release_id` column, or
    None (nobody preferred). Keys come from outer joins (one pass each), not per-row
    subqueries. The label and format keys are joined later (`rank_releases`): they
    need the Python pairing, which can run meanwhile.
    """
    r, rt = Release.__table__, ReleaseTrack.__table__
    dup = duplicated_masters().subquery("dup")
    playable = sa.or_(
        func.coalesce(rt.c.position, "") != "", func.coalesce(rt.c.duration, "") != ""
    )
    tracks = (
        select(rt.c.release_id, func.count().filter(playable).label("n"))
        .group_by(rt.c.release_id)
        .subquery("tc")
    )
    source = r.join(dup, dup.c.master_id == r.c.master_id).outerjoin(
        tracks, tracks.c.release_id == r.c.id
    )
    flag: sa.ColumnElement[Any] = sa.literal(0)
    if preferred is not None:
        alias = preferred.alias("preferred_ids")
        source = source.outerjoin(alias, alias.c.release_id == r.c.id)
        flag = case((alias.c.release_id.is_not(None), 1), else_=0)
    return select(
        r.c.id,
        r.c.master_id,
        flag.label("preferred"),
        case((r.c.country == "US", 1), else_=0).label("us"),
        func.coalesce(tracks.c.n, 0).label("track_count"),
    ).select_from(source)


def keys_table(name: str = "_dedup_keys") -> sa.Table:
    """A temporary table (dropped at commit) to materialize `ranking_keys` into."""
    return sa.Table(
        name,
        sa.MetaData(),
        *(sa.Column(k, sa.BigInteger) for k in KEY_COLUMNS),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


def _flag(
    source: sa.FromClause, keys: sa.FromClause, ids: sa.FromClause | None, name: str
) -> tuple[sa.FromClause, sa.ColumnElement[Any]]:
    """`source` outer-joined to a table of ids, and 1/0 for "the release is in it"."""
    if ids is None:
        return source, sa.literal(0)
    alias = ids.alias(name)
    joined = source.outerjoin(alias, alias.c.release_id == keys.c.id)
    return joined, case((alias.c.release_id.is_not(None), 1), else_=0)


def rank_releases(
    preferred: sa.FromClause | None = None,
    label_match: sa.FromClause | None = None,
    keys: sa.FromClause | None = None,
    format_match: sa.FromClause | None = None,
) -> sa.Subquery:
    """Releases of duplicated masters with their keys, `rank` (1 = keep) and the runner-up's.

    `label_match` and `format_match` are tables with a unique `release_id` column, or None
    (no label preferences / no owned formats). The other keys are
    `ranking_keys(preferred)`, or `keys` when they were materialized already (a table with
    `KEY_COLUMNS`; `preferred` is then unused).
    """
    base = keys if keys is not None else ranking_keys(preferred).subquery()
    k = base.alias("keys")
    source, label = _flag(k, k, label_match, "label_match_ids")
    source, owned_format = _flag(source, k, format_match, "format_match_ids")
    has_tracks = case((k.c.track_count > 0, 1), else_=0)
    partition = k.c.master_id
    expressions: dict[str, sa.ColumnElement[Any]] = {
        "preferred": k.c.preferred,
        "has_tracks": has_tracks,
        "label_match": label,
        "format_match": owned_format,
        "us": k.c.us,
        "track_count": k.c.track_count,
    }
    # RANK_KEYS is the one ranking order: the window's ORDER BY and the report's columns
    columns = {name: expressions[name] for name, _ in RANK_KEYS}
    order = [*(col.desc() for col in columns.values()), k.c.id.asc()]

    def over(func_call: sa.FunctionElement[Any], name: str) -> sa.Label[Any]:
        return func_call.over(partition_by=partition, order_by=order).label(name)

    return (
        select(
            k.c.id,
            k.c.master_id,
            *(col.label(name) for name, col in columns.items()),
            over(func.row_number(), "rank"),
            over(func.lead(k.c.id), "next_id"),
            *(over(func.lead(col), f"next_{name}") for name, col in columns.items()),
        )
        .select_from(source)
        .subquery("ranked")
    )


def ranked_table(name: str = "_dedup_ranked") -> sa.Table:
    """A temporary table (dropped at commit) to materialize `rank_releases` into once."""
    keys = ["id", "master_id", *(k for k, _ in RANK_KEYS), "rank", "next_id"]
    keys += [f"next_{k}" for k, _ in RANK_KEYS]
    return sa.Table(
        name,
        sa.MetaData(),
        *(sa.Column(k, sa.BigInteger) for k in keys),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


def decided_by(ranked: sa.FromClause) -> sa.Select[Any]:
    """Per reason, how many groups it decided (winner vs runner-up, first differing key)."""
    reason = case(
        *((ranked.c[name] != ranked.c[f"next_{name}"], label) for name, label in RANK_KEYS),
        else_="id",
    ).label("reason")
    return (
        select(reason, func.count())
        .where(ranked.c.rank == 1, ranked.c.next_id.is_not(None))
        .group_by(reason)
    )


def releases_to_keep(ranked: sa.FromClause) -> sa.Select[Any]:
    """Every release id except the runners-up (releases without a master are all kept)."""
    r = Release.__table__
    lost = select(ranked.c.id).where(ranked.c.id == r.c.id, ranked.c.rank > 1).exists()
    return select(r.c.id.label("release_id")).where(~lost)  # an anti-join, whatever work_mem
