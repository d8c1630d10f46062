"""artists.xml and labels.xml records: the alias map, the artist tables, the label hierarchy.

For each artist the worker returns (a) whether its name, name variations or aliases match the
library (its id then matches on releases) and (b) its rows for the artist tables (the artist,
its aliases and variations, members, urls), spilled to disk tagged by table (`ARTIST_TABLES`)
so memory stays flat; only the ids credited on kept releases are written to the artist CSVs
at the end.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from lxml import etree

from discogs_cache.convert.batch import parse_records
from discogs_cache.convert.filter import LibraryFilter
from discogs_cache.convert.output import format_rows
from discogs_cache.convert.source import LABEL_START

_PARSER = etree.XMLParser(resolve_entities=False, huge_tree=True)
_STARTS = {"artists": re.compile(rb"<artist[\s>]"), "labels": LABEL_START}
_ENDS = {"artists": b"</artist>", "labels": b"</label>"}
_state: dict[str, LibraryFilter | None] = {"filter": None}

ARTIST_TABLES: dict[str, tuple[str, ...]] = {
    "artist": ("id", "name", "profile", "image_url"),
    "artist_alias": ("artist_id", "alias_name", "alias_id"),
    "artist_name_variation": ("artist_id", "name"),
    "artist_member": ("artist_id", "member_id", "member_name", "active"),
    "artist_url": ("artist_id", "url"),
}
"""The artist CSVs and their headers; a spilled row is (table, *row)."""


@dataclass
class EntityChunkResult:
    seen: int = 0
    xml_bytes: int = 0
    bad: list[tuple[str, int, str]] = field(default_factory=list)
    matched_ids: bytes = b""  # array('q'): artists matching the library through any name
    rows: bytes = b""  # CSV rows: (table, *row) of ARTIST_TABLES, or label_hierarchy rows
    row_count: int = 0
    partial: list[tuple[str, str, str, str]] = field(default_factory=list)
    """label_hierarchy rows with an id missing (pre-2018 shape): see `resolve_by_name`."""


def init_worker(library: LibraryFilter | None) -> None:
    _state["filter"] = library


def _records(kind: str, offset: int, data: bytes, result: EntityChunkResult) -> list[Any]:
    starts = [m.start() for m in _STARTS[kind].finditer(data)]
    starts.append(len(data))
    end_tag = _ENDS[kind]
    pieces = []
    for start, stop in pairwise(starts):
        end = data.rfind(end_tag, start, stop)
        pieces.append(data[start : end + len(end_tag)] if end >= 0 else data[start:stop])
    result.seen += len(pieces)
    elements = []
    for start, piece, parsed in zip(starts, pieces, parse_records(pieces, _PARSER)):
        if isinstance(parsed, etree.XMLSyntaxError):
            found = re.search(rb"<id>(\d+)</id>", piece[:4096])
            ident = found.group(1).decode() if found else "?"
            result.bad.append((ident, offset + start, str(parsed).splitlines()[0]))
        else:
            elements.append(parsed)
    return elements


def artist_chunk(offset: int, data: bytes) -> EntityChunkResult:
    library = _state["filter"]
    result = EntityChunkResult(xml_bytes=len(data))
    matched = array("q")
    rows: list[tuple[str, ...]] = []
    for artist in _records("artists", offset, data, result):
        artist_id, own, names = _artist_names(artist)
        if not artist_id.isdigit():
            continue
        _artist_rows(artist, artist_id, own, names, rows)
        if library is not None and any(library.name_matches(n) for n in (own, *names)):
            matched.append(int(artist_id))
    result.matched_ids = matched.tobytes()
    result.rows, result.row_count = format_rows(rows), len(rows)
    return result


def _artist_rows(
    artist: Any, artist_id: str, own: str, names: dict[str, str], rows: list[tuple[str, ...]]
) -> None:
    """The spilled rows of one artist: itself, its aliases (with the alias's id) and
    variations, members, urls. The dump's artist images have been blank since 2015."""
    profile = image = ""
    variations: list[str] = []
    for child in artist:
        tag = child.tag
        if tag == "profile":
            profile = child.text or ""
        elif tag == "images":
            image = _image_uri(child)
        elif tag == "namevariations":
            variations.extend(n.text for n in child if n.tag == "name" and n.text)
        elif tag == "members":  # <name id="..."> (older dumps also list bare <id>s)
            for member in child:
                if member.tag == "name" and member.text and member.text.strip():
                    rows.append(
                        ("artist_member", artist_id, _digits(member.get("id")), member.text, "")
                    )
        elif tag == "urls":
            for url in child:
                if url.text and url.text.strip():
                    rows.append(("artist_url", artist_id, url.text.strip()))
    rows.append(("artist", artist_id, own, profile, image))
    rows.extend(("artist_alias", artist_id, name, alias_id) for name, alias_id in names.items())
    rows.extend(
        ("artist_name_variation", artist_id, name)
        for name in dict.fromkeys(v for v in variations if v.strip())
    )


def _digits(value: str | None) -> str:
    value = (value or "").strip()
    return value if value.isdigit() and value != "0" else ""


def _image_uri(images: Any) -> str:
    """The primary image's uri, else the first one's ("" when all are blank)."""
    uris = [(i.get("type") != "primary", (i.get("uri") or "").strip()) for i in images]
    return min(((p, u) for p, u in uris if u), default=(True, ""))[1]


def _artist_names(artist: Any) -> tuple[str, str, dict[str, str]]:
    """(stripped id, own name, distinct names of `namevariations/name` then `aliases/name`
    with the alias's own id, "" for a variation): in one pass over the children."""
    artist_id = own = None
    variations: list[tuple[str, str]] = []
    aliases: list[tuple[str, str]] = []
    for child in artist:
        tag = child.tag
        if tag == "id":
            if artist_id is None:
                artist_id = child.text or ""
        elif tag == "name":
            if own is None:
                own = child.text or ""
        elif tag == "namevariations" or tag == "aliases":
            alias = tag == "aliases"
            into = aliases if alias else variations
            for name in child:
                if name.tag == "name" and name.text:
                    into.append((name.text, _digits(name.get("id")) if alias else ""))
    names: dict[str, str] = {}
    for name, alias_id in variations + aliases:
        if name.strip() and not names.get(name):  # a name that is also an alias: its id
            names[name] = alias_id
    return (artist_id or "").strip(), own or "", names


def label_chunk(offset: int, data: bytes) -> EntityChunkResult:
    """label_hierarchy rows (label_id,label_name,parent_label_id,parent_label_name).

    From each label's `<parentLabel>`; in the pre-2018 shape (no id attributes) also from
    its `<sublabels><label>Name</label>`, and those rows, with an id missing, go to
    `partial` for `resolve_by_name`."""
    result = EntityChunkResult(xml_bytes=len(data))
    rows: list[tuple[str, str, str, str]] = []
    for label in _records("labels", offset, data, result):
        own_id, own_name = label.findtext("id") or "", label.findtext("name") or ""
        parent = label.find("parentLabel")
        if parent is not None and (parent.text or "").strip():
            row = (own_id, own_name, parent.get("id", ""), parent.text or "")
            (rows if row[0] and row[2] else result.partial).append(row)
        for sub in label.iterfind("sublabels/label"):
            if sub.get("id") is None and (sub.text or "").strip():
                result.partial.append(("", sub.text or "", own_id, own_name))
    result.rows, result.row_count = format_rows(rows), len(rows)
    return result


def resolve_by_name(partial: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    """One row per (label, parent) name pair of the id-less rows, each missing id taken from
    a row that names the same label with its id (a child's `<parentLabel>` gives the
    child's id, the parent's `<sublabels>` the parent's)."""
    ids: dict[str, str] = {}
    for child_id, child, parent_id, parent in partial:
        if child_id:
            ids.setdefault(child, child_id)
        if parent_id:
            ids.setdefault(parent, parent_id)
    pairs = dict.fromkeys((child, parent) for _, child, _, parent in partial)
    return [(ids.get(child, ""), child, ids.get(parent, ""), parent) for child, parent in pairs]
