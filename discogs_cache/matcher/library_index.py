"""The station catalog indexed for classification: by artist key, plus compilation titles.

Indexing by normalized artist makes a known artist's release cost a comparison with that
artist's few titles, not with the whole library; only credits that are not a library artist
go through one vectorized fuzzy search over the artist keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from discogs_cache.library.catalog import CatalogEntry
from discogs_cache.matcher.albums import owned_formats
from discogs_cache.matcher.gcpause import paused_gc
from discogs_cache.matcher.rules import Text, title_forms
from discogs_cache.normalize import artist_key, is_compilation_artist

_SPLIT = re.compile(r"\s*(?:&|\band\b|/|;|\bwith\b|\bfeat\.?|\bfeaturing\b)\s*", re.I)


class LibraryAlbum(NamedTuple):
    artist: str
    title: str
    forms: tuple[Text, ...]


@dataclass
class LibraryIndex:
    """Library albums by artist key; `components` holds members of "A & B" entries."""

    by_artist: dict[str, list[LibraryAlbum]] = field(default_factory=dict)
    components: dict[str, list[LibraryAlbum]] = field(default_factory=dict)
    compilations: list[LibraryAlbum] = field(default_factory=list)
    display: dict[str, str] = field(default_factory=dict)
    near: dict[str, str] = field(default_factory=dict)
    """Deletion variant / sorted-word form -> a library artist key (the fuzzy artist index);
    a plain string because few variants are shared: the other keys of a shared one are in
    `near_more`. 300k one-element sets cost more to build than the rest of the index."""
    near_more: dict[str, list[str]] = field(default_factory=dict)
    neighbors: dict[str, set[str]] = field(default_factory=dict)
    """Library artist key -> the other library keys it shares a fuzzy variant with."""
    albums: int = 0
    owned_formats: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    """Album key -> the format families the station owns it in (`albums.owned_formats`):
    the classifier's and dedup's format preference, kept with the index so that a caller
    holding only the index has it."""

    @property
    def artist_keys(self) -> list[str]:
        return list(self.by_artist)

    def albums_of(self, key: str) -> list[LibraryAlbum] | None:
        return self.by_artist.get(key) or self.components.get(key)

    def near_keys(self, key: str) -> set[str]:
        """Library artist keys one edit (or a word order) away from `key`: candidates only,
        the caller scores them. A symmetric-deletion index finds substitutions, insertions,
        deletions and transpositions with a few hash lookups instead of a scan of 8k names.
        A library key's own candidates were found when it was indexed (`neighbors`)."""
        if key in self.by_artist:
            return set(self.neighbors.get(key, ()))
        found: set[str] = set()
        near, more = self.near, self.near_more
        for variant in near.keys() & fuzzy_variants(key):  # one C-level pass, usually empty
            found.add(near[variant])
            if variant in more:
                found.update(more[variant])
        found.discard(key)
        return found

    def add_near(self, key: str) -> None:
        """Index library artist `key` (of `by_artist`, each once) under its fuzzy variants."""
        for variant in fuzzy_variants(key):
            first = self.near.setdefault(variant, key)
            if first != key:
                more = self.near_more.setdefault(variant, [])
                for other in (first, *more):
                    self.neighbors.setdefault(key, set()).add(other)
                    self.neighbors.setdefault(other, set()).add(key)
                more.append(key)


MIN_FUZZY_LEN = 5
"""Shorter names are compared exactly: one edit in "Low" or "Can" is another artist."""


def fuzzy_variants(key: str) -> set[str]:
    """`key` with each one character deleted, plus its words sorted ("cave nick")."""
    variants = {" ".join(sorted(key.split()))}
    if len(key) >= MIN_FUZZY_LEN:
        variants.add(key)
        variants.update([key[:i] + key[i + 1 :] for i in range(len(key))])
    return variants


def build_index(entries: Iterable[CatalogEntry]) -> LibraryIndex:
    """Index catalog rows; alternate artist names point at the same albums."""
    with paused_gc():
        return _build_index(entries)


def _build_index(entries: Iterable[CatalogEntry]) -> LibraryIndex:
    entries = list(entries)
    index = LibraryIndex(owned_formats=owned_formats(entries))
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        if not (entry.artist or "").strip() or not (entry.title or "").strip():
            continue
        forms = title_forms(entry.title)
        if not forms:
            continue
        album = LibraryAlbum(entry.artist, entry.title, forms)
        if is_compilation_artist(entry.artist):
            if ("", forms[0].compare) not in seen:
                seen.add(("", forms[0].compare))
                index.compilations.append(album)
                index.albums += 1
            continue
        names = [entry.artist]
        if entry.alternate_artist_name and entry.alternate_artist_name.strip():
            names.append(entry.alternate_artist_name)
        counted = False
        for name in names:
            key = artist_key(name)
            if not key or (key, forms[0].compare) in seen:
                continue
            seen.add((key, forms[0].compare))
            index.by_artist.setdefault(key, []).append(album)
            index.display.setdefault(key, name)
            if not counted:
                index.albums += 1
                counted = True
            for part in _SPLIT.split(name):
                part_key = artist_key(part)
                if part_key and part_key != key and len(part_key) > 2:
                    index.components.setdefault(part_key, []).append(album)
    for key in index.by_artist:
        index.add_near(key)
    return index
