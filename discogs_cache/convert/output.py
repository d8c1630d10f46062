"""CSV rows formatted, and CSV files written under temporary names and renamed only when
the whole run succeeded.

A failed run (truncated gzip, unknown root, interrupt) removes its temporary files, so a CSV
with a final name is always complete.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

# Every CSV convert may write; a successful run removes those it did not produce this time,
# so a directory never mixes two runs' outputs.
ALL_OUTPUTS = (
    "release",
    "release_artist",
    "release_label",
    "release_track",
    "release_track_artist",
    "release_image",
    "release_genre",
    "release_style",
    "release_video",
    "label_hierarchy",
    "artist",
    "artist_alias",
    "artist_name_variation",
    "artist_member",
    "artist_url",
)


class CsvSet:
    """Output CSVs of one run: `open` adds a file (header written), `commit` publishes all."""

    def __init__(self, output_dir: Path) -> None:
        self.dir = output_dir
        self.handles: dict[str, BinaryIO] = {}
        self.rows: dict[str, int] = {}

    def temp_path(self, name: str) -> Path:
        return self.dir / f".{name}.csv.{os.getpid()}.tmp"

    def open(self, name: str, header: Sequence[str]) -> None:
        handle = self.temp_path(name).open("wb")
        handle.write((",".join(header) + "\r\n").encode())
        self.handles[name] = handle
        self.rows[name] = 0

    def write(self, name: str, data: bytes, rows: int) -> None:
        if data:
            self.handles[name].write(data)
            self.rows[name] += rows

    def commit(self) -> dict[str, Path]:
        """Close, then rename every temporary file to its final name."""
        for handle in self.handles.values():
            handle.close()
        final = {}
        for name in self.handles:
            target = self.dir / f"{name}.csv"
            os.replace(self.temp_path(name), target)
            final[name] = target
        for name in ALL_OUTPUTS:
            if name not in final:
                (self.dir / f"{name}.csv").unlink(missing_ok=True)
        return final

    def abort(self) -> None:
        for name, handle in self.handles.items():
            handle.close()
            self.temp_path(name).unlink(missing_ok=True)


def format_rows(rows: Sequence[Sequence[Any]]) -> bytes:
    """RFC 4180 CSV (CRLF, minimal quoting: fields with quotes, commas or newlines), as
    csv.writer writes it.

    A field that needs no quoting is written as it is, so a line is the fields joined by
    commas; whether any needs quoting is checked on the joined text by counting separators
    (C speed), then per row, and only the fields of such rows go through `_quoted`."""
    if not rows:
        return b""
    commas = len(rows[0]) - 1
    try:
        text = "\r\n".join(map(",".join, rows)) + "\r\n"
    except TypeError:  # a field that is not a str (None from a comment's .get)
        return _csv_writer_rows(rows)
    if not commas or len(set(map(len, rows))) > 1:  # one field: csv.writer quotes it if empty
        return _csv_writer_rows(rows)
    lines = len(rows)
    if (
        text.count(",") == commas * lines
        and text.count("\n") == lines
        and text.count("\r") == lines
        and '"' not in text
    ):
        return text.encode("utf-8")
    out = []
    for row in rows:
        line = ",".join(row)
        if line.count(",") != commas or _QUOTE_NOT_COMMA.search(line) is not None:
            line = ",".join([_quoted(field) for field in row])
        out.append(line)
    out.append("")
    return "\r\n".join(out).encode("utf-8")


_QUOTE = re.compile(r'[,"\r\n]')
_QUOTE_NOT_COMMA = re.compile(r'["\r\n]')


def _quoted(field: str) -> str:
    if _QUOTE.search(field) is None:
        return field
    return '"' + field.replace('"', '""') + '"'


def _csv_writer_rows(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")
