"""Convert on real dump records with a defect injected: reported (id, byte offset) and
skipped, never a traceback, the other records converted as they are."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from discogs_cache.convert import convert
from tests.data import hostile


def _ids(csv_dir: Path) -> list[str]:
    with (csv_dir / "release.csv").open(encoding="utf-8", newline="") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize("filtered", [False, True], ids=["everything", "library-filter"])
@pytest.mark.parametrize("workers", [1, 2])
def test_ids_out_of_integer_range_or_not_numeric_are_reported_and_skipped(
    tmp_path: Path, filtered: bool, workers: int
) -> None:
    records = hostile.real_releases(8)
    records[1] = hostile.main_artist_id(records[1], str(2**63))
    records[2] = hostile.main_artist_id(records[2], "12ab")
    records[3] = hostile.release_id(records[3], str(2**31))
    records[4] = hostile.master_id(records[4], "abc")
    records[6] = hostile.master_id(records[6], str(2**31))
    offsets = hostile.write_dump(tmp_path / "releases.xml", "releases", records)
    library = None
    if filtered:  # every artist of the eight records, so only the defects decide
        library = tmp_path / "artists.txt"
        names = ["The Persuader", "Mr. James Barth & A.D.", "Josh Wink", "Faze Action"]
        library.write_text("\n".join([*names, "Datacide", "Moonchildren", "Sweet Abraham"]))
    summary = convert(tmp_path / "releases.xml", tmp_path / "csv", library_artists=library,
                      workers=workers)  # fmt: skip
    tail = f"is not an integer up to {2**31 - 1}"
    assert summary.bad == [
        ("releases", "2", offsets[1], f"main artist id '{2**63}' {tail}"),
        ("releases", "3", offsets[2], f"main artist id '12ab' {tail}"),
        ("releases", str(2**31), offsets[3], f"release id '{2**31}' {tail}"),
        ("releases", "5", offsets[4], f"master id 'abc' {tail}"),
        ("releases", "7", offsets[6], f"master id '{2**31}' {tail}"),
    ]
    assert summary.bad_records == 5 and summary.releases_seen == 8
    assert _ids(tmp_path / "csv") == ["1", "6", "8"]


def test_catalog_initials_keep_the_dotted_discogs_credit(tmp_path: Path) -> None:
    """Item 13 through the converter's filter: "Mr James Barth and AD" (catalog) keeps the
    real "Mr. James Barth & A.D." releases."""
    records = hostile.real_releases(8)
    hostile.write_dump(tmp_path / "releases.xml", "releases", records)
    library = tmp_path / "artists.txt"
    library.write_text("Mr James Barth and AD\n", encoding="utf-8")
    convert(tmp_path / "releases.xml", tmp_path / "csv", library_artists=library, workers=1)
    assert _ids(tmp_path / "csv") == ["2", "6"]
