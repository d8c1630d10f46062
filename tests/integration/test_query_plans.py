"""Every search the consumer API runs is planned on a trigram GIN index.

The cache gets enough generated rows (and ANALYZE) that a sequential scan would be the
planner's choice if the index did not fit the expression, then the exact SQL each function
sent is EXPLAINed with its parameters.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from discogs_cache import query
from discogs_cache.db import conninfo, create_engine
from discogs_cache.query._sql import PLANNER
from tests.integration.test_query import load_fixture_cache

WORDS = [
    "blue",
    "red",
    "night",
    "day",
    "love",
    "dream",
    "heart",
    "fire",
    "rain",
    "summer",
    "winter",
    "city",
    "river",
    "moon",
    "sun",
    "star",
    "dance",
    "soul",
    "black",
    "white",
    "golden",
    "silver",
    "shadow",
    "light",
    "electric",
    "velvet",
    "thunder",
    "ocean",
    "desert",
    "wild",
    "lost",
    "broken",
    "happy",
    "sweet",
    "crazy",
    "strange",
    "lonely",
    "midnight",
    "morning",
    "echo",
    "ghost",
    "paper",
]


def _fill(url: str, releases: int = 20_000, seed: int = 9) -> None:
    """COPY `releases` generated releases (3 tracks each, some track artists), then ANALYZE."""
    rng = random.Random(seed)

    def name(n: int) -> str:
        return " ".join(rng.choice(WORDS).title() for _ in range(n)) + f" {rng.randrange(10**6)}"

    with psycopg.connect(conninfo(url)) as conn, conn.cursor() as cur:
        with cur.copy("COPY release (id, title, release_year) FROM STDIN") as copy:
            for rid in range(10_000, 10_000 + releases):
                copy.write_row((rid, name(3), 1950 + rid % 70))
        with cur.copy("COPY release_artist (release_id, artist_name, extra) FROM STDIN") as copy:
            for rid in range(10_000, 10_000 + releases):
                copy.write_row((rid, name(2), 0))
        with cur.copy("COPY release_track (release_id, sequence, title) FROM STDIN") as copy:
            for rid in range(10_000, 10_000 + releases):
                for seq in (1, 2, 3):
                    copy.write_row((rid, seq, name(2)))
        with cur.copy(
            "COPY release_track_artist (release_id, track_sequence, artist_name) FROM STDIN"
        ) as copy:
            for rid in range(10_000, 10_000 + releases, 2):
                copy.write_row((rid, 1, name(2)))
        conn.commit()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("ANALYZE")


@pytest.fixture
def big_engine(pg_url: str) -> Iterator[sa.Engine]:
    load_fixture_cache(pg_url)
    _fill(pg_url)
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


def _plans(engine: sa.Engine, call: Callable[[], Any]) -> list[str]:
    """Run `call`, capturing the searches it sends, and return their EXPLAIN output."""
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "similarity" in statement:
            sent.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert sent, "the call sent no search"
    plans = []
    with engine.connect() as conn:
        for statement, params in sent:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            for name, value in PLANNER.items():  # what every lookup's transaction sets
                cursor.execute("SELECT set_config(%s, %s, false)", (name, value))
            cursor.execute("EXPLAIN " + statement, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


# each search and the trigram indexes its plan may start from
SEARCHES: dict[str, tuple[Callable[[sa.Engine], Any], set[str]]] = {
    "releases by title": (
        lambda e: query.search_releases(e, title="Homogenic"),
        {"ix_release_title_trgm"},
    ),
    "releases by artist": (
        lambda e: query.search_releases(e, artist="Bjork"),
        {"ix_lookup_artist_name_trgm", "ix_release_key_artist_folded"},
    ),
    "releases by artist and title": (
        lambda e: query.search_releases(e, artist="New Order", title="Substance"),
        {"ix_lookup_artist_name_trgm", "ix_release_key_artist_folded", "ix_release_title_trgm"},
    ),
    "artwork": (
        lambda e: query.artwork_url(e, "Bjork", "Homogenic"),
        {"ix_lookup_artist_name_trgm", "ix_release_key_artist_folded", "ix_release_title_trgm"},
    ),
    "exact release lookup (btree keys)": (
        lambda e: query.lookup_release(e, "Björk", "Homogenic"),
        {"ix_release_key_keys"},
    ),
    "exact track lookup (btree keys)": (
        lambda e: query.lookup_track(e, "New Order", "Blue Monday"),
        {"ix_track_key_keys"},
    ),
    "lookup miss, then the fuzzy path": (
        lambda e: query.lookup_release(e, "Bjrok", "Homogenc"),
        {"ix_release_key_keys", "ix_lookup_artist_name_trgm", "ix_release_title_trgm"},
    ),
    "tracks by title": (
        lambda e: query.search_tracks(e, "Blue Monday"),
        {"ix_release_track_title_trgm"},
    ),
    "tracks by title and artist": (
        lambda e: query.search_tracks(e, "Blue Monday", artist="New Order"),
        {
            "ix_release_track_title_trgm",
            "ix_release_track_artist_artist_name_trgm",
            "ix_lookup_artist_name_trgm",
            "ix_release_key_artist_folded",
        },
    ),
}


def test_every_search_uses_the_trigram_indexes(big_engine: sa.Engine) -> None:
    for label, (call, indexes) in SEARCHES.items():
        plans = _plans(big_engine, lambda c=call: c(big_engine))
        text = "\n".join(plans)
        # a combined search may drive from its most selective index and filter the rest
        assert any(index in text for index in indexes), f"{label}: no {indexes} in\n{text}"
        # The 42-word vocabulary makes every trigram of a name common, so the planner may
        # rather scan the distinct names (one row per name, not per credit) than their index;
        # on real names it takes the index (test_lookup_equivalence shows it).
        scans = text.replace("Seq Scan on lookup_artist_name", "")
        assert "Seq Scan" not in scans, f"{label}: sequential scan\n{text}"


def test_the_generated_rows_would_otherwise_be_scanned(big_engine: sa.Engine) -> None:
    """Guard for the test above: without a usable index the planner does scan these tables."""
    with big_engine.connect() as conn:
        plan = "\n".join(
            conn.execute(
                sa.text("EXPLAIN SELECT id FROM release WHERE lower(title) % 'homogenic'")
            ).scalars()
        )
    assert "Seq Scan on release" in plan


def test_exact_hits_are_btree_probes_and_misses_go_fuzzy(big_engine: sa.Engine) -> None:
    """An exact-key hit touches no trigram index; a miss adds the fuzzy search's."""
    for call, key in (
        (lambda: query.lookup_release(big_engine, "Björk", "Homogenic"), "ix_release_key_keys"),
        (lambda: query.lookup_track(big_engine, "New Order", "Blue Monday"), "ix_track_key_keys"),
    ):
        (plan,) = _plans(big_engine, call)
        assert key in plan and "_trgm" not in plan and "Seq Scan" not in plan, plan
    exact, fuzzy = _plans(big_engine, lambda: query.lookup_release(big_engine, "Bjrok", "Homogenc"))
    assert "ix_release_key_keys" in exact and "_trgm" not in exact, exact
    assert "ix_release_key_keys" not in fuzzy and "Seq Scan on release" not in fuzzy, fuzzy
