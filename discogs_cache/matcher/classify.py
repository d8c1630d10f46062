"""Classify releases as KEEP / REVIEW / PRUNE against the library index (SPEC step 7).

Work is shared, not repeated: every distinct credit is resolved to library artists once
(exact key, its Discogs aliases by artist id, or one fuzzy search over the artist keys), and
every distinct (library artist, title) pair is scored once, so pressings of one album cost
a dictionary lookup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from rapidfuzz import fuzz, process

from discogs_cache.matcher.library_index import LibraryAlbum, LibraryIndex
from discogs_cache.matcher.mappings import ArtistMappings
from discogs_cache.matcher.rules import (
    ARTIST_FUZZY_SCORE,
    COMPILATION_SCORE,
    SOUNDTRACK_SCORE,
    Decision,
    artist_score,
    best_title_score,
    decide,
    title_forms,
)
from discogs_cache.normalize import artist_key, is_compilation_artist


@dataclass(frozen=True)
class Credit:
    """A main-artist credit (release_artist with extra=0)."""

    name: str
    artist_id: int | None = None


@dataclass(frozen=True)
class ReleaseRecord:
    id: int
    title: str
    credits: tuple[Credit, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """Why a release got its decision: the deciding credit and its best library match."""

    release_id: int
    decision: Decision
    score: float
    credit: str | None = None
    match_artist: str | None = None
    match_title: str | None = None
    reason: str = ""


@dataclass
class Classification:
    """Per-release verdicts; the id sets are what prune, copy-to and dedup consume."""

    verdicts: list[Verdict] = field(default_factory=list)

    def _ids(self, decision: Decision) -> frozenset[int]:
        return frozenset(v.release_id for v in self.verdicts if v.decision == decision)

    @cached_property
    def keep_ids(self) -> frozenset[int]:
        return self._ids(Decision.KEEP)

    @cached_property
    def review_ids(self) -> frozenset[int]:
        return self._ids(Decision.REVIEW)

    @cached_property
    def prune_ids(self) -> frozenset[int]:
        return self._ids(Decision.PRUNE)

    @property
    def retain_ids(self) -> frozenset[int]:
        """KEEP + REVIEW: what survives a prune (REVIEW is never deleted)."""
        return self.keep_ids | self.review_ids

    def counts(self) -> dict[str, int]:
        return {d.name: sum(1 for v in self.verdicts if v.decision == d) for d in Decision}


_Best = tuple[float, LibraryAlbum | None]


class Classifier:
    """Holds the memo tables of one classification run."""

    def __init__(
        self,
        index: LibraryIndex,
        aliases: Mapping[int, Iterable[str]] | None = None,
        mappings: ArtistMappings | None = None,
    ) -> None:
        self.index = index
        self.aliases = aliases or {}
        self.mappings = mappings or ArtistMappings()
        self._resolved: dict[str, list[tuple[str, float]]] = {}
        self._titles: dict[tuple[str, str], _Best] = {}
        self._comp: dict[str, _Best] = {}
        # token_sort_ratio re-sorts both strings on every call; sorting the library side once
        # and scoring with ratio gives the same scores for a fraction of the work.
        self._comp_choices = [_sorted_tokens(a.forms[0].compare) for a in index.compilations]

    def resolve(self, key: str) -> list[tuple[str, float]]:
        """Library artist keys a credit key stands for, with the artist score."""
        found = self._resolved.get(key)
        if found is not None:
            return found
        found = [(key, 100.0)] if self.index.albums_of(key) else []
        for cand in sorted(self.index.near_keys(key)):
            score = artist_score(key, cand)
            if score >= ARTIST_FUZZY_SCORE:
                found.append((cand, score))
        self._resolved[key] = found
        return found

    def title_match(self, library_key: str, title: str) -> _Best:
        memo = (library_key, title)
        best = self._titles.get(memo)
        if best is None:
            forms = title_forms(title)
            best = (0.0, None)
            for album in self.index.albums_of(library_key) or ():
                score = best_title_score(forms, album.forms)
                if score > best[0]:
                    best = (score, album)
            self._titles[memo] = best
        return best

    def compilation_match(self, title: str) -> _Best:
        best = self._comp.get(title)
        if best is None:
            forms = title_forms(title)
            best = (0.0, None)
            if forms and self._comp_choices:
                hits = {
                    i
                    for form in forms
                    for _, _, i in process.extract(
                        _sorted_tokens(form.compare), self._comp_choices, scorer=fuzz.ratio, limit=5
                    )
                }
                for i in hits:
                    album = self.index.compilations[i]
                    score = best_title_score(forms, album.forms)
                    if score > best[0]:
                        best = (score, album)
            self._comp[title] = best
        return best

    def credit_verdict(self, release: ReleaseRecord, credit: Credit) -> Verdict:
        if is_compilation_artist(credit.name):
            score, album = self.compilation_match(release.title)
            decision = decide(score, keep=COMPILATION_SCORE, review=101.0)
            return _verdict(release, decision, score, credit, album, "compilation title")
        override = self.mappings.decision_for(credit.name)
        if override is not None:
            return _verdict(release, override, 100.0, credit, None, "artist mappings")
        best = Verdict(release.id, Decision.PRUNE, 0.0, credit.name, reason="no library artist")
        keys = [artist_key(credit.name)]
        if credit.artist_id is not None:
            keys += [artist_key(alias) for alias in self.aliases.get(credit.artist_id, ())]
        resolved = 0
        for key in dict.fromkeys(k for k in keys if k):
            for library_key, a_score in self.resolve(key):
                resolved += 1
                t_score, album = self.title_match(library_key, release.title)
                combined = math.sqrt(a_score * t_score)
                decision = min(decide(t_score), decide(combined))
                reason = "artist" if key == keys[0] else "alias"
                if a_score < 100:
                    reason = f"fuzzy {reason}"
                candidate = _verdict(release, decision, combined, credit, album, reason)
                if (candidate.decision, candidate.score) > (best.decision, best.score):
                    best = candidate
        if not resolved:
            # Soundtracks are filed as "Soundtrack" but credited to a composer or band.
            score, album = self.compilation_match(release.title)
            if score >= SOUNDTRACK_SCORE:
                return _verdict(release, Decision.REVIEW, score, credit, album, "title only")
        return best

    def classify(self, release: ReleaseRecord) -> Verdict:
        """The best verdict over the release's main credits (KEEP > REVIEW > PRUNE)."""
        if not release.credits:
            score, album = self.compilation_match(release.title)
            decision = decide(score, keep=COMPILATION_SCORE, review=101.0)
            return _verdict(release, decision, score, None, album, "no credit: title only")
        verdicts = [self.credit_verdict(release, c) for c in release.credits]
        return max(verdicts, key=lambda v: (v.decision, v.score))


def _sorted_tokens(text: str) -> str:
    """The string token_sort_ratio compares: whitespace-split words, sorted, space-joined."""
    return " ".join(sorted(text.split()))


def _verdict(
    release: ReleaseRecord,
    decision: Decision,
    score: float,
    credit: Credit | None,
    album: LibraryAlbum | None,
    reason: str,
) -> Verdict:
    return Verdict(
        release.id,
        decision,
        round(score, 1),
        credit.name if credit else None,
        album.artist if album else None,
        album.title if album else None,
        reason,
    )


def classify_releases(
    index: LibraryIndex,
    releases: Iterable[ReleaseRecord],
    *,
    aliases: Mapping[int, Iterable[str]] | None = None,
    mappings: ArtistMappings | None = None,
) -> Classification:
    """Classify every release; pure function of its inputs (no database).

    One process on purpose: forking workers was measured slower (copy-on-write of the
    refcounted index and split memo caches cost more CPU than the second core gave back).
    """
    classifier = Classifier(index, aliases, mappings)
    return Classification([classifier.classify(r) for r in releases])
