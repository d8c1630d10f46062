"""The library-artist filter: which releases a station owns artists of.

A release is kept when one of its main credits (extra=0) matches:
- by name: `artist_key(credit name)` is a library artist's key;
- by id: the credited artist id is in `matched_ids`, the ids whose own name, name
  variations or aliases (artists.xml) normalize to a library artist. Matching by id, never by
  alias *name*, is what keeps "P. Diddy" (id X, alias of "Puff Daddy") in while another artist
  merely *named* like one of X's aliases stays out;
- as a compilation: the credit is "Various"-like and the library lists compilation entries
  (those are matched by title later, in verify).

With `albums` (the album filter, `convert.albums`) a release that passes is then classified
against the catalogue in the worker, and only KEEP and REVIEW releases are written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from discogs_cache.errors import InputError
from discogs_cache.normalize import artist_key, is_compilation_artist

if TYPE_CHECKING:
    from discogs_cache.convert.albums import AlbumFilter


class IdSet:
    """A growable bitmap of non-negative ids: 2 MB covers 16M artist ids, a set would be 100+."""

    def __init__(self, data: bytes | bytearray = b"") -> None:
        self.bits = bytearray(data)

    def add(self, value: int) -> None:
        index = value >> 3
        if index >= len(self.bits):
            self.bits.extend(bytes(max(index + 1 - len(self.bits), len(self.bits) // 2)))
        self.bits[index] |= 1 << (value & 7)

    def update(self, values: Iterable[int]) -> None:
        for value in values:
            self.add(value)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int) or value < 0:
            return False
        index = value >> 3
        return index < len(self.bits) and bool(self.bits[index] & (1 << (value & 7)))

    def __len__(self) -> int:
        return sum(bin(byte).count("1") for byte in self.bits)


@dataclass
class LibraryFilter:
    """Normalized library artists plus the artist ids matched through artists.xml."""

    names: frozenset[str]
    compilations: bool
    matched_ids: IdSet = field(default_factory=IdSet)
    albums: AlbumFilter | None = None
    """With the catalogue: releases that pass are classified, only KEEP/REVIEW are kept."""

    @classmethod
    def from_names(cls, names: Iterable[str]) -> LibraryFilter:
        raw = [name for name in names if name.strip()]
        normalized = frozenset(n for n in (artist_key(name) for name in raw) if n)
        return cls(normalized, any(is_compilation_artist(name) for name in raw))

    _decisions: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)

    def name_matches(self, name: str) -> bool:
        return artist_key(name) in self.names

    def _name_keeps(self, name: str) -> bool:
        """By name or as a compilation; memoized because dumps repeat credit names a lot."""
        decision = self._decisions.get(name)
        if decision is None:
            decision = artist_key(name) in self.names or (
                self.compilations and is_compilation_artist(name)
            )
            if len(self._decisions) > 1 << 16:  # bounded: ~10 MB per worker
                self._decisions.clear()
            self._decisions[name] = decision
        return decision

    def keeps(self, credits: Iterable[tuple[int | None, str]]) -> bool:
        """The filter decision for a release's main credits (id None when unlinked)."""
        for artist_id, name in credits:
            if artist_id and artist_id in self.matched_ids:
                return True
            if self._name_keeps(name):
                return True
        return False


def read_library_artists(path: Path) -> list[str]:
    """One artist per line, UTF-8; blank lines and lines starting with '#' are ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: library artists file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read library artists file ({exc})") from exc
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]
