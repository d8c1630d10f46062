"""Reading a dump: decompression, root detection and record-aligned chunks.

The decompressed stream is cut into chunks that start at a top-level record's opening tag,
so workers can parse chunks independently and the output order is the document order.
Cutting before a record *start* (not after an end tag) keeps nested same-named elements
(labels.xml's `<sublabels><label id=..>`) inside their record.
"""

from __future__ import annotations

import gzip
import io
import mmap
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

# ISA-L's gzip inflates 2-3x faster than zlib; its threaded reader also escapes the GIL
from isal import igzip, igzip_threaded

from discogs_cache.convert.shared import SharedRing
from discogs_cache.errors import InputError

KINDS = ("artists", "labels", "releases", "masters")
# Top-level record start markers per root element; nested elements never match these
# (a release's <released> lacks the space, a sub-label carries an id attribute), except the
# sub-labels of labels.xml before 2018: `<sublabels><label>Name</label>`, told apart by
# `LABEL_START` (a record's `<label>` is followed by an element, a sub-label's by text).
START_MARKERS: dict[str, tuple[bytes, ...]] = {
    "releases": (b"<release ", b"<release>"),
    "artists": (b"<artist>", b"<artist "),
    "labels": (b"<label>",),
    "masters": (b"<master ", b"<master>"),
}
END_TAGS = {kind: f"</{kind[:-1]}>".encode() for kind in KINDS}
LABEL_START = re.compile(rb"<label>(?=\s*<(?!/))")


def _marker_parts(markers: tuple[bytes, ...]) -> tuple[bytes, frozenset[int]]:
    """(common prefix, the bytes that may follow it); no followers: the prefix is the marker."""
    if len(markers) == 1:
        return markers[0], frozenset()
    prefix = markers[0][:-1]
    assert all(m[:-1] == prefix for m in markers)
    return prefix, frozenset(m[-1] for m in markers)


_MARKER_PARTS = {kind: _marker_parts(markers) for kind, markers in START_MARKERS.items()}
_ROOT = re.compile(rb"^(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<([A-Za-z_][\w.:-]*)", re.S)
_GZIP_ERRORS = (EOFError, OSError, zlib.error, gzip.BadGzipFile)


@dataclass
class Chunk:
    """A run of whole records and the offset of its first byte in the decompressed stream;
    data is the bytes, or (start, length) in a `SharedRing` (`iter_chunks_into`)."""

    offset: int
    data: bytes | tuple[int, int]


def last_start(buffer: bytes | mmap.mmap, kind: str, lo: int = 0, hi: int | None = None) -> int:
    """Offset of the last record start marker wholly inside buffer[lo:hi], or -1.

    One backward search for the markers' common prefix: searching for each marker in turn
    scans the whole buffer for a marker the file never uses ("<release>")."""
    prefix, followers = _MARKER_PARTS[kind]
    hi = len(buffer) if hi is None else hi
    while True:
        at = buffer.rfind(prefix, lo, hi)
        if kind == "labels" and at >= 0 and not LABEL_START.match(buffer, at, hi):
            hi = at + len(prefix) - 1  # an old-shape sub-label: look before it
            continue
        if at < 0 or not followers:
            return at
        after = at + len(prefix)
        if after < hi and buffer[after] in followers:
            return at
        hi = after - 1  # a match must end before this one's last byte: it starts earlier


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_stream(path: Path, *, threaded: bool = True) -> tuple[BinaryIO, BinaryIO]:
    """(decompressed stream, raw file): the raw file's position drives the progress bar.
    `threaded=False` for a short read: the threaded reader inflates megabytes ahead."""
    raw = path.open("rb")
    if not is_gzip(path):
        return raw, raw
    if not threaded:
        return cast(BinaryIO, igzip.IGzipFile(fileobj=raw, mode="rb")), raw
    return igzip_threaded.open(raw, "rb", threads=1), raw


def read(stream: BinaryIO, size: int, path: Path) -> bytes:
    """stream.read, with a truncated or corrupt gzip turned into a one-line InputError."""
    try:
        return stream.read(size)
    except _GZIP_ERRORS as exc:
        raise InputError(f"{path}: truncated or corrupt gzip data ({exc})") from exc


def read_into(stream: BinaryIO, view: memoryview, path: Path) -> int:
    """Fill view from the stream; fewer bytes than its size means the stream ended."""
    filled, size = 0, len(view)
    try:
        while filled < size:
            count = cast(io.BufferedIOBase, stream).readinto(view[filled:])
            if not count:
                break
            filled += count
    except _GZIP_ERRORS as exc:
        raise InputError(f"{path}: truncated or corrupt gzip data ({exc})") from exc
    return filled


def detect_root(path: Path) -> str:
    """The dump kind ("releases", "artists", ...) from the file's root element name."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    stream, raw = open_stream(path, threaded=False)
    try:
        head = read(stream, 1 << 16, path)
    finally:
        stream.close()
        raw.close()
    match = _ROOT.match(head.removeprefix(b"\xef\xbb\xbf"))
    if not match:
        raise InputError(f"{path}: not an XML file (no root element found)")
    root = match.group(1).decode("ascii", "replace")
    if root not in KINDS:
        raise InputError(f"{path}: unknown root element <{root}> (expected one of {KINDS})")
    return root


def iter_chunks(
    stream: BinaryIO, path: Path, kind: str, chunk_size: int, read_size: int = 1 << 20
) -> Iterator[Chunk]:
    """Yield record-aligned chunks of about chunk_size bytes; raise if the file is truncated.

    Each chunk ends just before a top-level record start, so no record is split. The last
    chunk carries the closing root tag, which must be there: a file cut short is an error,
    not a quietly shorter CSV.
    """
    offset = 0
    pending: list[bytes] = []
    pending_size = 0
    tail = b""
    while True:
        block = read(stream, read_size, path)
        if block:
            pending.append(block)
            pending_size += len(block)
            if pending_size < chunk_size:
                continue
        buffer = tail + b"".join(pending)
        pending, pending_size = [], 0
        if not block:
            break
        cut = last_start(buffer, kind)
        if cut <= 0:  # one record bigger than a chunk: keep reading
            tail = buffer
            continue
        yield Chunk(offset, buffer[:cut])
        offset += cut
        tail = buffer[cut:]
    closing = f"</{kind}>".encode()
    if not buffer.rstrip().endswith(closing):
        raise InputError(f"{path}: file ends before {closing.decode()} (truncated?)")
    if buffer.strip():
        yield Chunk(offset, buffer)


def _last_chunk(data: bytes, offset: int, path: Path, kind: str) -> Iterator[Chunk]:
    closing = f"</{kind}>".encode()
    if not data.rstrip().endswith(closing):
        raise InputError(f"{path}: file ends before {closing.decode()} (truncated?)")
    if data.strip():
        yield Chunk(offset, data)


def iter_chunks_into(
    stream: BinaryIO,
    path: Path,
    kind: str,
    ring: SharedRing,
    read_size: int = 1 << 20,
    size: int | None = None,
) -> Iterator[Chunk]:
    """`iter_chunks`, reading each chunk straight into the next slot of `ring` and yielding
    Chunk(offset, (start, length)): no copy of the chunk in this process. A slot is rewritten
    `ring.slots` chunks later (see `parallel.Workers.map`). Chunks are cut from up to `size`
    bytes (default and at most: the slot size). The last chunk, and a record bigger than
    that, travel as bytes."""
    mapping = ring.map
    size = min(size or ring.slot_size, ring.slot_size)
    offset, slot, carry = 0, 0, b""
    while True:
        if len(carry) < size:
            start = slot * ring.slot_size
            ring.view[start : start + len(carry)] = carry
            filled = len(carry) + read_into(
                stream, ring.view[start + len(carry) : start + size], path
            )
            if filled < size:  # end of the stream
                yield from _last_chunk(mapping[start : start + filled], offset, path, kind)
                return
            cut = last_start(mapping, kind, start, start + filled) - start
            if cut > 0:
                carry = mapping[start + cut : start + filled]
                yield Chunk(offset, (start, cut))
                offset += cut
                slot = (slot + 1) % ring.slots
                continue
            carry = mapping[start : start + filled]
        while True:  # no record starts after the first one: a record bigger than a slot
            block = read(stream, read_size, path)
            if not block:
                yield from _last_chunk(carry, offset, path, kind)
                return
            carry += block
            cut = last_start(carry, kind)
            if cut > 0:
                yield Chunk(offset, carry[:cut])
                offset += cut
                carry = carry[cut:]
                break
