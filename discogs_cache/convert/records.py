"""The byte-level handling of release records: where they start, and what of a kept
record's tail the parser can skip (see `releases` for how records are screened and parsed).
"""

from __future__ import annotations

import re

END = b"</release>"
# What follows the tracklist in Discogs' record layout: each element optional, in this
# order, its content up to the first end tag of its name (a nested element of the same name
# leaves an end tag that is not `</release>`, so nothing is cut). Only the videos are read.
_AFTER_TRACKLIST = [
    (b"<%s>" % t, b"<%s/>" % t, b"</%s>" % t) for t in (b"identifiers", b"videos", b"companies")
]
_KEPT_AFTER = b"videos"
# a video's description (not read; most of the videos' bytes), when it is plain text
_VIDEO_DESCRIPTION = re.compile(rb"<description>[^<]*</description>|<description/>")
_AFTER_NAME = frozenset(b" \t\n\r\f\v>")  # what `\s` or `>` match after "<release"


def trim_unread(record: bytes) -> bytes:
    """The record without its trailing identifiers and companies, which are never read and
    are a third of its bytes: parsing kept records is the biggest cost left. The videos
    between them are kept (read), without their descriptions.

    Cut only when everything after the last `</tracklist>` is exactly those elements and the
    record's end tag, so they are children of `<release>` and the rows cannot change. An XML
    error inside the cut part then goes unnoticed, as in a record the pre-screen rejects."""
    end = record.rfind(b"</tracklist>")
    if end < 0:
        return record
    end += len(b"</tracklist>")
    at = end
    kept = b""
    for start_tag, empty_tag, end_tag in _AFTER_TRACKLIST:
        if record.startswith(start_tag, at):
            close = record.find(end_tag, at + len(start_tag))
            if close < 0:
                return record
            if start_tag[1:-1] == _KEPT_AFTER:
                kept = _VIDEO_DESCRIPTION.sub(b"", record[at : close + len(end_tag)])
            at = close + len(end_tag)
        elif record.startswith(empty_tag, at):
            if start_tag[1:-1] == _KEPT_AFTER:
                kept = empty_tag
            at += len(empty_tag)
    if record[at:].lstrip() != END:
        return record
    return record[:end] + kept + END


def record_starts(data: bytes) -> list[int]:
    """Offsets of the record starts in data (what `_START` matches), then len(data).

    A bytes.find loop: about twice as fast as `_START.finditer`, which tries its pattern at
    every `<` of the chunk."""
    starts = []
    find, size = data.find, len(data)
    at = find(b"<release")
    while at >= 0:
        after = at + 8
        if after < size and data[after] in _AFTER_NAME:
            starts.append(at)
        at = find(b"<release", after)
    starts.append(size)
    return starts


__all__ = ["END", "record_starts", "trim_unread"]
