"""The Discogs request budget, shared through PostgreSQL by every process using one token.

Discogs allows 60 requests a minute per token (25 without one), counted over a moving
60-second window, whatever process sends them. A process-local sleep cannot keep two
top-ups, or a top-up and the station's own lookup service, under that budget together; one
row per token in `discogs_rate_limit` can. Before each request, `acquire()` locks the row
(`SELECT ... FOR UPDATE`, a short transaction) and books the current time when

- at least `span` has passed since the `rate`-th most recent booking (the hard limit: no
  window of `span` seconds ever holds more than `rate` requests, across every process
  booking on the row), and
- about `span / rate` since the last one (requests spread evenly, not sent in bursts);

else it sleeps until they will and tries again. The booking is the moment just before the
request goes out, so a late wake-up never squeezes two requests closer than allowed.
`span` is the window plus a safety margin (3%, at most 0.5 s) for the delay between a
booking and the server's clock. A steady top-up reaches ~99% of its rate on Discogs'
60-s window. `defer()` books a phantom slot in the future when the server asks everyone to
wait (429 Retry-After, a low remaining budget).

The row's key is a SHA-256 of the token (never the token itself); "anonymous" without one.
Processes sharing a token should use the same rate; each one enforces its own.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg

from discogs_cache.db import check_postgres_url, connect, database_errors, describe
from discogs_cache.errors import DatabaseError

ENV_URL = "DISCOGS_RATELIMIT_URL"
WINDOW = 60.0
"""Seconds over which Discogs counts requests."""
RATE_WITH_TOKEN = 55
"""Default requests per window with a token: Discogs allows 60; 5 stay for other clients."""
RATE_WITHOUT_TOKEN = 25
"""Default requests per window without a token (the API's anonymous limit)."""
SAFETY = 0.03
"""Fraction of the window added to it, for the delay between a slot and the server's clock."""
MAX_MARGIN = 0.5
"""...but never more than this many seconds: that delay is milliseconds, whatever the window."""
SLACK = 0.15
"""How much closer than `span / rate` two requests may be: the spacing only smooths bursts
(at most 1/(1-SLACK) the even rate); the window is the hard limit and binds in a steady
run, so the few ms each booking costs are lost once per window, not once per request."""

_CREATE_ROW = "INSERT INTO discogs_rate_limit (key) VALUES (%s) ON CONFLICT (key) DO NOTHING"
_LOCK_ROW = "SELECT stamps FROM discogs_rate_limit WHERE key = %s FOR UPDATE"
# Read the clock in its own statement, once the row is locked: in the locking statement it
# could be evaluated before a wait for another booking's lock, i.e. too early.
_NOW = "SELECT extract(epoch FROM clock_timestamp())::float8"


def shared_url(cache_url: str) -> str:
    """The database holding the budget: `$DISCOGS_RATELIMIT_URL`, else the cache's own.

    Caches in several databases (or services elsewhere) that use one token point it at the
    same database, so they book on one row; it needs the `discogs_rate_limit` table (0005).
    """
    other = os.environ.get(ENV_URL)
    return check_postgres_url(other) if other else cache_url


def token_key(token: str | None) -> str:
    """The row key for `token`: a hash, so the table never holds a usable credential."""
    if not token:
        return "anonymous"
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def default_rate(token: str | None) -> int:
    """Requests per minute when the user gives none: 55 with a token, 25 without."""
    return RATE_WITH_TOKEN if token else RATE_WITHOUT_TOKEN


def next_slot(stamps: list[float], now: float, rate: int, span: float) -> float:
    """The earliest time >= now that keeps `rate` per `span` (strict) and the spacing (soft).

    `stamps` are the booked times, ascending; pure function, so it is tested directly.
    """
    slot = now
    if stamps:
        slot = max(slot, stamps[-1] + span / rate * (1 - SLACK))
    if len(stamps) >= rate:
        slot = max(slot, stamps[-rate] + span)
    return slot


@dataclass
class RateLimiter:
    """Books request slots for one token in the `discogs_rate_limit` row of database `url`.

    Use as a context manager (it keeps one connection); `acquire()` before every request.
    """

    url: str = field(repr=False)
    token: str | None = field(repr=False)
    rate: int
    window: float = WINDOW
    _conn: psycopg.Connection | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.rate < 1:
            raise ValueError("rate must be at least 1 request per window")
        self.key = token_key(self.token)
        self.span = self.window + min(SAFETY * self.window, MAX_MARGIN)

    def __enter__(self) -> RateLimiter:
        self._conn = connect(self.url)
        try:
            with self._errors():
                self._conn.execute(_CREATE_ROW, (self.key,))
                self._conn.commit()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Driver errors as one-line DatabaseErrors; a missing table says what to run."""
        try:
            with database_errors(self.url, "rate limiter"):
                yield
        except psycopg.errors.UndefinedTable:
            raise DatabaseError(
                f"rate limiter at {describe(self.url)}: table discogs_rate_limit is missing; "
                "run `discogs-cache migrate` first"
            ) from None

    def _book(self, phantom: float | None) -> float:
        """Book now if the window and spacing allow (0.0), else the seconds to wait first.

        With `phantom`, book a slot that many seconds ahead instead (see `defer`).
        """
        if self._conn is None:
            raise RuntimeError("RateLimiter used outside its `with` block")
        with self._errors(), self._conn.transaction():
            row = self._conn.execute(_LOCK_ROW, (self.key,)).fetchone()
            if row is None:  # deleted under us: book on a fresh row
                self._conn.execute(_CREATE_ROW, (self.key,))
                row = self._conn.execute(_LOCK_ROW, (self.key,)).fetchone()
            clock = self._conn.execute(_NOW).fetchone()
            assert row is not None and clock is not None
            stamps, now = sorted(row[0]), float(clock[0])
            live = [s for s in stamps if s > now - self.span]
            if phantom is not None:
                live.append(max(now + phantom, live[-1] if live else now))
            else:
                slot = next_slot(live, now, self.rate, self.span)
                if slot > now:
                    return slot - now
                live.append(now)
            self._conn.execute(
                "UPDATE discogs_rate_limit SET stamps = %s, updated_at = now() WHERE key = %s",
                (sorted(live), self.key),
            )
        return 0.0

    def acquire(self) -> float:
        """Return when this process may send a request (booked); the seconds waited."""
        waited = 0.0
        while (wait := self._book(None)) > 0:
            time.sleep(wait)
            waited += wait
        return waited

    def defer(self, seconds: float) -> None:
        """Make every process on this token wait `seconds` from now before its next slot."""
        if seconds > 0:
            self._book(seconds)


__all__ = [
    "ENV_URL",
    "MAX_MARGIN",
    "RATE_WITHOUT_TOKEN",
    "RATE_WITH_TOKEN",
    "SAFETY",
    "SLACK",
    "WINDOW",
    "RateLimiter",
    "default_rate",
    "next_slot",
    "shared_url",
    "token_key",
]
