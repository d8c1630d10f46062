"""Derive the shipped demo sample (`discogs_cache/demo_data/`) from the real dump excerpts.

Input: `tests/data/samples/discogs_20200806_{artists,labels,releases}.xml.gz` (1,000 real
records each from the 2020-08-06 Discogs dump, CC0). Output, deterministic (no randomness,
same bytes every run — gzip mtime is pinned):

- `pre2024/{artists,labels,releases}.xml.gz`: a subset of the real records, unchanged (the
  shape every dump had before 2024-12: images, id 0 on unlinked credits, empty elements).
- `post2024/...`: the same records rewritten to the current shape: no `<images>`, unlinked
  credits carry no `<id>`, empty `<anv>/<join>/<role>/<tracks>` omitted, and a `<series>`
  element after `<labels>` on some releases (series names are made up from the label:
  the excerpts predate that element).
- `library.db`: a station catalog (SQLite table `library`) built so that the pipeline has
  something to do at every step: exact (artist, title) pairs (KEEP), loosely spelled titles
  (REVIEW or KEEP after normalization), owned artists with unowned pressings (PRUNE),
  albums with several pressings under one master (dedup), an artist owned only under a
  Discogs alias (matched through artists.xml), compilations, and albums not in the dump.

Run: `.venv/bin/python scripts/make_demo_data.py [--samples DIR] [--out DIR]`.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "data" / "samples"
OUT = ROOT / "discogs_cache" / "demo_data"
PREFIX = "discogs_20200806_"
N_RELEASES = 300
MAX_RECORD_BYTES = 12_000
EMPTY_OMITTED = ("anv", "join", "role", "tracks")
LIBRARY_COLUMNS = (
    "id INTEGER PRIMARY KEY, title TEXT NOT NULL, artist TEXT NOT NULL, call_letters TEXT, "
    "artist_call_number INTEGER, release_call_number INTEGER, genre TEXT, format TEXT, "
    "alternate_artist_name TEXT"
)


def records(path: Path, tag: str) -> Iterator[etree._Element]:
    """Stream top-level records (one per line in the excerpts) without holding the file."""
    with gzip.open(path, "rb") as handle:
        for _event, elem in etree.iterparse(handle, tag=tag):
            if elem.getparent() is not None and elem.getparent().getparent() is None:
                yield elem


def main_artists(release: etree._Element) -> list[tuple[int, str]]:
    return [
        (int(a.findtext("id") or 0), a.findtext("name") or "")
        for a in release.findall("artists/artist")
    ]


def choose_releases(path: Path) -> list[etree._Element]:
    """The records worth showing, in file order: duplicate masters first, then the rest."""
    kept: list[etree._Element] = []
    for rel in records(path, "release"):
        if len(etree.tostring(rel)) <= MAX_RECORD_BYTES:
            kept.append(_detach(rel))
    masters = Counter(r.findtext("master_id") for r in kept if r.findtext("master_id"))
    artists = Counter(a for r in kept for a, _ in main_artists(r))

    def rank(rel: etree._Element) -> tuple[int, int]:
        ids = [a for a, _ in main_artists(rel)]
        if masters.get(rel.findtext("master_id"), 0) > 1:
            return 0, int(rel.get("id", "0"))
        if 194 in ids:  # Various: a few compilations
            return 2, int(rel.get("id", "0"))
        if any(artists[a] > 1 for a in ids) or int(rel.get("id", "0")) < 200:
            return 1, int(rel.get("id", "0"))
        return 3, int(rel.get("id", "0"))

    various = [r for r in kept if rank(r)[0] == 2][:15]
    others = [r for r in kept if rank(r)[0] != 2]
    chosen = sorted(others, key=rank)[: N_RELEASES - len(various)] + various
    return sorted(chosen, key=lambda r: int(r.get("id", "0")))


def _detach(elem: etree._Element) -> etree._Element:
    copy = etree.fromstring(etree.tostring(elem))
    elem.clear()
    return copy


def credited_artist_ids(releases: list[etree._Element]) -> set[int]:
    ids = set()
    for rel in releases:
        for node in rel.iter("artist"):
            text = node.findtext("id")
            if text and text != "0":
                ids.add(int(text))
    return ids


def label_ids(releases: list[etree._Element]) -> set[int]:
    return {int(lab.get("id", "0")) for rel in releases for lab in rel.iter("label")}


def to_post2024(record: etree._Element, *, series_every: int = 0) -> etree._Element:
    """Rewrite one record to the post-2024-12 shape (see module docstring)."""
    rec = etree.fromstring(etree.tostring(record))
    for images in rec.findall("images"):
        rec.remove(images)
    for credit in rec.iter("artist"):
        ident = credit.find("id")
        if ident is not None and (ident.text or "0") == "0":
            credit.remove(ident)
        for name in EMPTY_OMITTED:
            child = credit.find(name)
            if child is not None and not (child.text or "").strip() and len(child) == 0:
                credit.remove(child)
    labels = rec.find("labels")
    if series_every and labels is not None and int(rec.get("id", "0")) % series_every == 0:
        first = labels.find("label")
        if first is not None:
            series = etree.Element("series")
            etree.SubElement(
                series,
                "series",
                name=f"{first.get('name', 'Label')} Series",
                catno=first.get("catno", ""),
                id=str(900000 + int(first.get("id", "0"))),
            )
            labels.addnext(series)
    return rec


def write_dump(path: Path, root: str, items: list[etree._Element]) -> None:
    """One record per line under the root element, as the real dumps are laid out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(f"<{root}>\n".encode())
        for item in items:
            item.tail = None
            handle.write(etree.tostring(item, encoding="utf-8") + b"\n")
        handle.write(f"</{root}>\n".encode())


def library_rows(releases: list[etree._Element], aliases: dict[int, str]) -> list[tuple]:
    """The catalog: see the module docstring for what each group demonstrates."""
    by_artist: dict[tuple[int, str], list[etree._Element]] = defaultdict(list)
    for rel in releases:
        for ident, name in main_artists(rel)[:1]:
            by_artist[(ident, name)].append(rel)
    rows: list[tuple] = []

    def add(artist: str, title: str, rel: etree._Element | None, alt: str | None = None) -> None:
        genre = rel.findtext("genres/genre") if rel is not None else "Rock"
        fmt = rel.find("formats/format") if rel is not None else None
        fmt_name = fmt.get("name") if fmt is not None else "CD"
        rows.append((len(rows) + 1, title, artist, "WXYC", None, None, genre, fmt_name, alt))

    for n, ((ident, name), rels) in enumerate(sorted(by_artist.items())):
        if ident == 194:
            for rel in rels[:3]:  # compilations: matched by title only
                add("Various Artists", rel.findtext("title") or "", rel)
            continue
        if ident in aliases and n % 2 == 0:
            add(aliases[ident], rels[0].findtext("title") or "", rels[0])  # owned under an alias
            continue
        if n % 3 == 2:
            continue  # not owned: the filter drops these releases
        title = rels[0].findtext("title") or ""
        if n % 7 == 0:
            title = f"{title} (Deluxe Edition)"  # equal after title normalization
        elif n % 11 == 0 and len(title.split()) > 2:
            title = " ".join(title.split()[:-1])  # one word short: fuzzy match
        display = re.sub(r" \(\d+\)$", "", name)  # catalogs do not carry Discogs' " (n)"
        if display.lower().startswith("the "):
            display = f"{display[4:]}, The"  # catalog spelling
        add(display, title, rels[0])
        # artists with several releases own only the first title: the others are PRUNE.
    for artist, title in (
        ("Stereolab", "Dots and Loops"),
        ("Yo La Tengo", "I Can Hear the Heart Beating as One"),
        ("Sun Ra", "Lanquidity"),
    ):
        add(artist, title, None)
    return rows


def write_library(path: Path, rows: list[tuple]) -> None:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(f"CREATE TABLE library ({LIBRARY_COLUMNS})")
        conn.executemany("INSERT INTO library VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("VACUUM")
    conn.close()


def build(samples: Path, out: Path) -> None:
    releases = choose_releases(samples / f"{PREFIX}releases.xml.gz")
    wanted_artists = credited_artist_ids(releases)
    artists = [
        _detach(a)
        for a in records(samples / f"{PREFIX}artists.xml.gz", "artist")
        if int(a.findtext("id") or 0) in wanted_artists
    ]
    aliases = {}
    for artist in artists:
        alias = artist.find("aliases/name")
        if alias is not None and alias.text:
            aliases[int(artist.findtext("id") or 0)] = alias.text
    wanted_labels = label_ids(releases)
    labels = []
    for lab in records(samples / f"{PREFIX}labels.xml.gz", "label"):
        parent = lab.find("parentLabel")
        parent_id = int(parent.get("id", "0")) if parent is not None else 0
        if int(lab.findtext("id") or 0) in wanted_labels or parent_id in wanted_labels:
            labels.append(_detach(lab))
    for shape, convert in (
        ("pre2024", lambda r: r),
        ("post2024", lambda r: to_post2024(r, series_every=5)),
    ):
        write_dump(out / shape / "artists.xml.gz", "artists", [convert(a) for a in artists])
        write_dump(out / shape / "labels.xml.gz", "labels", [convert(lab) for lab in labels])
        write_dump(out / shape / "releases.xml.gz", "releases", [convert(r) for r in releases])
    rows = library_rows(releases, aliases)
    write_library(out / "library.db", rows)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        f"{out}: {len(releases)} releases, {len(artists)} artists, {len(labels)} labels, "
        f"{len(rows)} library albums, {total / 1024:.0f} kB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=SAMPLES)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    build(args.samples, args.out)
