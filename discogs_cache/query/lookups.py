"""The lookups: release by id, fuzzy release and track search, track validation, artwork."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from rapidfuzz import fuzz
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from discogs_cache.errors import InputError
from discogs_cache.normalize import normalize_title
from discogs_cache.query._sql import (
    DEFAULT_TIMEOUT,
    Bind,
    check_limit,
    clean,
    credited,
    main_artists,
    matches,
    names,
    session,
    similarity,
)
from discogs_cache.query.results import (
    ReleaseDetail,
    ReleaseMatch,
    Track,
    TrackMatch,
    TrackValidation,
)
from discogs_cache.schema import (
    Release,
    ReleaseGenre,
    ReleaseKey,
    ReleaseStyle,
    ReleaseTrack,
    ReleaseTrackArtist,
    TrackKey,
)

DEFAULT_LIMIT = 20
VALIDATE_MIN_SCORE = 0.85
"""Normalized-title similarity (0..1) from which validate_track says a track is on a release."""


def get_release(
    bind: Bind, release_id: int, *, timeout: float | None = DEFAULT_TIMEOUT
) -> ReleaseDetail | None:
    """The release with main artists, genres, styles, tracks with their artists and writers,
    in one round trip; None if it is not cached."""
    with session(bind, timeout=timeout) as conn:
        row = conn.execute(
            select(
                Release.id,
                Release.title,
                Release.release_year,
                Release.country,
                Release.artwork_url,
                Release.master_id,
                main_artists(Release.id).label("artists"),
                _tracklist(Release.id).label("tracks"),
                names(ReleaseGenre.genre, ReleaseGenre.release_id == Release.id).label("genres"),
                names(ReleaseStyle.style, ReleaseStyle.release_id == Release.id).label("styles"),
            ).where(Release.id == release_id)
        ).one_or_none()
    if row is None:
        return None
    return ReleaseDetail(
        id=row.id,
        title=row.title,
        artists=tuple(row.artists or ()),
        release_year=row.release_year,
        country=row.country,
        artwork_url=row.artwork_url,
        master_id=row.master_id,
        tracks=tuple(
            Track(t[0], t[1], t[2], t[3], tuple(t[4] or ()), tuple(t[5] or ()))
            for t in row.tracks or ()
        ),
        genres=tuple(row.genres or ()),
        styles=tuple(row.styles or ()),
    )


def _track_artists() -> Any:
    return names(
        ReleaseTrackArtist.artist_name,
        ReleaseTrackArtist.release_id == ReleaseTrack.release_id,
        ReleaseTrackArtist.track_sequence == ReleaseTrack.sequence,
        ReleaseTrackArtist.extra == 0,  # the track's artists, not its writers/producers
    )


WRITING_ROLES = "(writ|compos|lyric|music by|songwriter)"
"""Roles of a track's extra credits that make it a writer (case-insensitive regex)."""


def _writers() -> Any:
    return names(
        ReleaseTrackArtist.artist_name,
        ReleaseTrackArtist.release_id == ReleaseTrack.release_id,
        ReleaseTrackArtist.track_sequence == ReleaseTrack.sequence,
        ReleaseTrackArtist.extra != 0,
        ReleaseTrackArtist.role.op("~*")(WRITING_ROLES),
    )


def _tracklist(release_id: Any) -> Any:
    """JSON array of [sequence, position, title, duration, [track artists], [writers]] by
    sequence."""
    row = func.json_build_array(
        ReleaseTrack.sequence,
        ReleaseTrack.position,
        ReleaseTrack.title,
        ReleaseTrack.duration,
        _track_artists(),
        _writers(),
    )
    return (
        select(func.json_agg(aggregate_order_by(row, ReleaseTrack.sequence)))
        .where(ReleaseTrack.release_id == release_id)
        .scalar_subquery()
    )


def _tracks(conn: sa.Connection, release_id: int) -> tuple[Track, ...]:
    rows = conn.execute(
        select(
            ReleaseTrack.sequence,
            ReleaseTrack.position,
            ReleaseTrack.title,
            ReleaseTrack.duration,
            _track_artists().label("artists"),
        )
        .where(ReleaseTrack.release_id == release_id)
        .order_by(ReleaseTrack.sequence)
    )
    return tuple(
        Track(r.sequence, r.position, r.title, r.duration, tuple(r.artists or ())) for r in rows
    )


LIMIT = sa.bindparam("limit", type_=sa.Integer)


def exact_keys(table: Any) -> list[Any]:
    """The normalized keys of :artist and :title, computed by the same SQL functions as the
    derived tables' (so the two sides cannot disagree)."""
    artist = sa.bindparam("artist", type_=sa.Text)
    title = sa.bindparam("title", type_=sa.Text)
    return [
        table.artist_key == func.public.lookup_artist_key(artist),
        table.title_key == func.public.lookup_title_key(title),
    ]


@cache
def releases_stmt(
    artist: bool, title: bool, *, exact: bool = False, artwork: bool = False
) -> sa.Select[Any]:
    """The whole release search, built once per shape (parameters :artist :title :limit);
    `exact`: among the releases of the exact keys only; `artwork`: only releases with one."""
    within = select(ReleaseKey.release_id).where(*exact_keys(ReleaseKey)) if exact else None
    stmt, score = release_search(artist, title, within)
    if artwork:
        stmt = stmt.where(Release.artwork_url.is_not(None), Release.artwork_url != "")
    return stmt.order_by(score.desc(), Release.id).limit(LIMIT)


@cache
def tracks_stmt(artist: bool, *, exact: bool = False) -> sa.Select[Any]:
    """The whole track search, built once per shape (parameters :title :artist :limit)."""
    within = (
        select(TrackKey.release_id, TrackKey.sequence).where(*exact_keys(TrackKey))
        if exact
        else None
    )
    return track_search(artist, within).limit(LIMIT)


def release_search(artist: bool, title: bool, within: Any = None) -> tuple[sa.Select[Any], Any]:
    """SELECT of matching releases and its score expression (caller adds order/limit);
    `within`: only these release ids (a SELECT), the exact-key path."""
    score_terms: list[Any] = []
    source: Any = Release.__table__
    where: list[Any] = [] if within is None else [Release.id.in_(within)]
    if artist:
        by_artist = credited("credited", within)
        source = source.join(by_artist, by_artist.c.release_id == Release.id)
        score_terms.append(by_artist.c.score)
    if title:
        where.append(matches(Release.title, "title"))
        score_terms.append(similarity(Release.title, "title"))
    # Mean of the one or two float4 similarities (no numeric division: it would convert each).
    score = score_terms[0] if len(score_terms) == 1 else (score_terms[0] + score_terms[1]) / 2.0
    stmt = (
        select(
            Release.id,
            Release.title,
            Release.release_year,
            Release.artwork_url,
            main_artists(Release.id).label("artists"),
            score.label("score"),
        )
        .select_from(source)
        .where(*where)
    )
    return stmt, score


def search_releases(
    bind: Bind,
    artist: str | None = None,
    title: str | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    threshold: float | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> list[ReleaseMatch]:
    """Releases whose main artist and/or title are similar to the query, best first.

    With both, a release must match both; its score is the mean of the two similarities.
    Accents and case are ignored ("bjork" finds "Björk"); typos are found by similarity.
    """
    artist, title = clean(artist), clean(title)
    if not artist and not title:
        raise InputError("search needs an artist or a title")
    check_limit(limit)
    stmt = releases_stmt(bool(artist), bool(title))
    with session(bind, threshold, timeout) as conn:
        rows = conn.execute(stmt, {"artist": artist, "title": title, "limit": limit}).all()
    return release_matches(rows)


def release_matches(rows: Any) -> list[ReleaseMatch]:
    return [
        ReleaseMatch(
            r.id, r.title, tuple(r.artists or ()), r.release_year, r.artwork_url, float(r.score)
        )
        for r in rows
    ]


def artwork_url(
    bind: Bind,
    artist: str,
    title: str,
    *,
    threshold: float | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> str | None:
    """Artwork of the best-matching release that has one, or None."""
    artist_q, title_q = clean(artist), clean(title)
    if not artist_q or not title_q:
        raise InputError("artwork_url needs an artist and a title")
    stmt = releases_stmt(True, True, artwork=True)
    with session(bind, threshold, timeout) as conn:
        row = conn.execute(stmt, {"artist": artist_q, "title": title_q, "limit": 1}).first()
    return row.artwork_url if row else None


def search_tracks(
    bind: Bind,
    title: str,
    artist: str | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    threshold: float | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> list[TrackMatch]:
    """Tracks whose title is similar to `title` ("which release has this song?"), best first.

    With `artist`, the track must also be credited to a similar name: either on the track
    itself (compilations credit "Various" on the release) or as a main artist of its release.
    """
    title_q, artist_q = clean(title), clean(artist)
    if not title_q:
        raise InputError("track search needs a title")
    check_limit(limit)
    stmt = tracks_stmt(bool(artist_q))
    with session(bind, threshold, timeout) as conn:
        rows = conn.execute(stmt, {"title": title_q, "artist": artist_q, "limit": limit}).all()
    return track_matches(rows)


def track_matches(rows: Any) -> list[TrackMatch]:
    return [
        TrackMatch(
            release_id=r.release_id,
            release_title=r.release_title,
            release_artists=tuple(r.release_artists or ()),
            sequence=r.sequence,
            position=r.position,
            title=r.title,
            track_artists=tuple(r.track_artists or ()),
            score=float(r.score),
        )
        for r in rows
    ]


def track_search(artist: bool, within: Any = None) -> sa.Select[Any]:
    """SELECT of tracks matching :title (and :artist), best first (caller adds the limit);
    `within`: only these (release_id, sequence) pairs (a SELECT), the exact-key path."""
    title_score = similarity(ReleaseTrack.title, "title")
    source: Any = ReleaseTrack.__table__.join(Release, Release.id == ReleaseTrack.release_id)
    where = [matches(ReleaseTrack.title, "title")]
    if within is not None:
        where.append(sa.tuple_(ReleaseTrack.release_id, ReleaseTrack.sequence).in_(within))
    score: Any = title_score
    if artist:
        on_track_where = [
            matches(ReleaseTrackArtist.artist_name, "artist"),
            ReleaseTrackArtist.extra == 0,  # the track's artists, not its writers/producers
        ]
        releases = None
        if within is not None:
            pairs = sa.tuple_(ReleaseTrackArtist.release_id, ReleaseTrackArtist.track_sequence)
            on_track_where.append(pairs.in_(within))
            releases = within.with_only_columns(within.selected_columns[0])
        on_track = (
            select(
                ReleaseTrackArtist.release_id,
                ReleaseTrackArtist.track_sequence,
                func.max(similarity(ReleaseTrackArtist.artist_name, "artist")).label("score"),
            )
            .where(*on_track_where)
            .group_by(ReleaseTrackArtist.release_id, ReleaseTrackArtist.track_sequence)
            .subquery("on_track")
        )
        on_release = credited("on_release", releases)
        source = source.outerjoin(
            on_track,
            sa.and_(
                on_track.c.release_id == ReleaseTrack.release_id,
                on_track.c.track_sequence == ReleaseTrack.sequence,
            ),
        ).outerjoin(on_release, on_release.c.release_id == ReleaseTrack.release_id)
        where.append(sa.or_(on_track.c.score.is_not(None), on_release.c.score.is_not(None)))
        artist_score = func.greatest(
            func.coalesce(on_track.c.score, 0.0), func.coalesce(on_release.c.score, 0.0)
        )
        score = (title_score + artist_score) / 2
    return (
        select(
            ReleaseTrack.release_id,
            Release.title.label("release_title"),
            main_artists(ReleaseTrack.release_id).label("release_artists"),
            ReleaseTrack.sequence,
            ReleaseTrack.position,
            ReleaseTrack.title,
            _track_artists().label("track_artists"),
            score.label("score"),
        )
        .select_from(source)
        .where(*where)
        .order_by(score.desc(), ReleaseTrack.release_id, ReleaseTrack.sequence)
    )


def validate_track(
    bind: Bind,
    release_id: int,
    title: str,
    *,
    min_score: float = VALIDATE_MIN_SCORE,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> TrackValidation | None:
    """Is a track called `title` on the release? None if the release is not cached.

    Titles are compared after `normalize.normalize_title` (case, accents, "&"/"and",
    apostrophes, edition marks); equal normal forms score 1.0, others their rapidfuzz ratio.
    """
    if not clean(title):
        raise InputError("validate needs a track title")
    with session(bind, timeout=timeout) as conn:
        exists = conn.scalar(select(Release.id).where(Release.id == release_id))
        if exists is None:
            return None
        tracks = _tracks(conn, release_id)
    wanted = normalize_title(title)
    best: Track | None = None
    best_score = 0.0
    for track in tracks:
        candidate = normalize_title(track.title)
        score = 1.0 if candidate == wanted else fuzz.ratio(candidate, wanted) / 100.0
        if score > best_score:
            best, best_score = track, score
    return TrackValidation(release_id, title, best_score >= min_score, best_score, best)
