"""`discogs-cache lookup` as a user and a script run it against a loaded cache."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.cli import run_cli
from tests.integration.test_query import load_fixture_cache

pytestmark = pytest.mark.e2e


@pytest.fixture
def cache_url(pg_url: str) -> Iterator[str]:
    load_fixture_cache(pg_url)
    yield pg_url


def lookup(url: str, *args: str) -> tuple[int, str, str]:
    result = run_cli("lookup", *args, "--database-url", url, timeout=120)
    return result.returncode, result.stdout, result.stderr


def test_release_table_and_json(cache_url: str) -> None:
    code, out, err = lookup(cache_url, "release", "4")
    assert code == 0, err
    assert "Now That's What I Call Music 1983" in out and "artists:  Various" in out
    line = next(li for li in out.splitlines() if "Blue Monday" in li)
    assert line.split()[:2] == ["2", "A2"] and line.rstrip().endswith("New Order")
    code, out, _ = lookup(cache_url, "release", "4", "--json")
    data = json.loads(out)
    assert code == 0 and data["id"] == 4 and data["artists"] == ["Various"]
    assert data["tracks"][1] == {
        "sequence": 2,
        "position": "A2",
        "title": "Blue Monday",
        "duration": "3:00",
        "artists": ["New Order"],
        "writers": [],
    }
    assert (data["genres"], data["styles"]) == ([], [])


def test_missing_release_is_one_line_and_exit_1(cache_url: str) -> None:
    for args in (["release", "999999999"], ["validate", "999999999", "Hunter"]):
        code, out, err = lookup(cache_url, *args)
        assert code == 1 and out == ""
        assert err == "error: release 999999999 not found\n"


def test_search_ignores_accents_and_respects_limit(cache_url: str) -> None:
    code, out, err = lookup(cache_url, "search", "--artist", "bjork")
    assert code == 0, err
    assert "Homogenic" in out and "Debut" in out and "Björk" in out
    code, out, _ = lookup(cache_url, "search", "-a", "radiohed", "--limit", "4", "--json")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 4 and all(h["artists"] == ["Radiohead"] for h in hits)
    code, _, err = lookup(cache_url, "search")
    assert code == 2 and "give --artist, --title or both" in err


def test_track_finds_compilation_credit(cache_url: str) -> None:
    code, out, err = lookup(cache_url, "track", "Blue Monday", "--artist", "New Order", "--json")
    assert code == 0, err
    assert {h["release_id"] for h in json.loads(out)} == {3, 4}
    code, out, _ = lookup(cache_url, "track", "blue monday")
    assert code == 0 and "Fats Domino" in out and "Now That's What I Call Music 1983" in out


def test_validate_exit_status(cache_url: str) -> None:
    code, out, _ = lookup(cache_url, "validate", "1", "JOGA")
    assert code == 0 and out.startswith("yes: 'JOGA' is track A2 'Jóga' of release 1")
    code, out, _ = lookup(cache_url, "validate", "5", "Creep")
    assert code == 1 and out.startswith("no: 'Creep' is not on release 5")
    code, out, _ = lookup(cache_url, "validate", "5", "paranoid android", "--json")
    assert code == 0 and json.loads(out)["matched"] is True


def test_unmigrated_database_is_a_one_line_error(empty_pg_url: str) -> None:
    code, _, err = lookup(empty_pg_url, "release", "1")
    assert code == 3 and err.startswith("error: cannot query the cache at ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_search_without_hits_says_so_and_exits_1(cache_url: str) -> None:
    for args in (
        ["search", "--artist", "Zzyzx Qwv"],
        ["track", "Qqqq Xxxx Zzzz"],
        ["find", "Zzyzx Qwv", "Nothing Here"],
    ):
        code, out, err = lookup(cache_url, *args)
        assert (code, out) == (1, ""), args
        assert err.startswith("no ") and ("Zz" in err or "Qq" in err), err
    code, out, _ = lookup(cache_url, "search", "--artist", "Zzyzx Qwv", "--json")
    assert (code, out) == (1, "[]\n")


def test_track_columns_have_distinct_names(cache_url: str) -> None:
    code, out, _ = lookup(cache_url, "track", "Blue Monday")
    header = out.splitlines()[0].split("  ")
    names = [h.strip() for h in header if h.strip()]
    assert code == 0 and len(names) == len(set(names)) and "release title" in names, names


def test_find_says_exact_or_fuzzy(cache_url: str) -> None:
    code, out, _ = lookup(cache_url, "find", "bjork", "homogenic")
    assert code == 0 and out.startswith("match: exact\n") and "Homogenic" in out
    code, out, _ = lookup(cache_url, "find", "Björkk", "Homogenik")
    assert code == 0 and out.startswith("match: fuzzy\n") and "Homogenic" in out
    code, out, _ = lookup(cache_url, "find", "--tracks", "New Order", "blue monday", "--json")
    assert code == 0 and '"exact": true' in out


def test_status_check_proves_the_lookup_tables_and_flags_a_drift(cache_url: str) -> None:
    import psycopg

    from discogs_cache.db import conninfo

    result = run_cli("status", "--check", "--database-url", cache_url, timeout=120)
    assert result.returncode == 0 and "lookup tables: equal to a rebuild" in result.stdout
    with psycopg.connect(conninfo(cache_url)) as conn:
        conn.execute("SET discogs_cache.bulk_lookup = on")  # a write that skips the triggers
        conn.execute("DELETE FROM track_key WHERE release_id = 3")
    result = run_cli("status", "--check", "--database-url", cache_url, timeout=120)
    assert result.returncode == 1
    assert result.stderr == (
        "error: derived lookup tables differ from a rebuild: track_key 3 missing / 0 extra\n"
    )
