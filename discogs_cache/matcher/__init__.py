"""The verify/prune classifier: rules (rules.py), library index, classification, mappings."""

from __future__ import annotations

from discogs_cache.matcher.classify import (
    Classification,
    Classifier,
    Credit,
    ReleaseRecord,
    Verdict,
)
from discogs_cache.matcher.library_index import LibraryIndex, build_index
from discogs_cache.matcher.mappings import ArtistMappings, load_mappings, write_template
from discogs_cache.matcher.rules import Decision
from discogs_cache.matcher.run import classify_releases, classify_rows

__all__ = [
    "ArtistMappings",
    "Classification",
    "Classifier",
    "Credit",
    "Decision",
    "LibraryIndex",
    "ReleaseRecord",
    "Verdict",
    "build_index",
    "classify_releases",
    "classify_rows",
    "load_mappings",
    "write_template",
]
