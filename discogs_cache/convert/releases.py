"""Release records → CSV rows, with a cheap byte-level pre-screen before the full parse.

Most releases of a real dump are filtered out, so each record's main `<artists>` block is
read with a regex first (text decoded exactly as XML does) and only kept records are parsed
with lxml, without their unread tail. A record whose block the regex cannot account for
fully falls back to the full parse, so the decision is the same. (A regex extractor for kept
records was tried and dropped: with XML's checks it cost more than lxml's parse + walk.)

Decisions (the loader and consumers rely on them):
- `release_track`: every `<track>` with a title, in document order, depth first: an index
  track (empty position, holding `<sub_tracks>`) gets its own row and its sub-tracks follow
  it; headings (no position, no duration, no sub-tracks) are skipped. `sequence` is 1..n over
  the rows written; `position` is the track's own position text (sub-tracks keep theirs).
- `release_track_artist`: the main `<artists>` of each written track (extra=0), then its
  `<extraartists>` (extra=1, with their role: "Written-By", ...).
- `release_artist`: main credits extra=0, `<extraartists>` extra=1 with their role;
  `position` is 1..n within each list; `artist_id` is empty for unlinked credits (no `<id>`,
  or id 0 in older dumps). Repeats are written as they come: the load merges them.
- `release_label`: name, catno and the label's id. `release_genre`, `release_style`: one row
  per `<genre>`/`<style>`. `release_video`: `sequence` 1..n, `duration` in seconds, `embed`
  true/false as in the dump.
- `format`: the first format's name. `master_id`: the text of `<master_id>`.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from lxml import etree

from discogs_cache.convert.filter import LibraryFilter
from discogs_cache.convert.output import format_rows
from discogs_cache.convert.records import END as _END
from discogs_cache.convert.records import record_starts, trim_unread

TABLES: dict[str, tuple[str, ...]] = {
    "release": (
        "id", "status", "title", "country", "released", "notes", "data_quality", "master_id",
        "format",
    ),
    "release_artist": (
        "release_id", "artist_id", "artist_name", "extra", "anv", "position", "join_field",
        "role",
    ),
    "release_label": ("release_id", "label", "catno", "label_id"),
    "release_track": ("release_id", "sequence", "position", "title", "duration"),
    "release_track_artist": ("release_id", "track_sequence", "artist_name", "extra", "role"),
    "release_image": ("release_id", "type", "width", "height", "uri"),
    "release_genre": ("release_id", "genre"),
    "release_style": ("release_id", "style"),
    "release_video": ("release_id", "sequence", "src", "title", "duration", "embed"),
}  # fmt: skip
_START = re.compile(rb"<release[\s>]")
_ID = re.compile(rb'\bid="(\d+)"')
_CREDIT = re.compile(
    rb"<artist>\s*(?:<id>\s*(\d*)\s*</id>\s*|<id/>\s*)?(?:<name>([^<]*)</name>|<name/>)"
)


_PARSER = etree.XMLParser(resolve_entities=False, huge_tree=True)
_state: dict[str, LibraryFilter | None] = {"filter": None}
Credit = tuple[int | None, str]
_block_cache: dict[bytes, bool] = {}
_credit_cache: dict[tuple[bytes, bytes], bool] = {}
CACHE_SIZE = 1 << 16  # entries per screen cache (~10 MB each)
_REF = re.compile(r"&(?:#([0-9]+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


@dataclass
class ReleaseChunkResult:
    """What a worker sends back for one chunk: CSV bytes per table, in document order."""

    seen: int = 0
    xml_bytes: int = 0
    kept: int = 0
    bad: list[tuple[str, int, str]] = field(default_factory=list)
    tables: dict[str, bytes] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    credited_ids: bytes = b""  # array('q') of main-artist ids on kept releases


def init_worker(library: LibraryFilter | None) -> None:
    """Pool initializer (and the in-process path): the filter every chunk is judged by."""
    _state["filter"] = library
    _block_cache.clear()
    _credit_cache.clear()


def _ref(match: re.Match[str]) -> str:
    decimal, hexa, named = match.groups()
    return _NAMED[named] if named else chr(int(decimal) if decimal else int(hexa, 16))


def _text(raw: bytes) -> str | None:
    """Element text as lxml gives it: UTF-8, XML's five entities and character references
    (not HTML's: `&#150;` is U+0096, `&nbsp;` undeclared); None when lxml must decide."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" not in text:
        return text
    if text.count("&") != len(_REF.findall(text)):
        return None
    try:
        return _REF.sub(_ref, text)
    except (ValueError, OverflowError):  # a reference to no character
        return None


def _main_block(data: bytes, start: int, stop: int) -> bytes | None:
    """The bytes of the main `<artists>` block (b"" if none), None if unsure."""
    begin = data.find(b"<artists>", start, stop)
    if begin < 0 or data.find(b"<title", start, begin) >= 0:  # none before the title
        return b"" if data.find(b"<title", start, stop) >= 0 else None
    end = data.find(b"</artists>", begin, stop)
    return data[begin:end] if end >= 0 else None


def _block_credits(block: bytes) -> list[tuple[bytes, bytes]] | None:
    found = _CREDIT.findall(block)
    return found if len(found) == block.count(b"<artist>") else None


def _credit(raw_id: bytes, raw_name: bytes) -> Credit | None:
    name = _text(raw_name)
    return None if name is None else (int(raw_id or 0) or None, name)


def screen(data: bytes, start: int = 0, stop: int | None = None) -> list[Credit] | None:
    """The main credits read straight from the record's bytes (data[start:stop]), or None
    when the regex cannot account for the block and a full parse must decide."""
    block = _main_block(data, start, len(data) if stop is None else stop)
    found = None if block is None else _block_credits(block)
    if found is None:
        return None
    credits = []
    for raw in found:
        credit = _credit(*raw)
        if credit is None:
            return None
        credits.append(credit)
    return credits


def _remember(cache: dict[Any, bool], key: Any, decision: bool) -> None:
    if len(cache) >= CACHE_SIZE:  # crude but flat: memory stays bounded
        cache.clear()
    cache[key] = decision


def screen_keeps(library: LibraryFilter, data: bytes, start: int, stop: int) -> bool | None:
    """The filter decision from the bytes alone (None: parse to decide). Memoized per artists
    block ("Various", prolific artists recur verbatim) and per credit (an artist's block
    varies with its co-artists, anv and join; its id and name do not)."""
    block = _main_block(data, start, stop)
    if block is None:
        return None
    decision = _block_cache.get(block)
    if decision is not None:
        return decision
    found = _block_credits(block)
    if found is None:
        return None
    decision = False
    for raw in found:
        keep = _credit_cache.get(raw)
        if keep is None:
            credit = _credit(*raw)
            if credit is None:
                return None
            keep = library.keeps((credit,))
            _remember(_credit_cache, raw, keep)
        if keep:
            decision = True
            break
    _remember(_block_cache, block, decision)
    return decision


def _credit_fields(artist: Any) -> tuple[str, str, str, str, str]:
    """(id or "", name, anv, join, role) of one credit."""
    artist_id = name = anv = join = role = ""
    for child in artist:
        tag = child.tag
        if tag == "id":
            artist_id = child.text or ""
        elif tag == "name":
            name = child.text or ""
        elif tag == "anv":
            anv = child.text or ""
        elif tag == "join":
            join = child.text or ""
        elif tag == "role":
            role = child.text or ""
    artist_id = "" if artist_id.strip() in ("", "0") else artist_id.strip()
    return artist_id, name, anv, join, role.strip()


def main_credits(release: Any) -> list[Credit]:
    """Main credits of a parsed release, for the filter (same shape as `screen`)."""
    artists = release.find("artists")
    if artists is None:
        return []
    result = []
    for artist in artists:
        artist_id, name = _credit_fields(artist)[:2]
        result.append((int(artist_id) if artist_id else None, name))
    return result


INT_MAX = 2**31 - 1
"""The cache's ids are PostgreSQL `integer`s: a record whose id is not one is not loadable."""


def _not_an_id(text: str) -> bool:
    return not (text.isascii() and text.isdigit()) or int(text) > INT_MAX


def invalid_ids(release: Any) -> str | None:
    """Why the parsed record cannot go into the cache (its release id, master id or a main
    credit's artist id is not a non-negative integer in range), or None. The filter and
    the alias step use the main credits' ids, so one of those would break the run."""
    rid = (release.get("id") or "").strip()
    if _not_an_id(rid):
        return f"release id {rid[:40]!r} is not an integer up to {INT_MAX}"
    master = (release.findtext("master_id") or "").strip()
    if master and _not_an_id(master):
        return f"master id {master[:40]!r} is not an integer up to {INT_MAX}"
    for artist in release.iterfind("artists/artist"):
        artist_id = (artist.findtext("id") or "").strip()
        if artist_id and _not_an_id(artist_id):
            return f"main artist id {artist_id[:40]!r} is not an integer up to {INT_MAX}"
    return None


def _tracks(tracklist: Any, rid: str, rows: dict[str, list[tuple[Any, ...]]], seq: int) -> int:
    for track in tracklist:
        position = title = duration = ""
        subs = artists = extras = None
        for child in track:
            tag = child.tag
            if tag == "position":
                position = child.text or ""
            elif tag == "title":
                title = child.text or ""
            elif tag == "duration":
                duration = child.text or ""
            elif tag == "sub_tracks":
                subs = child
            elif tag == "artists":
                artists = child
            elif tag == "extraartists":
                extras = child
        heading = not position.strip() and not duration.strip() and subs is None
        if title and not heading:
            seq += 1
            sequence = str(seq)
            rows["release_track"].append((rid, sequence, position, title, duration))
            out = rows["release_track_artist"]
            for artist in artists if artists is not None else ():
                name = _credit_fields(artist)[1]
                if name:
                    out.append((rid, sequence, name, "0", ""))
            for artist in extras if extras is not None else ():
                fields = _credit_fields(artist)
                if fields[1]:
                    out.append((rid, sequence, fields[1], "1", fields[4]))
        if subs is not None:
            seq = _tracks(subs, rid, rows, seq)
    return seq


def release_rows(release: Any, rows: dict[str, list[tuple[Any, ...]]], ids: array) -> None:
    """Append one parsed release's rows to `rows`; its main artist ids to `ids`."""
    rid = release.get("id") or ""
    values = {"title": "", "country": "", "released": "", "notes": "", "data_quality": ""}
    master_id = fmt = ""
    for child in release:
        tag = child.tag
        if tag in values:
            values[tag] = child.text or ""
        elif tag == "artists" or tag == "extraartists":
            extra = "0" if tag == "artists" else "1"
            for position, artist in enumerate(child, 1):
                artist_id, name, anv, join, role = _credit_fields(artist)
                rows["release_artist"].append(
                    (rid, artist_id, name, extra, anv, str(position), join, role)
                )
                if extra == "0" and artist_id:
                    ids.append(int(artist_id))
        elif tag == "labels":
            for label in child:
                get = label.get
                label_id = get("id", "").strip()
                rows["release_label"].append(
                    (rid, get("name", ""), get("catno", ""), "" if label_id == "0" else label_id)
                )
        elif tag == "images":
            for image in child:
                get = image.get
                rows["release_image"].append(
                    (rid, get("type", ""), get("width", ""), get("height", ""), get("uri", ""))
                )
        elif tag == "formats":
            if not fmt and len(child):
                fmt = child[0].get("name", "")
        elif tag == "master_id":
            master_id = (child.text or "").strip()
        elif tag == "tracklist":
            _tracks(child, rid, rows, 0)
        elif tag == "genres" or tag == "styles":
            table = rows["release_genre" if tag == "genres" else "release_style"]
            for item in child:
                if item.text and item.text.strip():
                    table.append((rid, item.text))
        elif tag == "videos":
            _videos(child, rid, rows["release_video"])
    rows["release"].append(
        (
            rid, release.get("status", ""), values["title"], values["country"],
            values["released"], values["notes"], values["data_quality"], master_id, fmt,
        )
    )  # fmt: skip


def _videos(videos: Any, rid: str, out: list[tuple[Any, ...]]) -> None:
    sequence = 0
    for video in videos:
        src = (video.get("src") or "").strip()
        if not src:
            continue
        sequence += 1
        duration = (video.get("duration") or "").strip()
        out.append(
            (rid, str(sequence), src, video.findtext("title") or "",
             duration if duration.isdigit() and len(duration) < 10 else "",
             (video.get("embed") or "").strip().lower())
        )  # fmt: skip


def process_chunk(offset: int, data: bytes) -> ReleaseChunkResult:
    """Screen, parse and format every release record in one chunk."""
    library = _state["filter"]
    result = ReleaseChunkResult(xml_bytes=len(data))
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    ids = array("q")
    starts = record_starts(data)
    result.seen = len(starts) - 1
    for start, stop in pairwise(starts):
        decision: bool | None = None
        if library is not None:
            decision = screen_keeps(library, data, start, stop)
            if decision is False:
                continue
        record = data[start:stop].rstrip()
        if not record.endswith(_END):  # the last record of a file: drop the root's end tag
            end = record.rfind(_END)
            record = record[: end + len(_END)] if end >= 0 else record
        try:
            release = etree.fromstring(trim_unread(record), _PARSER)
        except etree.XMLSyntaxError as exc:
            match = _ID.search(record, 0, 200)
            rid = match.group(1).decode() if match else "?"
            result.bad.append((rid, offset + start, str(exc).splitlines()[0]))
            continue
        why = invalid_ids(release)
        if why is not None:
            result.bad.append(((release.get("id") or "?")[:40], offset + start, why))
            continue
        if library is not None and decision is None and not library.keeps(main_credits(release)):
            continue
        result.kept += 1
        release_rows(release, rows, ids)
    result.tables = {name: format_rows(table) for name, table in rows.items()}
    result.counts = {name: len(table) for name, table in rows.items()}
    result.credited_ids = ids.tobytes()
    return result
