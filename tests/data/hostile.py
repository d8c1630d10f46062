"""Real dump records (tests/data/samples) with one defect injected each, for the hostile
input tests: what a damaged or adversarial dump looks like, record by record."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from tests.conftest import SAMPLES

_RELEASE = re.compile(rb"<release [^>]*>.*?</release>", re.S)
_LABEL = re.compile(rb"<label>.*?</label>", re.S)


def real_releases(count: int) -> list[bytes]:
    """The first `count` release records of the real 2020-08-06 sample, verbatim."""
    with gzip.open(SAMPLES / "discogs_20200806_releases.xml.gz", "rb") as handle:
        data = handle.read(1 << 20)
    return _RELEASE.findall(data)[:count]


def real_labels(count: int) -> list[bytes]:
    """The first `count` label records of the real 2020-08-06 sample, verbatim."""
    with gzip.open(SAMPLES / "discogs_20200806_labels.xml.gz", "rb") as handle:
        data = handle.read(1 << 20)
    return _LABEL.findall(data)[:count]


def main_artist_id(record: bytes, value: str) -> bytes:
    """The record with its first main credit's artist id replaced by `value`."""
    head, sep, tail = record.partition(b"<artists><artist><id>")
    assert sep, "a record with a linked main credit"
    return head + sep + value.encode() + tail[tail.index(b"</id>") :]


def release_id(record: bytes, value: str) -> bytes:
    return re.sub(rb'^<release id="[^"]*"', b'<release id="' + value.encode() + b'"', record)


def master_id(record: bytes, value: str) -> bytes:
    out, n = re.subn(rb"(<master_id[^>]*>)[^<]*", rb"\g<1>" + value.encode(), record)
    assert n == 1, "a record with a master"
    return out


def write_dump(path: Path, root: str, records: list[bytes]) -> list[int]:
    """Write the records under their root element; the byte offset of each record."""
    data = bytearray(f"<{root}>\n".encode())
    offsets = []
    for record in records:
        offsets.append(len(data))
        data += record + b"\n"
    data += f"</{root}>\n".encode()
    path.write_bytes(bytes(data))
    return offsets


def old_label_shape(record: bytes, sublabels: list[str]) -> bytes:
    """A post-2018 label record in the pre-2018 shape: no id attribute on `<parentLabel>`,
    `<sublabels>` holding `<label>Name</label>` (names XML-escaped by the caller)."""
    record = re.sub(rb"<parentLabel id=\"\d+\">", b"<parentLabel>", record)
    old = b"<sublabels>" + b"".join(b"<label>%s</label>" % n.encode() for n in sublabels)
    old += b"</sublabels>"
    if b"<sublabels>" not in record:
        return record[: -len(b"</label>")] + old + b"</label>"
    return re.sub(rb"<sublabels>.*?</sublabels>", old, record, flags=re.S)
