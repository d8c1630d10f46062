"""The negative-lookup cache (`lookup_negative`, contract v2): "Discogs has nothing for this".

A service that asked the Discogs API in vain remembers it here for a while (`ttl_seconds`,
default a week) so the next request for the same artist/track skips the API. Rows are keyed
by `negative_key`: sha256 of the normalized artist and title (`normalize.artist_key`,
`normalize_title`) and the keyword flag, so "The Beatles"/"Beatles, The" share a row.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from discogs_cache.errors import InputError
from discogs_cache.normalize import artist_key, normalize_title
from discogs_cache.query._sql import DEFAULT_TIMEOUT, Bind, session

DEFAULT_TTL = 7 * 24 * 3600

_REMEMBER = sa.text(
    "INSERT INTO lookup_negative (key_hash, artist, track, artist_as_keyword, attempted_at,"
    " ttl_seconds) VALUES (:key, :artist, :track, :keyword, now(), :ttl)"
    " ON CONFLICT (key_hash) DO UPDATE SET attempted_at = now(),"
    " ttl_seconds = excluded.ttl_seconds, artist = excluded.artist, track = excluded.track"
)
_LIVE = "attempted_at + ttl_seconds * interval '1 second' > now()"
_KNOWN = sa.text(f"SELECT EXISTS (SELECT 1 FROM lookup_negative WHERE key_hash = :key AND {_LIVE})")
_FORGET = sa.text("DELETE FROM lookup_negative WHERE key_hash = :key")
_PURGE = sa.text(f"DELETE FROM lookup_negative WHERE NOT ({_LIVE})")


def negative_key(
    artist: str | None, track: str | None, artist_as_keyword: bool | None = None
) -> bytes:
    """The row key of a (artist, track, keyword flag) request."""
    parts = (
        artist_key(artist or ""),
        normalize_title(track) if (track or "").strip() else "",
        "" if artist_as_keyword is None else str(int(artist_as_keyword)),
    )
    if not (parts[0] or parts[1]):
        raise InputError("a negative lookup needs an artist or a track")
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def _params(artist: str | None, track: str | None, keyword: bool | None) -> dict[str, object]:
    return {"key": negative_key(artist, track, keyword)}


def remember_missing(
    bind: Bind,
    artist: str | None,
    track: str | None = None,
    *,
    artist_as_keyword: bool | None = None,
    ttl_seconds: int = DEFAULT_TTL,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> None:
    """Record that Discogs had nothing for this request, for `ttl_seconds` from now."""
    if ttl_seconds < 1:
        raise InputError(f"ttl_seconds must be positive, got {ttl_seconds}")
    params = _params(artist, track, artist_as_keyword)
    params.update(artist=artist, track=track, keyword=artist_as_keyword, ttl=ttl_seconds)
    with session(bind, timeout=timeout) as conn:
        conn.execute(_REMEMBER, params)


def is_known_missing(
    bind: Bind,
    artist: str | None,
    track: str | None = None,
    *,
    artist_as_keyword: bool | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> bool:
    """True while a remembered miss for this request has not expired."""
    return bool(_on_key(bind, _KNOWN, _params(artist, track, artist_as_keyword), timeout))


def forget_missing(
    bind: Bind,
    artist: str | None,
    track: str | None = None,
    *,
    artist_as_keyword: bool | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> bool:
    """Drop the remembered miss (the release was found after all); True if there was one."""
    return bool(_on_key(bind, _FORGET, _params(artist, track, artist_as_keyword), timeout))


def _on_key(
    bind: Bind, statement: sa.TextClause, params: dict[str, object], timeout: float | None
) -> object:
    """The statement's one value (a SELECT) or its row count (a DELETE)."""
    with session(bind, timeout=timeout) as conn:
        result = conn.execute(statement, params)
        return result.scalar() if result.returns_rows else result.rowcount


def purge_expired(bind: Bind, *, timeout: float | None = DEFAULT_TIMEOUT) -> int:
    """Delete the expired rows; returns how many."""
    with session(bind, timeout=timeout) as conn:
        return conn.execute(_PURGE).rowcount
