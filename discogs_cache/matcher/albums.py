"""Library albums as keys, what the station prefers for each, and the one pairing of a
release with a library album that label preferences, owned formats and the classifier's
tie-break all use.

An album key is (artist key, normalized title) through `discogs_cache.normalize`, every
compilation credit being one artist. `pair_album` tries, in order: the release's own
(credited artist, title) key; the same title under each credited artist's other names
(`artist_alias`: aliases and name variations, joined by artist id); and else the album
the classifier matched the release to (which absorbs a typo in the catalogue's title).
The direct keys come first: when an artist has two similar titles, the classifier's
nearest one must not override an exact pairing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

from discogs_cache.formats import format_family
from discogs_cache.library.catalog import CatalogEntry
from discogs_cache.library.labels import LabelPreference
from discogs_cache.normalize import (
    artist_key,
    is_compilation_artist,
    normalize_artist,
    normalize_title,
)

AlbumKey = tuple[str, str]
COMPILATION = "\x00various"


@lru_cache(maxsize=1 << 18)
def album_artist_key(name: str) -> str:
    """The artist side of an album key: `normalize.artist_key`, except that every
    compilation credit is one artist, as in the matcher ("Various Artists" is "Various")."""
    return COMPILATION if is_compilation_artist(name) else artist_key(name)


def album_key(artist: str, title: str) -> AlbumKey:
    return album_artist_key(artist), normalize_title(title)


@lru_cache(maxsize=1 << 16)
def label_key(name: str) -> str:
    """Case-, accent- and " (n)"-insensitive form of a label name."""
    return normalize_artist(name)


class AlbumPrefs(NamedTuple):
    """What the station prefers for one album: label keys (with their parents and
    children) and owned format families (`formats.format_family`)."""

    labels: frozenset[str] = frozenset()
    formats: frozenset[str] = frozenset()


Preferences = Mapping[AlbumKey, AlbumPrefs]


def owned_formats(library: Iterable[CatalogEntry]) -> dict[AlbumKey, frozenset[str]]:
    """Album key -> the format families the station owns it in (under its artist and its
    alternate artist name); albums in no mapped format are left out."""
    found: dict[AlbumKey, set[str]] = defaultdict(set)
    for entry in library:
        family = format_family(entry.format)
        for artist in (entry.artist, entry.alternate_artist_name):
            if family is not None and artist and artist.strip():
                key = album_key(artist, entry.title)
                if key[0] and key[1]:
                    found[key].add(family)
    return {k: frozenset(v) for k, v in found.items()}


def album_preferences(
    formats: Mapping[AlbumKey, Iterable[str]] | None = None,
    labels: Iterable[LabelPreference] = (),
    related: Callable[[str], Iterable[str]] | None = None,
) -> dict[AlbumKey, AlbumPrefs]:
    """Album key -> preferences: owned formats (`owned_formats`) and label preferences;
    `related(label key)` names the labels that also satisfy one (dedup's hierarchy)."""
    found: dict[AlbumKey, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for key, families in (formats or {}).items():
        found[key][1].update(families)
    for pref in labels:
        key, label = album_key(pref.artist_name, pref.release_title), label_key(pref.label_name)
        if key[0] and key[1] and label:
            found[key][0].update({label, *(related(label) if related else ())})
    return {k: AlbumPrefs(frozenset(ls), frozenset(fs)) for k, (ls, fs) in found.items()}


def pair_album(
    title: str,
    credits: Sequence[tuple[str, int | None]],
    known: Container[AlbumKey],
    aliases: Mapping[int, Iterable[str]] | None = None,
    matched: AlbumKey | None = None,
) -> AlbumKey | None:
    """The library album (one of `known`) a release is a pressing of, or None: its credited
    artist's key, then its credited artists' other names, then the classifier's match."""
    ntitle = normalize_title(title)
    for name, _ in credits:
        key = (album_artist_key(name), ntitle)
        if key in known:
            return key
    if aliases:
        for _, artist_id in credits:
            for alias in aliases.get(artist_id, ()) if artist_id else ():
                key = (album_artist_key(alias), ntitle)
                if key in known:
                    return key
    return matched if matched is not None and matched in known else None
