"""Normalization rules for artist names and album titles: the one place they live.

The converter's filter, the verify/prune classifier and dedup's label preferences all
compare names through these functions, so a catalog spelling ("Beatles, The",
"OK Computer 12\"") pairs with the Discogs one ("The Beatles", "OK Computer") everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ARTICLES = ("the", "los", "las", "les", "la", "le", "el", "die", "der", "das")
_DISCOGS_SUFFIX = re.compile(r"\s*\(\d+\)$")
_CATALOG_SUFFIX = re.compile(r"\s*\[[^\]]*\]$")
_TRAILING_ARTICLE = re.compile(r"^(?P<body>.+?),\s*(?P<article>" + "|".join(_ARTICLES) + r")$")
_AMPERSAND = re.compile(r"\s*&\s*")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u0060\u00b4]")
_SPACES = re.compile(r"\s+")
_TITLE_SUFFIX = re.compile(
    r"""\s*(?:
        (?:12|7|10)\s*(?:"|''|inch|in\.?)          # 12" / 7" / 10" format marks
      | \(\d+\)                                      # Discogs (n)
      | \(\d+\s*-?\s*cd\s*set\)                      # (2 cd set)
      | \(\d*\s*-?\s*(?:cd|lp|ep)\)                  # (ep) (lp) (2lp) (cd)
      | \(reissue\)
      | \((?:deluxe|expanded|anniversary|special|limited)(?:\s+edition)?\)
      | \(bonus\s+tracks?\)
      | \(remaster(?:ed)?(?:\s+\d{4})?\)             # Discogs "(Remastered)" pressings
    )\s*$""",
    re.X,
)
_TITLE_SUFFIX_ENDS = frozenset("\"'hn.)")
"""The last character of every _TITLE_SUFFIX match (text is stripped before it is tried)."""
_COMPILATION_WORDS = ("various", "soundtrack", "compilation", "v/a", "v.a.")
_COMPILATION = re.compile("|".join(re.escape(word) for word in _COMPILATION_WORDS))
"""Any of the words anywhere in the text (one search instead of five `in` tests)."""
_INITIALS = re.compile(r"(?<![^\W_])(?:[^\W\d_]\.\s*)+[^\W\d_](?:\.(?![^\W_])|(?![^\W_]|\.))")
"""Two or more dotted single letters ("a.d.", "a. d.", "r.e.m"): one word once collapsed."""
_WORDS = re.compile(r"[^\W_]+")
"""Letters and digits of any script: punctuation separates words, CJK names keep theirs."""


def strip_accents(text: str) -> str:
    """NFKD-decompose and drop combining marks: "Björk" -> "Bjork"."""
    if text.isascii():  # fast path: most names; NFKD of ASCII is itself
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():  # combining marks are never ASCII
        return decomposed
    return "".join([ch for ch in decomposed if not unicodedata.combining(ch)])


def _base(text: str) -> str:
    # str.split() splits on exactly the characters \s matches (str.isspace), so this is
    # _SPACES.sub(" ", ...).strip() without the regex
    return " ".join(strip_accents(text).lower().split())


@lru_cache(maxsize=1 << 18)
def normalize_artist(name: str) -> str:
    """Canonical form of an artist name for equality comparison.

    lowercase, no accents, no trailing Discogs " (n)" or catalog " [...]", dotted initials
    collapsed ("A. D." -> "ad"), "X, The" -> "the x"
    (also Los/Las/Les/La/Le/El/Die/Der/Das), "&" -> "and", no apostrophes, single spaces.
    """
    text = _base(name)
    # The regexes run only when the text has their anchor character: the result is the same,
    # the cost of a name without suffix, comma, "&" or apostrophe is a few `in` tests.
    while text.endswith((")", "]")):
        stripped = _CATALOG_SUFFIX.sub("", _DISCOGS_SUFFIX.sub("", text)).strip()
        if stripped == text:
            break
        text = stripped
    text = _collapse_initials(text)
    match = _TRAILING_ARTICLE.match(text) if "," in text else None
    if match:
        return _and_no_apostrophes(f"{match['article']} {match['body']}", clean=False)
    return _and_no_apostrophes(text)


def _collapse_initials(text: str) -> str:
    """ "a.d." = "a. d." = "ad": catalogs write initials without the dots Discogs keeps."""
    if "." not in text:
        return text
    return _INITIALS.sub(lambda m: m[0].replace(".", "").replace(" ", ""), text)


def _and_no_apostrophes(text: str, *, clean: bool = True) -> str:
    """ "&" -> "and", apostrophes dropped, single spaces; `clean` text is single-spaced and
    stripped already, so without "&" or an apostrophe it is returned as it is."""
    if clean and "&" not in text and _APOSTROPHES.search(text) is None:
        return text
    text = _AMPERSAND.sub(" and ", text)
    text = _APOSTROPHES.sub("", text)
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1 << 18)
def artist_key(name: str) -> str:
    """The key two artist names are compared by: `normalize_artist`, punctuation-free words,
    a leading "the" dropped.

    "The Beatles", "Beatles, The", "Beatles" and "BEATLES [UK]" share one key; "The The"
    stays itself. The converter's filter, the classifier and dedup's pairing all use it, so
    an artist the catalog files without its article is not lost before classification.
    """
    words = _WORDS.findall(normalize_artist(name))
    if len(words) > 1 and words[0] == "the" and words[1:] != ["the"]:
        words = words[1:]
    return " ".join(words)


@lru_cache(maxsize=1 << 18)
def normalize_title(title: str) -> str:
    """Canonical form of an album title: lowercase, no accents, no trailing format/edition marks.

    Strips, repeatedly, a trailing 12"/7"/10", " (n)", "(2 cd set)", "(reissue)",
    "(deluxe|expanded|anniversary|special|limited edition)", "(bonus tracks)", "(ep)",
    "(lp)", "(2lp)" and "(remastered)".
    """
    text = _base(title)
    while text[-1:] in _TITLE_SUFFIX_ENDS:
        stripped = _TITLE_SUFFIX.sub("", text).strip()
        if stripped == text or not stripped:
            break
        text = stripped
    return _and_no_apostrophes(_collapse_initials(text))


@lru_cache(maxsize=1 << 16)
def is_compilation_artist(name: str) -> bool:
    """True for credits like "Various", "Various Artists", "V/A", "Soundtrack"."""
    text = _base(name)
    if text.endswith(")"):
        text = _DISCOGS_SUFFIX.sub("", text).strip()
    return _COMPILATION.search(text) is not None
