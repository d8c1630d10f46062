"""The album filter in the releases worker: the verdict on a release that passed the artist
filter, and its compact record (`albums.RECORD_COLUMNS`).

From the record's bytes when the pre-screen reads its main credits, title, master and format
exactly as lxml would (nearly every record): a PRUNE release, most of what passes, is then
never parsed, and parsing kept records is the converter's biggest cost. Otherwise, or when
the bytes hold anything the regexes cannot vouch for, from the parsed tree.
"""

from __future__ import annotations

import re
from typing import Any

from discogs_cache.convert.albums import AlbumFilter, record, retained
from discogs_cache.convert.releases import _ID, _main_block, _text, main_credits, screen

_MASTER = re.compile(rb"<master_id\b[^>]*>([^<]*)</master_id>")
_FORMAT = re.compile(rb'\s*<format\s+name="([^"]*)"')


def from_bytes(
    albums: AlbumFilter, data: bytes, start: int, stop: int, records: list[tuple[str, ...]]
) -> bool | None:
    """Whether the record data[start:stop] is KEEP or REVIEW (its record appended), or None
    when only a parse can tell."""
    if not _main_block(data, start, stop):  # unsure, or no main credits: let lxml read it
        return None
    credits = screen(data, start, stop)
    head_end = data.find(b">", start, stop)
    found = _ID.search(data, start, head_end) if head_end > 0 else None
    title = _title(data, start, stop)
    master = _master(data, start, stop)
    fmt = _format(data, start, stop)
    if credits is None or found is None or title is None or master is None or fmt is None:
        return None
    verdict = albums.classify(int(found.group(1)), title, credits)
    records.append(record(verdict, master, fmt))
    return retained(verdict)


def _title(data: bytes, start: int, stop: int) -> str | None:
    """The release's title: its first `<title>` (tracks and videos come after it)."""
    at = data.find(b"<title", start, stop)
    if at < 0 or data.startswith(b"<title/>", at):
        return "" if at >= 0 else None
    if not data.startswith(b"<title>", at):
        return None
    end = data.find(b"</title>", at, stop)
    return None if end < 0 else _text(data[at + 7 : end])


def _master(data: bytes, start: int, stop: int) -> str | None:
    found = _MASTER.search(data, start, stop)
    if found is None:
        return None if b"<master_id" in data[start:stop] else ""
    text = found.group(1).strip()
    return text.decode() if text.isdigit() or not text else None


def _format(data: bytes, start: int, stop: int) -> str | None:
    """The first format's name (what `release_rows` writes)."""
    at = data.find(b"<formats>", start, stop)
    if at < 0:
        return None if b"<formats" in data[start:stop] else ""
    found = _FORMAT.match(data, at + len(b"<formats>"), stop)
    if found is None:
        return None
    raw = found.group(1)
    return None if any(c in raw for c in b"\t\n\r") else _text(raw)


def from_tree(albums: AlbumFilter, release: Any, records: list[tuple[str, ...]]) -> bool:
    """`from_bytes` for a parsed release. A release without a numeric id cannot be loaded:
    it is neither classified nor kept."""
    rid = (release.get("id") or "").strip()
    if not rid.isdigit():
        return False
    title = master_id = fmt = ""
    for child in release:
        tag = child.tag
        if tag == "title":
            title = child.text or ""
        elif tag == "master_id":
            master_id = (child.text or "").strip()
        elif tag == "formats" and not fmt and len(child):
            fmt = child[0].get("name", "")
    verdict = albums.classify(int(rid), title, main_credits(release))
    records.append(record(verdict, master_id, fmt))
    return retained(verdict)
