"""The newer convert shortcuts change nothing: batched entity parsing, the CSV fast path, the
one-search chunk cut, and the run-wide worker pool (with per-pass state)."""

from __future__ import annotations

import csv
import gzip
import io
import random
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from discogs_cache import progress
from discogs_cache.convert import batch, convert, entities, output, parallel, releases, source
from discogs_cache.convert.parallel import Workers
from tests.conftest import SAMPLES
from tests.unit.test_convert_fastpaths import generate_dump

PARSER = etree.XMLParser(resolve_entities=False, huge_tree=True)


@pytest.fixture(autouse=True)
def _quiet() -> None:
    progress.set_quiet(True)


def alone(piece: bytes) -> Any:
    try:
        return etree.fromstring(piece, PARSER)
    except etree.XMLSyntaxError as exc:
        return exc


def same(got: Any, expected: Any) -> bool:
    if isinstance(expected, etree.XMLSyntaxError):
        return isinstance(got, etree.XMLSyntaxError) and str(got) == str(expected)
    if isinstance(got, Exception):
        return False
    return etree.tostring(got, with_tail=False) == etree.tostring(expected, with_tail=False)


def sample_pieces(kind: str) -> list[bytes]:
    data = gzip.decompress((SAMPLES / f"discogs_20200806_{kind}.xml.gz").read_bytes())
    starts = [m.start() for m in entities._STARTS[kind].finditer(data)] + [len(data)]
    end_tag = entities._ENDS[kind]
    return [data[a : data.rfind(end_tag, a, b) + len(end_tag)] for a, b in pairwise(starts)]


@pytest.mark.parametrize("kind", ["artists", "labels"])
def test_batched_samples_parse_as_one_call_and_equal_single_parses(kind: str) -> None:
    pieces = sample_pieces(kind)
    got = batch.parse_records(pieces, PARSER)
    assert len(got) == len(pieces) == 1000
    assert got[0].getparent() is not None  # really parsed together
    assert all(same(g, alone(p)) for g, p in zip(got, pieces))


ODD_PIECES = [
    b"<label><id>1</id><x>",  # unbalanced, closed by the next piece in a batch
    b'<label></label></x></label><label id="3"></label>',
    b"<label><id>2</id><!-- c --></label>",
    b"<label><id>3</id><![CDATA[x]]></label>",
    b"<label><?pi x?></label>",
    b"<label><id>4</id></label>trailing text",
    b"<label><id>5</id></label>\n  ",
    b"text first<label/>",
    b"<label/><label/>",
    b"<label><p:x/></label>",  # undeclared namespace prefix
    b"<label>&nbsp;</label>",
    b"<label>\x01</label>",
    b"",
    b"<label><sublabels><label id='2'>S</label></sublabels></label>",
]


def test_batches_with_odd_pieces_fall_back_to_single_parses() -> None:
    good = [b"<label><id>9</id><name>A &amp; B</name></label>"] * 3
    rnd = random.Random(5)
    for _ in range(300):
        pieces = rnd.sample(ODD_PIECES + good, rnd.randint(2, 6))
        got = batch.parse_records(pieces, PARSER)
        assert len(got) == len(pieces)
        for g, piece in zip(got, pieces):
            assert same(g, alone(piece)), pieces


def test_bad_artist_in_a_chunk_is_reported_like_alone() -> None:
    pieces = sample_pieces("artists")[:20]
    pieces[7] = pieces[7].replace(b"</name>", b"\x01</name>", 1)
    data = b"".join(pieces)
    entities.init_worker(None)
    result = entities.artist_chunk(1000, data)
    assert result.seen == 20
    ((ident, offset, why),) = result.bad
    assert data[offset - 1000 :].startswith(pieces[7])
    assert why == str(alone(pieces[7])).splitlines()[0]
    assert ident in pieces[7].decode(errors="replace")


def csv_writer(rows: list[tuple[Any, ...]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def test_format_rows_is_what_csv_writer_writes() -> None:
    rnd = random.Random(1)
    alphabet = ["a", "b", ",", '"', "\r", "\n", " ", "é", "\t", '""', "\r\n"]
    for _ in range(5000):
        width = rnd.randint(1, 5)
        rows: list[tuple[Any, ...]] = [
            tuple("".join(rnd.choices(alphabet, k=rnd.randint(0, 4))) for _ in range(width))
            for _ in range(rnd.randint(1, 4))
        ]
        if rnd.random() < 0.1:  # None and ints, as lxml's .get on a comment may give
            rows = [tuple(rnd.choice((None, 7, f)) for f in row) for row in rows]
        if rnd.random() < 0.1:  # rows of different widths
            rows.append(rows[0][:-1])
        assert output.format_rows(rows) == csv_writer(rows), rows


def test_last_start_is_the_last_marker() -> None:
    rnd = random.Random(3)
    tokens = [b"<release ", b"<release>", b"<release", b"<releases>", b"<released>", b"x",
              b"<artist>", b"<artist ", b"<label>", b"<label ", b"<artists>", b" ", b"<id>",
              b"</label>"]  # fmt: skip
    for _ in range(5000):
        buffer = b"".join(rnd.choices(tokens, k=rnd.randint(0, 8)))
        lo = rnd.randint(0, len(buffer))
        hi = rnd.randint(lo, len(buffer))
        for kind, markers in source.START_MARKERS.items():
            expected = max(buffer.rfind(marker, lo, hi) for marker in markers)
            if kind == "labels":  # a record's <label> is followed by an element, not text
                starts = source.LABEL_START.finditer(buffer, lo, hi)
                expected = max((m.start() for m in starts), default=-1)
            assert source.last_start(buffer, kind, lo, hi) == expected, (buffer, kind, lo, hi)


def tag_chunk(offset: int, data: bytes) -> tuple[int, int, str]:
    return offset, len(data), _tagged["tag"]


_tagged = {"tag": ""}


def set_tag(tag: str) -> None:
    _tagged["tag"] = tag


@pytest.mark.parametrize("fork", [True, False])
def test_pool_runs_each_pass_with_its_own_state(monkeypatch: Any, fork: bool) -> None:
    """Workers forked from here, or from the fork server (when this process has threads)."""
    monkeypatch.setattr(parallel, "_can_fork", lambda: fork)
    data = b"".join(sample_pieces("labels")[:300])
    data = b"<labels>" + data + b"</labels>"
    with Workers(2, 16_384) as workers:
        workers.wait()  # every chunk goes to the pool, none is converted here
        assert workers.ring is not None
        passes = []
        for tag in ("first", "second"):
            chunks = source.iter_chunks_into(io.BytesIO(data), Path("x"), "labels", workers.ring)
            passes.append(list(workers.map(tag_chunk, chunks, set_tag, (tag,))))
    for tag, results in zip(("first", "second"), passes):
        assert len(results) > 4
        assert {got for *_, got in results} == {tag}
        # in order and complete: each chunk starts where the previous one ended
        ends = [offset + size for offset, size, _ in results]
        assert [offset for offset, _, _ in results] == [0, *ends[:-1]]
        assert ends[-1] == len(data)


@pytest.mark.parametrize("local_chunks", [0, 3])
def test_chunks_converted_here_until_the_pool_is_up_change_nothing(
    tmp_path: Path, monkeypatch: Any, local_chunks: int
) -> None:
    """The first `local_chunks` chunks are converted in this process (as while the pool is
    starting), the rest by the pool; the CSVs are those of --workers 1."""
    dump = generate_dump(tmp_path / "dump", 400, seed=12)
    library = dump.out_dir / "library_artists.txt"
    convert(dump.out_dir, tmp_path / "w1", library_artists=library, workers=1, chunk_size=60_000)
    ready = parallel.Workers._ready_pool
    asked = {"n": 0}

    def slow_start(self: Workers, wait: bool) -> Any:
        asked["n"] += 1
        return None if asked["n"] <= local_chunks and not wait else ready(self, True)

    monkeypatch.setattr(parallel, "_can_fork", lambda: False)  # a pool that starts slowly
    monkeypatch.setattr(parallel.Workers, "_ready_pool", slow_start)
    convert(dump.out_dir, tmp_path / "w2", library_artists=library, workers=2, chunk_size=60_000)
    assert asked["n"] > local_chunks + 3
    names = sorted(p.name for p in (tmp_path / "w1").glob("*.csv"))
    assert len(names) == 15
    for name in names:
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()


def _unread(tag: bytes) -> bytes:
    return rb"(?:<%s>[^<]*(?:<(?!/%s>)[^<]*)*</%s>|<%s/>)?" % (tag, tag, tag, tag)


# the regex trim_unread used to run: the same cut, with bytes.find instead (the videos,
# read since contract v2, are kept)
UNREAD_TAIL = re.compile(
    _unread(b"identifiers")
    + b"(?P<videos>"
    + _unread(b"videos")
    + b")"
    + _unread(b"companies")
    + rb"\s*</release>"
)


def test_trim_unread_cuts_what_the_tail_regex_accepts() -> None:
    rnd = random.Random(4)
    tokens = [b"<identifiers>", b"</identifiers>", b"<identifiers/>", b"<videos>", b"</videos>",
              b"<videos/>", b"<companies>", b"</companies>", b"<companies/>", b"x", b" ", b"\n",
              b"<a/>", b"<videos><videos>", b"</release>", b"<notes>n</notes>",
              b"<identifiers >", b"\x0b"]  # fmt: skip
    for _ in range(50_000):
        tail = b"".join(rnd.choices(tokens, k=rnd.randint(0, 6)))
        record = (
            b'<release id="1"><tracklist></tracklist>'
            + tail
            + rnd.choice([b"</release>", b" </release>", b"</release> ", b""])
        )
        end = record.rfind(b"</tracklist>") + len(b"</tracklist>")
        match = UNREAD_TAIL.fullmatch(record, end)
        cut = record[:end] + match.group("videos") + b"</release>" if match else record
        assert releases.trim_unread(record) == cut, record
