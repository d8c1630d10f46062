"""What the consumer API returns: frozen dataclasses (`dataclasses.asdict` gives JSON)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Track:
    """One row of a tracklist; `artists` are track-level credits (compilations), often empty;
    `writers` the track's extra credits with a writing role (written/composed/lyrics/music by)."""

    sequence: int
    position: str | None
    title: str
    duration: str | None
    artists: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleaseDetail:
    """A release with its main artists (extra=0) and its tracks in sequence order."""

    id: int
    title: str
    artists: tuple[str, ...]
    release_year: int | None
    country: str | None
    artwork_url: str | None
    master_id: int | None
    tracks: tuple[Track, ...]
    genres: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleaseMatch:
    """A search hit; `score` is the mean trigram similarity of the searched fields (0..1)."""

    release_id: int
    title: str
    artists: tuple[str, ...]
    release_year: int | None
    artwork_url: str | None
    score: float


@dataclass(frozen=True)
class TrackMatch:
    """A track search hit with enough of its release to show "which album has this song"."""

    release_id: int
    release_title: str
    release_artists: tuple[str, ...]
    sequence: int
    position: str | None
    title: str
    track_artists: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class TrackValidation:
    """Whether `query` is a track of the release; `track` is the closest one (even if no)."""

    release_id: int
    query: str
    matched: bool
    score: float
    track: Track | None
