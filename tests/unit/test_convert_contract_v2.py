"""convert fills contract v2's columns and tables: counted against the real samples with lxml."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from lxml import etree

from discogs_cache import progress
from discogs_cache.convert import convert
from tests.conftest import SAMPLES
from tests.unit.test_convert_samples import read_csv
from tests.unit.test_convert_samples import written_tracks as _written_tracks


def _xml(kind: str) -> etree._Element:
    return etree.fromstring(
        gzip.decompress((SAMPLES / f"discogs_20200806_{kind}.xml.gz").read_bytes())
    )


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("v2")
    progress.set_quiet(True)
    convert(SAMPLES, out, workers=1)
    return out


def test_genres_styles_videos_match_the_xml(converted: Path) -> None:
    releases = _xml("releases")
    genres = [(r.get("id"), g.text) for r in releases for g in r.findall("genres/genre")]
    styles = [(r.get("id"), s.text) for r in releases for s in r.findall("styles/style")]
    videos = [
        (r.get("id"), str(n), v.get("src"), v.findtext("title"), v.get("duration"), v.get("embed"))
        for r in releases
        for n, v in enumerate(r.findall("videos/video"), 1)
    ]
    assert (len(genres), len(styles), len(videos)) == (1302, 1496, 2324)
    assert [(g["release_id"], g["genre"]) for g in read_csv(converted / "release_genre.csv")] == (
        genres
    )
    assert [(s["release_id"], s["style"]) for s in read_csv(converted / "release_style.csv")] == (
        styles
    )
    got = read_csv(converted / "release_video.csv")
    assert [
        (v["release_id"], v["sequence"], v["src"], v["title"], v["duration"], v["embed"])
        for v in got
    ] == videos


def test_track_artists_and_writers_match_the_xml(converted: Path) -> None:
    releases = _xml("releases")
    main, writers = [], []
    for r in releases:
        for seq, track in enumerate(_written_tracks(r.find("tracklist")), 1):
            main += [
                (r.get("id"), str(seq), a.findtext("name")) for a in track.findall("artists/artist")
            ]
            writers += [
                (r.get("id"), str(seq), a.findtext("name"), a.findtext("role"))
                for a in track.findall("extraartists/artist")
            ]
    assert len(writers) == 4998
    rows = read_csv(converted / "release_track_artist.csv")
    assert [
        (r["release_id"], r["track_sequence"], r["artist_name"]) for r in rows if r["extra"] == "0"
    ] == main
    assert [
        (r["release_id"], r["track_sequence"], r["artist_name"], r["role"])
        for r in rows
        if r["extra"] == "1"
    ] == writers


def test_roles_label_ids_and_format(converted: Path) -> None:
    releases = _xml("releases")
    credits = [
        (r.get("id"), a.findtext("name"), a.findtext("role") or "")
        for r in releases
        for a in r.findall("extraartists/artist")
    ]
    rows = read_csv(converted / "release_artist.csv")
    assert [(a["release_id"], a["artist_name"], a["role"]) for a in rows if a["extra"] == "1"] == (
        credits
    )
    assert all(a["role"] == "" for a in rows if a["extra"] == "0")
    labels = [
        (r.get("id"), x.get("name"), x.get("catno"), x.get("id"))
        for r in releases
        for x in r.findall("labels/label")
    ]
    got = read_csv(converted / "release_label.csv")
    assert [(x["release_id"], x["label"], x["catno"], x["label_id"]) for x in got] == labels
    formats = [
        (r.find("formats/format").get("name") if r.find("formats/format") is not None else "")
        for r in releases
    ]
    assert [x["format"] for x in read_csv(converted / "release.csv")] == formats


def test_artist_tables_hold_the_credited_artists_only(converted: Path) -> None:
    """Lean cache: the artists of artists.xml that a kept release credits as main artist."""
    credited = {a.findtext("id") for r in _xml("releases") for a in r.findall("artists/artist")} - {
        "0",
        None,
    }
    artists = [a for a in _xml("artists") if a.findtext("id") in credited]
    assert len(artists) == 36
    got = read_csv(converted / "artist.csv")
    assert sorted((a["id"], a["name"], a["profile"]) for a in got) == sorted(
        (a.findtext("id"), a.findtext("name"), a.findtext("profile") or "") for a in artists
    )
    members = sorted(
        (a.findtext("id"), m.get("id"), m.text) for a in artists for m in a.findall("members/name")
    )
    got_members = read_csv(converted / "artist_member.csv")
    assert sorted((m["artist_id"], m["member_id"], m["member_name"]) for m in got_members) == (
        members
    )
    urls = sorted(
        (a.findtext("id"), u.text) for a in artists for u in a.findall("urls/url") if u.text
    )
    got_urls = read_csv(converted / "artist_url.csv")
    assert sorted((u["artist_id"], u["url"]) for u in got_urls) == urls
    variations = {
        (a.findtext("id"), n.text) for a in artists for n in a.findall("namevariations/name")
    }
    got_nv = read_csv(converted / "artist_name_variation.csv")
    assert {(v["artist_id"], v["name"]) for v in got_nv} == variations
    assert len(got_nv) == len(variations)
    aliases = {
        (a.findtext("id"), n.text, n.get("id")) for a in artists for n in a.findall("aliases/name")
    }
    got_aliases = read_csv(converted / "artist_alias.csv")
    assert {
        (x["artist_id"], x["alias_name"], x["alias_id"]) for x in got_aliases if x["alias_id"]
    } == aliases
