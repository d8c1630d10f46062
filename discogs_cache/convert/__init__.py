"""Step 2, convert: stream Discogs XML dumps into the CSV interface, keeping library releases.

Entry point: `convert(path, output_dir, library_artists=..., workers=...) -> ConvertSummary`.
Layout: docs/ARCHITECTURE.md "CSV interface", plus `label_hierarchy.csv` (labels.xml; one row
per label that has a `<parentLabel>`) and `artist_alias.csv` (artists.xml; for every artist id
credited as a main artist on a kept release, the distinct names of its `<namevariations>` and
`<aliases>`). Track numbering and the other per-field decisions are documented in
`convert.releases`; the filter rules in `convert.filter`.

Only kept records are fully parsed, so an XML error in a record the pre-screen already
rejected goes unnoticed (it would not be written anyway), and so does one inside the
identifiers/videos/companies that end a kept record (never read: they are cut off before the
parse, `records.trim_unread`); every parsed bad record is reported with its id and byte
offset in the decompressed stream, and skipped.

Pipeline: the main process only decompresses (ISA-L, in a thread) into shared-memory slots
and cuts them at record starts (`source.iter_chunks_into`, `shared`); `--workers` processes
(default: all cores, one pool for all three files: `parallel.Workers`) screen, parse and
format the chunks; results are written in order. While the pool is starting, the main process
converts the first chunks itself. artists.xml and labels.xml records are parsed many to one
lxml call (`batch`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from discogs_cache.convert.core import ConvertSummary, convert, find_inputs
    from discogs_cache.convert.filter import LibraryFilter, read_library_artists

__all__ = ["ConvertSummary", "LibraryFilter", "convert", "find_inputs", "read_library_artists"]
_HOMES = {
    "ConvertSummary": "core", "convert": "core", "find_inputs": "core",
    "LibraryFilter": "filter", "read_library_artists": "filter",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    """Import on first use: the worker processes import `convert.releases`, which runs this
    package's __init__, and should not pay for the reading side (tqdm, ISA-L, the pool)."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
