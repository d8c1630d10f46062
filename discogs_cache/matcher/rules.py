"""Scoring rules of the classifier, on top of the shared normalization (SPEC "Matching rules").

Why not plain token_set_ratio: it scores a title that is a word subset of another at 100
("Love" vs "Love Night", "The Wall" vs "The Wall Live"), so every album of a library artist
whose title shares words with an owned one was kept, and an artist name inside a longer one
("Beatles Tribute Band") matched too. Here edit distance (the better of ratio and
token_sort_ratio: typos and word order) is the base, and three guards veto what edit distance
alone lets through: strictly nested word sets (extra words = another album / another act),
differing numbers ("Vol. 2", "II", "1999" vs "2000") and a content word with no similar
partner ("... In America" vs "... In The West"). A fourth guard holds short titles (one or
two words) to a stricter bar: KEEP at most one typo apart, REVIEW at two, vetoed beyond. In
a short title one edit is a large share of the ratio: "Daydream" vs "Dream" reached KEEP.
"""

from __future__ import annotations

import re
from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from discogs_cache.normalize import normalize_title

KEEP_SCORE = 75.0
"""Title (or combined artist+title) score at or above which a release is KEEP."""
REVIEW_SCORE = 65.0
"""Score at or above which a release is REVIEW (kept, shown to a human)."""
ARTIST_FUZZY_SCORE = 80.0
"""Minimum artist score for a credit that is not a library artist after normalization."""
COMPILATION_SCORE = 80.0
"""Title score a compilation needs against the library's compilation titles to be KEEP."""
SOUNDTRACK_SCORE = 90.0
"""Title score that makes a non-library credit REVIEW when it names a library compilation
(and the release shows it is one: see `classify.soundtrack_evidence`)."""
SOUNDTRACK_MIN_WORDS = 3
"""Without a soundtrack mark in its title, a title-only match must be exact and this long:
one- and two-word titles ("Nation", "Nevermind") name too many unrelated records."""
SHORT_TITLE_WORDS = 2
"""Titles of at most this many words are held to `SHORT_TITLE_EDITS`."""
SHORT_TITLE_EDITS = 1
"""Edits (insert, delete, substitute, swap two neighbours) a short title may differ by and
still be KEEP; one more is REVIEW at most (`SHORT_REVIEW_CAP`), more is vetoed."""
SHORT_REVIEW_CAP = KEEP_SCORE - 1
"""The score of a short title two edits from the other: a person should look at it."""
GUARDED_SCORE = 50.0
"""What a pair vetoed by a guard scores: below REVIEW, so it never keeps a release alone."""


class Decision(IntEnum):
    """Ordered so that max() of several credits' decisions is the release's decision."""

    PRUNE = 0
    REVIEW = 1
    KEEP = 2


def decide(score: float, keep: float = KEEP_SCORE, review: float = REVIEW_SCORE) -> Decision:
    if score >= keep:
        return Decision.KEEP
    if score >= review:
        return Decision.REVIEW
    return Decision.PRUNE


_WORD = re.compile(r"[a-z0-9]+")
_ROMAN = {"ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"}
_STOPWORDS = {"the", "a", "an", "and", "of", "vol", "volume", "part", "pt"}
WORD_SCORE = 65.0
"""Every content word of one title needs a partner this similar in the other (typos pass)."""
_CORE_CUT = re.compile(r"\s*(?:[(\[{].*|\s[-–—:/]\s.*)$")
"""A trailing "(...)", "[...]" or " - subtitle": edition notes Discogs titles carry."""


class Text(NamedTuple):
    """A name or title prepared for scoring: compare string, word set, number tokens, and
    the words sorted (what token_sort_ratio compares; the same object as `compare` when the
    words are in order already, so that the second ratio can be skipped). A tuple: one is
    built per distinct title and read in every comparison."""

    compare: str
    words: frozenset[str]
    numbers: tuple[str, ...]
    sorted_words: str


def prepare(normalized: str) -> Text:
    words = _WORD.findall(normalized)
    numbers = tuple(sorted(w for w in words if w.isdigit() or w in _ROMAN))
    compare = " ".join(words)
    sorted_words = " ".join(sorted(words))
    return Text(
        compare,
        frozenset(words),
        numbers,
        compare if sorted_words == compare else sorted_words,
    )


@lru_cache(maxsize=1 << 18)
def title_forms(title: str) -> tuple[Text, ...]:
    """The normalized title, plus its core without a trailing parenthetical or subtitle."""
    return forms_of_normalized(normalize_title(title))


@lru_cache(maxsize=1 << 18)
def forms_of_normalized(normalized: str) -> tuple[Text, ...]:
    """`title_forms` of a normalized title: shared by the titles that normalize alike."""
    forms = [prepare(normalized)]
    core = _CORE_CUT.sub("", normalized).strip()
    if core and core != normalized:
        forms.append(prepare(core))
    return tuple(f for f in forms if f.compare)


def nested(a: frozenset[str], b: frozenset[str]) -> bool:
    """One word set strictly inside the other, the extra words being more than filler."""
    if a == b:
        return False
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    return small <= big and bool(big - small - _STOPWORDS)


def unpaired(a: frozenset[str], b: frozenset[str]) -> bool:
    """A content word of one side with no similar word on the other: "Once Upon A Time In
    America" is not "... In The West", "Saturday Night Live" is not "... Fever"."""
    for small, big in ((a, b), (b, a)):
        for word in small - big - _STOPWORDS:
            if not any(fuzz.ratio(word, other) >= WORD_SCORE for other in big):
                return True
    return False


def short_edits(a: Text, b: Text) -> int:
    """0 unless a side is a short title; else the edits between the two (insert, delete,
    substitute, swap neighbours; in word order or sorted), counted up to one past
    `SHORT_TITLE_EDITS + 1`: "neevrmind" vs "nevermind" is 1, "daydream" vs "dream" 3."""
    if len(a.words) > SHORT_TITLE_WORDS and len(b.words) > SHORT_TITLE_WORDS:
        return 0
    cutoff = SHORT_TITLE_EDITS + 2
    edits = OSA.distance(a.compare, b.compare, score_cutoff=cutoff)
    if edits > SHORT_TITLE_EDITS and (
        a.sorted_words is not a.compare or b.sorted_words is not b.compare
    ):
        edits = min(edits, OSA.distance(a.sorted_words, b.sorted_words, score_cutoff=cutoff))
    return edits


def pair_score(a: Text, b: Text) -> float:
    """Similarity 0-100 of two prepared names, with the nesting, number and unpaired-word
    guards (applied only when they could change the decision). Not the short-title guard:
    names reach the classifier through a one-edit deletion index already."""
    return best_title_score((a,), (b,), short=False)


def best_title_score(
    forms: tuple[Text, ...], candidates: tuple[Text, ...], *, short: bool = True
) -> float:
    """Best score of any form of a release title against any form of a library title.

    The score of a pair is the better of ratio and token_sort_ratio (the ratio of the
    sorted words, skipped when both sides are sorted already); a pair that reaches REVIEW
    is vetoed down to GUARDED_SCORE by a guard (`short` adds the short-title one). Guards
    are evaluated only for a pair that could raise the best (they only lower a score): the
    result is the same, cheaper."""
    best = 0.0
    for a in forms:
        for b in candidates:
            if a.compare == b.compare:
                return 100.0  # nothing scores higher
            score = fuzz.ratio(a.compare, b.compare)
            if a.sorted_words is not a.compare or b.sorted_words is not b.compare:
                score = max(score, fuzz.ratio(a.sorted_words, b.sorted_words))
            if score <= best:
                continue
            if score >= REVIEW_SCORE and (
                a.numbers != b.numbers or nested(a.words, b.words) or unpaired(a.words, b.words)
            ):
                score = min(GUARDED_SCORE, score)
            elif short and score >= REVIEW_SCORE:
                edits = short_edits(a, b)
                if edits > SHORT_TITLE_EDITS + 1:
                    score = min(GUARDED_SCORE, score)
                elif edits > SHORT_TITLE_EDITS:
                    score = min(SHORT_REVIEW_CAP, score)
            if score > best:
                best = score
    return best


def artist_score(key: str, library_key: str) -> float:
    """Score of an unknown credit against a library artist: typos and word order pass,
    a library name inside a longer one ("Beatles Tribute Band") does not."""
    return pair_score(prepare(key), prepare(library_key))
