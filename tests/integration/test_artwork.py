"""The artwork top-up library function on real PostgreSQL against the local fake API."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from discogs_cache.discogs.api import RetryPolicy, TokenRejected
from discogs_cache.discogs.artwork import TopUpOptions, TopUpSummary, candidates, top_up
from tests.fakes.discogs_api import EveryRelease, FakeDiscogsAPI, catalog, expected_row, kind_of

TOKEN = "tok-artwork-7f3a9c"
RATE, WINDOW = 150, 3.0  # 3,000 requests a minute on a 3-second window: fast tests
FAST = RetryPolicy(attempts=4, backoff=0.01, max_429=5)


def seed(url: str, ids: range, api_fetched: tuple[int, ...] = ()) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO release (id, title) SELECT g, 'Album ' || g FROM unnest(%s::int[]) g",
            (list(ids),),
        )
        conn.execute(
            "INSERT INTO cache_metadata (release_id, source) "
            "SELECT g, CASE WHEN g = ANY(%s) THEN 'api_fetch' ELSE 'bulk_import' END "
            "FROM unnest(%s::int[]) g",
            (list(api_fetched), list(ids)),
        )


def rows(url: str) -> dict[int, tuple[str | None, bool, bool]]:
    with psycopg.connect(url) as conn:
        result = conn.execute(
            "SELECT id, artwork_url, not_found, artwork_checked_at IS NOT NULL FROM release"
        )
        return {r[0]: (r[1], r[2], r[3]) for r in result}


def options(fake: FakeDiscogsAPI, **kwargs: object) -> TopUpOptions:
    base: dict[str, object] = {
        "token": TOKEN,
        "rate": RATE,
        "window": WINDOW,
        "base_url": fake.url,
        "retry": FAST,
    }
    return TopUpOptions(**(base | kwargs))  # type: ignore[arg-type]


def test_top_up_stores_every_url_and_stamps_every_404(pg_url: str) -> None:
    ids = range(1, 301)
    seed(pg_url, ids)
    fake = FakeDiscogsAPI(
        catalog(ids),
        token=TOKEN,
        fail_500={i: 2 for i in ids if i % 37 == 0},
        slow={i: 0.2 for i in ids if i % 50 == 25},
        bursts={40: 3, 200: 2},
        limit=RATE,
        window=WINDOW,
    )
    with fake:
        summary = top_up(pg_url, options(fake))
        again = top_up(pg_url, options(fake))
        requests_after_first = len(fake.log)
    kinds = [kind_of(i) for i in ids]
    assert summary.to_json() | {"seconds": 0} == {
        "candidates": 300,
        "found": kinds.count("primary") + kinds.count("secondary"),
        "no_image": kinds.count("none"),
        "not_found": kinds.count("missing"),
        "failed": 0,
        "requests": 300 + 2 * 8 + 5,  # eight releases 500 twice, five 429s
        "seconds": 0,
    }
    assert summary.not_found == 30
    assert rows(pg_url) == {i: (*expected_row(i), True) for i in ids}
    # pacing, on the server's clock: never over the rate in any window, no 429 we caused
    assert fake.over_limit == 0
    assert fake.max_in_window(WINDOW) <= RATE
    # the second run finds nothing to ask
    assert again.candidates == 0 and again.requests == 0
    assert len(fake.log) == requests_after_first == summary.requests


def test_failures_are_left_for_the_next_run(pg_url: str) -> None:
    ids = range(1, 21)
    seed(pg_url, ids)
    with FakeDiscogsAPI(catalog(ids), token=TOKEN, fail_500={5: 99, 6: 4}) as fake:
        first = top_up(pg_url, options(fake))
        assert (first.failed, first.candidates) == (2, 20)
        assert rows(pg_url)[5] == (None, False, False)  # not stamped: asked again later
        second = top_up(pg_url, options(fake))
    assert (second.candidates, second.failed, second.found) == (2, 1, 1)
    assert second.requests == FAST.attempts + 1  # release 5 fails again, 6 answers at once
    assert rows(pg_url)[6] == (*expected_row(6), True)


def test_limit_dry_run_and_order(pg_url: str) -> None:
    ids = range(1, 31)
    seed(pg_url, ids, api_fetched=(25, 12))
    with FakeDiscogsAPI(catalog(ids), token=TOKEN) as fake:
        dry = top_up(pg_url, options(fake, dry_run=True))
        assert (dry.candidates, len(fake.log)) == (30, 0)
        assert dry.format() == (
            "artwork (dry run): 30 releases to check, about 0 min 01 s at 150 requests per 3 s"
        )
        top_up(pg_url, options(fake, limit=4, preferred=[[30], [3]]))
        asked = [h.release_id for h in fake.log]
    assert asked == [30, 3, 12, 25]  # KEEP tier, REVIEW tier, then consumer-fetched, then by id
    assert sorted(i for i, r in rows(pg_url).items() if r[2]) == [3, 12, 25, 30]


def test_recheck_after_asks_again_only_about_old_checks(pg_url: str) -> None:
    ids = range(1, 11)
    seed(pg_url, ids)
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            "UPDATE release SET artwork_checked_at = now() - interval '40 days', "
            "not_found = true WHERE id IN (1, 2)"
        )
        conn.execute(
            "UPDATE release SET artwork_checked_at = now() - interval '5 days' WHERE id = 3"
        )
        conn.execute("UPDATE release SET artwork_url = 'https://kept/4.jpg' WHERE id = 4")
        ids_30 = candidates(conn, 30)
        ids_180 = candidates(conn, 180)
    assert ids_30 == [5, 6, 7, 8, 9, 10, 1, 2]  # never checked first, then the old checks
    assert ids_180 == [5, 6, 7, 8, 9, 10]
    with FakeDiscogsAPI(catalog(ids), token=TOKEN) as fake:
        top_up(pg_url, options(fake, recheck_after_days=30))
    result = rows(pg_url)
    assert result[1] == (*expected_row(1), True)  # came back: artwork found, not_found cleared
    assert result[3] == (None, False, True)
    assert result[4] == ("https://kept/4.jpg", False, False)  # a consumer's artwork stays


def test_token_rejected_keeps_what_was_fetched(pg_url: str) -> None:
    ids = range(1, 6)
    seed(pg_url, ids)
    with (
        FakeDiscogsAPI(catalog(ids), token="another-token") as fake,
        pytest.raises(TokenRejected) as info,
    ):
        top_up(pg_url, options(fake))
    assert TOKEN not in str(info.value) and "another-token" not in str(info.value)
    assert TOKEN not in repr(options(fake))
    assert all(not r[2] for r in rows(pg_url).values())


def test_summary_table() -> None:
    s = TopUpSummary(candidates=4, found=1, no_image=1, not_found=1, failed=1, requests=6)
    s.seconds = 125
    assert s.format().splitlines() == [
        "artwork: 4 releases checked in 2 min 05 s",
        "outcome                    releases",
        "-------------------------  --------",
        "found                             1",
        "no image                          1",
        "not found (404)                   1",
        "failed (next run retries)         1",
        "requests                          6",
    ]


def test_run_hook_asks_about_the_classifiers_matches_first(pg_url: str, tmp_path: Path) -> None:
    from discogs_cache.convert import convert
    from discogs_cache.demo import demo_data
    from discogs_cache.pipeline.artwork import top_up_after_run
    from discogs_cache.pipeline.options import RunOptions
    from discogs_cache.pipeline.run import run

    convert(demo_data() / "post2024", tmp_path / "csv", workers=1)
    run_options = RunOptions(
        database_url=pg_url,
        csv_dir=tmp_path / "csv",
        library_db=demo_data() / "library.db",
        state_file=tmp_path / "state.json",
        artwork=True,
    )
    run(run_options)
    built = set(rows(pg_url))
    seed(pg_url, range(-5, 0))  # unmatched releases with the lowest ids, added after the run
    with FakeDiscogsAPI(EveryRelease(), token=TOKEN) as fake:
        summary = top_up_after_run(
            run_options, token=TOKEN, rate=RATE, window=WINDOW, base_url=fake.url
        )
        asked = [h.release_id for h in fake.log]
    assert summary.candidates == len(built) + 5
    assert set(asked[: len(built)]) == built and asked[len(built) :] == [-5, -4, -3, -2, -1]
