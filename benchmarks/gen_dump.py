"""Deterministic synthetic Discogs dump: releases/artists/labels .xml.gz plus a matching library.

Record shapes mirror the real 2020 excerpts (tests/data/samples): images, main and extra
credits, labels, formats with descriptions, notes carrying `&#13;`, master_id with
is_main_release, tracklists with index tracks and sub_tracks, identifiers, videos with long
descriptions and companies — the bulky parts drive MB/s. shape="post2024" drops images, omits
`<id>` for unlinked credits and empty elements, and adds `<series>`.

Library: every 7th artist (ids ≡ 0 mod 7) plus "Various Artists"; with the artists whose
aliases name a library artist (matched by id) and the 4% compilations, ~20% of releases are
kept. Some library names use catalog spellings ("Name, The"). `DumpInfo`
carries the artist list and the (artist, title) pairs of their releases, so others can build a
library.db. Usage: python benchmarks/gen_dump.py OUT_DIR N_RELEASES [SEED]
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from isal import igzip

_WORDS_TEXT = (
    "love night blue dream city fire heart time sound light soul rain black gold summer "
    "river moon star dance electric shadow street ocean deep wild silver echo ghost paper "
    "velvet glass machine orchestra quartet trio brothers sisters club society experience "
    "björk señor café über noël"
)
WORDS = tuple(_WORDS_TEXT.split())
COUNTRIES = ("US", "UK", "Germany", "France", "Japan", "Netherlands", "Italy", "Canada", "Sweden")
GENRES = ("Electronic", "Rock", "Jazz", "Hip Hop", "Funk / Soul", "Pop", "Classical", "Folk")
ROLES = ("Producer", "Mastered By", "Written-By", "Mixed By", "Engineer", "Artwork", "Vocals")
FORMATS = ("Vinyl", "CD", "Cassette", "File")
VARIOUS_ID = 194
LIBRARY_EVERY = 7


@dataclass
class DumpInfo:
    out_dir: Path
    releases: Path
    artists: Path
    labels: Path
    n_releases: int
    xml_bytes: int  # uncompressed size of releases.xml
    xml_sizes: dict[str, int] = field(default_factory=dict)  # uncompressed, per file name
    library_artists: list[str] = field(default_factory=list)
    library_albums: list[tuple[str, str]] = field(default_factory=list)  # (artist, title)
    expected_kept: int = 0


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).title()


def artist_name(artist_id: int) -> str:
    """Deterministic name per id; every 7th is "The ...", every 11th gets a Discogs " (2)"."""
    rng = random.Random(artist_id * 7919)
    name = _words(rng, 1, 3)
    if artist_id % 7 == 0:
        name = f"The {name}"
    if artist_id % 11 == 0:
        name = f"{name} (2)"
    return f"{name} {artist_id}"


def aliases_of(artist_id: int, n_artists: int, seed: int) -> list[int]:
    """One artist in ten has one or two aliases (other artist ids)."""
    rng = random.Random(artist_id * 104729 + seed)
    if rng.random() >= 0.1:
        return []
    return sorted({rng.randint(1, n_artists) for _ in range(rng.randint(1, 2))} - {artist_id})


def _el(tag: str, text: str, post: bool) -> str:
    if not text:
        return "" if post else f"<{tag}/>"
    return f"<{tag}>{escape(text)}</{tag}>"


def _credit(aid: int | None, name: str, post: bool, role: str = "", anv: str = "") -> str:
    ident = "" if (post and not aid) else f"<id>{aid or 0}</id>"
    return (
        f"<artist>{ident}<name>{escape(name)}</name>{_el('anv', anv, post)}{_el('join', '', post)}"
        f"{_el('role', role, post)}{_el('tracks', '', post)}</artist>"
    )


def _release(
    rid: int, rng: random.Random, n_artists: int, post: bool
) -> tuple[str, list[int], str]:
    if rng.random() < 0.04:
        main = [(VARIOUS_ID, "Various")]
    else:
        main = [(rng.randint(1, n_artists), "") for _ in range(1 if rng.random() < 0.9 else 2)]
        main = [(a, artist_name(a)) for a, _ in main]
    title = _words(rng, 1, 4)
    parts = [f'<release id="{rid}" status="Accepted">']
    if not post:
        images = "".join(
            f'<image type="{"primary" if i == 0 else "secondary"}" uri="" uri150="" '
            f'width="600" height="{rng.randint(300, 800)}"/>'
            for i in range(rng.randint(1, 5))
        )
        parts.append(f"<images>{images}</images>")
    parts.append("<artists>" + "".join(_credit(a, n, post) for a, n in main) + "</artists>")
    parts.append(f"<title>{escape(title)}</title>")
    labels = "".join(
        f"<label name={quoteattr(_words(rng, 1, 2) + ' Records')} "
        f'catno="{rng.choice("ABCDEFGH")}{rng.randint(1, 999):03d}" id="{rng.randint(1, 9999)}"/>'
        for _ in range(rng.randint(1, 2))
    )
    parts.append(f"<labels>{labels}</labels>")
    if post and rng.random() < 0.2:
        parts.append(f'<series><series name="{_words(rng, 1, 2)} Series" catno="{rid % 90}" '
                     f'id="{rng.randint(1, 999)}"/></series>')  # fmt: skip
    extra = "".join(
        _credit(None if rng.random() < 0.2 else rng.randint(1, n_artists), artist_name(rid + i),
                post, role=rng.choice(ROLES))
        for i in range(rng.randint(2, 7))
    )  # fmt: skip
    parts.append(f"<extraartists>{extra}</extraartists>")
    fmt = rng.choice(FORMATS)
    parts.append(
        f'<formats><format name="{fmt}" qty="{rng.randint(1, 2)}" text=""><descriptions>'
        "<description>LP</description><description>Album</description>"
        "<description>33 &#8531; RPM</description></descriptions></format></formats>"
    )
    parts.append(f"<genres><genre>{escape(rng.choice(GENRES))}</genre></genres>"
                 f"<styles><style>{_words(rng, 1, 2)}</style></styles>")  # fmt: skip
    parts.append(f"<country>{rng.choice(COUNTRIES)}</country>")
    parts.append(f"<released>{rng.randint(1955, 2023)}-{rng.randint(0, 12):02d}-00</released>")
    notes = "&#13;\n".join(_words(rng, 4, 14) for _ in range(rng.randint(0, 6)))
    parts.append(f"<notes>{notes}</notes>" if notes or not post else "")
    parts.append(f"<data_quality>{rng.choice(('Correct', 'Needs Vote'))}</data_quality>")
    if rng.random() < 0.7:
        main_flag = "true" if rng.random() < 0.4 else "false"
        parts.append(f'<master_id is_main_release="{main_flag}">{rid // 3 + 1}</master_id>')
    parts.append("<tracklist>" + _tracklist(rng, post, n_artists) + "</tracklist>")
    parts.append(
        "<identifiers>"
        + "".join(
            f'<identifier type="Matrix / Runout" description="Side {s}" value="{title[:8]} '
            f'{rid}-{s}"/>'
            for s in "ABCD"[: rng.randint(1, 4)]
        )
        + f'<identifier type="Barcode" value="{rng.randint(10**11, 10**12)}"/></identifiers>'
    )
    videos = "".join(
        f'<video src="https://www.youtube.com/watch?v={rid:x}{v}" duration="{rng.randint(60, 600)}"'
        f' embed="true"><title>{escape(title)} {v}</title><description>Provided to YouTube by '
        f"{_words(rng, 2, 3)}&#13;\n&#13;\n{escape(title)} &#183; {_words(rng, 3, 20)}&#13;\n"
        f"Released on: 2001-07-02</description></video>"
        for v in range(rng.randint(0, 4))
    )
    parts.append(f"<videos>{videos}</videos>" if videos or not post else "")
    companies = "".join(
        f"<company><id>{rng.randint(1, 99999)}</id><name>{_words(rng, 1, 3)}</name>"
        f"{_el('catno', '', post)}<entity_type>{rng.randint(1, 30)}</entity_type>"
        f"<entity_type_name>{rng.choice(('Pressed By', 'Recorded At', 'Mastered At'))}"
        f"</entity_type_name><resource_url>https://api.discogs.com/labels/{rid}</resource_url>"
        "</company>"
        for _ in range(rng.randint(0, 4))
    )
    parts.append(f"<companies>{companies}</companies>" if companies or not post else "")
    parts.append("</release>\n")
    return "".join(parts), [a for a, _ in main], title


def _tracklist(rng: random.Random, post: bool, n_artists: int) -> str:
    tracks = []
    for number in range(1, rng.randint(4, 16)):
        duration = f"{rng.randint(1, 9)}:{rng.randint(0, 59):02d}" if rng.random() < 0.8 else ""
        credit = ""
        if rng.random() < 0.15:
            who = rng.randint(1, n_artists)
            credit = (
                f"<extraartists>{_credit(who, artist_name(who), post, 'Vocals')}</extraartists>"
            )
        if rng.random() < 0.05:  # index track holding sub-tracks
            subs = "".join(
                f"<track><position>{number}.{s}</position><title>{_words(rng, 1, 3)}</title>"
                f"{_el('duration', '', post)}</track>"
                for s in range(1, rng.randint(2, 5))
            )
            tracks.append(
                f"<track>{_el('position', '', post)}<title>{_words(rng, 1, 3)}</title>"
                f"{_el('duration', '', post)}<sub_tracks>{subs}</sub_tracks></track>"
            )
            continue
        tracks.append(
            f"<track><position>{'AB'[number % 2]}{number}</position><title>"
            f"{escape(_words(rng, 1, 5))}</title>{_el('duration', duration, post)}{credit}</track>"
        )
    return "".join(tracks)


def _write_gz(path: Path, root: str, records: object) -> int:
    size = 0
    with igzip.IGzipFile(str(path), "wb", compresslevel=1, mtime=0) as out:
        head = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>\n'.encode()
        out.write(head)
        size += len(head)
        batch: list[str] = []
        for record in records:  # type: ignore[attr-defined]
            batch.append(record)
            if len(batch) >= 2000:
                data = "".join(batch).encode()
                out.write(data)
                size += len(data)
                batch = []
        tail = ("".join(batch) + f"</{root}>\n").encode()
        out.write(tail)
        size += len(tail)
    return size


def artist_records(n_artists: int, seed: int, post: bool) -> Iterator[str]:
    """artists.xml records 1..n_artists: names, one variation at most, aliases by id."""
    rng = random.Random(seed + 1)
    for aid in range(1, n_artists + 1):
        alias_ids = aliases_of(aid, n_artists, seed)
        variations = "".join(f"<name>{escape(artist_name(aid).upper())}</name>"
                             for _ in range(rng.randint(0, 1)))  # fmt: skip
        aliases = "".join(f'<name id="{a}">{escape(artist_name(a))}</name>' for a in alias_ids)
        images = "" if post else '<images><image type="primary" uri="" width="600"/></images>'
        yield (
            f"<artist>{images}<id>{aid}</id><name>{escape(artist_name(aid))}</name>"
            f"<realname>{_words(rng, 2, 3)}</realname><profile>{_words(rng, 5, 40)}</profile>"
            f"<data_quality>Needs Vote</data_quality><namevariations>{variations}"
            f"</namevariations><aliases>{aliases}</aliases></artist>\n"
        )


def label_records(n_labels: int, seed: int) -> Iterator[str]:
    """labels.xml records 1..n_labels; about 30% past the tenth have a parent label."""
    rng = random.Random(seed + 2)
    for lid in range(1, n_labels + 1):
        parent = ""
        if lid > 10 and rng.random() < 0.3:
            pid = rng.randint(1, 10)
            parent = f'<parentLabel id="{pid}">Label {pid}</parentLabel>'
        yield (
            f"<label><id>{lid}</id><name>Label {lid}</name><contactinfo>{_words(rng, 3, 9)}"
            f"&#13;\n{_words(rng, 2, 5)}</contactinfo><profile>{_words(rng, 3, 30)}</profile>"
            f"<data_quality>Correct</data_quality>{parent}</label>\n"
        )


def matched_artists(n_artists: int, seed: int) -> set[int]:
    """Artist ids the library filter keeps: library artists and those aliasing one."""
    return {
        aid
        for aid in range(1, n_artists + 1)
        if aid % LIBRARY_EVERY == 0
        or any(a % LIBRARY_EVERY == 0 for a in aliases_of(aid, n_artists, seed))
    }


def generate_dump(
    out_dir: Path, n_releases: int, seed: int = 42, *, shape: str = "pre2024"
) -> DumpInfo:
    """Write releases/artists/labels .xml.gz under out_dir; same arguments, same bytes."""
    post = shape == "post2024"
    out_dir.mkdir(parents=True, exist_ok=True)
    n_artists = max(50, n_releases // 8)
    info = DumpInfo(out_dir, out_dir / "releases.xml.gz", out_dir / "artists.xml.gz",
                    out_dir / "labels.xml.gz", n_releases, 0)  # fmt: skip
    info.library_artists = library_artist_names(n_artists)
    matched = matched_artists(n_artists, seed)

    def releases() -> Iterator[str]:
        rng = random.Random(seed)
        for rid in range(1, n_releases + 1):
            record, main_ids, title = _release(rid, rng, n_artists, post)
            if any(a == VARIOUS_ID or a in matched for a in main_ids):
                info.expected_kept += 1
            first_artist = main_ids[0]
            if first_artist % LIBRARY_EVERY == 0 and first_artist != VARIOUS_ID and rid % 3 == 0:
                info.library_albums.append((artist_name(first_artist), title))
            yield record

    info.xml_bytes = _write_gz(info.releases, "releases", releases())
    info.xml_sizes = {
        info.releases.name: info.xml_bytes,
        info.artists.name: _write_gz(
            info.artists, "artists", artist_records(n_artists, seed, post)
        ),
        info.labels.name: _write_gz(
            info.labels, "labels", label_records(max(20, n_releases // 40), seed)
        ),
    }
    (out_dir / "library_artists.txt").write_text(
        "# synthetic library\n" + "\n".join(info.library_artists) + "\n", encoding="utf-8"
    )
    return info


def library_artist_names(n_artists: int) -> list[str]:
    """Every 7th artist (half of the "The ..." ones in catalog spelling), plus Various."""
    names = []
    for aid in range(LIBRARY_EVERY, n_artists + 1, LIBRARY_EVERY):
        name = artist_name(aid)
        if aid % 2 == 0 and name.startswith("The "):
            name = f"{name[4:]}, The"  # catalog spelling
        names.append(name)
    names.append("Various Artists")
    return names


if __name__ == "__main__":
    result = generate_dump(
        Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 42
    )
    print(f"{result.n_releases} releases, {result.xml_bytes / 1e6:.0f} MB XML, "
          f"~{result.expected_kept} kept by the library filter, in {result.out_dir}")  # fmt: skip
