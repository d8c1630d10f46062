"""convert on the real 2020 excerpts and on a hand-written post-2024 record."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest
from lxml import etree

from discogs_cache import progress
from discogs_cache.convert import convert
from tests.conftest import SAMPLES

RELEASES = SAMPLES / "discogs_20200806_releases.xml.gz"


@pytest.fixture(autouse=True)
def _quiet() -> None:
    progress.set_quiet(True)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def written_tracks(tracklist: etree._Element) -> list[etree._Element]:
    """Independent reading of the documented rule: titled, non-heading tracks, depth first
    (the order of `sequence`)."""
    result = []
    for track in tracklist.findall("track"):
        subs = track.find("sub_tracks")
        heading = (
            not (track.findtext("position") or "").strip()
            and not (track.findtext("duration") or "").strip()
            and subs is None
        )
        if (track.findtext("title") or "") and not heading:
            result.append(track)
        if subs is not None:
            result.extend(written_tracks(subs))
    return result


def _count_tracks(tracklist: etree._Element) -> int:
    return len(written_tracks(tracklist))


def test_samples_counts_match_an_independent_lxml_count(tmp_path: Path) -> None:
    root = etree.fromstring(gzip.decompress(RELEASES.read_bytes()))
    releases = root.findall("release")
    assert len(releases) == 1000
    expected_tracks = sum(_count_tracks(r.find("tracklist")) for r in releases)
    expected_main = sum(len(r.findall("artists/artist")) for r in releases)
    expected_extra = sum(len(r.findall("extraartists/artist")) for r in releases)
    expected_labels = sum(len(r.findall("labels/label")) for r in releases)
    expected_images = sum(len(r.findall("images/image")) for r in releases)

    summary = convert(SAMPLES, tmp_path, workers=1)

    assert summary.releases_seen == summary.releases_kept == 1000
    assert summary.bad_records == 0
    release_rows = read_csv(tmp_path / "release.csv")
    assert len(release_rows) == 1000
    assert [r["id"] for r in release_rows] == [r.get("id") for r in releases]
    artists = read_csv(tmp_path / "release_artist.csv")
    assert sum(a["extra"] == "0" for a in artists) == expected_main
    assert sum(a["extra"] == "1" for a in artists) == expected_extra
    assert len(read_csv(tmp_path / "release_label.csv")) == expected_labels
    assert len(read_csv(tmp_path / "release_image.csv")) == expected_images
    tracks = read_csv(tmp_path / "release_track.csv")
    assert len(tracks) == expected_tracks
    assert expected_tracks > 9000  # sanity: sub_tracks exist in the sample and are counted
    assert summary.rows["release_track"] == expected_tracks
    # sequences are 1..n per release, in document order
    by_release: dict[str, list[int]] = {}
    for row in tracks:
        by_release.setdefault(row["release_id"], []).append(int(row["sequence"]))
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_release.values())


def test_sample_release_1_fields(tmp_path: Path) -> None:
    convert(RELEASES, tmp_path, workers=1)
    first = read_csv(tmp_path / "release.csv")[0]
    assert first["id"] == "1"
    assert first["title"] == "Stockholm"
    assert first["released"] == "1999-03-00"
    assert first["master_id"] == "1660109"
    assert first["format"] == "Vinyl"
    assert first["notes"].startswith("The song titles are the names")
    assert "\n" in first["notes"]
    tracks = [t for t in read_csv(tmp_path / "release_track.csv") if t["release_id"] == "1"]
    assert [(t["sequence"], t["position"], t["title"]) for t in tracks][:2] == [
        ("1", "A", "Östermalm"),
        ("2", "B1", "Vasastaden"),
    ]
    extra = [a for a in read_csv(tmp_path / "release_artist.csv") if a["release_id"] == "1"]
    assert ("239", "Jesper Dahlbäck", "1") in {
        (a["artist_id"], a["artist_name"], a["extra"]) for a in extra
    }


POST_2024 = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<releases>\n"
    '<release id="31000001" status="Accepted"><artists><artist>'
    "<name>Unlinked Band</name></artist><artist><id>45</id><name>Aphex Twin</name>"
    "<anv>AFX</anv><join>&amp;</join></artist></artists>"
    "<title>Notes &amp; Things</title><labels>"
    '<label name="Warp Records" catno="WAP 1" id="23528"/></labels><series>'
    '<series name="Warp Singles" catno="1" id="9"/></series><extraartists><artist>'
    "<name>Some Engineer</name><role>Mastered By</role></artist></extraartists>"
    '<formats><format name="CD" qty="1"><descriptions>'
    "<description>Album</description></descriptions></format>"
    '<format name="Vinyl" qty="2"/></formats><genres><genre>Electronic</genre>'
    "</genres><country>UK</country><released>2025</released><notes>line one&#13;\n"
    'line two, "quoted"</notes><data_quality>Needs Vote</data_quality><tracklist>'
    "<track><position></position><title>Side A</title></track><track>"
    "<position>1</position><title>Opener</title><duration>3:00</duration><artists>"
    "<artist><name>Guest Voice</name></artist></artists></track><track>"
    "<title>Suite</title><sub_tracks><track><position>2a</position>"
    "<title>Part One</title></track><track><position>2b</position>"
    "<title>Part Two</title><duration>1:00</duration></track></sub_tracks></track>"
    "</tracklist></release>\n"
    "</releases>\n"
)


def test_post_2024_record(tmp_path: Path) -> None:
    dump = tmp_path / "dump.xml"
    dump.write_text(POST_2024, encoding="utf-8")
    out = tmp_path / "out"
    summary = convert(dump, out, workers=1)
    assert summary.releases_kept == 1
    (release,) = read_csv(out / "release.csv")
    assert release["title"] == "Notes & Things"
    assert release["notes"] == 'line one\r\nline two, "quoted"'
    assert release["format"] == "CD"
    assert release["master_id"] == ""
    artists = read_csv(out / "release_artist.csv")
    assert [(a["artist_id"], a["artist_name"], a["extra"], a["position"]) for a in artists] == [
        ("", "Unlinked Band", "0", "1"),
        ("45", "Aphex Twin", "0", "2"),
        ("", "Some Engineer", "1", "1"),
    ]
    assert artists[1]["anv"] == "AFX" and artists[1]["join_field"] == "&"
    assert read_csv(out / "release_image.csv") == []
    tracks = read_csv(out / "release_track.csv")
    # heading "Side A" skipped; index track "Suite" kept, its sub-tracks follow it
    assert [(t["sequence"], t["position"], t["title"], t["duration"]) for t in tracks] == [
        ("1", "1", "Opener", "3:00"),
        ("2", "", "Suite", ""),
        ("3", "2a", "Part One", ""),
        ("4", "2b", "Part Two", "1:00"),
    ]
    assert read_csv(out / "release_track_artist.csv") == [
        {"release_id": "31000001", "track_sequence": "1", "artist_name": "Guest Voice",
         "extra": "0", "role": ""}
    ]  # fmt: skip
    assert read_csv(out / "release_genre.csv") == [
        {"release_id": "31000001", "genre": "Electronic"}
    ]
    assert read_csv(out / "release_label.csv") == [
        {"release_id": "31000001", "label": "Warp Records", "catno": "WAP 1", "label_id": "23528"}
    ]
    assert artists[2]["role"] == "Mastered By"
    assert (out / "release.csv").read_bytes().startswith(b"id,status,title,country,released,")


def test_workers_1_and_2_are_byte_identical(tmp_path: Path) -> None:
    library = tmp_path / "library.txt"
    library.write_text("The Persuader\nJosh Wink\nVarious Artists\n", encoding="utf-8")
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        # small chunks so two workers really split the file
        convert(SAMPLES, out, library_artists=library, workers=workers, chunk_size=200_000)
        outputs.append(out)
    names = sorted(p.name for p in outputs[0].iterdir())
    assert names == sorted(p.name for p in outputs[1].iterdir())
    assert "artist_alias.csv" in names and "label_hierarchy.csv" in names
    for name in names:
        assert (outputs[0] / name).read_bytes() == (outputs[1] / name).read_bytes(), name
    assert len(read_csv(outputs[0] / "release.csv")) > 1
