"""Dedup against a real PostgreSQL: each ranking rule decides at least one group."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import psycopg
import pytest

from discogs_cache import migrate
from discogs_cache.db import conninfo
from discogs_cache.dedup import DEFERRED, REASONS, dedup, dedup_losers
from discogs_cache.dedup.ranking import RANK_KEYS
from discogs_cache.errors import InputError
from discogs_cache.library.labels import LabelPreference
from discogs_cache.matcher.albums import album_key
from tests.integration.test_swap import catalog


@dataclass
class R:
    id: int
    master: int | None
    country: str | None = "UK"
    tracks: int = 3
    labels: tuple[str, ...] = ()
    title: str = "Abbey Road"
    artist: str = "The Beatles"
    format: str | None = None


def load(url: str, releases: list[R]) -> None:
    with psycopg.connect(conninfo(url)) as conn, conn.cursor() as cur:
        for r in releases:
            cur.execute(
                "INSERT INTO release (id, title, country, master_id, format) "
                "VALUES (%s, %s, %s, %s, %s)",
                (r.id, r.title, r.country, r.master, r.format),
            )
            cur.execute(
                "INSERT INTO release_artist (release_id, artist_name, extra) VALUES (%s, %s, 0),"
                " (%s, 'Some Engineer', 1)",
                (r.id, r.artist, r.id),
            )
            for label in r.labels:
                cur.execute("INSERT INTO release_label VALUES (%s, %s, 'CAT 1')", (r.id, label))
            for seq in range(1, r.tracks + 1):
                cur.execute(
                    "INSERT INTO release_track (release_id, sequence, position, title) "
                    "VALUES (%s, %s, %s, 't')",
                    (r.id, seq, str(seq)),
                )
                cur.execute(
                    "INSERT INTO release_track_artist VALUES (%s, %s, 'Guest')", (r.id, seq)
                )
            cur.execute("INSERT INTO cache_metadata (release_id, source) VALUES (%s, 'x')", (r.id,))


def ids(url: str) -> set[int]:
    with psycopg.connect(conninfo(url)) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM release")}


def pref(artist: str, title: str, label: str) -> LabelPreference:
    return LabelPreference(artist, title, label)


def write_hierarchy(path: Path, rows: list[tuple[str, str]]) -> Path:
    lines = ["label_id,label_name,parent_label_id,parent_label_name"]
    lines += [f"{i},{child},{i + 1000},{parent}" for i, (child, parent) in enumerate(rows, 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_each_rule_decides_a_group(pg_url: str) -> None:
    load(
        pg_url,
        [
            # preferred (library match) beats label, US and tracks
            R(1, 100, country="US", tracks=9, labels=("Parlophone",)),
            R(2, 100, country="UK", tracks=2),
            # label beats US, tracks and id
            R(10, 200, country="UK", tracks=4, labels=("Parlophone",)),
            R(11, 200, country="US", tracks=9, labels=("Capitol",)),
            # US beats tracks and id
            R(20, 300, country="UK", tracks=9, title="Other"),
            R(21, 300, country="US", tracks=2, title="Other"),
            # most tracks beats id
            R(30, 400, tracks=5, title="Other"),
            R(31, 400, tracks=8, title="Other"),
            # lowest id when all else is equal
            R(40, 500, title="Other"),
            R(41, 500, title="Other"),
            R(42, 500, title="Other"),
            # zero tracks ranks last, even with US and the station's label
            R(50, 600, country="US", tracks=0, labels=("Parlophone",)),
            R(51, 600, country="UK", tracks=1),
            # no master: never touched, even when identical
            R(60, None, title="Other"),
            R(61, None, title="Other"),
            R(62, 700),  # alone in its master
        ],
    )
    summary = dedup(
        pg_url,
        label_preferences=[pref("The Beatles", "Abbey Road", "Parlophone")],
        preferred_release_ids=[2, 999_999],
    )
    assert ids(pg_url) == {2, 10, 21, 31, 40, 51, 60, 61, 62}
    assert summary.groups == 6
    assert (summary.releases_before, summary.releases_removed) == (16, 7)
    assert summary.decided_by == {
        "preferred": 1,
        "label": 1,
        "format": 0,
        "US": 1,
        "tracks": 2,
        "id": 1,
    }
    assert summary.label_matched == 3  # 1, 10 and 50 carry Parlophone on Abbey Road
    assert summary.preferred == 2
    with psycopg.connect(conninfo(pg_url)) as conn:
        for table in ("release_artist", "release_track", "release_track_artist", "cache_metadata"):
            got = {r[0] for r in conn.execute(f"SELECT DISTINCT release_id FROM {table}")}
            assert got <= ids(pg_url), table
    # idempotent: a second run finds one release per master and removes nothing
    again = dedup(pg_url, label_preferences=[pref("The Beatles", "Abbey Road", "Parlophone")])
    assert (again.groups, again.releases_removed, again.strategy) == (0, 0, "none")
    assert ids(pg_url) == {2, 10, 21, 31, 40, 51, 60, 61, 62}


def test_losers_are_what_dedup_removes_and_ranking_alone_changes_nothing(pg_url: str) -> None:
    releases = [
        R(i, 1000 + i // 4, "US" if i % 3 else "UK", i % 5, ("Parlophone",) if i % 7 else ())
        for i in range(40)
    ]
    load(pg_url, releases)
    prefs = [pref("The Beatles", "Abbey Road", "Parlophone")]
    ranked, losers = dedup_losers(pg_url, label_preferences=prefs, preferred_release_ids=[5, 6])
    assert ids(pg_url) == set(range(40)), "ranking alone removes nothing"
    assert ranked.strategy == DEFERRED and ranked.releases_removed == len(losers) > 0
    done = dedup(pg_url, label_preferences=prefs, preferred_release_ids=[5, 6])
    assert ids(pg_url) == set(range(40)) - set(losers)
    assert (ranked.groups, ranked.releases_before, ranked.releases_removed, ranked.decided_by) == (
        done.groups, done.releases_before, done.releases_removed, done.decided_by,
    )  # fmt: skip


def test_catalog_spellings_pair_with_discogs_spellings(pg_url: str) -> None:
    load(
        pg_url,
        [
            R(1, 100, country="US", tracks=9, labels=("Capitol",)),
            R(2, 100, labels=("Parlophone (2)",), title="Abbey Road", artist="The Beatles (3)"),
            R(3, 200, country="US", labels=("Mute",), title="Homogenic", artist="Björk"),
            R(4, 200, labels=("Éditions Mego",), title="Homogenic", artist="Björk"),
            R(5, 300, country="US", labels=("Sony",), title="Pop Hits", artist="Various"),
            R(6, 300, labels=("K-Tel",), title="Pop Hits", artist="Various"),
        ],
    )
    summary = dedup(
        pg_url,
        label_preferences=[
            pref("Beatles, The", 'Abbey Road 12"', "PARLOPHONE"),
            pref("Bjork", "Homogenic (Deluxe Edition)", "editions mego"),
            pref("Various Artists", "Pop Hits", "k-tel"),
        ],
    )
    assert ids(pg_url) == {2, 4, 6}
    assert summary.decided_by["label"] == 3


def test_preference_is_for_that_album_only(pg_url: str) -> None:
    """A label the station recorded for another album of the artist does not count."""
    load(pg_url, [R(1, 100, country="US"), R(2, 100, labels=("Apple",))])
    dedup(pg_url, label_preferences=[pref("The Beatles", "Let It Be", "Apple")])
    assert ids(pg_url) == {1}


@pytest.mark.parametrize(
    ("pref_label", "release_label"),
    [("EMI", "Parlophone"), ("Parlophone", "EMI")],
    ids=["parent-pref-matches-sublabel", "sublabel-pref-matches-parent"],
)
def test_sublabel_resolution_both_ways(
    pg_url: str, tmp_path: Path, pref_label: str, release_label: str
) -> None:
    load(pg_url, [R(1, 100, country="US", tracks=9), R(2, 100, labels=(release_label,))])
    hierarchy = write_hierarchy(tmp_path / "label_hierarchy.csv", [("Parlophone", "EMI")])
    prefs = [pref("The Beatles", "Abbey Road", pref_label)]
    summary = dedup(pg_url, label_preferences=prefs, label_hierarchy=hierarchy)
    assert ids(pg_url) == {2}
    assert summary.decided_by["label"] == 1


def test_without_hierarchy_a_sublabel_does_not_match(pg_url: str) -> None:
    load(pg_url, [R(1, 100, country="US", tracks=9), R(2, 100, labels=("Parlophone",))])
    dedup(pg_url, label_preferences=[pref("The Beatles", "Abbey Road", "EMI")])
    assert ids(pg_url) == {1}


def test_hierarchy_is_one_level_only(pg_url: str, tmp_path: Path) -> None:
    load(pg_url, [R(1, 100, country="US", tracks=9), R(2, 100, labels=("Regal Zonophone",))])
    hierarchy = write_hierarchy(
        tmp_path / "h.csv", [("Regal Zonophone", "Parlophone"), ("Parlophone", "EMI")]
    )
    prefs = [pref("The Beatles", "Abbey Road", "EMI")]
    dedup(pg_url, label_preferences=prefs, label_hierarchy=hierarchy)
    assert ids(pg_url) == {1}


@pytest.mark.parametrize("strategy", ["copy", "delete"])
def test_swap_keeps_the_contract(pg_url: str, strategy: str) -> None:
    releases = [R(i, 1000 + i // 10, tracks=i % 4) for i in range(1, 101)]
    load(pg_url, releases)
    with psycopg.connect(conninfo(pg_url)) as conn:
        before = catalog(conn)
    summary = dedup(pg_url, strategy=strategy)
    assert (summary.strategy, summary.releases_removed) == (strategy, 89)
    with psycopg.connect(conninfo(pg_url)) as conn:
        assert catalog(conn) == before
    assert migrate.check(pg_url) == []
    assert len(ids(pg_url)) == 11


def test_bad_hierarchy_file_is_an_input_error_and_changes_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    load(pg_url, [R(1, 100), R(2, 100)])
    bad = tmp_path / "h.csv"
    bad.write_text("id,name\n1,EMI\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"h\.csv:1: expected header"):
        dedup(pg_url, label_hierarchy=bad)
    with pytest.raises(InputError, match="not found"):
        dedup(pg_url, label_hierarchy=tmp_path / "missing.csv")
    assert ids(pg_url) == {1, 2}


def test_ranking_analyzes_tables_that_were_never_analyzed(pg_url: str) -> None:
    """Right after a load there are no statistics; the ranking must not plan without them."""
    load(pg_url, [R(1, 10), R(2, 10, country="US")])
    query = "SELECT relname, reltuples >= 0 FROM pg_class WHERE relname = ANY(%s)"
    names = ["release", "release_artist", "release_label", "release_track"]
    with psycopg.connect(conninfo(pg_url)) as conn:
        assert not any(row[1] for row in conn.execute(query, (names,)))
    _, losers = dedup_losers(pg_url)
    assert losers == [1]
    with psycopg.connect(conninfo(pg_url)) as conn:
        assert all(row[1] for row in conn.execute(query, (names,)))


# What winning / losing each ranking key means for a release; every other key is neutral
# (not preferred, 3 tracks, no station label, UK). A key added to RANK_KEYS needs its entry.
_WIN: dict[str, dict[str, object]] = {
    "preferred": {"preferred": True},
    "has_tracks": {"tracks": 3},
    "label_match": {"labels": ("Parlophone",)},
    "format_match": {"format": "CD"},  # the station owns the CD (OWNED)
    "us": {"country": "US"},
    "track_count": {"tracks": 5},
}
_LOSE: dict[str, dict[str, object]] = {
    "has_tracks": {"tracks": 0},
    "track_count": {"tracks": 2},
}
_ORDER = ["preferred", "has_tracks", "label_match", "format_match", "us", "track_count", "id"]
OWNED = {album_key("The Beatles", "Abbey Road"): frozenset({"CD"})}
"""The documented order (dedup/ranking.py docstring), written out: not read from RANK_KEYS."""


def test_rank_keys_are_the_documented_order() -> None:
    assert [name for name, _ in RANK_KEYS] + ["id"] == _ORDER


@pytest.mark.parametrize(("first", "second"), list(pairwise(_ORDER)), ids=lambda name: str(name))
def test_each_adjacent_pair_of_ranking_keys_is_in_order(
    pg_url: str, first: str, second: str
) -> None:
    """A wins on `first` and loses on `second` (and on id); B the reverse; nothing else
    differs. Swapping any two adjacent keys of the ranking makes B win one of these."""
    a_fields = {**_WIN[first], **_LOSE.get(second, {})}
    b_fields = {**_LOSE.get(first, {}), **_WIN.get(second, {})}
    preferred = [rid for rid, f in ((2, a_fields), (1, b_fields)) if f.pop("preferred", False)]
    a = R(2, 100, **a_fields)  # type: ignore[arg-type]
    b = R(1, 100, **b_fields)  # type: ignore[arg-type]
    load(pg_url, [a, b])
    summary = dedup(
        pg_url,
        label_preferences=[pref("The Beatles", "Abbey Road", "Parlophone")],
        preferred_release_ids=preferred or None,
        owned_formats=OWNED,
    )
    assert ids(pg_url) == {2}
    reason = dict(RANK_KEYS)[first]
    assert summary.decided_by == {r: int(r == reason) for r in REASONS}
