"""`convert`: dump files → CSVs, in the order artists → labels → releases.

Artists come first because the release filter needs the ids matched through aliases; labels
are independent; the artist CSVs (artist, artist_alias, artist_name_variation, artist_member,
artist_url) are written last, once the kept releases' credited ids are known.
"""

from __future__ import annotations

import csv
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discogs_cache import faults, progress
from discogs_cache.convert import albums, entities, releases, source
from discogs_cache.convert.album_settle import SettleOptions
from discogs_cache.convert.filter import IdSet, LibraryFilter, read_library_artists
from discogs_cache.convert.output import CsvSet, format_rows
from discogs_cache.convert.parallel import Workers, default_workers, start_early
from discogs_cache.errors import InputError

CHUNK_SIZE = 4 << 20  # small enough for flat memory, big enough to amortize dispatch
# artists.xml and labels.xml are small next to releases.xml but cost ~10x more per byte: in
# smaller chunks both workers share them instead of one waiting for the other's big chunk.
ENTITY_CHUNK_SIZE = 1 << 20
MAX_BAD_REPORTED = 100


@dataclass
class ConvertSummary:
    """What a convert run did; `rows` counts data rows per CSV written (header excluded)."""

    output_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    inputs: dict[str, Path] = field(default_factory=dict)
    releases_seen: int = 0
    releases_kept: int = 0
    artists_seen: int = 0
    labels_seen: int = 0
    matched_artist_ids: int = 0
    bad_records: int = 0
    bad: list[tuple[str, str, int, str]] = field(default_factory=list)  # kind, id, offset, why
    rows: dict[str, int] = field(default_factory=dict)
    xml_bytes: int = 0
    seconds: float = 0.0
    workers: int = 1
    releases_matched: int = 0
    """Releases that passed the artist filter (= releases_kept without the album filter)."""
    classification: dict[str, int] | None = None
    """With the album filter: KEEP/REVIEW/PRUNE counts over the matched releases."""

    @property
    def mb_per_s(self) -> float:
        return self.xml_bytes / 1e6 / self.seconds if self.seconds else 0.0


def find_inputs(path: Path) -> dict[str, Path]:
    """{kind: file} for a dump file or a directory, recognised by root element, not by name."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_file():
        return {source.detect_root(path): path}
    found: dict[str, Path] = {}
    for candidate in sorted(p for p in path.iterdir() if p.is_file()):
        if candidate.name.startswith(".") or not _looks_like_xml(candidate):
            continue
        kind = source.detect_root(candidate)
        if kind in found:
            raise InputError(f"{path}: two <{kind}> dumps ({found[kind].name}, {candidate.name})")
        found[kind] = candidate
    return found


def _looks_like_xml(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith((b"<", b"\x1f\x8b"))


def convert(
    path: Path,
    output_dir: Path,
    *,
    library_artists: Path | None = None,
    library_db: Path | None = None,
    mappings: Path | None = None,
    workers: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    settle_with: SettleOptions | None = None,
) -> ConvertSummary:
    """Convert the dump at `path` (file or directory) into CSVs under `output_dir`.

    With `library_artists` only releases whose main artists are on that list are kept (see
    `convert.filter`); without it everything is converted. With `library_db` (the album
    filter; its artists are the list when `library_artists` is not given) those releases
    are classified against the catalogue (and `mappings`) as verify would, only KEEP and
    REVIEW are written, and the classification goes to `classification.json` beside the
    CSVs (`convert.albums`), each album's masters settled as the classify step would
    (`settle_with`: the station's label preferences and hierarchy). Raises InputError for
    a missing path, an unknown root element, a truncated file or no releases dump.
    """
    path, output_dir = Path(path), Path(output_dir)
    inputs = find_inputs(path)
    if "releases" not in inputs:
        raise InputError(f"{path}: no <releases> dump found")
    library = _library_filter(library_artists, library_db, mappings)
    output_dir.mkdir(parents=True, exist_ok=True)
    summary = ConvertSummary(output_dir, inputs=inputs, workers=workers or default_workers())
    if summary.workers > 1:
        start_early()
    if "masters" in inputs:
        progress.note(f"{inputs['masters'].name}: masters are not needed, skipped")
    outputs = CsvSet(output_dir)
    spill = output_dir / f".artists.spill.{id(outputs)}.tmp"
    records = output_dir / f".classification.spill.{id(outputs)}.tmp"
    started = time.perf_counter()
    entity_chunk = min(chunk_size, ENTITY_CHUNK_SIZE)
    try:
        with Workers(summary.workers, chunk_size) as pool:
            if "artists" in inputs:
                _artists(inputs["artists"], library, spill, summary, pool, entity_chunk)
            if "labels" in inputs:
                _labels(inputs["labels"], outputs, summary, pool, entity_chunk)
            credited = _releases(
                inputs["releases"], library, outputs, summary, pool, chunk_size, records
            )
        if "artists" in inputs:
            _write_artists(spill, credited, outputs)
        classified = output_dir / albums.FILE_NAME
        classified.unlink(missing_ok=True)  # never beside CSVs of another run
        summary.files = outputs.commit()
        if library is not None and library.albums is not None and library_db is not None:
            settling = settle_with or SettleOptions()
            prefs = settling.preferences(output_dir, Path(library_db))
            result = albums.finish(records, output_dir, prefs, library.albums.name_max)
            albums.write_classification(classified, result, library_db, mappings)
            summary.classification = result.counts
    except BaseException:
        outputs.abort()
        raise
    finally:
        spill.unlink(missing_ok=True)
        records.unlink(missing_ok=True)
    summary.rows = dict(outputs.rows)
    summary.seconds = time.perf_counter() - started
    return summary


def _library_filter(
    library_artists: Path | None, library_db: Path | None, mappings: Path | None
) -> LibraryFilter | None:
    """The artist filter, with the album filter when the catalogue is given."""
    if library_db is None:
        return (
            None
            if library_artists is None
            else LibraryFilter.from_names(read_library_artists(Path(library_artists)))
        )
    if library_artists is not None:
        names = read_library_artists(Path(library_artists))
    else:
        from discogs_cache.library.artists import build_artist_list

        names = build_artist_list(Path(library_db)).names
    library = LibraryFilter.from_names(names)
    library.albums = albums.AlbumFilter.load(Path(library_db), mappings)
    return library


def _run(
    file: Path,
    kind: str,
    func: Callable[[int, bytes], Any],
    init: Callable[..., None],
    library: LibraryFilter | None,
    summary: ConvertSummary,
    workers: Workers,
    chunk_size: int,
) -> Iterator[Any]:
    """Chunk `file`, map `func` over the chunks on the workers, yield results in order."""
    stream, raw = source.open_stream(file)
    size = file.stat().st_size
    try:
        with progress.bar(total=size, desc=file.name, unit="B") as bar:
            chunks = (
                source.iter_chunks(stream, file, kind, chunk_size)
                if workers.ring is None
                else source.iter_chunks_into(stream, file, kind, workers.ring, size=chunk_size)
            )
            for result in workers.map(func, chunks, init, (library,)):
                summary.xml_bytes += result.xml_bytes
                for ident, offset, why in result.bad:
                    _report_bad(summary, kind, ident, offset, why, file)
                bar.update(min(raw.tell(), size) - bar.n)
                yield result, bar
    finally:
        stream.close()
        raw.close()


def _report_bad(
    summary: ConvertSummary, kind: str, ident: str, offset: int, why: str, file: Path
) -> None:
    summary.bad_records += 1
    if len(summary.bad) < MAX_BAD_REPORTED:
        summary.bad.append((kind, ident, offset, why))
        progress.note(f"{file.name}: skipped bad {kind[:-1]} id={ident} at byte {offset}: {why}")


def _artists(
    file: Path,
    library: LibraryFilter | None,
    spill: Path,
    summary: ConvertSummary,
    workers: Workers,
    chunk_size: int,
) -> None:
    matched = IdSet()
    useful: dict[int, tuple[str, ...]] = {}
    with spill.open("wb") as out:
        for result, _ in _run(
            file, "artists", entities.artist_chunk, entities.init_worker, library, summary,
            workers, chunk_size,
        ):  # fmt: skip
            summary.artists_seen += result.seen
            out.write(result.rows)
            matched.update(array("q", result.matched_ids))
            useful.update(result.useful_aliases)
    if library is not None:
        library.matched_ids = matched
        summary.matched_artist_ids = len(matched)
        if library.albums is not None:
            library.albums.use_aliases(useful)


def _labels(
    file: Path, outputs: CsvSet, summary: ConvertSummary, workers: Workers, chunk_size: int
) -> None:
    outputs.open(
        "label_hierarchy", ("label_id", "label_name", "parent_label_id", "parent_label_name")
    )
    partial: list[tuple[str, str, str, str]] = []
    for result, _ in _run(
        file, "labels", entities.label_chunk, entities.init_worker, None, summary, workers,
        chunk_size,
    ):  # fmt: skip
        summary.labels_seen += result.seen
        outputs.write("label_hierarchy", result.rows, result.row_count)
        partial += result.partial
    resolved = entities.resolve_by_name(partial)
    outputs.write("label_hierarchy", format_rows(resolved), len(resolved))


def _releases(
    file: Path,
    library: LibraryFilter | None,
    outputs: CsvSet,
    summary: ConvertSummary,
    workers: Workers,
    chunk_size: int,
    records: Path,
) -> IdSet:
    """Write the six release CSVs (and spill the album filter's records to `records`);
    return the main-artist ids credited on kept releases."""
    for name, header in releases.TABLES.items():
        outputs.open(name, header)
    credited = IdSet()
    with records.open("wb") as spill:
        for result, bar in _run(
            file, "releases", releases.process_chunk, releases.init_worker, library, summary,
            workers, chunk_size,
        ):  # fmt: skip
            summary.releases_seen += result.seen
            summary.releases_kept += result.kept
            summary.releases_matched += result.matched
            spill.write(result.records)
            for name, data in result.tables.items():
                outputs.write(name, data, result.counts[name])
            credited.update(array("q", result.credited_ids))
            bar.set_postfix(kept=summary.releases_kept, seen=summary.releases_seen, refresh=False)
            faults.point("convert.after_chunk")  # CSVs half written, not committed
    return credited


def _write_artists(spill: Path, credited: IdSet, outputs: CsvSet) -> None:
    """The artist CSVs: the spilled rows (table, *row) of the artists credited on kept
    releases (the lean cache holds those only)."""
    batches: dict[str, list[list[str]]] = {}
    for name, header in entities.ARTIST_TABLES.items():
        outputs.open(name, header)
        batches[name] = []
    with spill.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if int(row[1]) in credited:
                batch = batches[row[0]]
                batch.append(row[1:])
                if len(batch) >= 10000:
                    outputs.write(row[0], format_rows(batch), len(batch))
                    batch.clear()
    for name, batch in batches.items():
        outputs.write(name, format_rows(batch), len(batch))
