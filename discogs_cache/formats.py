"""The catalogue's format words mapped to Discogs format names: the one table of them.

The station's catalogue records what it physically owns (`library.format`: "CD", "LP",
"7\"", "Cassette", ...); Discogs names a release's first format "Vinyl", "CD",
"Cassette", ... (`release.format`). Both sides go through `format_family`, so an owned
"12\"" prefers a "Vinyl" pressing and an owned "CDr" a "CD" one. A word not in the table
expresses no preference (None), on either side.
"""

from __future__ import annotations

from functools import lru_cache

FORMAT_FAMILIES: dict[str, str] = {
    "lp": "Vinyl",
    '7"': "Vinyl",
    '10"': "Vinyl",
    '12"': "Vinyl",
    "vinyl": "Vinyl",
    "cd": "CD",
    "cdr": "CD",
    "cassette": "Cassette",
    "tape": "Cassette",
}
"""Catalogue format (lowercase) -> Discogs format name. Discogs names map to themselves."""


@lru_cache(maxsize=1024)
def format_family(name: str | None) -> str | None:
    """The Discogs format name `name` stands for (case-insensitive), None for no preference."""
    if not name:
        return None
    return FORMAT_FAMILIES.get(" ".join(name.split()).lower())
