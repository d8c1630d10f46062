"""labels.xml in its pre-2018 shape (sub-labels as `<label>Name</label>`, no ids): every
record converted, the hierarchy resolved by name, whatever the chunking."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest

from discogs_cache.convert import convert
from discogs_cache.convert.source import last_start
from tests.data import hostile

# record index in the real sample -> its sub-labels that are in the sample too
PARENTS = {39: ["Purpose Maker"], 59: ["Instinct Ambient"], 78: ["Camouflage Recordings"]}
CHILDREN = [42, 57, 49]  # Purpose Maker, Instinct Ambient, Camouflage Recordings
OTHERS = [0, 1, 90]  # given a sub-label that is not in the dump
PICKED = [*OTHERS[:2], *CHILDREN, *PARENTS, OTHERS[2]]


def _fields(record: bytes) -> tuple[str, str, str | None]:
    """(id, name, parent name or None) of a real record, as XML gives them."""
    found = re.search(rb"<id>(\d+)</id><name>([^<]*)</name>", record)
    parent = re.search(rb"<parentLabel id=\"\d+\">([^<]*)</parentLabel>", record)
    assert found
    return (
        found.group(1).decode(),
        html.unescape(found.group(2).decode()),
        html.unescape(parent.group(1).decode()) if parent else None,
    )


def _old_dump(tmp_path: Path) -> Path:
    labels = hostile.real_labels(100)
    records = [
        hostile.old_label_shape(
            labels[i], ["Some Old Sublabel"] if i in OTHERS else PARENTS.get(i, [])
        )
        for i in PICKED
    ]
    (tmp_path / "xml").mkdir()
    hostile.write_dump(tmp_path / "xml" / "labels.xml", "labels", records)
    hostile.write_dump(tmp_path / "xml" / "releases.xml", "releases", hostile.real_releases(3))
    return tmp_path / "xml"


def _expected() -> list[tuple[str, ...]]:
    labels = hostile.real_labels(100)
    fields = {i: _fields(labels[i]) for i in PICKED}
    names = {name for _, name, _ in fields.values()}
    rows: list[tuple[str, ...]] = [
        ("46", "Purpose Maker", "43", "Axis"),
        ("61", "Instinct Ambient", "63", "Instinct Records"),
        ("53", "Camouflage Recordings", "82", "83 West Records"),
    ]
    # a parent outside the dump: the child's `<parentLabel>` gives no id, none resolves it
    rows += [(i, n, "", p) for i, n, p in fields.values() if p is not None and p not in names]
    # a sub-label outside the dump: the parent's id is known, the child's is not
    rows += [("", "Some Old Sublabel", *fields[i][:2]) for i in OTHERS]
    return sorted(rows)


@pytest.mark.parametrize("chunk_size", [1 << 20, 700], ids=["one-chunk", "tiny-chunks"])
def test_old_sublabels_are_accepted_and_resolved_by_name(tmp_path: Path, chunk_size: int) -> None:
    summary = convert(_old_dump(tmp_path), tmp_path / "csv", workers=1, chunk_size=chunk_size)
    assert (summary.bad, summary.labels_seen) == ([], len(PICKED))
    with (tmp_path / "csv" / "label_hierarchy.csv").open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == ["label_id", "label_name", "parent_label_id", "parent_label_name"]
    assert sorted(tuple(r) for r in rows) == _expected()
    assert len(_expected()) > 6  # the excerpt has parents outside it


def test_a_chunk_never_starts_at_an_old_sublabel() -> None:
    data = b"<labels>\n<label><id>1</id><name>A</name><sublabels><label>B</label></sublabels>"
    data += b"</label>\n<label>\n <id>2</id></label>\n</labels>"
    second = data.index(b"<label>\n <id>2")
    assert last_start(data, "labels", 0, second) == data.index(b"<label>")
    assert last_start(data, "labels") == second
