"""classify_cache settles each album's masters from what it reads back from the cache:
masters, labels and main credits of the retained releases (issue 18)."""

from __future__ import annotations

import psycopg

from discogs_cache.db import conninfo
from discogs_cache.library.catalog import CatalogEntry
from discogs_cache.library.labels import LabelPreference
from discogs_cache.matcher import Decision
from discogs_cache.matcher.settle import LOWER_SCORE, OTHER_LABEL
from discogs_cache.verify import classify_cache

LIBRARY = [CatalogEntry(1, "Nevermind", "Nirvana"), CatalogEntry(2, "Abbey Road", "Beatles, The")]
# id, title, artist, master, label
ROWS = [
    (1, "Nevermind", "Nirvana", 10, "DGC"),
    (2, "Nevermind (Remastered)", "Nirvana", 10, "Geffen"),
    (3, "Nevermind", "Nirvana (2)", 20, "Pye"),  # homonym, identical title: a tie
    (4, "Nevermine", "Nirvana (3)", 30, "Pye"),  # a typo away: below the album's best
    (5, "Abbey Road", "The Beatles", 40, "Apple"),
    (6, "Abbey Road", "The Beatles", None, "Apple"),  # no master: its own group, tied
]


def fill(url: str) -> None:
    with psycopg.connect(conninfo(url)) as conn:
        for rid, title, artist, master, label in ROWS:
            conn.execute(
                "INSERT INTO release (id, title, master_id) VALUES (%s, %s, %s)",
                (rid, title, master),
            )
            conn.execute(
                "INSERT INTO release_artist (release_id, artist_name, extra) VALUES (%s, %s, 0)",
                (rid, artist),
            )
            conn.execute("INSERT INTO release_label VALUES (%s, %s, 'X')", (rid, label))


def decisions(url: str, **kwargs: object) -> dict[int, tuple[Decision, str]]:
    result = classify_cache(url, LIBRARY, **kwargs)  # type: ignore[arg-type]
    return {v.release_id: (v.decision, v.reason) for v in result.verdicts}


def test_lower_masters_go_and_the_label_breaks_the_tie(pg_url: str) -> None:
    fill(pg_url)
    plain = decisions(pg_url)
    assert plain[4] == (Decision.PRUNE, LOWER_SCORE)
    assert {rid for rid, (d, _) in plain.items() if d == Decision.KEEP} == {1, 2, 3, 5, 6}
    by_label = decisions(pg_url, label_preferences=[LabelPreference("Nirvana", "Nevermind", "DGC")])
    assert by_label[3] == (Decision.PRUNE, OTHER_LABEL)
    assert {rid for rid, (d, _) in by_label.items() if d == Decision.KEEP} == {1, 2, 5, 6}
