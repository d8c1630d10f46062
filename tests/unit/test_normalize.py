"""The shared normalization rules (SPEC "Matching rules")."""

from __future__ import annotations

import pytest

from discogs_cache.normalize import (
    artist_key,
    is_compilation_artist,
    normalize_artist,
    normalize_title,
    strip_accents,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The Beatles", "the beatles"),
        ("Beatles, The", "the beatles"),
        ("BEATLES, THE", "the beatles"),
        ("Lobos, Los", "los lobos"),
        ("Ärzte, Die", "die arzte"),
        ("Prince (2)", "prince"),
        ("Prince [UK]", "prince"),
        ("Björk", "bjork"),
        ("Simon & Garfunkel", "simon and garfunkel"),
        ("Simon and Garfunkel", "simon and garfunkel"),
        ("Guns N' Roses", "guns n roses"),
        ("Guns N’ Roses", "guns n roses"),
        ("  Sonic   Youth ", "sonic youth"),
        ("Cult , The", "the cult"),  # the space before the comma does not survive
        ("Smiths, The (2)", "the smiths"),
        ("Mamas & Papas, The", "the mamas and papas"),
    ],
)
def test_normalize_artist(raw: str, expected: str) -> None:
    assert normalize_artist(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('Blue Monday 12"', "blue monday"),
        ('Love Will Tear Us Apart 7"', "love will tear us apart"),
        ("Nevermind (Deluxe Edition)", "nevermind"),
        ("Nevermind (Deluxe Edition) (2 CD Set)", "nevermind"),
        ("Abbey Road (Remastered)", "abbey road"),
        ("Sound Affects (Reissue)", "sound affects"),
        ("Head Hunters (Bonus Tracks)", "head hunters"),
        ("Trans-Europe Express (LP)", "trans-europe express"),
        ("Peel Session (EP)", "peel session"),
        ("Live (2LP)", "live"),
        ("Untitled (3)", "untitled"),
        ("Ágætis Byrjun", "agætis byrjun"),
        ("(EP)", "(ep)"),  # never strip a title to nothing
        ("Rock 'n' Roll 7\"", "rock n roll"),
        ("Night & Day (Reissue)", "night and day"),
    ],
)
def test_normalize_title(raw: str, expected: str) -> None:
    assert normalize_title(raw) == expected


def test_strip_accents() -> None:
    assert strip_accents("Café Tacvba – Sigur Rós") == "Cafe Tacvba – Sigur Ros"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Various", True),
        ("Various Artists", True),
        ("Various (3)", True),
        ("V/A", True),
        ("V.A.", True),
        ("Original Soundtrack", True),
        ("Compilation", True),
        ("The Beatles", False),
        ("Vanilla Fudge", False),
    ],
)
def test_is_compilation_artist(name: str, expected: bool) -> None:
    assert is_compilation_artist(name) is expected


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (["The Beatles", "Beatles, The", "Beatles", "BEATLES [UK]", "The Beatles (2)"], "beatles"),
        (["The The", "The, The"], "the the"),
        (["AC/DC", "AC-DC", "ac dc"], "ac dc"),
        (["坂本龍一", "坂本龍一 (2)"], "坂本龍一"),
        (["Sigur Rós", "SIGUR ROS"], "sigur ros"),
        (["Simon & Garfunkel", "Simon and Garfunkel"], "simon and garfunkel"),
    ],
)
def test_artist_key_is_shared_by_spellings(names: list[str], key: str) -> None:
    assert {artist_key(name) for name in names} == {key}


@pytest.mark.parametrize(
    ("catalog", "discogs"),
    [
        ("Mr James Barth and AD", "Mr. James Barth & A.D."),
        ("AD", "A. D."),
        ("AD", "A.D"),
        ("REM", "R.E.M."),
        ("JJ Cale", "J.J. Cale"),
        ("Unkle", "U.N.K.L.E. (2)"),
    ],
)
def test_dotted_initials_collapse_in_every_key(catalog: str, discogs: str) -> None:
    assert artist_key(catalog) == artist_key(discogs)
    assert normalize_artist(catalog) == normalize_artist(discogs).replace("mr.", "mr")
    assert normalize_title(f"Live {catalog}") == normalize_title(f"Live {discogs}").replace(
        "mr.", "mr"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("J. Smith", "j. smith"),
        ("Dr. Dre", "dr. dre"),
        ("X (A.D.)", "x (ad)"),
        ("a.b.cd", "a.b.cd"),
    ],
)
def test_a_single_initial_or_an_abbreviation_is_not_an_initials_run(
    name: str, expected: str
) -> None:
    assert normalize_artist(name) == expected
