"""The album filter (convert classifies, keeps KEEP/REVIEW) against the artist filter.

On the real 2020 excerpts and a catalogue built from them (exact albums, catalog spellings,
compilations), `run --xml --library-db` (albums, the default) and `--filter artists` must end
with the same releases, the same verdicts and the same counts, while the album run loads far
fewer releases.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from lxml import etree

from discogs_cache.db import conninfo
from discogs_cache.pipeline.options import RunOptions
from discogs_cache.pipeline.run import run
from discogs_cache.pipeline.saved import load_classification
from discogs_cache.pipeline.state import load_state
from discogs_cache.verify import classify_cache


def write_catalogue(samples: Path, path: Path) -> int:
    """Every third sample release with a credit and a title as an owned album; every second
    of those in a catalog spelling (upper case, "(LP)" suffix), some with a word missing;
    the sample's compilations as "Various Artists" entries."""
    entries = []
    with gzip.open(samples / "discogs_20200806_releases.xml.gz", "rb") as handle:
        for number, (_, rel) in enumerate(etree.iterparse(handle, tag="release")):
            artist, title = rel.findtext("artists/artist/name"), rel.findtext("title")
            rel.clear()
            if not artist or not title or number % 3:
                continue
            if artist == "Various":
                entries.append(("Various Artists", title))
            elif number % 5 == 0 and len(title.split()) > 2:
                entries.append((artist, " ".join(title.split()[:-1])))  # a near miss
            elif number % 2:
                entries.append((artist.upper(), f"{title} (LP)"))
            else:
                entries.append((artist, title))
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE library (id INTEGER PRIMARY KEY, title TEXT, artist TEXT)")
    rows = [(title, artist) for artist, title in entries]
    conn.executemany("INSERT INTO library (title, artist) VALUES (?, ?)", rows)
    conn.commit()
    conn.close()
    return len(entries)


@pytest.fixture(scope="module")
def catalogue(samples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalogue") / "library.db"
    assert write_catalogue(samples_dir, path) == 334
    return path


def _ids(url: str) -> list[int]:
    with psycopg.connect(conninfo(url)) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM release ORDER BY id")]


def _run(url: str, samples: Path, catalogue: Path, work: Path, keep: str | None) -> dict:
    state_file = work / "state.json"
    run(
        RunOptions(
            database_url=url,
            xml=samples,
            library_db=catalogue,
            state_file=state_file,
            keep_csv=work / "csv",
            filter=keep,
            workers=2,
        )
    )
    state = load_state(state_file)
    assert state is not None
    return {name: record.outputs for name, record in state.steps.items()}


def test_album_filter_ends_with_the_artist_filters_cache(
    pg_database_factory, samples_dir: Path, catalogue: Path, tmp_path: Path
) -> None:
    albums_url, artists_url = pg_database_factory(), pg_database_factory()
    by_albums = _run(albums_url, samples_dir, catalogue, tmp_path / "albums", None)
    by_artists = _run(artists_url, samples_dir, catalogue, tmp_path / "artists", "artists")

    final = _ids(albums_url)
    assert final == _ids(artists_url)
    assert len(final) == 300
    # the album run loaded only the station's albums; the artist run everything by its artists
    assert by_artists["convert"]["releases_kept"] == 430
    assert by_albums["convert"]["releases_matched"] == 430
    assert by_albums["convert"]["releases_kept"] == 313
    assert by_albums["load"]["rows"]["release"] == 313
    # the same verdicts: convert's classification is reused, not recomputed, and equals the
    # classification of the artist-filtered cache
    assert by_albums["classify"]["by"] == "convert"
    assert "by" not in by_artists["classify"]
    assert by_albums["classify"]["classification"] == by_artists["classify"]["classification"]
    assert by_albums["classify"]["classification"] == {"PRUNE": 117, "REVIEW": 0, "KEEP": 313}
    saved = json.loads((tmp_path / "albums" / "csv" / "classification.json").read_text())
    assert saved["counts"] == by_albums["classify"]["classification"]
    albums = load_classification(tmp_path / "albums" / "state.work" / "classification.json")
    artists = load_classification(tmp_path / "artists" / "state.work" / "classification.json")
    assert albums is not None and artists is not None
    assert albums.keep_ids == artists.keep_ids and albums.review_ids == artists.review_ids
    assert not albums.prune_ids and len(artists.prune_ids) == 117


def test_convert_classification_equals_verify_on_the_artist_filtered_cache(
    pg_url: str, samples_dir: Path, catalogue: Path, tmp_path: Path
) -> None:
    """Verdict by verdict (decision and score), including the reasons' counts."""
    from discogs_cache.convert import convert
    from discogs_cache.convert.albums import FILE_NAME, read_classification
    from discogs_cache.library.catalog import read_catalog
    from discogs_cache.load import load

    summary = convert(samples_dir, tmp_path / "a", library_db=catalogue, workers=1)
    result = read_classification(tmp_path / "a" / FILE_NAME, catalogue, None)
    assert result is not None and summary.classification == result.counts
    artists = tmp_path / "artists.txt"
    from discogs_cache.library.artists import build_artist_list

    artists.write_text("\n".join(build_artist_list(catalogue).names) + "\n", encoding="utf-8")
    convert(samples_dir, tmp_path / "b", library_artists=artists, workers=1)
    load(pg_url, tmp_path / "b", replace=True)
    cache = classify_cache(pg_url, read_catalog(catalogue))
    expected = {v.release_id: (v.decision, v.score) for v in cache.verdicts if v.decision}
    assert {v.release_id: (v.decision, v.score) for v in result.verdicts} == expected
    assert sum(result.counts.values()) == len(cache.verdicts) == 430
    assert result.counts == cache.counts()
    assert result.reasons == dict(Counter(v.reason for v in cache.verdicts))
