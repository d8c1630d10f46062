"""Exact-key lookups: the normalized (artist, title) keys first, the fuzzy search on a miss.

Most requests are a near-exact artist and title. `release_key` / `track_key` (migration
0006) map the keys of `normalize.artist_key` / `normalize_title` (their SQL twins
`lookup_artist_key` / `lookup_title_key`) to releases and tracks, so such a request is a
btree probe. A hit returns the rows the contract's reference search returns for the same
input *among the key's releases* (same predicate and threshold, same score, same order):
a key hit that the trigram predicate would reject is not returned. On a miss the answer is
`search_releases` / `search_tracks`, the reference search itself. `exact` says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from discogs_cache.errors import InputError
from discogs_cache.query._sql import DEFAULT_TIMEOUT, Bind, check_limit, clean, session
from discogs_cache.query.lookups import (
    DEFAULT_LIMIT,
    release_matches,
    releases_stmt,
    track_matches,
    tracks_stmt,
)
from discogs_cache.query.results import ReleaseMatch, TrackMatch


@dataclass(frozen=True)
class ReleaseLookup:
    """`exact`: the matches came from the normalized keys (else from the fuzzy search)."""

    exact: bool
    matches: list[ReleaseMatch]


@dataclass(frozen=True)
class TrackLookup:
    exact: bool
    matches: list[TrackMatch]


def _inputs(artist: str, title: str, limit: int, what: str) -> dict[str, Any]:
    artist_q, title_q = clean(artist), clean(title)
    if not artist_q or not title_q:
        raise InputError(f"{what} needs an artist and a title")
    check_limit(limit)
    return {"artist": artist_q, "title": title_q, "limit": limit}


def lookup_release(
    bind: Bind,
    artist: str,
    title: str,
    *,
    limit: int = DEFAULT_LIMIT,
    threshold: float | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> ReleaseLookup:
    """Releases by main artist and title: exact keys first, else `search_releases`."""
    params = _inputs(artist, title, limit, "lookup_release")
    stmts = (releases_stmt(True, True, exact=True), releases_stmt(True, True))
    exact, rows = _exact_first(bind, stmts, params, threshold, timeout)
    return ReleaseLookup(exact, release_matches(rows))


def lookup_track(
    bind: Bind,
    artist: str,
    title: str,
    *,
    limit: int = DEFAULT_LIMIT,
    threshold: float | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> TrackLookup:
    """Tracks by artist (track or main artist) and title: exact keys first, else
    `search_tracks`."""
    params = _inputs(artist, title, limit, "lookup_track")
    stmts = (tracks_stmt(True, exact=True), tracks_stmt(True))
    exact, rows = _exact_first(bind, stmts, params, threshold, timeout)
    return TrackLookup(exact, track_matches(rows))


def _exact_first(
    bind: Bind,
    stmts: tuple[Any, Any],
    params: dict[str, Any],
    threshold: float | None,
    timeout: float | None,
) -> tuple[bool, list[Any]]:
    """(True, rows of the exact statement) if it has any, else (False, the fuzzy one's),
    in one transaction."""
    with session(bind, threshold, timeout) as conn:
        rows = list(conn.execute(stmts[0], params).all())
        if rows:
            return True, rows
        return False, list(conn.execute(stmts[1], params).all())
