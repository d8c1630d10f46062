"""`discogs-cache verify`: classify the cache against the library and report; changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import click

from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    library_db_option,
    mappings_option,
    quiet_option,
    resolve_url,
)


@click.command(context_settings=CONTEXT_SETTINGS)
@library_db_option(required=True)
@mappings_option
@click.option(
    "--report-json",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the report as JSON to this file.",
)
@click.option(
    "--write-mappings",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a mappings template listing the REVIEW artists (existing decisions kept).",
)
@database_url_option
@quiet_option
def verify(
    library_db: Path,
    mappings_path: Path | None,
    report_json: Path | None,
    write_mappings: Path | None,
    database_url: str | None,
) -> None:
    """Classify every release as KEEP / REVIEW / PRUNE and report what prune would save."""
    from discogs_cache.verify import format_report
    from discogs_cache.verify import verify as run_verify

    url = resolve_url(database_url)
    report = run_verify(url, library_db, mappings_path=mappings_path, write_mappings=write_mappings)
    click.echo(format_report(report))
    if report_json is not None:
        report_json.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
