"""The ranking of pressings within a master, as SQLAlchemy Core window queries.

Within each master_id shared by several releases, ROW_NUMBER() OVER (PARTITION BY master_id
ORDER BY ...) ranks by, in order:

1. preferred   the classifier matched the release to a library album (the pipeline passes
               these in: dedup must never drop the pressing that makes an album "owned");
2. has tracks  a release with zero tracks ranks last (among equally preferred ones);
3. label       it carries the label the station recorded for that album;
4. US          country = 'US';
5. tracks      more tracks;
6. id          lowest id.

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
    ("us", "US"),
    ("track_count", "tracks"),
)
"""Ranking keys (all "higher wins") in order, with the reason name each one reports."""

REASONS = ("preferred", "label", "US", "tracks", "id")


def rank_releases(
    preferred: sa.FromClause | None = None, label_match: sa.FromClause | None = None
) -> sa.Subquery:
    """Releases of duplicated masters with their keys, `rank` (1 = keep) and the runner-up's.

    `preferred` and `label_match` are tables (typically temporary) with a unique
    `release_id` column; either may be None (nobody preferred / no label preferences).
    Keys come from outer joins (one pass each), not per-row subqueries.
    """
    r, rt = Release.__table__, ReleaseTrack.__table__
    dup = duplicated_masters().subquery("dup")
    tracks = (
        select(rt.c.release_id, func.count().label("n")).group_by(rt.c.release_id).subquery("tc")
    )
    source = r.join(dup, dup.c.master_id == r.c.master_id).outerjoin(
        tracks, tracks.c.release_id == r.c.id
    )
    flags: dict[str, sa.ColumnElement[Any]] = {}
    for name, table in (("preferred", preferred), ("label_match", label_match)):
        if table is None:
            flags[name] = sa.literal(0)
        else:
            alias = table.alias(f"{name}_ids")
            source = source.outerjoin(alias, alias.c.release_id == r.c.id)
            flags[name] = case((alias.c.release_id.is_not(None), 1), else_=0)
    keys = (
        select(
            r.c.id,
            r.c.master_id,
            flags["preferred"].label("preferred"),
            flags["label_match"].label("label_match"),
            case((r.c.country == "US", 1), else_=0).label("us"),
            func.coalesce(tracks.c.n, 0).label("track_count"),
        )
        .select_from(source)
        .subquery("keys")
    )
    has_tracks = case((keys.c.track_count > 0, 1), else_=0)
    partition = keys.c.master_id
    order = [
        keys.c.preferred.desc(),
        has_tracks.desc(),
        keys.c.label_match.desc(),
        keys.c.us.desc(),
        keys.c.track_count.desc(),
        keys.c.id.asc(),
    ]
    columns: dict[str, sa.ColumnElement] = {
        "preferred": keys.c.preferred,
        "has_tracks": has_tracks,
        "label_match": keys.c.label_match,
        "us": keys.c.us,
        "track_count": keys.c.track_count,
    }

    def over(func_call: sa.FunctionElement[Any], name: str) -> sa.Label[Any]:
        return func_call.over(partition_by=partition, order_by=order).label(name)

    return select(
        keys.c.id,
        keys.c.master_id,
        *(col.label(name) for name, col in columns.items()),
        over(func.row_number(), "rank"),
        over(func.lead(keys.c.id), "next_id"),
        *(over(func.lead(col), f"next_{name}") for name, col in columns.items()),
    ).subquery("ranked")


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
    losers = select(ranked.c.id).where(ranked.c.rank > 1)
    return select(r.c.id.label("release_id")).where(r.c.id.not_in(losers))
