"""The lookups: release by id, fuzzy release and track search, track validation, artwork."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rapidfuzz import fuzz
from sqlalchemy import func, select

from discogs_cache.errors import InputError
from discogs_cache.normalize import normalize_title
from discogs_cache.query._sql import (
    Bind,
    check_limit,
    clean,
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
from discogs_cache.schema import Release, ReleaseArtist, ReleaseTrack, ReleaseTrackArtist

DEFAULT_LIMIT = 20
VALIDATE_MIN_SCORE = 0.85
"""Normalized-title similarity (0..1) from which validate_track says a track is on a release."""


def get_release(bind: Bind, release_id: int) -> ReleaseDetail | None:
    """The release with main artists, tracks and track artists; None if it is not cached."""
    with session(bind) as conn:
        row = conn.execute(
            select(
                Release.id,
                Release.title,
                Release.release_year,
                Release.country,
                Release.artwork_url,
                Release.master_id,
                main_artists(Release.id).label("artists"),
            ).where(Release.id == release_id)
        ).one_or_none()
        if row is None:
            return None
        tracks = _tracks(conn, release_id)
    return ReleaseDetail(
        id=row.id,
        title=row.title,
        artists=tuple(row.artists or ()),
        release_year=row.release_year,
        country=row.country,
        artwork_url=row.artwork_url,
        master_id=row.master_id,
        tracks=tracks,
    )


def _tracks(conn: sa.Connection, release_id: int) -> tuple[Track, ...]:
    artists = names(
        ReleaseTrackArtist.artist_name,
        ReleaseTrackArtist.release_id == ReleaseTrack.release_id,
        ReleaseTrackArtist.track_sequence == ReleaseTrack.sequence,
        ReleaseTrackArtist.extra == 0,  # the track's artists, not its writers/producers
    )
    rows = conn.execute(
        select(
            ReleaseTrack.sequence,
            ReleaseTrack.position,
            ReleaseTrack.title,
            ReleaseTrack.duration,
            artists.label("artists"),
        )
        .where(ReleaseTrack.release_id == release_id)
        .order_by(ReleaseTrack.sequence)
    )
    return tuple(
        Track(r.sequence, r.position, r.title, r.duration, tuple(r.artists or ())) for r in rows
    )


def _main_artist_matches(name: str) -> Any:
    """(release_id, best score) of releases whose main artist matches :artist (trigram)."""
    return (
        select(
            ReleaseArtist.release_id,
            func.max(similarity(ReleaseArtist.artist_name, "artist")).label("score"),
        )
        .where(ReleaseArtist.extra == 0, matches(ReleaseArtist.artist_name, "artist"))
        .group_by(ReleaseArtist.release_id)
        .subquery(name)
    )


def _release_search(artist: str | None, title: str | None) -> tuple[sa.Select[Any], Any]:
    """SELECT of matching releases and its score expression (caller adds order/limit)."""
    score_terms: list[Any] = []
    source: Any = Release.__table__
    where: list[Any] = []
    if artist:
        credited = _main_artist_matches("credited")
        source = source.join(credited, credited.c.release_id == Release.id)
        score_terms.append(credited.c.score)
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
) -> list[ReleaseMatch]:
    """Releases whose main artist and/or title are similar to the query, best first.

    With both, a release must match both; its score is the mean of the two similarities.
    Accents and case are ignored ("bjork" finds "Björk"); typos are found by similarity.
    """
    artist, title = clean(artist), clean(title)
    if not artist and not title:
        raise InputError("search needs an artist or a title")
    check_limit(limit)
    stmt, score = _release_search(artist, title)
    stmt = stmt.order_by(score.desc(), Release.id).limit(limit)
    with session(bind, threshold) as conn:
        rows = conn.execute(stmt, {"artist": artist, "title": title}).all()
    return [
        ReleaseMatch(
            r.id, r.title, tuple(r.artists or ()), r.release_year, r.artwork_url, float(r.score)
        )
        for r in rows
    ]


def artwork_url(
    bind: Bind, artist: str, title: str, *, threshold: float | None = None
) -> str | None:
    """Artwork of the best-matching release that has one, or None."""
    artist_q, title_q = clean(artist), clean(title)
    if not artist_q or not title_q:
        raise InputError("artwork_url needs an artist and a title")
    stmt, score = _release_search(artist_q, title_q)
    stmt = stmt.where(Release.artwork_url.is_not(None), Release.artwork_url != "")
    stmt = stmt.order_by(score.desc(), Release.id).limit(1)
    with session(bind, threshold) as conn:
        row = conn.execute(stmt, {"artist": artist_q, "title": title_q}).first()
    return row.artwork_url if row else None


def search_tracks(
    bind: Bind,
    title: str,
    artist: str | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    threshold: float | None = None,
) -> list[TrackMatch]:
    """Tracks whose title is similar to `title` ("which release has this song?"), best first.

    With `artist`, the track must also be credited to a similar name: either on the track
    itself (compilations credit "Various" on the release) or as a main artist of its release.
    """
    title_q, artist_q = clean(title), clean(artist)
    if not title_q:
        raise InputError("track search needs a title")
    check_limit(limit)
    track_artists = names(
        ReleaseTrackArtist.artist_name,
        ReleaseTrackArtist.release_id == ReleaseTrack.release_id,
        ReleaseTrackArtist.track_sequence == ReleaseTrack.sequence,
        ReleaseTrackArtist.extra == 0,  # the track's artists, not its writers/producers
    )
    title_score = similarity(ReleaseTrack.title, "title")
    source: Any = ReleaseTrack.__table__.join(Release, Release.id == ReleaseTrack.release_id)
    where = [matches(ReleaseTrack.title, "title")]
    score: Any = title_score
    if artist_q:
        on_track = (
            select(
                ReleaseTrackArtist.release_id,
                ReleaseTrackArtist.track_sequence,
                func.max(similarity(ReleaseTrackArtist.artist_name, "artist")).label("score"),
            )
            .where(matches(ReleaseTrackArtist.artist_name, "artist"), ReleaseTrackArtist.extra == 0)
            .group_by(ReleaseTrackArtist.release_id, ReleaseTrackArtist.track_sequence)
            .subquery("on_track")
        )
        on_release = _main_artist_matches("on_release")
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
    stmt = (
        select(
            ReleaseTrack.release_id,
            Release.title.label("release_title"),
            main_artists(ReleaseTrack.release_id).label("release_artists"),
            ReleaseTrack.sequence,
            ReleaseTrack.position,
            ReleaseTrack.title,
            track_artists.label("track_artists"),
            score.label("score"),
        )
        .select_from(source)
        .where(*where)
        .order_by(score.desc(), ReleaseTrack.release_id, ReleaseTrack.sequence)
        .limit(limit)
    )
    with session(bind, threshold) as conn:
        rows = conn.execute(stmt, {"title": title_q, "artist": artist_q}).all()
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


def validate_track(
    bind: Bind, release_id: int, title: str, *, min_score: float = VALIDATE_MIN_SCORE
) -> TrackValidation | None:
    """Is a track called `title` on the release? None if the release is not cached.

    Titles are compared after `normalize.normalize_title` (case, accents, "&"/"and",
    apostrophes, edition marks); equal normal forms score 1.0, others their rapidfuzz ratio.
    """
    if not clean(title):
        raise InputError("validate needs a track title")
    with session(bind) as conn:
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
