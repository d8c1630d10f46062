"""Everything a consumer imports is reachable from one package, `discogs_cache.query`."""

from __future__ import annotations

import discogs_cache.query as query
from discogs_cache import ratelimit, writeback


def test_query_names_the_write_back_path_and_the_shared_rate_limiter() -> None:
    assert query.store_release is writeback.store_release
    assert query.release_from_api is writeback.release_from_api
    assert query.NewRelease is writeback.NewRelease
    assert query.RateLimiter is ratelimit.RateLimiter


def test_every_public_name_exists() -> None:
    missing = [name for name in query.__all__ if not hasattr(query, name)]
    assert missing == []
    assert len(set(query.__all__)) == len(query.__all__)
