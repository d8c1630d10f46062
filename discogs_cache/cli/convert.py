"""`discogs-cache convert`: Discogs XML dump (file or directory) → CSVs for `load`."""

from __future__ import annotations

from pathlib import Path

import click

from discogs_cache import progress
from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    library_db_option,
    mappings_option,
    quiet_option,
)
from discogs_cache.convert import convert as run_convert


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--output-dir",
    "-o",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the CSV files (created if missing).",
)
@click.option(
    "--library-artists",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep only releases by these artists (UTF-8, one per line, '#' comments).",
)
@library_db_option(required=False)
@mappings_option
@click.option(
    "--workers", type=click.IntRange(min=1), help="Parser processes (default: all cores)."
)
@quiet_option
def convert(
    path: Path,
    output_dir: Path,
    library_artists: Path | None,
    library_db: Path | None,
    mappings_path: Path | None,
    workers: int | None,
) -> None:
    """Convert a Discogs dump (a .xml/.xml.gz file or a directory of them) to CSV files.

    Files are recognised by their root element and processed artists → labels → releases.
    With --library-db only the station's albums are kept: releases by its artists (or by
    --library-artists) are classified as verify would, KEEP and REVIEW are written, and the
    classification is saved as classification.json beside the CSVs.
    """
    if mappings_path is not None and library_db is None:
        raise click.UsageError("--mappings overrides the classifier: it needs --library-db")
    summary = run_convert(
        path,
        output_dir,
        library_artists=library_artists,
        library_db=library_db,
        mappings=mappings_path,
        workers=workers,
    )
    rows: list[tuple[str, object]] = [("releases seen", summary.releases_seen)]
    if summary.classification is not None:
        rows.append(("releases by library artists", summary.releases_matched))
        rows += [(f"  {name}", count) for name, count in summary.classification.items()]
    rows += [
        ("releases kept", summary.releases_kept),
        ("bad records skipped", summary.bad_records),
    ]
    if summary.artists_seen:
        rows += [
            ("artists seen", summary.artists_seen),
            ("artist ids matched", summary.matched_artist_ids),
        ]
    if summary.labels_seen:
        rows.append(("labels seen", summary.labels_seen))
    rows += [(f"{name}.csv rows", count) for name, count in summary.rows.items()]
    rows += [
        ("XML processed", progress.human_bytes(summary.xml_bytes)),
        ("seconds", f"{summary.seconds:.2f}"),
        ("MB/s of XML", f"{summary.mb_per_s:.1f}"),
        ("workers", summary.workers),
    ]
    click.echo(progress.format_table(("convert", str(summary.output_dir)), rows))
