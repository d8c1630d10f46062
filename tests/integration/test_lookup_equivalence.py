"""The fast lookups return exactly what the contract's reference predicate query returns.

A generated cache (benchmarks/synth.py with the real dump excerpt's title vocabulary, as
bench_query.py uses; loaded with `load`, indexed) gets 1,000 random
queries built from its own rows: verbatim, with a typo, or with accents and case changed.
Each fast call (the distinct-name artist path, the exact-key lookups) is compared with the
reference SQL written here from SPEC "Consumers": `lower(f_unaccent(col)) %
lower(f_unaccent(:q))` on the base tables, ranked by similarity() then id, same threshold.
An exact-key hit must be the reference rows of the releases (tracks) whose keys equal the
query's, the keys computed here in Python with `discogs_cache.normalize`.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from discogs_cache import progress, query
from discogs_cache.db import create_engine
from discogs_cache.index import build_indexes
from discogs_cache.load import load
from discogs_cache.normalize import artist_key, normalize_title
from tests.conftest import _create_database, _drop_database, _with_database
from tests.integration.test_query_plans import _plans

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_query import real_vocabulary_csvs
from synth import write_synthetic_csvs

RELEASES = 20_000
QUERIES = 1_000
LIMIT = query.DEFAULT_LIMIT

FOLD = "lower(f_unaccent({}))"
CREDITED = f"""
SELECT release_id, max(similarity({FOLD.format("artist_name")}, {FOLD.format(":artist")})) AS s
FROM release_artist
WHERE extra = 0 AND {FOLD.format("artist_name")} % {FOLD.format(":artist")}
GROUP BY release_id
"""
REF_BY_ARTIST = f"""
SELECT r.id, c.s AS score FROM release r JOIN ({CREDITED}) c ON c.release_id = r.id
ORDER BY score DESC, r.id
"""
REF_BY_ARTIST_TITLE = f"""
SELECT r.id, (c.s + similarity({FOLD.format("r.title")}, {FOLD.format(":title")}))
       / 2.0::double precision AS score
FROM release r JOIN ({CREDITED}) c ON c.release_id = r.id
WHERE {FOLD.format("r.title")} % {FOLD.format(":title")}
ORDER BY score DESC, r.id
"""
REF_TRACKS = f"""
SELECT t.release_id, t.sequence,
       (similarity({FOLD.format("t.title")}, {FOLD.format(":title")})
        + greatest(coalesce(ot.s, 0.0::double precision), coalesce(c.s, 0.0::double precision)))
       / 2::numeric AS score
FROM release_track t JOIN release r ON r.id = t.release_id
LEFT JOIN (
    SELECT release_id, track_sequence,
           max(similarity({FOLD.format("artist_name")}, {FOLD.format(":artist")})) AS s
    FROM release_track_artist
    WHERE extra = 0 AND {FOLD.format("artist_name")} % {FOLD.format(":artist")}
    GROUP BY release_id, track_sequence
) ot ON ot.release_id = t.release_id AND ot.track_sequence = t.sequence
LEFT JOIN ({CREDITED}) c ON c.release_id = t.release_id
WHERE {FOLD.format("t.title")} % {FOLD.format(":title")} AND (ot.s IS NOT NULL OR c.s IS NOT NULL)
ORDER BY score DESC, t.release_id, t.sequence
"""

ACCENTED = str.maketrans("aeiouAEIOUnc", "áéíöüÁÉÍÖÜñç")


@pytest.fixture(scope="module")
def cache(
    pg_server_url: str, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    """A generated cache of RELEASES releases, loaded and indexed once for the module."""
    csv_dir = tmp_path_factory.mktemp("synth") / "csv"
    write_synthetic_csvs(csv_dir, RELEASES, seed=11)
    csv_dir = real_vocabulary_csvs(csv_dir)  # titles with real word frequencies
    name = _create_database(pg_server_url, template=pg_template)
    url = _with_database(pg_server_url, name)
    progress.set_quiet(True)
    load(url, csv_dir)
    build_indexes(url)
    engine = create_engine(url)
    yield engine
    engine.dispose()
    _drop_database(pg_server_url, name)


def vary(text: str, rng: random.Random) -> str:
    """Verbatim, one typo, or accents and case changed."""
    kind = rng.randrange(3)
    if kind == 0 or len(text) < 4:
        return text
    if kind == 1:
        cut = rng.randrange(1, len(text) - 1)
        return text[:cut] + rng.choice("xqzk") + text[cut + 1 :]
    return text.translate(ACCENTED).swapcase() if rng.random() < 0.5 else text.upper()


def _rows(engine: sa.Engine, statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(statement), params)]


def _samples(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        releases = conn.execute(
            sa.text(
                "SELECT a.release_id, a.artist_name, r.title FROM release_artist a"
                " JOIN release r ON r.id = a.release_id WHERE a.extra = 0 ORDER BY 1, 2"
            )
        ).all()
        tracks = conn.execute(
            sa.text(
                "SELECT t.release_id, t.sequence, a.artist_name, t.title FROM release_track t"
                " JOIN release_artist a ON a.release_id = t.release_id AND a.extra = 0"
                " UNION SELECT t.release_id, t.sequence, ta.artist_name, t.title"
                " FROM release_track t JOIN release_track_artist ta"
                " ON ta.release_id = t.release_id AND ta.track_sequence = t.sequence"
                " AND ta.extra = 0"
                " ORDER BY 1, 2, 3"
            )
        ).all()
    return {"releases": [tuple(r) for r in releases], "tracks": [tuple(r) for r in tracks]}


def _python_keys(samples: dict[str, list[tuple[Any, ...]]]) -> dict[str, dict[Any, set[Any]]]:
    """The exact keys as `discogs_cache.normalize` computes them, from the base rows."""
    releases: dict[Any, set[Any]] = defaultdict(set)
    for release_id, artist, title in samples["releases"]:
        releases[(artist_key(artist), normalize_title(title))].add(release_id)
    tracks: dict[Any, set[Any]] = defaultdict(set)
    for release_id, sequence, artist, title in samples["tracks"]:
        tracks[(artist_key(artist), normalize_title(title))].add((release_id, sequence))
    return {"releases": releases, "tracks": tracks}


def _expected(reference: list[tuple[Any, ...]], keyed: set[Any], width: int) -> tuple[bool, Any]:
    """What an exact-first lookup must return: the reference rows among the keyed ones if
    there are any, else the reference rows."""
    among = [r for r in reference if (r[0] if width == 1 else r[:2]) in keyed]
    return (True, among[:LIMIT]) if among else (False, reference[:LIMIT])


def test_thousand_random_queries_match_the_reference(cache: sa.Engine) -> None:
    rng = random.Random(2026)
    samples = _samples(cache)
    keys = _python_keys(samples)
    kinds = ("artist", "artist+title", "lookup_release", "lookup_track")
    exact_hits = defaultdict(int)
    for i in range(QUERIES):
        kind = kinds[i % len(kinds)]
        if kind == "lookup_track":
            _, _, artist, title = rng.choice(samples["tracks"])
        else:
            _, artist, title = rng.choice(samples["releases"])
        artist, title = vary(artist, rng), vary(title, rng)
        params = {"artist": artist, "title": title}
        where = f"query {i} ({kind}): {artist!r} / {title!r}"
        if kind == "artist":
            got = [(m.release_id, m.score) for m in query.search_releases(cache, artist=artist)]
            assert got == _rows(cache, REF_BY_ARTIST, params)[:LIMIT], where
        elif kind == "artist+title":
            found = query.search_releases(cache, artist=artist, title=title)
            got = [(m.release_id, m.score) for m in found]
            assert got == _rows(cache, REF_BY_ARTIST_TITLE, params)[:LIMIT], where
        elif kind == "lookup_release":
            result = query.lookup_release(cache, artist, title)
            keyed = keys["releases"].get((artist_key(artist), normalize_title(title)), set())
            exact, rows = _expected(_rows(cache, REF_BY_ARTIST_TITLE, params), keyed, 1)
            assert (result.exact, [(m.release_id, m.score) for m in result.matches]) == (
                exact,
                rows,
            ), where
            exact_hits[kind] += exact
        else:
            result_t = query.lookup_track(cache, artist, title)
            keyed = keys["tracks"].get((artist_key(artist), normalize_title(title)), set())
            exact, rows = _expected(_rows(cache, REF_TRACKS, params), keyed, 2)
            got_t = [(m.release_id, m.sequence, m.score) for m in result_t.matches]
            assert (result_t.exact, got_t) == (exact, rows), where
            exact_hits[kind] += exact
    # both paths were exercised: verbatim and accent/case variants hit the keys, typos miss
    for kind in ("lookup_release", "lookup_track"):
        assert 50 < exact_hits[kind] < 250, (kind, exact_hits[kind])


def test_each_path_is_planned_on_its_index(cache: sa.Engine) -> None:
    """On these names the fuzzy artist path starts from the distinct names' trigram index,
    the exact paths from their btree keys (EXPLAIN of the SQL each call sends)."""
    artist, title = _samples(cache)["releases"][123][1:]
    plans = {
        "ix_lookup_artist_name_trgm": lambda: query.search_releases(cache, artist=artist[:-1]),
        "ix_release_key_keys": lambda: query.lookup_release(cache, artist, title),
    }
    for index, call in plans.items():
        text = "\n".join(_plans(cache, call))
        assert index in text and "Seq Scan" not in text, text
