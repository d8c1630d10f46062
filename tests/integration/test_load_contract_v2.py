"""Loading the converted real samples fills contract v2, credits merged by the contract's rules
(README "How consumers write"); expected values are computed here from the XML with lxml."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path

import psycopg
import pytest
from lxml import etree

from discogs_cache.convert import convert
from discogs_cache.db import conninfo
from discogs_cache.load import load
from tests.unit.test_convert_samples import written_tracks


def merge_roles(roles: Iterable[str]) -> str | None:
    """The contract's role rule: append a role unless already one of the list's."""
    merged: str | None = None
    for role in roles:
        if not role:
            continue
        if not merged:
            merged = role
        elif f", {role}, " not in f", {merged}, ":
            merged = f"{merged}, {role}"
    return merged


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(conninfo(url)) as conn:
        return list(conn.execute(query).fetchall())


@pytest.fixture(scope="module")
def releases(samples_dir: Path) -> etree._Element:
    xml = gzip.decompress((samples_dir / "discogs_20200806_releases.xml.gz").read_bytes())
    return etree.fromstring(xml)


def test_loaded_samples_fill_contract_v2(
    pg_url: str, samples_dir: Path, tmp_path: Path, releases: etree._Element
) -> None:
    convert(samples_dir, tmp_path / "csv", workers=1)
    summary = load(pg_url, tmp_path / "csv")

    genres = {(int(r.get("id")), g.text) for r in releases for g in r.findall("genres/genre")}
    styles = {(int(r.get("id")), s.text) for r in releases for s in r.findall("styles/style")}
    assert set(rows(pg_url, "SELECT release_id, genre FROM release_genre")) == genres
    assert set(rows(pg_url, "SELECT release_id, style FROM release_style")) == styles
    assert summary.loaded("release_genre") == len(genres)
    videos = [
        (int(r.get("id")), n, v.get("src"), int(v.get("duration")), v.get("embed") == "true")
        for r in releases
        for n, v in enumerate(r.findall("videos/video"), 1)
    ]
    assert sorted(
        rows(pg_url, "SELECT release_id, sequence, src, duration, embed FROM release_video")
    ) == sorted(videos)

    # track credits: one row per (track, name, extra), roles of repeats joined
    track_credits: dict[tuple[int, int, str, int], list[str]] = {}
    for r in releases:
        for seq, track in enumerate(written_tracks(r.find("tracklist")), 1):
            for extra, path in ((0, "artists/artist"), (1, "extraartists/artist")):
                for a in track.findall(path):
                    key = (int(r.get("id")), seq, a.findtext("name"), extra)
                    track_credits.setdefault(key, []).append(a.findtext("role") or "")
    got = rows(
        pg_url,
        "SELECT release_id, track_sequence, artist_name, extra, role FROM release_track_artist",
    )
    assert {g[:4]: g[4] for g in got} == {k: merge_roles(v) for k, v in track_credits.items()}
    assert len(got) == len(track_credits)
    assert sum(len(v) > 1 for v in track_credits.values()) > 0  # repeats exist and merged

    # release credits: one row per name; main beats extra; roles joined in that order
    credits: dict[tuple[int, str], list[tuple[int, str, str]]] = {}
    for r in releases:
        for extra, path in ((0, "artists/artist"), (1, "extraartists/artist")):
            for a in r.findall(path):
                credits.setdefault((int(r.get("id")), a.findtext("name")), []).append(
                    (extra, a.findtext("role") or "", a.findtext("id"))
                )
    expected = {}
    for key, found in credits.items():
        found.sort(key=lambda c: c[0])  # stable: document order within main, then extra
        ids = [int(i) for _, _, i in found if i and i != "0"]
        expected[key] = (ids[0] if ids else None, found[0][0], merge_roles(r for _, r, _ in found))
    got_credits = rows(
        pg_url, "SELECT release_id, artist_name, artist_id, extra, role FROM release_artist"
    )
    assert {g[:2]: g[2:] for g in got_credits} == expected
    both = [k for k, v in credits.items() if {0, 1} <= {c[0] for c in v}]
    assert both, "the samples credit some main artists as extra artists too"

    labels = {
        (int(r.get("id")), x.get("name"), x.get("catno") or "", int(x.get("id")))
        for r in releases
        for x in r.findall("labels/label")
    }
    got_labels = rows(pg_url, "SELECT release_id, label_name, catno, label_id FROM release_label")
    assert set(got_labels) == labels and len(got_labels) == len({x[:3] for x in labels})

    first = rows(pg_url, "SELECT released, format FROM release WHERE id = 1")
    assert first == [("1999-03-00", "Vinyl")]
    assert rows(pg_url, "SELECT count(*) FROM artist WHERE fetched_at IS NULL") == [(36,)]
    assert rows(pg_url, "SELECT count(*) FROM release WHERE not_found") == [(0,)]
