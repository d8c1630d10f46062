"""The cross-release rule of the classifier, as a pure post-pass over per-release records.

Per release, the classifier finds the library album a release is nearest to; at scale many
releases reach the same album (a homonym artist's identical title, a second master of the
same title), and keeping them all is where precision went. So a library album keeps only
the release groups (masters; a release without a master is its own group) at its best
score; among several at that score, the ones carrying the station's label for the album
win, then the ones in the format the station owns. A tie the catalogue cannot break keeps
every tied group (recall first). Records are small tuples and the function needs no
database, so it runs after any per-release classification (in one process or after
convert's workers).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from discogs_cache.formats import format_family
from discogs_cache.matcher.albums import AlbumKey, AlbumPrefs, Preferences
from discogs_cache.matcher.rules import Decision

LOWER_SCORE = "another master of the album scores higher"
OTHER_LABEL = "another master of the album has the station's label"
OTHER_FORMAT = "another master of the album is in the owned format"


class AlbumRecord(NamedTuple):
    """One retained release as the post-pass sees it."""

    release_id: int
    master_id: int | None
    album: AlbumKey
    """The library album the classifier matched (its verdict's match, as a key)."""
    score: float
    decision: Decision
    labels: frozenset[str] = frozenset()
    """The release's label keys (`albums.label_key`)."""
    format: str | None = None
    """The release's first format name (Discogs)."""
    paired: AlbumKey | None = None
    """`albums.pair_album` of the release: whose preferences apply to it."""


def _prefs(record: AlbumRecord, preferences: Preferences) -> AlbumPrefs | None:
    return preferences.get(record.paired) if record.paired is not None else None


def _has_label(record: AlbumRecord, preferences: Preferences) -> bool:
    prefs = _prefs(record, preferences)
    return prefs is not None and not prefs.labels.isdisjoint(record.labels)


def _has_format(record: AlbumRecord, preferences: Preferences) -> bool:
    prefs = _prefs(record, preferences)
    return prefs is not None and format_family(record.format) in prefs.formats


def settle_albums(
    records: Iterable[AlbumRecord], preferences: Preferences | None = None
) -> dict[int, str]:
    """Release id -> why it loses its album (it becomes PRUNE), for every retained release
    whose group is not among its album's winners."""
    preferences = preferences or {}
    by_album: dict[AlbumKey, dict[int, list[AlbumRecord]]] = {}
    prune = Decision.PRUNE
    for r in records:  # one pass, no per-record call: it runs over every retained release
        if r.decision == prune:
            continue
        group = r.master_id if r.master_id is not None else -r.release_id
        groups = by_album.get(r.album)
        if groups is None:
            by_album[r.album] = {group: [r]}
        elif group in groups:
            groups[group].append(r)
        else:
            groups[group] = [r]
    losers: dict[int, str] = {}
    for groups in by_album.values():
        if len(groups) < 2:
            continue
        scores = {g: max(r.score for r in rs) for g, rs in groups.items()}
        best = max(scores.values())
        verdicts = {g: LOWER_SCORE for g, s in scores.items() if s < best}
        tied = [g for g in groups if g not in verdicts]
        for rule, why in ((_has_label, OTHER_LABEL), (_has_format, OTHER_FORMAT)):
            if len(tied) < 2:
                break
            winners = [g for g in tied if any(rule(r, preferences) for r in groups[g])]
            if winners and len(winners) < len(tied):
                verdicts.update((g, why) for g in tied if g not in winners)
                tied = winners
        for g, why in verdicts.items():
            losers.update((r.release_id, why) for r in groups[g])
    return losers
