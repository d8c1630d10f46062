"""The library filter, aliases by id, label hierarchy and bad-input handling of convert."""

from __future__ import annotations

import csv
import gzip
import hashlib
from pathlib import Path

import pytest

from discogs_cache import progress
from discogs_cache.convert import LibraryFilter, convert, read_library_artists
from discogs_cache.convert.filter import IdSet
from discogs_cache.convert.releases import screen
from discogs_cache.errors import InputError


@pytest.fixture(autouse=True)
def _quiet() -> None:
    progress.set_quiet(True)


def release(rid: int, *credits: tuple[int | None, str], title: str = "T") -> str:
    artists = "".join(
        f"<artist>{'' if i is None else f'<id>{i}</id>'}<name>{n}</name><anv/><join/></artist>"
        for i, n in credits
    )
    return (
        f'<release id="{rid}" status="Accepted"><artists>{artists}</artists><title>{title}'
        f"</title><tracklist><track><position>1</position><title>Song</title>"
        f"<artists><artist><id>9</id><name>Track Guest</name></artist></artists></track>"
        f"</tracklist></release>\n"
    )


def write_dump(directory: Path, name: str, root: str, records: list[str], gz: bool = True) -> Path:
    text = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>\n{"".join(records)}</{root}>\n'
    path = directory / name
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def library_file(directory: Path, *names: str) -> Path:
    path = directory / "library.txt"
    path.write_text("\n".join(names) + "\n", encoding="utf-8")
    return path


def kept_ids(out: Path) -> list[str]:
    with (out / "release.csv").open(encoding="utf-8", newline="") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


@pytest.mark.parametrize(
    ("library", "credited"),
    [
        ("Beatles, The", "The Beatles"),
        ("The Beatles", "Beatles, The"),
        ("Bjork", "Björk"),
        ("Prince", "Prince (2)"),
        ("Simon and Garfunkel", "Simon &amp; Garfunkel"),
        ("STEREOLAB", "Stereolab"),
        ("Los Lobos", "Lobos, Los"),
        ("Tortoise", "Tortoise [US]"),
        ("Guns N Roses", "Guns N' Roses"),
        ("Beatles", "The Beatles"),  # catalogs often file without the article
        ("AC/DC", "AC-DC"),
    ],
)
def test_normalized_name_matches(tmp_path: Path, library: str, credited: str) -> None:
    dump = write_dump(
        tmp_path, "r.xml", "releases", [release(1, (5, credited)), release(2, (6, "Other"))]
    )
    convert(dump, tmp_path / "out", library_artists=library_file(tmp_path, library), workers=1)
    assert kept_ids(tmp_path / "out") == ["1"]


def test_screen_agrees_with_full_parse_rule() -> None:
    record = release(1, (None, "A &amp; B"), (0, "C"), (7, "D (2)")).encode()
    assert screen(record) == [(None, "A & B"), (None, "C"), (7, "D (2)")]
    # track artists are not main credits
    assert screen(b'<release id="1"><title>X</title><tracklist><track><artists><artist>'
                  b"<id>1</id><name>N</name></artist></artists></track></tracklist></release>"
                  ) == []  # fmt: skip


ARTISTS = [
    "<artist><id>100</id><name>P. Diddy</name><namevariations><name>Diddy</name>"
    '</namevariations><aliases><name id="200">Puff Daddy</name><name id="300">Sean Combs</name>'
    "</aliases></artist>\n",
    "<artist><id>200</id><name>Puff Daddy</name>"
    '<aliases><name id="100">P. Diddy</name></aliases></artist>\n',
    # same name as an alias of 100, but a different artist with no link to Puff Daddy
    "<artist><id>555</id><name>Sean Combs (2)</name><namevariations><name>S. Combs</name>"
    "</namevariations></artist>\n",
    "<artist><id>777</id><name>Unrelated</name><aliases><name id='1'>X</name></aliases></artist>\n",
]


def test_alias_matches_by_id_only(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    write_dump(dump, "a.bin", "artists", ARTISTS)  # recognised by root, not by name
    write_dump(
        dump,
        "r.xml.gz",
        "releases",
        [
            release(1, (100, "P. Diddy")),  # alias of the library's Puff Daddy, by id
            release(2, (555, "Sean Combs (2)")),  # named like 100's alias: no match
            release(3, (None, "P. Diddy")),  # unlinked credit: name only, no match
            release(4, (777, "Unrelated"), (200, "Puff Daddy")),  # co-credit by name
        ],
    )
    out = tmp_path / "out"
    summary = convert(dump, out, library_artists=library_file(tmp_path, "Puff Daddy"), workers=1)
    assert kept_ids(out) == ["1", "4"]
    assert summary.matched_artist_ids == 2  # 100 (alias) and 200 (own name)
    # aliases (with the alias's own id) and name variations (none) for every main artist
    # credited on a kept release, and only those
    assert rows(out / "artist_alias.csv") == [
        ["100", "Diddy", ""],
        ["100", "Puff Daddy", "200"],
        ["100", "Sean Combs", "300"],
        ["200", "P. Diddy", "100"],
        ["777", "X", "1"],
    ]
    assert rows(out / "artist.csv") == [
        ["100", "P. Diddy", "", ""],
        ["200", "Puff Daddy", "", ""],
        ["777", "Unrelated", "", ""],
    ]
    assert rows(out / "artist_name_variation.csv") == [["100", "Diddy"]]


def test_compilations_pass_only_when_library_lists_them(tmp_path: Path) -> None:
    dump = write_dump(
        tmp_path, "r.xml", "releases", [release(1, (194, "Various")), release(2, (3, "Nobody"))]
    )
    convert(dump, tmp_path / "a", library_artists=library_file(tmp_path, "Stereolab"), workers=1)
    assert kept_ids(tmp_path / "a") == []
    lib = library_file(tmp_path, "# comment", "", "Stereolab", "Various Artists")
    convert(dump, tmp_path / "b", library_artists=lib, workers=1)
    assert kept_ids(tmp_path / "b") == ["1"]


def test_library_file_format(tmp_path: Path) -> None:
    path = library_file(tmp_path, "# header", "  Stereolab  ", "", "Björk")
    assert read_library_artists(path) == ["Stereolab", "Björk"]
    assert LibraryFilter.from_names(["Various Artists"]).compilations
    with pytest.raises(InputError, match="not found"):
        read_library_artists(tmp_path / "missing.txt")


def test_id_set() -> None:
    ids = IdSet()
    ids.update([0, 7, 8, 15_000_000])
    assert 7 in ids and 15_000_000 in ids and 9 not in ids and -1 not in ids
    assert len(ids) == 4
    assert len(ids.bits) < 3_000_000


LABELS = [
    '<label><id>1</id><name>Planet E</name><sublabels><label id="2">Sub One</label>'
    "<label/></sublabels></label>\n",
    '<label><id>2</id><name>Sub One</name><parentLabel id="1">Planet E</parentLabel></label>\n',
    "<label><id>3</id><name>Orphan</name></label>\n",
    '<label><id>4</id><name>Warp &amp; Co</name><parentLabel id="9">Big</parentLabel></label>\n',
]


def test_label_hierarchy_rows(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    write_dump(dump, "labels.xml", "labels", LABELS, gz=False)
    write_dump(dump, "releases.xml", "releases", [release(1, (1, "A"))], gz=False)
    summary = convert(dump, tmp_path / "out", workers=1)
    assert summary.labels_seen == 4
    assert rows(tmp_path / "out" / "label_hierarchy.csv") == [
        ["2", "Sub One", "1", "Planet E"],
        ["4", "Warp & Co", "9", "Big"],
    ]
    assert not (tmp_path / "out" / "artist_alias.csv").exists()


def test_bad_record_is_reported_and_skipped(tmp_path: Path) -> None:
    bad = '<release id="2" status="Accepted"><artists><artist><id>1</id><name>A</name></artist>'
    bad += "</artists><title>Broken \x01 control</title></release>\n"
    dump = write_dump(tmp_path, "r.xml.gz", "releases", [release(1, (1, "A")), bad,
                                                          release(3, (1, "A"))])  # fmt: skip
    summary = convert(dump, tmp_path / "out", workers=1)
    assert kept_ids(tmp_path / "out") == ["1", "3"]
    assert summary.bad_records == 1
    kind, ident, offset, why = summary.bad[0]
    assert (kind, ident) == ("releases", "2")
    text = gzip.decompress(dump.read_bytes())
    assert text[offset:].startswith(b'<release id="2"')
    assert why


def test_truncated_gzip_leaves_no_csv(tmp_path: Path) -> None:
    # incompressible titles: the gzip is > 2 MB, so the cut comes after CSVs were started
    titles = [hashlib.sha256(str(i).encode()).hexdigest() * 2 for i in range(50_000)]
    records = [release(i, (1, "A"), title=t) for i, t in enumerate(titles, 1)]
    dump = write_dump(tmp_path, "r.xml.gz", "releases", records)
    data = dump.read_bytes()
    assert len(data) > 2_000_000
    dump.write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "out"
    out.mkdir()
    (out / "release.csv").write_text("stale\n")
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        convert(dump, out, workers=2, chunk_size=50_000)
    # no temporary file left, the previous complete CSV untouched, no new one
    assert sorted(p.name for p in out.iterdir()) == ["release.csv"]
    assert (out / "release.csv").read_text() == "stale\n"


def test_truncated_xml_and_unknown_root_and_missing_path(tmp_path: Path) -> None:
    dump = write_dump(tmp_path, "r.xml", "releases", [release(1, (1, "A"))], gz=False)
    dump.write_text(dump.read_text()[:-20], encoding="utf-8")
    with pytest.raises(InputError, match="truncated"):
        convert(dump, tmp_path / "out", workers=1)
    assert list((tmp_path / "out").iterdir()) == []
    other = write_dump(tmp_path, "x.xml", "collection", [])
    with pytest.raises(InputError, match="unknown root element <collection>"):
        convert(other, tmp_path / "out2", workers=1)
    with pytest.raises(InputError, match="no such file"):
        convert(tmp_path / "nope.xml.gz", tmp_path / "out3", workers=1)
    with pytest.raises(InputError, match="no <releases> dump"):
        convert(write_dump(tmp_path, "l.xml", "labels", LABELS), tmp_path / "out4", workers=1)
