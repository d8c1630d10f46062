"""Header checks of the loader (no server): a wrong header fails before anything is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from discogs_cache.errors import InputError
from discogs_cache.load.staging import (
    SPECS,
    RecordCounter,
    read_header,
    staging_columns,
    unclosed_quote_line,
)

TRACK = next(s for s in SPECS if s.name == "release_track")


def test_header_with_extra_and_reordered_columns(tmp_path: Path) -> None:
    path = tmp_path / "release_track.csv"
    path.write_text("\ufefftitle,release_id,sequence,bonus,position,duration\n1,2,3,4,5,6\n")
    header = read_header(path, TRACK)
    assert header[0] == "title"
    cols = staging_columns(TRACK, header)
    assert cols[3] == ("_ignored_3", "text") and ("sequence", "integer") in cols


@pytest.mark.parametrize(
    ("first_line", "message"),
    [
        ("1,1,A1,Title,3:00\n", "missing column(s) release_id, sequence, position, title"),
        ("release_id,sequence,position,title,title,duration\n", "duplicate column(s) title"),
        (b"\xff\xfe\n", "header is not UTF-8"),
    ],
)
def test_wrong_header_names_file_and_line(
    tmp_path: Path, first_line: str | bytes, message: str
) -> None:
    path = tmp_path / "release_track.csv"
    path.write_bytes(first_line.encode() if isinstance(first_line, str) else first_line)
    with pytest.raises(InputError) as err:
        read_header(path, TRACK)
    assert str(err.value).startswith(f"{path}:1: ")
    assert message in str(err.value)


@pytest.mark.parametrize("block", [1, 2, 3, 7, 1000])
def test_record_counter_ignores_newlines_inside_quotes(block: int) -> None:
    data = b'a,b\n1,"x\ny"\n2,"say ""hi""\n, ok"\n3,plain\n4,"",last'
    counter = RecordCounter()
    for i in range(0, len(data), block):
        counter.feed(data[i : i + block])
    assert counter.records == 4
    empty = RecordCounter()
    empty.feed(b"a,b\n")
    assert empty.records == 0


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('h\n1,"ok"\n2,"open\n3,x\n', 3),
        ('h\n1,"multi\nline"\n2,"a ""quoted"" word\n3\n', 4),
        ('h\n1,"multi\nline","reopened\n3\n', 3),
        ('h\n1,"closed"\n', None),
        ('h\n1,"multi\nline"\n', None),
    ],
)
def test_unclosed_quote_line_is_where_the_quote_opened(
    tmp_path: Path, text: str, line: int | None
) -> None:
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    assert unclosed_quote_line(path) == line
