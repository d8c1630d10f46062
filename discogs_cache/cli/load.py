"""`discogs-cache load CSV_DIR`: bulk-load converter CSVs into the cache (SPEC step 4)."""

from __future__ import annotations

from pathlib import Path

import click

from discogs_cache import progress
from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    existing_path,
    quiet_option,
    resolve_url,
)
from discogs_cache.db import describe
from discogs_cache.load import LoadSummary, load


def summary_table(summary: LoadSummary) -> str:
    """Per table: loaded rows and every skipped/collapsed/truncated category."""
    rows = [
        (t.table, t.source_rows, t.loaded, t.empty_required, t.missing_release, t.duplicates,
         t.truncated)
        for t in summary.tables
    ]  # fmt: skip
    headers = ("table", "csv rows", "loaded", "empty required", "missing release",
               "duplicates collapsed", "names truncated")  # fmt: skip
    lines = [progress.format_table(headers, rows)]
    for name, count in summary.nul_bytes.items():
        lines.append(f"{name}: {count} NUL byte(s) stripped")
    for name, count in summary.bad_integers.items():
        lines.append(f"{name}: {count} row(s) skipped: an id is not an integer in range")
    if summary.missing_files:
        lines.append(f"optional files absent: {', '.join(summary.missing_files)}")
    return "\n".join(lines)


@click.command("load", context_settings=CONTEXT_SETTINGS)
@click.argument("csv_dir", type=existing_path(file_okay=False))
@database_url_option
@click.option("--replace", is_flag=True, help="Truncate the cache tables and reload them.")
@click.option("--workers", type=int, default=None, help="Files copied at once (default: cores).")
@quiet_option
def load_command(
    csv_dir: Path, database_url: str | None, replace: bool, workers: int | None
) -> None:
    """Bulk-load the converter's CSVs (migrating first); then run `discogs-cache index`."""
    url = resolve_url(database_url)
    progress.note(f"loading {csv_dir} into {describe(url)}")
    summary = load(url, csv_dir, replace=replace, workers=workers)
    click.echo(summary_table(summary))
    click.echo(f"loaded in {summary.seconds:.1f} s; next: discogs-cache index")
