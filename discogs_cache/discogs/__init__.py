"""Talking to Discogs: the HTTP client, request pacing, artwork top-up, dump download."""

from discogs_cache.discogs.bucket import find_dump, list_objects, parse_checksums, parse_listing
from discogs_cache.discogs.download import DownloadSummary, download
from discogs_cache.discogs.http import USER_AGENT, http_errors, make_client, safe_url

__all__ = [
    "USER_AGENT",
    "DownloadSummary",
    "download",
    "find_dump",
    "http_errors",
    "list_objects",
    "make_client",
    "parse_checksums",
    "parse_listing",
    "safe_url",
]
