"""The consumer API: look releases, tracks and artwork up in the cache.

Every function takes an `Engine` (a short transaction per call) or a `Connection` (joins
the caller's transaction) and returns frozen dataclasses, so services never touch raw rows.
Text searches use `lower(f_unaccent(col)) % lower(f_unaccent(:q))`, the exact expression
the trigram GIN indexes are built on, so they stay index scans on a full cache; results
are ranked by pg_trgm `similarity()`. `threshold` sets pg_trgm.similarity_threshold for
that call only (SET LOCAL semantics); None keeps the server's (default 0.3).

Async services: the `a*` variants take an `AsyncEngine` (`async_engine(url)`) and run the
same code through SQLAlchemy's `run_sync`, so both flavours return identical results.
Every call runs under a statement timeout (`timeout` seconds, default 2; None: the
server's) and raises `LookupTimeout` when the server cancels it. `lookup_release` /
`lookup_track` answer from the normalized exact keys first (`exact`). Other database errors
are SQLAlchemy's; bad arguments raise `InputError`.

This is the one package a consumer imports: the write-back path (`store_release`,
`release_from_api`, from `discogs_cache.writeback`) and the Discogs request budget shared
through PostgreSQL (`RateLimiter`, from `discogs_cache.ratelimit`) are named here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from discogs_cache.db import sqlalchemy_url
from discogs_cache.query._sql import DEFAULT_TIMEOUT, Bind, LookupTimeout
from discogs_cache.query.artists import (
    ArtistMatch,
    complete_artists,
    complete_titles,
    search_artists,
)
from discogs_cache.query.exact import ReleaseLookup, TrackLookup, lookup_release, lookup_track
from discogs_cache.query.lookups import (
    DEFAULT_LIMIT,
    VALIDATE_MIN_SCORE,
    artwork_url,
    get_release,
    search_releases,
    search_tracks,
    validate_track,
)
from discogs_cache.query.negative import (
    forget_missing,
    is_known_missing,
    negative_key,
    purge_expired,
    remember_missing,
)
from discogs_cache.query.results import (
    ReleaseDetail,
    ReleaseMatch,
    Track,
    TrackMatch,
    TrackValidation,
)
from discogs_cache.ratelimit import RateLimiter
from discogs_cache.writeback import (
    Credit,
    NewRelease,
    NewTrack,
    StoreSummary,
    release_from_api,
    store_release,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


def async_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine on psycopg 3's async driver for the `a*` variants."""
    from sqlalchemy.ext.asyncio import create_async_engine

    return create_async_engine(sqlalchemy_url(url), **kwargs)


async def _run(engine: AsyncEngine, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    async with engine.connect() as conn:
        return await conn.run_sync(fn, *args, **kwargs)


async def aget_release(engine: AsyncEngine, *args: Any, **kwargs: Any) -> ReleaseDetail | None:
    return await _run(engine, get_release, *args, **kwargs)


async def asearch_releases(engine: AsyncEngine, *args: Any, **kwargs: Any) -> list[ReleaseMatch]:
    return await _run(engine, search_releases, *args, **kwargs)


async def asearch_tracks(engine: AsyncEngine, *args: Any, **kwargs: Any) -> list[TrackMatch]:
    return await _run(engine, search_tracks, *args, **kwargs)


async def avalidate_track(engine: AsyncEngine, *args: Any, **kwargs: Any) -> TrackValidation | None:
    return await _run(engine, validate_track, *args, **kwargs)


async def alookup_release(engine: AsyncEngine, *args: Any, **kwargs: Any) -> ReleaseLookup:
    return await _run(engine, lookup_release, *args, **kwargs)


async def alookup_track(engine: AsyncEngine, *args: Any, **kwargs: Any) -> TrackLookup:
    return await _run(engine, lookup_track, *args, **kwargs)


async def asearch_artists(engine: AsyncEngine, *args: Any, **kwargs: Any) -> list[ArtistMatch]:
    return await _run(engine, search_artists, *args, **kwargs)


async def acomplete_artists(engine: AsyncEngine, *args: Any, **kwargs: Any) -> list[str]:
    return await _run(engine, complete_artists, *args, **kwargs)


async def acomplete_titles(engine: AsyncEngine, *args: Any, **kwargs: Any) -> list[str]:
    return await _run(engine, complete_titles, *args, **kwargs)


async def aremember_missing(engine: AsyncEngine, *args: Any, **kwargs: Any) -> None:
    await _run(engine, remember_missing, *args, **kwargs)


async def ais_known_missing(engine: AsyncEngine, *args: Any, **kwargs: Any) -> bool:
    return await _run(engine, is_known_missing, *args, **kwargs)


async def aforget_missing(engine: AsyncEngine, *args: Any, **kwargs: Any) -> bool:
    return await _run(engine, forget_missing, *args, **kwargs)


async def aartwork_url(engine: AsyncEngine, *args: Any, **kwargs: Any) -> str | None:
    return await _run(engine, artwork_url, *args, **kwargs)


__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_TIMEOUT",
    "VALIDATE_MIN_SCORE",
    "ArtistMatch",
    "Bind",
    "Credit",
    "LookupTimeout",
    "NewRelease",
    "NewTrack",
    "RateLimiter",
    "ReleaseDetail",
    "ReleaseLookup",
    "ReleaseMatch",
    "StoreSummary",
    "Track",
    "TrackLookup",
    "TrackMatch",
    "TrackValidation",
    "aartwork_url",
    "acomplete_artists",
    "acomplete_titles",
    "aforget_missing",
    "aget_release",
    "ais_known_missing",
    "alookup_release",
    "alookup_track",
    "aremember_missing",
    "artwork_url",
    "asearch_artists",
    "asearch_releases",
    "asearch_tracks",
    "async_engine",
    "avalidate_track",
    "complete_artists",
    "complete_titles",
    "forget_missing",
    "get_release",
    "is_known_missing",
    "lookup_release",
    "lookup_track",
    "negative_key",
    "purge_expired",
    "release_from_api",
    "remember_missing",
    "search_artists",
    "search_releases",
    "search_tracks",
    "store_release",
    "validate_track",
]
