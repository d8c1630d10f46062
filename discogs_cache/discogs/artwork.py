"""The artwork top-up: fill `release.artwork_url` from the Discogs API, paced and resumable.

Dumps carry no artwork (blank image URIs since 2015, no `<images>` since 2024-12), so a
background pass asks the API, one `GET /releases/{id}` per release, within the token's
shared budget (`discogs_cache.ratelimit`).

Candidates: releases without artwork never checked, plus those checked more than
`recheck_after_days` ago that still have none (a 404 or a release without images may
change). The most useful first: the `preferred` tiers of ids (the classifier's KEEP, then
REVIEW, when the caller has them: `run --artwork` reads the run's classification), then releases a
consumer fetched from the API (`cache_metadata.source = 'api_fetch'`: the station asked for
them; the database keeps no classification, and after a prune every bulk release left was
matched anyway), then by id.

Each answer is written with a check stamp (`artwork_checked_at`; a 404 also sets
`not_found`) in small batches. The candidate list is read once at the start from those
stamps, so a re-run skips everything written; a kill loses at most the unwritten batch.
Failures (5xx, timeouts after the retries) are not stamped: the next run tries them again.
Writes never replace artwork a consumer stored meanwhile (`WHERE artwork_url IS NULL`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from discogs_cache import faults, progress
from discogs_cache.db import connect, database_errors, describe
from discogs_cache.discogs.api import (
    FAILED,
    FOUND,
    NO_IMAGE,
    NOT_FOUND,
    DiscogsAPI,
    Fetched,
    RetryPolicy,
)
from discogs_cache.errors import DatabaseError
from discogs_cache.ratelimit import WINDOW, RateLimiter, default_rate, shared_url

DEFAULT_RECHECK_DAYS = 180.0
BATCH_SIZE = 10

_CANDIDATES = """
SELECT r.id, false AS recheck, coalesce(m.source = 'api_fetch', false) AS asked
FROM release r LEFT JOIN cache_metadata m ON m.release_id = r.id
WHERE r.artwork_url IS NULL AND r.artwork_checked_at IS NULL
UNION ALL
SELECT r.id, true, coalesce(m.source = 'api_fetch', false)
FROM release r LEFT JOIN cache_metadata m ON m.release_id = r.id
WHERE r.artwork_url IS NULL
  AND r.artwork_checked_at < now() - make_interval(secs => %(recheck)s)
"""

_WRITES = {
    FOUND: "UPDATE release SET artwork_url = %(url)s, artwork_checked_at = now(), "
    "not_found = false WHERE id = %(id)s AND artwork_url IS NULL",
    NO_IMAGE: "UPDATE release SET artwork_checked_at = now(), not_found = false "
    "WHERE id = %(id)s AND artwork_url IS NULL",
    NOT_FOUND: "UPDATE release SET artwork_checked_at = now(), not_found = true "
    "WHERE id = %(id)s AND artwork_url IS NULL",
}


@dataclass
class TopUpOptions:
    """What a top-up does; `rate` is per `window` seconds (None: 55 with a token, 25 without).

    `limiter_url`: the database holding the token's shared budget (default:
    `$DISCOGS_RATELIMIT_URL`, else the cache's own; see `ratelimit.shared_url`).
    """

    token: str | None = field(default=None, repr=False)
    rate: int | None = None
    limit: int | None = None
    recheck_after_days: float = DEFAULT_RECHECK_DAYS
    dry_run: bool = False
    preferred: Sequence[Collection[int]] = ()
    base_url: str | None = None
    limiter_url: str | None = field(default=None, repr=False)
    window: float = WINDOW
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    batch_size: int = BATCH_SIZE
    timeout: float = 30.0

    @property
    def effective_rate(self) -> int:
        return self.rate if self.rate is not None else default_rate(self.token)


@dataclass
class TopUpSummary:
    """What a top-up did: one count per outcome, the requests sent and the time taken."""

    candidates: int = 0
    found: int = 0
    no_image: int = 0
    not_found: int = 0
    failed: int = 0
    requests: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    rate: int = 0
    window: float = WINDOW

    def add(self, fetched: Fetched) -> None:
        setattr(self, fetched.outcome, getattr(self, fetched.outcome) + 1)

    @property
    def eta_seconds(self) -> float:
        """How long the candidates take at the rate (what a dry run announces)."""
        return self.candidates * self.window / self.rate if self.rate else 0.0

    def to_json(self) -> dict[str, Any]:
        keys = ("candidates", "found", "no_image", "not_found", "failed", "requests")
        return {k: getattr(self, k) for k in keys} | {"seconds": round(self.seconds, 3)}

    def format(self) -> str:
        if self.dry_run:
            return (
                f"artwork (dry run): {self.candidates} releases to check, "
                f"about {_duration(self.eta_seconds)} at {self.rate} requests "
                f"per {self.window:g} s"
            )
        rows = [
            ("found", self.found),
            ("no image", self.no_image),
            ("not found (404)", self.not_found),
            ("failed (next run retries)", self.failed),
            ("requests", self.requests),
        ]
        head = f"artwork: {self.candidates} releases checked in {_duration(self.seconds)}"
        return head + "\n" + progress.format_table(("outcome", "releases"), rows)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def candidates(
    conn: psycopg.Connection,
    recheck_after_days: float,
    preferred: Sequence[Collection[int]] = (),
) -> list[int]:
    """The ids to ask about, most useful first (see the module docstring).

    `preferred` are tiers of ids asked about before the rest, in order (KEEP, then REVIEW).
    """
    rows = conn.execute(_CANDIDATES, {"recheck": recheck_after_days * 86400.0}).fetchall()
    tier: dict[int, int] = {}
    for rank, ids in reversed(list(enumerate(preferred))):
        tier.update(dict.fromkeys(ids, rank))
    last = len(preferred)
    order = {rid: (tier.get(rid, last), recheck, not asked, rid) for rid, recheck, asked in rows}
    return sorted(order, key=order.__getitem__)


def write_batch(conn: psycopg.Connection, results: Sequence[Fetched]) -> None:
    """Store a batch of answers (with their check stamps) in one short transaction."""
    with conn.transaction(), conn.cursor() as cur:
        for outcome, statement in _WRITES.items():
            params = [
                {"id": f.release_id, "url": f.artwork_url} for f in results if f.outcome == outcome
            ]
            if params:
                cur.executemany(statement, params)


def top_up(url: str, options: TopUpOptions) -> TopUpSummary:
    """Ask the API about the candidate releases of the cache at `url` and store the answers.

    Takes no lock: callers that write a live cache hold the pipeline lock around it
    (`discogs-cache artwork` does). Raises `TokenRejected` on 401/403, after storing what
    it had fetched.
    """
    rate = options.effective_rate
    summary = TopUpSummary(dry_run=options.dry_run, rate=rate, window=options.window)
    with connect(url) as conn:
        try:
            with database_errors(url, "artwork top-up"):
                ids = candidates(conn, options.recheck_after_days, options.preferred)
        except (psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedTable):
            raise DatabaseError(
                f"artwork top-up at {describe(url)}: no cache schema, or one too old (no "
                "release.artwork_checked_at); run `discogs-cache migrate` first"
            ) from None
        conn.commit()
        if options.limit is not None:
            ids = ids[: options.limit]
        summary.candidates = len(ids)
        if options.dry_run or not ids:
            return summary
        progress.note(
            f"artwork: {len(ids)} releases to check at {rate} requests per "
            f"{options.window:g} s (about {_duration(summary.eta_seconds)})"
        )
        with progress.timed("artwork top-up") as clock:
            _fetch_all(conn, url, ids, options, summary)
        summary.seconds = clock["seconds"]
    return summary


def top_up_locked(url: str, options: TopUpOptions) -> TopUpSummary:
    """`top_up` under the pipeline lock (LockedError when another writer holds it); a dry
    run writes nothing and takes no lock."""
    if options.dry_run:
        return top_up(url, options)
    from discogs_cache.pipeline.lock import pipeline_lock

    with pipeline_lock(url):
        return top_up(url, options)


def _fetch_all(
    conn: psycopg.Connection, url: str, ids: list[int], options: TopUpOptions, summary: TopUpSummary
) -> None:
    budget_url = options.limiter_url or shared_url(url)
    limiter = RateLimiter(budget_url, options.token, options.effective_rate, options.window)
    api = DiscogsAPI(
        limiter,
        token=options.token,
        base_url=options.base_url,
        policy=options.retry,
        timeout=options.timeout,
    )
    pending: list[Fetched] = []
    with limiter, api, progress.bar(total=len(ids), desc="artwork", unit="release") as bar:
        try:
            for rid in ids:
                fetched = api.release(rid)
                faults.point("artwork.after_fetch")
                summary.add(fetched)
                bar.update(1)
                if fetched.outcome == FAILED:
                    progress.note(
                        f"artwork: release {rid} failed ({fetched.detail}), left for later"
                    )
                    continue
                pending.append(fetched)
                if len(pending) >= options.batch_size:
                    with database_errors(url, "artwork top-up"):
                        write_batch(conn, pending)
                    pending.clear()
                    faults.point("artwork.after_batch")
        finally:
            summary.requests = api.requests
            if pending and not conn.closed:
                with database_errors(url, "artwork top-up"):
                    write_batch(conn, pending)


__all__ = [
    "BATCH_SIZE",
    "DEFAULT_RECHECK_DAYS",
    "TopUpOptions",
    "TopUpSummary",
    "candidates",
    "top_up",
    "top_up_locked",
    "write_batch",
]
