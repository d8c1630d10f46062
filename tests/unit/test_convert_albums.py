"""The album filter's adapter (`convert.albums`): same verdicts as verify, flat memory, the
spilled records' post-pass, and the saved classification refused when stale."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from discogs_cache.cli import main
from discogs_cache.convert import albums
from discogs_cache.convert.albums import AlbumFilter
from discogs_cache.convert.output import format_rows
from discogs_cache.library.catalog import CatalogEntry
from discogs_cache.matcher import ArtistMappings, Decision, ReleaseRecord, build_index
from discogs_cache.matcher.classify import Classifier, Credit
from discogs_cache.normalize import artist_key
from discogs_cache.pipeline.options import RunOptions, UsageError, check_options

LIBRARY = [
    CatalogEntry(1, "Press Play", "Puff Daddy"),
    CatalogEntry(2, "Doolittle", "Pixies"),
    CatalogEntry(3, "Nuggets", "Various Artists"),
]


@pytest.fixture
def album_filter() -> AlbumFilter:
    return AlbumFilter.of(build_index(LIBRARY), name_max=500)


def test_useful_aliases_are_those_naming_a_library_artist(album_filter: AlbumFilter) -> None:
    names = ["Puff Daddy", "P. Diddy", "Sean Combs", "Puff Dady", "Pixies", ""]
    keys = {name: artist_key(name) for name in names}
    assert album_filter.useful_aliases(keys) == ["Puff Daddy", "Puff Dady", "Pixies"]


def test_classify_takes_the_credits_as_the_load_keeps_them(album_filter: AlbumFilter) -> None:
    """Unnamed credits dropped, a name once (its first id), ordered by name: what
    `verify.classify_cache` reads back from release_artist."""
    album_filter.use_aliases({7: ("Puff Daddy",)})
    credits = [(None, ""), (7, "Diddy"), (None, "Zed"), (9, "Diddy")]
    verdict = album_filter.classify(5, "Press Play (Remastered)", credits)
    expected = Classifier(build_index(LIBRARY), {7: ["Puff Daddy"]}).classify(
        ReleaseRecord(5, "Press Play (Remastered)", (Credit("Diddy", 7), Credit("Zed")))
    )
    assert verdict == expected
    assert verdict.decision == Decision.KEEP and verdict.reason == "alias"
    assert albums.retained(verdict)
    assert not albums.retained(album_filter.classify(6, "Surfer Rosa", [(None, "Pixies")]))


def test_names_are_cut_where_the_load_cuts_them() -> None:
    cut = AlbumFilter.of(build_index(LIBRARY), name_max=6)
    assert cut.classify(1, "Doolittle", [(None, "Pixies and more")]).decision == Decision.KEEP
    whole = AlbumFilter.of(build_index(LIBRARY), name_max=500)
    assert whole.classify(1, "Doolittle", [(None, "Pixies and more")]).decision == Decision.PRUNE


def test_mappings_override_in_the_worker_too() -> None:
    mapped = AlbumFilter.of(build_index(LIBRARY), ArtistMappings(prune={"Pixies": ""}))
    assert mapped.classify(1, "Doolittle", [(None, "Pixies")]).decision == Decision.PRUNE


def test_memo_tables_neither_travel_nor_grow_without_bound(
    album_filter: AlbumFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    album_filter.classify(1, "Doolittle", [(None, "Pixies")])
    first = album_filter._classifier
    assert first is not None
    copy = pickle.loads(pickle.dumps(album_filter))
    assert copy._classifier is None and copy._index is None and copy.index.albums == 3
    monkeypatch.setattr(albums, "MEMO_RELEASES", 3)
    for rid in range(2, 4):
        album_filter.classify(rid, "Doolittle", [(None, "Pixies")])
    assert album_filter._classifier is first
    from discogs_cache.matcher.rules import title_forms

    title_forms("a title only this test uses")
    before = title_forms.cache_info().currsize
    album_filter.classify(4, "Doolittle", [(None, "Pixies")])
    assert album_filter._classifier is not first  # fresh tables after MEMO_RELEASES uses
    assert title_forms.cache_info().currsize < before  # and the module lru caches emptied


def test_finish_keeps_keep_and_review_verdicts_and_counts_all(
    album_filter: AlbumFilter, tmp_path: Path
) -> None:
    review = album_filter.classify(3, "Doolittle", [(None, "Pixies")])._replace(
        decision=Decision.REVIEW, reason="fuzzy artist"
    )
    rows = [
        albums.record(album_filter.classify(1, "Doolittle", [(None, "Pixies")]), "10", "CD"),
        albums.record(album_filter.classify(2, "Bossanova", [(None, "Pixies")]), "", "Vinyl"),
        albums.record(review, "10", "Vinyl"),
    ]
    spill = tmp_path / "records"
    spill.write_bytes(format_rows(rows))
    result = albums.finish(spill)
    assert result.counts == {"PRUNE": 1, "REVIEW": 1, "KEEP": 1}
    assert result.reasons == {"artist": 2, "fuzzy artist": 1}
    assert [(v.release_id, v.decision) for v in result.verdicts] == [
        (1, Decision.KEEP),
        (3, Decision.REVIEW),
    ]
    assert result.verdicts[0].match_title == "Doolittle"
    assert result.classification.retain_ids == {1, 3}


def _library_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE library (id INTEGER PRIMARY KEY, title TEXT, artist TEXT)")
    conn.executemany("INSERT INTO library VALUES (?, ?, ?)", [(1, "Doolittle", "Pixies")])
    conn.commit()
    conn.close()
    return path


def test_saved_classification_is_reused_only_with_the_same_inputs(tmp_path: Path) -> None:
    library = _library_db(tmp_path / "library.db")
    mappings = tmp_path / "mappings.json"
    mappings.write_text('{"keep": {}, "prune": {}}')
    loaded = AlbumFilter.load(library, mappings)
    spill = tmp_path / "records"
    verdict = loaded.classify(1, "Doolittle", [(None, "Pixies")])
    spill.write_bytes(format_rows([albums.record(verdict, "", "")]))
    saved = tmp_path / albums.FILE_NAME
    albums.write_classification(saved, albums.finish(spill), library, mappings)

    again = albums.read_classification(saved, library, mappings)
    assert again is not None and again.verdicts == [verdict]
    assert again.counts == {"PRUNE": 0, "REVIEW": 0, "KEEP": 1}
    assert albums.read_classification(saved, library, None) is None  # other mappings
    stat = library.stat()
    os.utime(library, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert albums.read_classification(saved, library, mappings) is None  # library changed
    saved.write_text(json.dumps({"version": 1}))
    assert albums.read_classification(saved, library, None) is None  # damaged


def test_album_filter_options(tmp_path: Path) -> None:
    library = _library_db(tmp_path / "library.db")
    (tmp_path / "dump").mkdir()
    artists = tmp_path / "artists.txt"
    artists.write_text("Pixies\n")
    url = "postgresql://u@localhost/cache"
    xml = RunOptions(database_url=url, xml=tmp_path / "dump", library_db=library)
    assert xml.album_filter and xml.identity()["filter"] == "albums"
    xml.filter = "artists"
    assert not xml.album_filter and xml.identity()["filter"] == "artists"
    only_artists = RunOptions(database_url=url, xml=tmp_path / "dump", library_artists=artists)
    assert not only_artists.album_filter
    only_artists.filter = "albums"
    with pytest.raises(UsageError, match="needs --library-db"):
        check_options(only_artists)
    csv = RunOptions(database_url=url, csv_dir=tmp_path, library_db=library, filter="artists")
    with pytest.raises(UsageError, match="it needs --xml"):
        check_options(csv)
    result = CliRunner().invoke(
        main, ["convert", str(tmp_path / "dump"), "-o", str(tmp_path / "o"), "--mappings",
               str(artists)],
    )  # fmt: skip
    assert result.exit_code == 2 and "needs --library-db" in result.output


def test_verdicts_from_the_bytes_equal_those_from_the_tree(samples_dir: Path) -> None:
    """Every real sample record: the byte path (no parse) gives the tree path's record, or
    leaves the record to the parse."""
    import gzip
    from itertools import pairwise

    from lxml import etree

    from discogs_cache.convert import album_verdicts
    from discogs_cache.convert.releases import record_starts

    with gzip.open(samples_dir / "discogs_20200806_releases.xml.gz", "rb") as handle:
        data = handle.read()
    entries = [CatalogEntry(1, "Stockholm", "The Persuader"), *LIBRARY]
    album_filter = AlbumFilter.of(build_index(entries), name_max=500)
    decided = kept = 0
    for start, stop in pairwise(record_starts(data)):
        by_bytes: list[tuple[str, ...]] = []
        by_tree: list[tuple[str, ...]] = []
        fast = album_verdicts.from_bytes(album_filter, data, start, stop, by_bytes)
        record = data[start:stop].rstrip().removesuffix(b"</releases>").rstrip()
        slow = album_verdicts.from_tree(album_filter, etree.fromstring(record), by_tree)
        if fast is not None:
            decided += 1
            kept += fast
            assert (fast, by_bytes) == (slow, by_tree)
    assert (decided, kept) == (1000, 1)
