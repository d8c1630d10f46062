"""The speed-ups of convert change nothing: shared-memory chunks, record splitting, trimming
the unread tail of kept records, and the pre-screen's XML-exact text decoding."""

from __future__ import annotations

import gzip
import io
import re
import sys
from array import array
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from discogs_cache import progress
from discogs_cache.convert import convert, releases, shared, source
from discogs_cache.convert.filter import LibraryFilter
from discogs_cache.convert.shared import SharedRing
from discogs_cache.errors import InputError
from tests.conftest import SAMPLES
from tests.unit.test_convert_samples import POST_2024

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from gen_dump import generate_dump

SAMPLE_XML = gzip.decompress((SAMPLES / "discogs_20200806_releases.xml.gz").read_bytes())


@pytest.fixture(autouse=True)
def _quiet() -> None:
    progress.set_quiet(True)


def records(xml: bytes) -> list[bytes]:
    starts = releases.record_starts(xml)
    out = []
    for start, stop in pairwise(starts):
        record = xml[start:stop].rstrip()
        out.append(record[: record.rfind(b"</release>") + len(b"</release>")])
    return out


def rows_of(record: bytes) -> tuple[dict[str, list[tuple[Any, ...]]], list[int]]:
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in releases.TABLES}
    ids = array("q")
    releases.release_rows(etree.fromstring(record, releases._PARSER), rows, ids)
    return rows, list(ids)


def test_record_starts_matches_the_regex() -> None:
    cases = [
        SAMPLE_XML,
        b"<release>x</release><release\tid='1'/><released><releases><release/><release",
        b"",
        b"<release",
        b"<release ",
        b"<releases>\n<release\nid='2'></release>\n</releases>",
    ]
    for data in cases:
        expected = [m.start() for m in releases._START.finditer(data)] + [len(data)]
        assert releases.record_starts(data) == expected, data[:60]


@pytest.mark.parametrize("shape", ["pre2024", "post2024"])
def test_trimmed_records_give_the_same_rows(tmp_path: Path, shape: str) -> None:
    generated = generate_dump(tmp_path, 300, seed=9, shape=shape).releases
    trimmed = 0
    for xml in (SAMPLE_XML, gzip.decompress(generated.read_bytes()), POST_2024.encode()):
        for record in records(xml):
            cut = releases.trim_unread(record)
            trimmed += cut != record
            assert rows_of(cut) == rows_of(record)
    assert trimmed > 1000  # the regular shape is trimmed, not merely left alone


def test_trim_keeps_anything_unusual_after_the_tracklist() -> None:
    base = (
        '<release id="1"><title>T</title><tracklist><track><position>1</position>'
        "<title>S</title></track></tracklist>{tail}</release>"
    )
    tail = (
        '<identifiers><identifier value="x"/></identifiers><videos><video><title>V</title>'
        "<description>long &amp; unread</description>"
    )
    regular = base.format(tail=tail + "</video></videos><companies/>").encode()
    videos = "<videos><video><title>V</title></video></videos>"  # read: kept, less descriptions
    assert releases.trim_unread(regular) == base.format(tail=videos).encode()
    for tail in (
        "<notes>after</notes>",  # read by the converter: must stay
        "<videos><title>x</title></videos><notes>n</notes>",
        "<videos><videos>x</videos></videos>",  # nested same name
        "<!-- c --><videos/>",
    ):
        record = base.format(tail=tail).encode()
        assert releases.trim_unread(record) == record, tail


def test_screen_decodes_text_like_lxml() -> None:
    assert releases._text(b"A &amp; B &#228;&#x41;&lt;") == "A & B äA<"
    assert releases._text(b"&#150;") == "\x96"  # XML, not HTML's cp1252 mapping
    assert releases._text(b"a\r\nb\rc") == "a\nb\nc"
    assert releases._text(b"&nbsp;") is None  # undeclared in XML: let the parse decide
    assert releases._text(b"\xff") is None
    record = (
        b'<release id="1"><artists><artist><id>0</id><name>Caf&#233; &amp; Co</name></artist>'
        b"<artist><name>&#150;</name></artist></artists><title>T</title></release>"
    )
    parsed = releases.main_credits(etree.fromstring(record))
    assert releases.screen(record) == parsed == [(None, "Café & Co"), (None, "\x96")]


def test_screen_and_parse_agree_on_the_samples() -> None:
    library = LibraryFilter.from_names(["The Persuader", "Josh Wink", "Moby", "Björk"])
    releases.init_worker(library)
    decisions = []
    for record in records(SAMPLE_XML):
        screened = releases.screen_keeps(library, record, 0, len(record))
        parsed = library.keeps(releases.main_credits(etree.fromstring(record)))
        assert screened is None or screened == parsed
        decisions.append(screened)
    assert decisions.count(None) < 10 and decisions.count(True) >= 3


def chunks_into(data: bytes, slot_size: int, slots: int = 3) -> list[bytes]:
    with SharedRing(slots, slot_size) as ring:
        out = []
        for chunk in source.iter_chunks_into(io.BytesIO(data), Path("x"), "releases", ring, 64):
            if isinstance(chunk.data, tuple):
                start, length = chunk.data
                out.append(bytes(ring.view[start : start + length]))
            else:
                out.append(chunk.data)
            assert sum(map(len, out)) - len(out[-1]) == chunk.offset
        return out


@pytest.mark.parametrize("slot_size", [300, 4096, 1 << 18])
def test_shared_chunks_are_record_aligned_and_complete(slot_size: int) -> None:
    data = SAMPLE_XML[:600_000]
    data = data[: data.rfind(b"<release ")] + b"</releases>\n"
    got = chunks_into(data, slot_size)  # 300 bytes: every record is bigger than a slot
    assert b"".join(got) == data
    assert all(re.match(rb"<release ", chunk) for chunk in got[1:])
    assert len(got) > 1


def test_shared_chunks_reject_truncated_input() -> None:
    with pytest.raises(InputError, match="truncated"):
        chunks_into(SAMPLE_XML[:100_000], 4096)


def test_ring_is_removed_on_close_and_on_errors(tmp_path: Path, monkeypatch: Any) -> None:
    rings = tmp_path / "shm"
    rings.mkdir()
    monkeypatch.setattr(shared, "_SHM_DIR", str(rings))
    ring = SharedRing(2, 4096)
    assert ring.path.parent == rings and ring.path.exists()
    ring.close()
    assert not list(rings.iterdir())
    truncated = tmp_path / "releases.xml.gz"
    truncated.write_bytes(gzip.compress(SAMPLE_XML[:300_000]))
    with pytest.raises(InputError):
        convert(truncated, tmp_path / "out", workers=2, chunk_size=50_000)
    assert not list(rings.iterdir())


def test_pool_with_chunks_smaller_than_records_is_identical(tmp_path: Path) -> None:
    """Slots smaller than one record: every chunk takes the in-memory path, in order."""
    dump = generate_dump(tmp_path / "dump", 150, seed=11)
    outputs = []
    for workers, chunk_size in ((1, 1 << 20), (2, 3_000), (2, 40_000)):
        out = tmp_path / f"w{workers}-{chunk_size}"
        convert(dump.out_dir, out, library_artists=dump.out_dir / "library_artists.txt",
                workers=workers, chunk_size=chunk_size)  # fmt: skip
        outputs.append({p.name: p.read_bytes() for p in out.glob("*.csv")})
    assert len(outputs[0]) == 15 and outputs[0]["release.csv"].count(b"\n") > 10
    assert outputs[0] == outputs[1] == outputs[2]
