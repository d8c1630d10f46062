"""Deterministic synthetic converter output (the CSV interface of docs/ARCHITECTURE.md).

Realistic shapes for load/dedup/verify/query benchmarks: ~10 tracks per release, masters
grouping 1-6 pressings (US/UK/DE/JP, labels with sublabel/parent, varying track counts, some
without tracks), ~15% of releases without a master, "Various" compilations with track
artists, accented names, Discogs " (n)" suffixes, duplicate credits, primary/secondary images.
`SynthInfo.library` is what the station "owns" (catalog-style spellings) and
`library_labels` its label preferences. Same `seed` -> byte-identical files.
"""

from __future__ import annotations

import csv
import random
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HEADERS = {
    "release": ("id", "status", "title", "country", "released", "notes", "data_quality",
                "master_id", "format"),
    "release_artist": ("release_id", "artist_id", "artist_name", "extra", "anv", "position",
                       "join_field"),
    "release_label": ("release_id", "label", "catno"),
    "release_track": ("release_id", "sequence", "position", "title", "duration"),
    "release_track_artist": ("release_id", "track_sequence", "artist_name"),
    "release_image": ("release_id", "type", "width", "height", "uri"),
    "artist_alias": ("artist_id", "alias_name"),
    "label_hierarchy": ("label_id", "label_name", "parent_label_id", "parent_label_name"),
}  # fmt: skip

VARIOUS_ID = 194
COUNTRIES = ("US", "UK", "DE", "JP")
_SYLLABLES = [
    "ka",
    "ri",
    "mo",
    "lu",
    "ven",
    "tor",
    "sa",
    "bel",
    "nix",
    "dra",
    "qua",
    "zen",
    "fol",
    "mar",
    "tin",
    "ro",
    "ska",
    "del",
    "vi",
    "on",
    "ur",
    "ba",
    "chi",
    "lo",
    "gra",
    "pe",
    "ste",
    "am",
    "ber",
    "os",
    "ka",
    "ly",
]
_ACCENTED = ("Björk", "Sigur", "Mötley", "Céline", "Zoë", "Ñandú", "Jürgen", "Åsa", "Ève")
_WORDS = [
    "love",
    "night",
    "blue",
    "fire",
    "dream",
    "city",
    "river",
    "black",
    "gold",
    "summer",
    "rain",
    "heart",
    "road",
    "star",
    "ghost",
    "electric",
    "silver",
    "paper",
    "ocean",
    "machine",
    "garden",
    "winter",
    "echo",
    "velvet",
    "wild",
]
_FORMATS = ("Vinyl", "CD", "Cassette", "File")


@dataclass
class SynthInfo:
    """What was written, and the library a station would own for these releases."""

    out_dir: Path
    n_releases: int
    n_masters: int
    rows: dict[str, int] = field(default_factory=dict)
    library: list[tuple[str, str]] = field(default_factory=list)
    library_labels: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def track_rows(self) -> int:
        return self.rows.get("release_track", 0)


def _name(rng: random.Random, words: int) -> str:
    parts = []
    for _ in range(words):
        if rng.random() < 0.08:
            parts.append(rng.choice(_ACCENTED))
        else:
            syl = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
            parts.append(syl.capitalize())
    return " ".join(parts)


def _artists(rng: random.Random, n: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = _name(rng, rng.choice((1, 2, 2, 3)))
        roll = rng.random()
        if roll < 0.12:
            name = f"The {name}"
        elif roll < 0.17:
            name = f"{name} & {_name(rng, 1)}"
        if name in seen:  # a clash becomes Discogs-style " (2)" disambiguation
            name = f"{name} ({sum(1 for s in seen if s.startswith(name)) + 1})"
        seen.add(name)
        names.append(name)
    return names


def _title(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 4))]
    title = " ".join(words).title()
    if rng.random() < 0.05:
        title = f"{title} ({rng.choice(_ACCENTED)})"
    return title


def _released(rng: random.Random, year: int) -> str:
    roll = rng.random()
    if roll < 0.5:
        return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(0, 28):02d}"
    if roll < 0.85:
        return str(year)
    if roll < 0.92:
        return f"{year}-00-00"
    return rng.choice(("", "Unknown", "?"))


def _notes(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.75:
        return ""
    if roll < 0.9:
        return 'Recorded live.\nMastered at "Studio 2", Berlin.'
    return "Limited to 500 copies, numbered; includes insert\r\nwith lyrics"


def _catalog_artist(name: str, rng: random.Random) -> str:
    """The artist as a station catalog might spell it."""
    if name.endswith(")") and " (" in name:
        name = name[: name.rindex(" (")]
    if name.startswith("The ") and rng.random() < 0.6:
        name = f"{name[4:]}, The"
    if "&" in name and rng.random() < 0.5:
        name = name.replace("&", "and")
    if rng.random() < 0.3:
        nfkd = unicodedata.normalize("NFKD", name)
        name = "".join(c for c in nfkd if not unicodedata.combining(c))
    return name.upper() if rng.random() < 0.1 else name


def _catalog_title(title: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.1:
        return title.lower()
    if roll < 0.18:
        return f"{title} (LP)"
    if roll < 0.22:
        return f"{title} (Deluxe Edition)"
    return title


class _Writers:
    def __init__(self, out_dir: Path) -> None:
        self.files = {}
        self.writers = {}
        self.rows = dict.fromkeys(HEADERS, 0)
        for name, header in HEADERS.items():
            handle = open(out_dir / f"{name}.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115 (closed by close())
            self.files[name] = handle
            self.writers[name] = csv.writer(handle, lineterminator="\n")
            self.writers[name].writerow(header)

    def write(self, name: str, row: Sequence[object]) -> None:
        self.writers[name].writerow(row)
        self.rows[name] += 1

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def write_synthetic_csvs(out_dir: Path, n_releases: int, seed: int = 7) -> SynthInfo:
    """Write the eight CSVs for `n_releases` releases into `out_dir`; deterministic."""
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    artists = _artists(rng, max(10, n_releases // 6))
    artist_ids = {name: 1000 + i for i, name in enumerate(artists)}
    n_labels = max(6, n_releases // 40)
    labels = [f"{_name(rng, rng.choice((1, 2)))} Records" for _ in range(n_labels)]
    parent = {i: rng.randrange(n_labels) for i in range(n_labels) if rng.random() < 0.3}
    parent = {i: p for i, p in parent.items() if p != i and p not in parent}
    children: dict[int, list[int]] = {}
    for child, par in parent.items():
        children.setdefault(par, []).append(child)

    out = _Writers(out_dir)
    info = SynthInfo(out_dir, n_releases, 0)
    for i, label in enumerate(labels):
        par = parent.get(i)
        out.write("label_hierarchy", (
            10_000 + i, label, "" if par is None else 10_000 + par,
            "" if par is None else labels[par],
        ))  # fmt: skip
    for name in artists:
        if rng.random() < 0.2:
            out.write("artist_alias", (artist_ids[name], _name(rng, 2)))
            if rng.random() < 0.3:
                out.write("artist_alias", (artist_ids[name], name.upper()))

    release_id, master_id, done = 1000, 500, 0
    while done < n_releases:
        has_master = rng.random() >= 0.38  # groups avg 3.5 pressings -> ~15% of releases
        pressings = min(rng.randint(1, 6) if has_master else 1, n_releases - done)
        master_id += rng.randint(1, 5)
        various = rng.random() < 0.06
        artist = "Various" if various else rng.choice(artists)
        title = _title(rng)
        base_tracks = 0 if rng.random() < 0.03 else rng.randint(5, 16)
        label_ix = rng.randrange(n_labels)
        year = rng.randint(1960, 2020)
        owned = rng.random() < 0.35
        chosen: list[tuple[str, str]] = []
        for p in range(pressings):
            release_id += rng.randint(1, 9)
            country = COUNTRIES[p % 4] if rng.random() < 0.8 else rng.choice(COUNTRIES)
            tracks = max(0, base_tracks + (rng.randint(1, 3) if country == "JP" else 0)
                         - (1 if rng.random() < 0.2 else 0)) if base_tracks else 0  # fmt: skip
            lab = label_ix
            roll = rng.random()
            if roll < 0.25 and label_ix in parent:
                lab = parent[label_ix]
            elif roll < 0.45 and label_ix in children:
                lab = rng.choice(children[label_ix])
            elif roll < 0.55:
                lab = rng.randrange(n_labels)
            ptitle = title if rng.random() < 0.85 else f"{title} (Deluxe Edition)"
            out.write("release", (
                release_id, "Accepted", ptitle, country, _released(rng, year + (p > 0) * p),
                _notes(rng), "Correct", master_id if has_master else "", rng.choice(_FORMATS),
            ))  # fmt: skip
            _credits(out, rng, release_id, artist, artist_ids, artists, various)
            out.write("release_label", (release_id, labels[lab], f"CAT-{release_id % 9973}"))
            if rng.random() < 0.08:  # same label twice with another catno: must collapse
                out.write("release_label", (release_id, labels[lab], f"CAT-{release_id % 97}X"))
            _tracks(out, rng, release_id, tracks, various, artists)
            _images(out, rng, release_id)
            chosen.append((labels[lab], ptitle))
            done += 1
        info.n_masters += has_master
        if owned:
            label, ptitle = rng.choice(chosen)
            lib_artist = "Various Artists" if various else _catalog_artist(artist, rng)
            lib_title = _catalog_title(ptitle, rng)
            info.library.append((lib_artist, lib_title))
            if rng.random() < 0.6:
                pref = labels[parent[label_ix]] if label_ix in parent and roll < 0.3 else label
                info.library_labels.append((lib_artist, lib_title, pref))
    for _ in range(max(1, len(info.library) // 10)):  # albums the dump does not have
        info.library.append((_name(rng, 2), _title(rng)))
    out.close()
    info.rows = out.rows
    return info


def _credits(
    out: _Writers,
    rng: random.Random,
    release_id: int,
    artist: str,
    artist_ids: dict[str, int],
    artists: list[str],
    various: bool,
) -> None:
    main_id = VARIOUS_ID if various else artist_ids[artist]
    out.write("release_artist", (release_id, main_id, artist, 0, "", 1, ""))
    if not various and rng.random() < 0.08:
        guest = rng.choice(artists)
        if guest != artist:
            out.write("release_artist", (release_id, artist_ids[guest], guest, 0, "", 2, "&"))
    for _ in range(rng.choice((0, 1, 1, 2))):
        extra = artist if rng.random() < 0.15 else rng.choice(artists)  # dup of main: collapses
        out.write("release_artist", (release_id, artist_ids.get(extra, 0), extra, 1, "", "", ""))


def _tracks(
    out: _Writers,
    rng: random.Random,
    release_id: int,
    n: int,
    various: bool,
    artists: list[str],
) -> None:
    side = n // 2 or 1
    for seq in range(1, n + 1):
        position = f"{'A' if seq <= side else 'B'}{seq if seq <= side else seq - side}"
        duration = f"{rng.randint(1, 9)}:{rng.randint(0, 59):02d}" if rng.random() < 0.8 else ""
        out.write("release_track", (release_id, seq, position, _title(rng), duration))
        if various or rng.random() < 0.04:
            out.write("release_track_artist", (release_id, seq, rng.choice(artists)))


def _images(out: _Writers, rng: random.Random, release_id: int) -> None:
    roll = rng.random()
    if roll < 0.3:
        return
    base = f"https://i.discogs.com/R-{release_id}"
    if roll < 0.9:
        out.write("release_image", (release_id, "primary", 600, 600, f"{base}-1.jpg"))
    for k in range(rng.randint(0 if roll < 0.9 else 1, 2)):
        out.write("release_image", (release_id, "secondary", 600, 600, f"{base}-{k + 2}.jpg"))


def write_library_db(entries: Iterable[tuple[str, str]], path: Path) -> int:
    """A station `library.db` (SQLite table `library`) holding `(artist, title)` entries."""
    path = Path(path)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "CREATE TABLE library (id INTEGER PRIMARY KEY, title TEXT, artist TEXT,"
            " call_letters TEXT, artist_call_number INTEGER, release_call_number INTEGER,"
            " genre TEXT, format TEXT, alternate_artist_name TEXT)"
        )
        rows = [
            (i, title, artist, artist[:2].upper(), i // 7 + 1, i % 7 + 1,
             ("Rock", "Jazz", "Hiphop", "Electronic")[i % 4], ("LP", "CD")[i % 2], None)
            for i, (artist, title) in enumerate(entries, start=1)
        ]  # fmt: skip
        conn.executemany("INSERT INTO library VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.commit()
        return len(rows)
    finally:
        conn.close()
