"""The Discogs API client for one call, `GET /releases/{id}`, with Discogs' error rules.

Every request first books a slot with the shared rate limiter. The answers map to outcomes
the top-up stores: 200 with images -> `found` (the primary image's uri, else the first
image's), 200 without -> `no_image`, 404 -> `not_found`. 429 waits `Retry-After` for every
process on the token (`limiter.defer`) and retries the same release. 5xx, timeouts and
broken connections retry with exponential backoff and jitter, then give up with `failed`
(left for the next run). 401/403 mean the token is wrong: `TokenRejected` stops the run.
A low `X-Discogs-Ratelimit-Remaining` (someone else is spending the budget) slows everyone
on the token down a little.

The token travels only in the Authorization header; no message built here contains it.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from discogs_cache.discogs.http import DEFAULT_TIMEOUT, make_client, safe_url
from discogs_cache.errors import CacheError, InputError

DEFAULT_API_URL = "https://api.discogs.com"
ENV_API_URL = "DISCOGS_API_URL"
ENV_TOKEN = "DISCOGS_TOKEN"

FOUND = "found"
NO_IMAGE = "no_image"
NOT_FOUND = "not_found"
FAILED = "failed"
OUTCOMES = (FOUND, NO_IMAGE, NOT_FOUND, FAILED)


class TokenRejected(CacheError):
    """Discogs answered 401/403: the token is wrong, revoked or missing where needed."""


class Limiter(Protocol):
    """What the client needs from `discogs_cache.ratelimit.RateLimiter`."""

    window: float
    rate: int

    def acquire(self) -> float: ...

    def defer(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class Fetched:
    """What one release's request ended in; `detail` says why when it `failed`."""

    release_id: int
    outcome: str
    artwork_url: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: 5xx/timeouts `attempts` times in all, backoff doubling from `backoff`
    seconds (x0.5-1.5 jitter); at most `max_429` rate-limit answers per release; slow down
    when the server's remaining budget is at or below `low_remaining`."""

    attempts: int = 4
    backoff: float = 2.0
    max_429: int = 10
    low_remaining: int = 3


def api_url() -> str:
    """The API base URL: `$DISCOGS_API_URL` (tests, mirrors), else the real API."""
    return os.environ.get(ENV_API_URL) or DEFAULT_API_URL


def resolve_token(token_file: Path | None = None) -> str | None:
    """The token: from `token_file` (first line) if given, else `$DISCOGS_TOKEN`, else None.

    Errors name the file, never its content.
    """
    if token_file is None:
        return (os.environ.get(ENV_TOKEN) or "").strip() or None
    try:
        text = Path(token_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InputError(f"cannot read the token file {token_file}: {reason}") from None
    lines = text.strip().splitlines()
    if not lines or not lines[0].strip():
        raise InputError(f"the token file {token_file} is empty")
    return lines[0].strip()


def pick_artwork(images: Any) -> str | None:
    """The primary image's uri, else the first image's; None without a usable image."""
    if not isinstance(images, list):
        return None
    usable = [i for i in images if isinstance(i, dict) and isinstance(i.get("uri"), str)]
    usable = [i for i in usable if i["uri"].strip()]
    for image in usable:
        if image.get("type") == "primary":
            return str(image["uri"])
    return str(usable[0]["uri"]) if usable else None


def retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


class DiscogsAPI:
    """A client for one base URL and token; use as a context manager around a top-up."""

    def __init__(
        self,
        limiter: Limiter,
        *,
        token: str | None,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limiter = limiter
        self.base_url = (base_url or api_url()).rstrip("/")
        self.policy = policy or RetryPolicy()
        self.requests = 0
        self._headers = {"Authorization": f"Discogs token={token}"} if token else {}
        self._timeout = timeout
        self._sleep = sleep
        self._client: httpx.Client | None = None

    def __enter__(self) -> DiscogsAPI:
        self._client = make_client(self.base_url, headers=self._headers, timeout=self._timeout)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _get(self, path: str) -> httpx.Response | str:
        """One paced request: the response, or a one-line reason when the transport failed."""
        if self._client is None:
            raise RuntimeError("DiscogsAPI used outside its `with` block")
        self.limiter.acquire()
        self.requests += 1
        try:
            return self._client.get(path, headers={"Accept": "application/json"})
        except httpx.TimeoutException:
            return "timed out"
        except httpx.TransportError as exc:
            return f"connection failed ({type(exc).__name__})"

    def _backoff(self, attempt: int) -> None:
        self._sleep(self.policy.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))

    def _slow_down(self, response: httpx.Response) -> None:
        try:
            remaining = int(response.headers.get("X-Discogs-Ratelimit-Remaining", ""))
        except ValueError:
            return
        low = self.policy.low_remaining
        if remaining <= low:
            spacing = self.limiter.window / self.limiter.rate
            self.limiter.defer(spacing * (low - remaining + 1))

    def release(self, release_id: int) -> Fetched:
        """Fetch release `release_id` and say what it holds (see the module docstring)."""
        path = f"/releases/{int(release_id)}"
        failures = rate_limited = 0
        while True:
            response = self._get(path)
            if isinstance(response, str):
                reason = response
            else:
                status = response.status_code
                if status in (401, 403):
                    raise TokenRejected(
                        f"Discogs refused the token (HTTP {status}) at "
                        f"{safe_url(self.base_url + path)}: check DISCOGS_TOKEN or --token-file"
                    )
                if status == 429:
                    rate_limited += 1
                    if rate_limited > self.policy.max_429:
                        return Fetched(release_id, FAILED, detail="HTTP 429 again and again")
                    wait = retry_after(response.headers.get("Retry-After"), self.limiter.window)
                    self.limiter.defer(wait)
                    continue
                self._slow_down(response)
                if status == 404:
                    return Fetched(release_id, NOT_FOUND)
                if status == 200:
                    return self._parse(release_id, response)
                if status < 500:
                    return Fetched(release_id, FAILED, detail=f"HTTP {status}")
                reason = f"HTTP {status}"
            failures += 1
            if failures >= self.policy.attempts:
                return Fetched(release_id, FAILED, detail=reason)
            self._backoff(failures)

    @staticmethod
    def _parse(release_id: int, response: httpx.Response) -> Fetched:
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Fetched(release_id, FAILED, detail="not JSON")
        if not isinstance(data, dict):
            return Fetched(release_id, FAILED, detail="not a release object")
        url = pick_artwork(data.get("images"))
        return Fetched(release_id, FOUND, url) if url else Fetched(release_id, NO_IMAGE)
