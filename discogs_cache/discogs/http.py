"""The one place that builds HTTP clients for Discogs (the API and the dump bucket).

Every request names the package and version in its User-Agent (Discogs requires a unique
one), has bounded timeouts, and every failure a user can meet (unreachable server, DNS,
timeout, TLS) surfaces as one `CacheError` line naming the host, never a traceback. URLs in
messages go through `safe_url`, which drops credentials and the query string, where tokens
travel.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import httpx

from discogs_cache import __version__
from discogs_cache.errors import CacheError

USER_AGENT = f"discogs-cache/{__version__} +https://pypi.org/project/discogs-cache/"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def safe_url(url: str) -> str:
    """`url` without user:password@ and without its query string (tokens live there)."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "<unparsable URL>"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def make_client(
    base_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> httpx.Client:
    """An httpx client for `base_url` with the package's User-Agent and bounded timeouts."""
    merged = {"User-Agent": USER_AGENT, **(headers or {})}
    return httpx.Client(base_url=base_url, headers=merged, timeout=timeout, follow_redirects=True)


@contextmanager
def http_errors(action: str, url: str) -> Iterator[None]:
    """Turn transport failures into one `CacheError` line: `action` at the redacted URL."""
    try:
        yield
    except httpx.TimeoutException:
        raise CacheError(f"{action}: {safe_url(url)} timed out") from None
    except httpx.TransportError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CacheError(f"{action}: cannot reach {safe_url(url)} ({reason})") from None
