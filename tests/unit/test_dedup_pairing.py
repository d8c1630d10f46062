"""Label preference pairing, without a server: keys, hierarchy, the CSV reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from discogs_cache.dedup.pairing import (
    LabelHierarchy,
    album_artist_key,
    label_key,
    preferences,
    read_label_hierarchy_csv,
)
from discogs_cache.dedup.ranking import RANK_KEYS, REASONS, rank_releases
from discogs_cache.errors import InputError
from discogs_cache.library.labels import LabelPreference


def test_label_key_folds_case_accents_and_discogs_suffix() -> None:
    assert label_key("Éditions MEGO") == label_key("editions mego")
    assert label_key("Parlophone (2)") == label_key("parlophone")
    assert label_key("Rough Trade") != label_key("Trade")


def labels_of(index: dict) -> dict:
    return {album: set(p.labels) for album, p in index.items()}


def test_preference_index_uses_the_matchers_normalization() -> None:
    index = preferences([LabelPreference("Beatles, The", 'Abbey Road 12"', "Apple")])
    assert labels_of(index) == {("beatles", "abbey road"): {"apple"}}


def test_compilations_pair_by_title_whatever_the_credit_spelling() -> None:
    index = preferences([LabelPreference("Various Artists", "Pop Hits", "K-Tel")])
    assert labels_of(index) == {(album_artist_key("Various"), "pop hits"): {"k-tel"}}
    assert album_artist_key("V/A") == album_artist_key("Various (2)") != album_artist_key("Variety")
    assert album_artist_key("Beatles") == album_artist_key("The Beatles")


def test_hierarchy_expands_one_level_both_ways() -> None:
    h = LabelHierarchy([("Parlophone", "EMI"), ("Regal Zonophone", "Parlophone")])
    assert h.related("emi") == {"emi", "parlophone"}
    assert h.related("parlophone") == {"parlophone", "emi", "regal zonophone"}
    assert h.related("regal zonophone") == {"regal zonophone", "parlophone"}
    index = preferences([LabelPreference("X", "Y", "EMI")], h)
    assert index[("x", "y")].labels == {"emi", "parlophone"}  # not the grandchild


def test_blank_preferences_are_ignored() -> None:
    assert preferences([LabelPreference("(1)", "Y", "EMI")]) == {}


def test_hierarchy_csv(tmp_path: Path) -> None:
    path = tmp_path / "label_hierarchy.csv"
    path.write_text(
        "label_id,label_name,parent_label_id,parent_label_name\n"
        '1,Parlophone,2,EMI\n2,EMI,,\n3,"Sub, Inc.",1,Parlophone\n',
        encoding="utf-8",
    )
    h = read_label_hierarchy_csv(path)
    assert h.related("parlophone") == {"parlophone", "emi", "sub, inc."}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("label_id,label_name\n", "expected header"),
        ("label_id,label_name,parent_label_id,parent_label_name\n1,A\n", ":2: expected 4 fields"),
        ("", "expected header"),
    ],
)
def test_hierarchy_csv_errors_name_file_and_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "h.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_label_hierarchy_csv(path)


def test_ranking_is_a_window_function_in_the_documented_order() -> None:
    compiled = str(rank_releases().compile())
    assert "row_number() OVER (PARTITION BY keys.master_id ORDER BY keys.preferred DESC" in compiled
    assert [label for _, label in RANK_KEYS] == [
        "preferred",
        "tracks",
        "label",
        "format",
        "US",
        "tracks",
    ]
    assert set(REASONS) == {label for _, label in RANK_KEYS} | {"id"}
