"""The consumer write path: store a release fetched from the Discogs API in the cache.

Services that miss the cache ask the API, then write the answer back so the next lookup is
local (SPEC "Consumers"): upsert `release` ON CONFLICT (id), add `release_artist` rows ON
CONFLICT (release_id, artist_name) DO NOTHING, replace the tracklist (tracks and their
artists), upsert `cache_metadata` with source `api_fetch`. All in one transaction, so a
failure leaves the previous state, and running it twice leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert

from discogs_cache.errors import InputError
from discogs_cache.schema import (
    NAME_MAX,
    CacheMetadata,
    Release,
    ReleaseArtist,
    ReleaseTrack,
    ReleaseTrackArtist,
)

API_FETCH = "api_fetch"


@dataclass(frozen=True)
class Credit:
    """An artist credit on a release: main (extra=False) or from extraartists."""

    name: str
    artist_id: int | None = None
    extra: bool = False


@dataclass(frozen=True)
class NewTrack:
    sequence: int
    title: str
    position: str | None = None
    duration: str | None = None
    artists: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewRelease:
    """A release to write; build it yourself or with `release_from_api(payload)`."""

    id: int
    title: str
    artists: tuple[Credit, ...] = ()
    tracks: tuple[NewTrack, ...] = ()
    release_year: int | None = None
    country: str | None = None
    artwork_url: str | None = None
    master_id: int | None = None


@dataclass(frozen=True)
class StoreSummary:
    release_id: int
    created: bool
    """False when the release was already cached (it was updated)."""
    artists_added: int
    tracks: int
    truncated_names: list[str] = field(default_factory=list)


def _name(value: str, truncated: list[str]) -> str:
    """Names in unique keys are varchar(500) (see schema); cut longer ones, and say so."""
    value = value.strip()
    if len(value) > NAME_MAX:
        truncated.append(value[:40] + "...")
        return value[:NAME_MAX]
    return value


def _check(release: NewRelease) -> None:
    where = f"release {release.id}"
    if release.id < 1:
        raise InputError(f"release id must be positive, got {release.id}")
    if not release.title.strip():
        raise InputError(f"{where}: empty title")
    if release.release_year is not None and not 0 < release.release_year < 10000:
        raise InputError(f"{where}: bad release year {release.release_year}")
    sequences = [t.sequence for t in release.tracks]
    if any(s < 1 for s in sequences) or len(set(sequences)) != len(sequences):
        raise InputError(f"{where}: track sequences must be unique and positive")
    for track in release.tracks:
        if not track.title.strip():
            raise InputError(f"{where}: track {track.sequence} has an empty title")
    if any(not c.name.strip() for c in release.artists):
        raise InputError(f"{where}: empty artist name")


@contextmanager
def _transaction(bind: sa.Engine | sa.Connection) -> Iterator[sa.Connection]:
    if isinstance(bind, sa.Engine):
        with bind.begin() as conn:
            yield conn
    elif bind.in_transaction():
        with bind.begin_nested():  # a savepoint: all-or-nothing inside the caller's work
            yield bind
    else:
        with bind.begin():
            yield bind


def store_release(bind: sa.Engine | sa.Connection, release: NewRelease) -> StoreSummary:
    """Write an API-fetched release (idempotent, one transaction); returns what changed."""
    _check(release)
    truncated: list[str] = []
    credits: dict[str, Credit] = {}
    for credit in sorted(release.artists, key=lambda c: c.extra):  # main credits win
        credits.setdefault(_name(credit.name, truncated), credit)
    values = {
        "id": release.id,
        "title": release.title.strip(),
        "release_year": release.release_year,
        "country": release.country or None,
        "artwork_url": release.artwork_url or None,
        "master_id": release.master_id or None,
    }
    with _transaction(bind) as conn:
        new = insert(Release).values(values)
        upsert: Any = new.on_conflict_do_update(
            index_elements=[Release.id],
            set_={k: new.excluded[k] for k in values if k != "id"},
        ).returning(sa.literal_column("xmax = 0").label("created"))  # true: a new row
        created = bool(conn.execute(upsert).scalar_one())
        added = 0
        if credits:
            rows = [
                {
                    "release_id": release.id,
                    "artist_name": name,
                    "artist_id": c.artist_id or None,
                    "extra": int(c.extra),
                }
                for name, c in credits.items()
            ]
            stmt = insert(ReleaseArtist).on_conflict_do_nothing(
                index_elements=[ReleaseArtist.release_id, ReleaseArtist.artist_name]
            )
            added = len(conn.execute(stmt.returning(ReleaseArtist.artist_name), rows).all())
        _replace_tracks(conn, release, truncated)
        meta = insert(CacheMetadata).values(release_id=release.id, source=API_FETCH)
        conn.execute(
            meta.on_conflict_do_update(
                index_elements=[CacheMetadata.release_id],
                set_={"source": API_FETCH, "cached_at": func.now()},
            )
        )
    return StoreSummary(release.id, created, added, len(release.tracks), truncated)


def _replace_tracks(conn: sa.Connection, release: NewRelease, truncated: list[str]) -> None:
    conn.execute(delete(ReleaseTrackArtist).where(ReleaseTrackArtist.release_id == release.id))
    conn.execute(delete(ReleaseTrack).where(ReleaseTrack.release_id == release.id))
    if not release.tracks:
        return
    conn.execute(
        insert(ReleaseTrack),
        [
            {
                "release_id": release.id,
                "sequence": t.sequence,
                "position": t.position or None,
                "title": t.title.strip(),
                "duration": t.duration or None,
            }
            for t in release.tracks
        ],
    )
    pairs = {
        (t.sequence, _name(name, truncated))
        for t in release.tracks
        for name in t.artists
        if name.strip()
    }
    if pairs:
        conn.execute(
            insert(ReleaseTrackArtist),
            [
                {"release_id": release.id, "track_sequence": s, "artist_name": n}
                for s, n in sorted(pairs)
            ],
        )


# -- Discogs API JSON ---------------------------------------------------------------------


def release_from_api(payload: Mapping[str, Any]) -> NewRelease:
    """A NewRelease from a Discogs API `/releases/{id}` response.

    Same shape as the bulk load: main artists (extra=0) and extraartists (extra=1), tracks
    numbered 1.. in document order with sub-tracks after their index track, artwork = the
    primary image (else the first), year 0 = unknown.
    """
    try:
        release_id = int(payload["id"])
        title = str(payload["title"])
    except (KeyError, TypeError, ValueError):
        raise InputError("Discogs API release without a usable id and title") from None
    credits = [Credit(a["name"], a.get("id") or None) for a in _artists(payload.get("artists"))]
    credits += [
        Credit(a["name"], a.get("id") or None, extra=True)
        for a in _artists(payload.get("extraartists"))
    ]
    tracks: list[NewTrack] = []
    for entry in _flatten(payload.get("tracklist") or ()):
        tracks.append(
            NewTrack(
                sequence=len(tracks) + 1,
                title=str(entry.get("title") or "").strip() or "(untitled)",
                position=entry.get("position") or None,
                duration=entry.get("duration") or None,
                artists=tuple(a["name"] for a in _artists(entry.get("artists"))),
            )
        )
    images = [i for i in payload.get("images") or () if i.get("uri")]
    primary = [i for i in images if i.get("type") == "primary"]
    year = payload.get("year")
    return NewRelease(
        id=release_id,
        title=title,
        artists=tuple(credits),
        tracks=tuple(tracks),
        release_year=int(year) if isinstance(year, int) and 0 < year < 10000 else None,
        country=payload.get("country") or None,
        artwork_url=(primary or images or [{}])[0].get("uri"),
        master_id=payload.get("master_id") or None,
    )


def _artists(entries: Sequence[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    return [a for a in entries or () if str(a.get("name") or "").strip()]


def _flatten(entries: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for entry in entries:
        yield entry
        yield from _flatten(entry.get("sub_tracks") or ())


async def astore_release(engine: Any, release: NewRelease) -> StoreSummary:
    """`store_release` on an AsyncEngine (see `query.async_engine`)."""
    async with engine.begin() as conn:
        result: StoreSummary = await conn.run_sync(store_release, release)
        return result
