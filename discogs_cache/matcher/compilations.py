"""Title-only matching against the library's compilations ("Various" credits, soundtracks
credited to a composer), memoized per normalized title.

`match` is the rule: the best title score among the 5 compilation titles nearest by sorted
words. `may_reach` is an exact shortcut for the soundtrack rule, which only cares whether
that score reaches SOUNDTRACK_SCORE (most titles do not, and each `match` is a search over
every compilation title): a common subsequence of two strings uses only characters they
share, and their sorted characters have all of those in a common order, so the ratio of the
sorted characters bounds the ratio from above. One search over the compilations' sorted
characters (within the lengths that can score that high) finds every form that could, and
the few it finds are scored for real.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from discogs_cache.matcher.library_index import LibraryAlbum
from discogs_cache.matcher.rules import (
    SOUNDTRACK_MIN_WORDS,
    SOUNDTRACK_SCORE,
    Text,
    best_title_score,
)
from discogs_cache.normalize import normalize_title

Best = tuple[float, LibraryAlbum | None]


_SOUNDTRACK_MARK = re.compile(
    r"\b(?:soundtrack|sound track|motion picture|original score|music from|ost|"
    r"original cast|the movie|the film|bande originale)\b"
)
"""Words in a release title that say it is a soundtrack."""


def soundtrack_evidence(title: str, score: float, album: LibraryAlbum | None) -> bool:
    """Whether a title-only match of a release credited to no library artist is evidence
    that it is the library's soundtrack: its title says it is one, or the match is exact
    and the title long enough (one- and two-word titles name too many records)."""
    if album is None or score < SOUNDTRACK_SCORE:
        return False
    if _SOUNDTRACK_MARK.search(normalize_title(title)):
        return True
    return score >= 100.0 and len(album.forms[0].words) >= SOUNDTRACK_MIN_WORDS


def _bag(text: str) -> str:
    return "".join(sorted(text))


class Compilations:
    """The compilation albums with the memo tables of one classification run."""

    def __init__(self, albums: Sequence[LibraryAlbum]) -> None:
        self.albums = albums
        # token_sort_ratio re-sorts both strings on every call; sorting the library side
        # once and scoring with ratio gives the same scores for a fraction of the work.
        self._choices = [a.forms[0].sorted_words for a in albums]
        self._best: dict[str, Best] = {}
        self._hits: dict[str, list[int]] = {}
        self._reach: dict[tuple[str, float], bool] = {}
        bags: dict[str, list[Text]] = {}
        for album in albums:
            for form in album.forms:
                bags.setdefault(_bag(form.compare), []).append(form)
        self._bags = bags
        self._bag_keys = sorted(bags, key=len)
        self._bag_lengths = [len(b) for b in self._bag_keys]

    def match(self, tkey: str, forms: tuple[Text, ...]) -> Best:
        """Best (score, album) among the compilations nearest the title."""
        best = self._best.get(tkey)
        if best is None:
            best = (0.0, None)
            if forms and self._choices:
                hits = {i for form in forms for i in self._nearest(form.sorted_words)}
                for i in hits:
                    album = self.albums[i]
                    score = best_title_score(forms, album.forms)
                    if score > best[0]:
                        best = (score, album)
            self._best[tkey] = best
        return best

    def _nearest(self, query: str) -> list[int]:
        """The 5 compilation titles nearest `query` (sorted words), best first."""
        hits = self._hits.get(query)
        if hits is None:
            found = process.extract(query, self._choices, scorer=fuzz.ratio, limit=5)
            hits = self._hits[query] = [i for _, _, i in found]
        return hits

    def may_reach(self, forms: tuple[Text, ...], score: float) -> bool:
        """False only when `match` scores below `score` (0 < score <= 100): no form of any
        compilation scores that high against a form of the title."""
        for form in forms:
            memo = (form.compare, score)
            found = self._reach.get(memo)
            if found is None:
                found = self._reach[memo] = self._form_may_reach(form, score)
            if found:
                return True
        return False

    def _form_may_reach(self, form: Text, score: float) -> bool:
        query = _bag(form.compare)
        n = len(query)
        # ratio <= 200 * min(n, m) / (n + m): lengths farther apart cannot reach `score`
        lo = bisect.bisect_left(self._bag_lengths, int(n * score / (200 - score)))
        hi = bisect.bisect_right(self._bag_lengths, int(n * (200 - score) / score) + 1)
        bound = process.extract(
            query, self._bag_keys[lo:hi], scorer=fuzz.ratio, score_cutoff=score - 0.5, limit=None
        )
        return any(
            best_title_score((form,), (other,)) >= score
            for bag, _, _ in bound
            for other in self._bags[bag]
        )
