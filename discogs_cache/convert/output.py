"""CSV files written under temporary names and renamed only when the whole run succeeded.

A failed run (truncated gzip, unknown root, interrupt) removes its temporary files, so a CSV
with a final name is always complete.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

# Every CSV convert may write; a successful run removes those it did not produce this time,
# so a directory never mixes two runs' outputs.
ALL_OUTPUTS = (
    "release",
    "release_artist",
    "release_label",
    "release_track",
    "release_track_artist",
    "release_image",
    "label_hierarchy",
    "artist_alias",
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
