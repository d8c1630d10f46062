"""Talking to Discogs: the HTTP client, request pacing, artwork top-up, dump download."""

from discogs_cache.discogs.http import USER_AGENT, http_errors, make_client, safe_url

__all__ = ["USER_AGENT", "http_errors", "make_client", "safe_url"]
