"""Classifying many releases: every release alone (`classify.Classifier`), then the
albums settled (`settle.settle_albums`), both pure functions of their inputs.

`classify_rows` is the per-release step over the cache's rows (the caller settles, with
what it reads for the retained releases: see `verify.classify_cache`); `classify_releases`
does both for `ReleaseRecord`s that carry their master, format and labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from discogs_cache.matcher.albums import AlbumKey, Preferences, album_key, label_key, pair_album
from discogs_cache.matcher.classify import (
    Classification,
    Classifier,
    ReleaseRecord,
    ReleaseRow,
    Verdict,
)
from discogs_cache.matcher.gcpause import paused_gc
from discogs_cache.matcher.library_index import LibraryIndex
from discogs_cache.matcher.mappings import ArtistMappings
from discogs_cache.matcher.rules import Decision
from discogs_cache.matcher.settle import AlbumRecord, settle_albums


def matched_album(verdict: Verdict) -> AlbumKey | None:
    """The album key of the library album a verdict matched, if any."""
    if verdict.match_artist is None or verdict.match_title is None:
        return None
    return album_key(verdict.match_artist, verdict.match_title)


def matched_albums(classification: Classification) -> dict[int, AlbumKey]:
    """Release id -> key of the library album it was retained for (dedup's pairing fallback)."""
    found = {}
    for v in classification.verdicts:
        album = matched_album(v) if v.decision != Decision.PRUNE else None
        if album is not None:
            found[v.release_id] = album
    return found


def album_records(
    releases: Iterable[ReleaseRecord],
    verdicts: Mapping[int, Verdict],
    preferences: Preferences,
    aliases: Mapping[int, Iterable[str]] | None = None,
) -> list[AlbumRecord]:
    """`settle.AlbumRecord`s of the releases whose verdict retains them for an album that
    `settle_albums` could change: one several releases reached at different scores, or (with
    `preferences`, which the pairing and labels are only computed for) at all."""
    contested = contested_albums(verdicts.values(), bool(preferences))
    keys: dict[tuple[str, str], AlbumKey] = {}  # the few matched albums, keyed once each
    records: list[AlbumRecord] = []
    append = records.append
    none: frozenset[str] = frozenset()
    for release in releases:
        v = verdicts.get(release.id)
        if v is None or v.decision == Decision.PRUNE or v.match_artist is None:
            continue
        shown = (v.match_artist, v.match_title or "")
        if shown not in contested:
            continue
        album = keys.get(shown)
        if album is None:
            album = keys[shown] = album_key(*shown)
        paired, labels = None, none
        if preferences:
            paired = pair_album(release.title, release.credits, preferences, aliases, album)
            labels = frozenset(label_key(name) for name in release.labels)
        append(
            AlbumRecord(
                release.id, release.master_id, album, v.score, v.decision, labels,
                release.format, paired,
            )
        )  # fmt: skip
    return records


def contested_albums(verdicts: Iterable[Verdict], ties_matter: bool) -> set[tuple[str, str]]:
    """(match artist, match title) of the albums several retained releases reached, at
    different scores unless `ties_matter` (then a tie can be broken by a preference)."""
    seen: dict[tuple[str, str], float] = {}
    found: set[tuple[str, str]] = set()
    prune = Decision.PRUNE
    for v in verdicts:
        if v.decision == prune or v.match_artist is None:
            continue
        shown = (v.match_artist, v.match_title or "")
        first = seen.get(shown)
        if first is None:
            seen[shown] = v.score
        elif ties_matter or first != v.score:
            found.add(shown)
    return found


def classify_releases(
    index: LibraryIndex,
    releases: Iterable[ReleaseRecord],
    *,
    aliases: Mapping[int, Iterable[str]] | None = None,
    mappings: ArtistMappings | None = None,
    preferences: Preferences | None = None,
) -> Classification:
    """Classify every release, then settle each album's masters (`settle.settle_albums`,
    with the station's label and format `preferences`); pure function of its inputs.

    One process on purpose: forking workers was measured slower (copy-on-write of the
    refcounted index and split memo caches cost more CPU than the second core gave back).
    """
    releases = list(releases)
    with paused_gc():  # the memo tables are dropped inside: see gcpause
        classifier = Classifier(index, aliases, mappings)
        verdicts = [classifier.classify(r) for r in releases]
        del classifier
    by_id = {v.release_id: v for v in verdicts if v.match_artist is not None}
    records = album_records(releases, by_id, preferences or {}, aliases)
    return Classification(verdicts).demoted(settle_albums(records, preferences))


def classify_rows(
    index: LibraryIndex,
    rows: Iterable[ReleaseRow],
    *,
    aliases: Mapping[int, Iterable[str]] | None = None,
    mappings: ArtistMappings | None = None,
) -> Classification:
    """`classify_releases` for (release id, title, artist name, artist id) rows, as the
    cache's query returns them, so no ReleaseRecord is built per release."""
    with paused_gc():
        return Classification(Classifier(index, aliases, mappings).classify_rows(rows))
