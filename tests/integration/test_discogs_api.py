"""The API client against the local fake API, booking slots with the real shared limiter."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from discogs_cache.discogs.api import (
    FAILED,
    FOUND,
    NO_IMAGE,
    NOT_FOUND,
    DiscogsAPI,
    Fetched,
    RetryPolicy,
    TokenRejected,
)
from discogs_cache.discogs.http import USER_AGENT
from discogs_cache.ratelimit import RateLimiter
from tests.fakes.discogs_api import FakeDiscogsAPI, images_for

TOKEN = "tok-ABCDEF-123456"
FAST = RetryPolicy(attempts=4, backoff=0.01, max_429=3)


@contextmanager
def client(
    pg_url: str, fake: FakeDiscogsAPI, token: str = TOKEN, timeout: float = 5.0
) -> Iterator[DiscogsAPI]:
    with (
        RateLimiter(pg_url, token, rate=600, window=1.0) as limiter,
        DiscogsAPI(limiter, token=token, base_url=fake.url, policy=FAST, timeout=timeout) as api,
    ):
        yield api


def test_outcomes_and_headers(pg_url: str) -> None:
    releases = {1: images_for(1, "primary"), 2: images_for(2, "secondary"), 3: []}
    with FakeDiscogsAPI(releases, token=TOKEN) as fake, client(pg_url, fake) as api:
        got = [api.release(i) for i in (1, 2, 3, 4)]
        assert api.requests == 4
        seen = [(h.release_id, h.status) for h in fake.log]
        agents = {h.agent for h in fake.log}
    assert got == [
        Fetched(1, FOUND, "https://i.discogs.test/release/1-2.jpg"),
        Fetched(2, FOUND, "https://i.discogs.test/release/2-1.jpg"),
        Fetched(3, NO_IMAGE),
        Fetched(4, NOT_FOUND),
    ]
    assert seen == [(1, 200), (2, 200), (3, 200), (4, 404)]
    assert agents == {USER_AGENT}
    assert USER_AGENT.startswith("discogs-cache/")


def test_500s_retry_then_succeed_or_give_up(pg_url: str) -> None:
    releases = {1: images_for(1, "primary"), 2: images_for(2, "primary")}
    with (
        FakeDiscogsAPI(releases, token=TOKEN, fail_500={1: 3, 2: 99}) as fake,
        client(pg_url, fake) as api,
    ):
        assert api.release(1).outcome == FOUND
        assert api.release(2) == Fetched(2, FAILED, detail="HTTP 500")
        assert [h.status for h in fake.hits(1)] == [500, 500, 500, 200]
        assert [h.status for h in fake.hits(2)] == [500, 500, 500, 500]


def test_429_burst_waits_retry_after_and_skips_nothing(pg_url: str) -> None:
    releases = {i: images_for(i, "primary") for i in range(1, 6)}
    with (
        FakeDiscogsAPI(releases, token=TOKEN, bursts={2: 2}, retry_after="1") as fake,
        client(pg_url, fake) as api,
    ):
        got = [api.release(i).outcome for i in range(1, 6)]
        statuses = [(h.release_id, h.status) for h in fake.log]
        gaps = [b.at - a.at for a, b in zip(fake.log, fake.log[1:], strict=False)]
    assert got == [FOUND] * 5
    assert statuses == [(1, 200), (2, 429), (2, 429), (2, 200), (3, 200), (4, 200), (5, 200)]
    assert gaps[1] >= 0.95 and gaps[2] >= 0.95  # each 429 waited its Retry-After


def test_persistent_429_gives_up_on_that_release(pg_url: str) -> None:
    with (
        FakeDiscogsAPI({1: []}, token=TOKEN, bursts={1: 10}, retry_after="0") as fake,
        client(pg_url, fake) as api,
    ):
        assert api.release(1) == Fetched(1, FAILED, detail="HTTP 429 again and again")
        assert len(fake.log) == FAST.max_429 + 1


def test_wrong_token_stops_with_a_message_without_the_token(pg_url: str) -> None:
    with FakeDiscogsAPI({1: []}, token="the-right-one") as fake, client(pg_url, fake) as api:
        with pytest.raises(TokenRejected) as info:
            api.release(1)
        assert len(fake.log) == 1 and not fake.log[0].authorized
    message = str(info.value)
    assert message == (
        f"Discogs refused the token (HTTP 401) at {fake.url}/releases/1: "
        "check DISCOGS_TOKEN or --token-file"
    )
    assert TOKEN not in message and "the-right-one" not in message


def test_slow_answers_wait_timeouts_retry_then_fail(pg_url: str) -> None:
    releases = {1: images_for(1, "primary"), 2: images_for(2, "primary")}
    with (
        FakeDiscogsAPI(releases, token=TOKEN, slow={1: 0.3, 2: 1.5}) as fake,
        client(pg_url, fake, timeout=0.8) as api,
    ):
        assert api.release(1).outcome == FOUND
        assert api.release(2) == Fetched(2, FAILED, detail="timed out")
        assert len(fake.hits(2)) == FAST.attempts


def test_low_remaining_budget_slows_down(pg_url: str) -> None:
    releases = {i: [] for i in range(1, 4)}
    with (
        FakeDiscogsAPI(releases, token=TOKEN, remaining={2: 0}) as fake,
        RateLimiter(pg_url, TOKEN, rate=10, window=1.0) as limiter,
        DiscogsAPI(limiter, token=TOKEN, base_url=fake.url, policy=FAST) as api,
    ):
        started = time.monotonic()
        for i in (1, 2, 3):
            api.release(i)
        elapsed = time.monotonic() - started
        gap = fake.log[2].at - fake.log[1].at
    # spacing is 1.03 s / 10; remaining 0 (low_remaining 3) defers 4 spacings
    assert gap >= 4 * 0.1
    assert elapsed < 2.0
