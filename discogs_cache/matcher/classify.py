"""Classify releases as KEEP / REVIEW / PRUNE against the library index (SPEC step 7).

Work is shared, not repeated: every distinct credit is resolved to library artists once
(exact key, its Discogs aliases by artist id, or one fuzzy search over the artist keys),
every distinct title is normalized once, every distinct (library artist, normalized title)
pair is scored once, and every distinct (title, credits) release gets its verdict once, so
the other pressings of an album cost a dictionary lookup and a tuple.

Two steps, so that the per-release one can run anywhere (one process, or convert's
workers): `Classifier.classify` / `classify_rows` decide each release alone (pure, picklable
inputs: the library index, aliases, mappings); `settle.settle_albums` then applies the one
cross-release rule (an album keeps only its best masters) over compact records.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from discogs_cache.matcher.compilations import Best, Compilations, soundtrack_evidence
from discogs_cache.matcher.library_index import LibraryAlbum, LibraryIndex
from discogs_cache.matcher.mappings import ArtistMappings
from discogs_cache.matcher.rules import (
    ARTIST_FUZZY_SCORE,
    COMPILATION_SCORE,
    SOUNDTRACK_SCORE,
    Decision,
    Text,
    artist_score,
    best_title_score,
    decide,
    title_forms,
)
from discogs_cache.normalize import artist_key, is_compilation_artist


class Credit(NamedTuple):
    """A main-artist credit (release_artist with extra=0); a tuple, so that a release's
    credits are a cheap dictionary key."""

    name: str
    artist_id: int | None = None


@dataclass(frozen=True)
class ReleaseRecord:
    id: int
    title: str
    credits: tuple[Credit, ...] = ()
    master_id: int | None = None
    format: str | None = None
    labels: tuple[str, ...] = ()


class Verdict(NamedTuple):
    """Why a release got its decision: the deciding credit and its best library match.
    A tuple: one is built per release."""

    release_id: int
    decision: Decision
    score: float
    credit: str | None = None
    match_artist: str | None = None
    match_title: str | None = None
    reason: str = ""


Outcome = tuple[Decision, float, str | None, str | None, str | None, str]
"""A verdict without its release id: what every release with that title and credits gets."""

ReleaseRow = tuple[int, str, str | None, int | None]
"""(release id, title, main artist name or None, artist id or None), one per credit."""


@dataclass
class Classification:
    """Per-release verdicts; the id sets are what prune, copy-to and dedup consume."""

    verdicts: list[Verdict] = field(default_factory=list)

    @cached_property
    def _by_decision(self) -> dict[Decision, list[int]]:
        groups: dict[Decision, list[int]] = {d: [] for d in Decision}
        for v in self.verdicts:
            groups[v.decision].append(v.release_id)
        return groups

    @cached_property
    def keep_ids(self) -> frozenset[int]:
        return frozenset(self._by_decision[Decision.KEEP])

    @cached_property
    def review_ids(self) -> frozenset[int]:
        return frozenset(self._by_decision[Decision.REVIEW])

    @cached_property
    def prune_ids(self) -> frozenset[int]:
        return frozenset(self._by_decision[Decision.PRUNE])

    @property
    def retain_ids(self) -> frozenset[int]:
        """KEEP + REVIEW: what survives a prune (REVIEW is never deleted)."""
        return self.keep_ids | self.review_ids

    def counts(self) -> dict[str, int]:
        return {d.name: len(self._by_decision[d]) for d in Decision}

    def demoted(self, losers: Mapping[int, str]) -> Classification:
        """A copy where the `losers` (release id -> reason) are PRUNE for that reason."""
        if not losers:
            return self
        return Classification(
            [
                v._replace(decision=Decision.PRUNE, reason=losers[v.release_id])
                if v.release_id in losers
                else v
                for v in self.verdicts
            ]
        )


_Candidate = tuple[str, float, str]
"""A library artist key a credit stands for, the artist score and the reason it names."""


class _Compilation:
    """The plan of a "Various" credit: its releases are matched by title alone."""


_COMPILATION = _Compilation()
_Plan = tuple[_Candidate, ...] | Decision | _Compilation
"""What a credit is, whatever the title: library candidates, a mapped decision, or a
compilation credit."""


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
        self._plans: dict[tuple[str, int | None], _Plan] = {}
        self._forms: dict[str, tuple[str, tuple[Text, ...]]] = {}
        self._titles: dict[tuple[str, str], Best] = {}
        self._credits: dict[tuple[str, int | None, str], Outcome] = {}
        self._releases: dict[tuple[object, ...], Outcome] = {}
        self.compilations = Compilations(index.compilations)

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

    def title_match(self, library_key: str, forms: tuple[Text, ...]) -> Best:
        """The library artist's album nearest the title (the first on a tie)."""
        best: Best = (0.0, None)
        for album in self.index.albums_of(library_key) or ():
            score = best_title_score(forms, album.forms)
            if score > best[0]:
                best = (score, album)
        return best

    def _plan(self, name: str, artist_id: int | None) -> _Plan:
        """What a credit is, decided once per distinct (name, artist id)."""
        if is_compilation_artist(name):
            return _COMPILATION
        override = self.mappings.decision_for(name) if self.mappings else None
        if override is not None:
            return override
        keys = [artist_key(name)]
        if artist_id is not None:
            keys += [artist_key(alias) for alias in self.aliases.get(artist_id, ())]
        candidates = []
        for key in dict.fromkeys(k for k in keys if k):
            for library_key, a_score in self.resolve(key):
                reason = "artist" if key == keys[0] else "alias"
                if a_score < 100:
                    reason = f"fuzzy {reason}"
                candidates.append((library_key, a_score, reason))
        return tuple(candidates)

    def _credit_outcome(
        self, name: str, artist_id: int | None, tkey: str, forms: tuple[Text, ...]
    ) -> Outcome:
        plan = self._plans.get((name, artist_id))
        if plan is None:
            plan = self._plans[name, artist_id] = self._plan(name, artist_id)
        if isinstance(plan, _Compilation):
            score, album = self.compilations.match(tkey, forms)
            decision = decide(score, keep=COMPILATION_SCORE, review=101.0)
            return _outcome(decision, score, name, album, "compilation title")
        if isinstance(plan, Decision):
            return _outcome(plan, 100.0, name, None, "artist mappings")
        best: Outcome = (Decision.PRUNE, 0.0, name, None, None, "no library artist")
        titles = self._titles
        for library_key, a_score, reason in plan:
            match = titles.get((library_key, tkey))
            if match is None:
                match = titles[library_key, tkey] = self.title_match(library_key, forms)
            t_score, album = match
            combined = math.sqrt(a_score * t_score)
            # decide() is monotonic: the lower of the two decisions is the lower score's
            decision = decide(min(t_score, combined))
            score = round(combined, 1)
            if (decision, score) > (best[0], best[1]):
                best = _outcome(decision, score, name, album, reason)
        return best

    def _soundtrack(
        self,
        title: str,
        credits: tuple[tuple[str, int | None], ...],
        tkey: str,
        forms: tuple[Text, ...],
    ) -> Outcome | None:
        """Soundtracks are filed as "Soundtrack" but credited to a composer or band: a release
        whose credits are all strangers to the library (no library artist, no mapping, no
        compilation credit) is REVIEW when its title shows it is the library's soundtrack."""
        if any(self._plans[name, artist_id] != () for name, artist_id in credits):
            return None
        if not self.compilations.may_reach(forms, SOUNDTRACK_SCORE):
            return None
        score, album = self.compilations.match(tkey, forms)
        if not soundtrack_evidence(title, score, album):
            return None
        return _outcome(Decision.REVIEW, score, credits[0][0], album, "title only")

    def outcome(self, title: str, credits: tuple[tuple[str, int | None], ...]) -> Outcome:
        """The best outcome over the release's main credits (KEEP > REVIEW > PRUNE; the
        first credit on a tie). Memo tables at every level: release, (credit, title),
        credit, (library artist, title), title."""
        # one credit (most releases): a flat key, cheaper to hash than a nested tuple
        memo = (title, *credits[0]) if len(credits) == 1 else (title, credits)
        out = self._releases.get(memo)
        if out is not None:
            return out
        prepared = self._forms.get(title)
        if prepared is None:
            prepared = self._forms[title] = _prepared_title(title)
        tkey, forms = prepared
        if not credits:
            score, album = self.compilations.match(tkey, forms)
            decision = decide(score, keep=COMPILATION_SCORE, review=101.0)
            out = _outcome(decision, score, None, album, "no credit: title only")
        for name, artist_id in credits:
            one = self._credits.get((name, artist_id, tkey))
            if one is None:
                one = self._credit_outcome(name, artist_id, tkey, forms)
                self._credits[name, artist_id, tkey] = one
            if out is None or (one[0], one[1]) > (out[0], out[1]):
                out = one
        assert out is not None
        if out[0] == Decision.PRUNE and credits:
            out = self._soundtrack(title, credits, tkey, forms) or out
        self._releases[memo] = out
        return out

    def classify(self, release: ReleaseRecord) -> Verdict:
        return Verdict(release.id, *self.outcome(release.title, release.credits))

    def classify_rows(self, rows: Iterable[ReleaseRow]) -> list[Verdict]:
        """Verdicts for rows grouped by release id (a release's credits adjacent, in credit
        order); no per-row objects beyond the credit tuples."""
        verdicts: list[Verdict] = []
        append, outcome = verdicts.append, self.outcome
        current: int | None = None
        title = ""
        credits: tuple[tuple[str, int | None], ...] = ()
        for rid, row_title, name, artist_id in rows:
            if rid != current:
                if current is not None:
                    append(Verdict(current, *outcome(title, credits)))
                current, title, credits = rid, row_title, ()
            if name is not None:
                credits += ((name, artist_id or None),)
        if current is not None:
            append(Verdict(current, *outcome(title, credits)))
        return verdicts


def _prepared_title(title: str) -> tuple[str, tuple[Text, ...]]:
    """The title's forms and a key naming them: titles that normalize alike (pressings with
    and without "(Remastered)") share every score."""
    forms = title_forms(title)
    return "|".join(f.compare for f in forms), forms


def _outcome(
    decision: Decision, score: float, credit: str | None, album: LibraryAlbum | None, reason: str
) -> Outcome:
    return (
        decision,
        round(score, 1),
        credit,
        album.artist if album else None,
        album.title if album else None,
        reason,
    )
