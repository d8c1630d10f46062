"""`discogs-cache library ...`: the station catalog (export, artist list, label preferences)."""

from __future__ import annotations

from pathlib import Path

import click

from discogs_cache import progress
from discogs_cache.cli._common import CONTEXT_SETTINGS, existing_path, quiet_option
from discogs_cache.db import describe
from discogs_cache.library.artists import build_artist_list, write_artist_list
from discogs_cache.library.export import export_catalog
from discogs_cache.library.labels import extract_label_preferences, write_label_preferences_csv

mysql_url_help = "Station catalog, mysql://user:pass@host:port/db[?charset=latin1] (utf8mb4)."
output_path = click.Path(dir_okay=False, writable=True, path_type=Path)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@click.group(context_settings=CONTEXT_SETTINGS)
def library() -> None:
    """The station catalog: export it from MySQL, build the artist list, extract labels."""


@library.command(context_settings=CONTEXT_SETTINGS)
@click.option("--mysql-url", required=True, metavar="URL", help=mysql_url_help)
@click.option("--output", "-o", required=True, type=output_path, help="library.db to write.")
@quiet_option
def export(mysql_url: str, output: Path) -> None:
    """Export the MySQL catalog to library.db (SQLite + FTS5), atomically."""
    progress.note(f"exporting the catalog from {describe(mysql_url)}")
    summary = export_catalog(mysql_url, output)
    _warn(summary.warnings)
    click.echo(
        f"{summary.output}: {summary.rows} releases ({summary.skipped} skipped, "
        f"{summary.decode_fallbacks} decoded as latin-1, {summary.unrepresentable} with '?', "
        f"charset {summary.charset}) in {summary.seconds:.1f} s"
    )


@library.command(context_settings=CONTEXT_SETTINGS)
@click.option("--library-db", required=True, type=existing_path(dir_okay=False), help="library.db")
@click.option("--mysql-url", default=None, metavar="URL", help=f"Enrich from: {mysql_url_help}")
@click.option("--output", "-o", required=True, type=output_path, help="Artist list to write.")
@quiet_option
def artists(library_db: Path, mysql_url: str | None, output: Path) -> None:
    """Write the library artist list (one name per line), enriched from MySQL if given."""
    result = build_artist_list(library_db, mysql_url)
    _warn(result.warnings)
    count = write_artist_list(result.names, output)
    rows = [(source, added) for source, added in result.added.items()]
    click.echo(progress.format_table(("source", "names added"), rows))
    click.echo(f"{output}: {count} artist names")


@library.command(context_settings=CONTEXT_SETTINGS)
@click.option("--mysql-url", required=True, metavar="URL", help=mysql_url_help)
@click.option("--output", "-o", required=True, type=output_path, help="library_labels.csv")
@quiet_option
def labels(mysql_url: str, output: Path) -> None:
    """Write library_labels.csv: (artist, title, label) from the flowsheet's LABEL_NAME."""
    result = extract_label_preferences(mysql_url)
    _warn(result.warnings)
    count = write_label_preferences_csv(result.prefs, output)
    click.echo(
        f"{output}: {count} label preferences from {result.flowsheet_rows} flowsheet entries"
    )
