"""The public Discogs data-dump bucket: list it (S3 ListObjectsV2) and pick a month's dump.

Discogs publishes each dump as `data/YYYY/discogs_YYYYMMDD_{kind}.xml.gz` plus
`discogs_YYYYMMDD_CHECKSUM.txt` (sha256 lines). The parsing here is pure so it is tested
without a server; `find_dump` does the (paginated) listing through an httpx client.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import httpx

from discogs_cache.discogs.http import http_errors, safe_url
from discogs_cache.errors import CacheError, InputError

DEFAULT_DUMPS_URL = "https://discogs-data-dumps.s3.us-west-2.amazonaws.com"
DUMP_KINDS = ("releases", "artists", "labels", "masters")
DEFAULT_KINDS = ("releases", "artists", "labels")
CHECKSUM = "CHECKSUM"

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_NAME = re.compile(r"discogs_(\d{8})_(releases|artists|labels|masters|CHECKSUM)\.(?:xml\.gz|txt)")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class DumpObject:
    """One object in the bucket: its key, and its size in bytes from the listing."""

    key: str
    size: int

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ListingPage:
    """One ListObjectsV2 answer: objects, common prefixes and the token for the next page."""

    objects: list[DumpObject]
    prefixes: list[str]
    next_token: str | None


@dataclass
class Dump:
    """One dated dump: its files by kind (and CHECKSUM), as found in the listing."""

    date: str  # YYYYMMDD
    files: dict[str, DumpObject] = field(default_factory=dict)

    @property
    def month(self) -> str:
        return f"{self.date[:4]}-{self.date[4:6]}"

    def missing(self, kinds: Sequence[str]) -> list[str]:
        """The requested kinds (and CHECKSUM) this dump lacks."""
        return [k for k in (*kinds, CHECKSUM) if k not in self.files]


def dumps_url(base_url: str | None = None) -> str:
    """The bucket URL: `base_url`, else $DISCOGS_DUMPS_URL, else the public Discogs bucket."""
    return (base_url or os.environ.get("DISCOGS_DUMPS_URL") or DEFAULT_DUMPS_URL).rstrip("/")


def parse_month(text: str | None) -> str | None:
    """'YYYY-MM' checked and returned as is; None or 'latest' mean the newest complete dump."""
    if text is None or text.strip().lower() == "latest":
        return None
    match = _MONTH.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InputError(f"--month {text!r}: expected YYYY-MM (e.g. 2026-11) or 'latest'")
    return match.group(0)


def parse_kinds(kinds: str | Iterable[str]) -> tuple[str, ...]:
    """Requested kinds ('a,b' or a list), checked, duplicates dropped, order kept."""
    if isinstance(kinds, str):
        kinds = kinds.split(",")
    wanted = tuple(dict.fromkeys(k.strip().lower() for k in kinds if k.strip()))
    unknown = [k for k in wanted if k not in DUMP_KINDS]
    if unknown or not wanted:
        raise InputError(
            f"--kinds {','.join(unknown) or '(empty)'}: expected some of {','.join(DUMP_KINDS)}"
        )
    return wanted


def parse_listing(xml: bytes) -> ListingPage:
    """Parse an S3 ListBucketResult document (namespaced or not)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise CacheError(f"bucket listing is not valid XML ({exc})") from None
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if root.tag != f"{ns}ListBucketResult":
        raise CacheError(f"bucket listing: unexpected root element <{root.tag[len(ns) :]}>")
    objects = []
    for item in root.iterfind(f"{ns}Contents"):
        key = item.findtext(f"{ns}Key") or ""
        size = item.findtext(f"{ns}Size") or "0"
        objects.append(DumpObject(key, int(size)))
    prefixes = [p.findtext(f"{ns}Prefix") or "" for p in root.iterfind(f"{ns}CommonPrefixes")]
    truncated = (root.findtext(f"{ns}IsTruncated") or "false").strip().lower() == "true"
    token = root.findtext(f"{ns}NextContinuationToken") if truncated else None
    if truncated and not token:
        raise CacheError("bucket listing is truncated but carries no NextContinuationToken")
    return ListingPage(objects, prefixes, token)


def group_dumps(objects: Iterable[DumpObject]) -> dict[str, Dump]:
    """{YYYYMMDD: Dump} for the objects whose names follow the dump naming scheme."""
    dumps: dict[str, Dump] = {}
    for obj in objects:
        match = _NAME.fullmatch(obj.name)
        if match:
            date, kind = match.groups()
            dumps.setdefault(date, Dump(date)).files[kind] = obj
    return dumps


def parse_checksums(text: str) -> dict[str, str]:
    """{file name: sha256} from a CHECKSUM.txt (`<sha256> <name>` lines, sha256sum style)."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not _SHA256.fullmatch(parts[0].lower()):
            raise CacheError(f"CHECKSUM line {number}: expected '<sha256> <file name>'")
        sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def list_objects(
    client: httpx.Client, prefix: str, delimiter: str | None = None
) -> tuple[list[DumpObject], list[str]]:
    """Every object (and common prefix) under `prefix`, following continuation tokens."""
    objects: list[DumpObject] = []
    prefixes: list[str] = []
    token: str | None = None
    while True:
        params = {"list-type": "2", "prefix": prefix}
        if delimiter:
            params["delimiter"] = delimiter
        if token:
            params["continuation-token"] = token
        url = str(client.base_url)
        with http_errors("listing the dump bucket", url):
            response = client.get("/", params=params)
        if response.status_code != 200:
            raise CacheError(
                f"listing the dump bucket {safe_url(url)} (prefix {prefix}):"
                f" HTTP {response.status_code}"
            )
        page = parse_listing(response.content)
        objects += page.objects
        prefixes += page.prefixes
        if page.next_token is None:
            return objects, prefixes
        token = page.next_token


def find_dump(client: httpx.Client, month: str | None, kinds: Sequence[str]) -> Dump:
    """The dump to download: the month's newest complete one, or (month None) the newest."""
    where = safe_url(str(client.base_url))
    if month is not None:
        objects, _ = list_objects(client, f"data/{month[:4]}/")
        dumps = [d for d in group_dumps(objects).values() if d.month == month]
        if not dumps:
            raise InputError(f"--month {month}: no Discogs dump for that month at {where}")
        complete = [d for d in dumps if not d.missing(kinds)]
        if not complete:
            newest = max(dumps, key=lambda d: d.date)
            lacking = ", ".join(newest.missing(kinds))
            raise InputError(f"--month {month}: the dump {newest.date} at {where} has no {lacking}")
        return max(complete, key=lambda d: d.date)
    _, years = list_objects(client, "data/", delimiter="/")
    for year in sorted(years, reverse=True):
        objects, _ = list_objects(client, year)
        complete = [d for d in group_dumps(objects).values() if not d.missing(kinds)]
        if complete:
            return max(complete, key=lambda d: d.date)
    raise InputError(f"--month latest: no complete Discogs dump ({','.join(kinds)}) at {where}")
