"""`discogs-cache run`: the whole pipeline, resumable, one run per database at a time."""

from __future__ import annotations

import json
from pathlib import Path

import click

from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    existing_path,
    library_db_option,
    mappings_option,
    quiet_option,
    resolve_url,
)
from discogs_cache.pipeline.options import DEFAULT_STATE_FILE, RunOptions, UsageError, check_options

_EPILOG = """\b
The 9 steps: library -> convert -> schema -> load -> classify -> dedup (preferring the
pressings the library owns) -> prune or copy-to -> vacuum -> indexes. Without a library
there is no classify and no prune; with --csv-dir no library and no convert.
Exit codes: 0 done, 2 bad input/usage, 3 database error, 75 another run holds the lock.
"""


@click.command(context_settings=CONTEXT_SETTINGS, epilog=_EPILOG)
@click.option("--xml", type=existing_path(), help="Dump file or directory (every step).")
@click.option(
    "--csv-dir",
    type=existing_path(file_okay=False),
    help="Converted CSVs (from schema on: no library or convert step).",
)
@library_db_option(required=False)
@mappings_option
@click.option(
    "--library-artists", type=existing_path(dir_okay=False), help="Artist list (--xml only)."
)
@click.option("--wxyc-db-url", metavar="URL", help="Station MySQL catalog (pymysql URL).")
@database_url_option
@click.option("--target-db-url", metavar="URL", help="Copy KEEP+REVIEW here instead of pruning.")
@click.option(
    "--library-labels", type=existing_path(dir_okay=False), help="library_labels.csv for dedup."
)
@click.option(
    "--label-hierarchy", type=existing_path(dir_okay=False), help="label_hierarchy.csv for dedup."
)
@click.option(
    "--keep-csv",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the converted CSVs here and keep them (--xml only).",
)
@click.option("--resume", is_flag=True, help="Skip the steps a previous run completed.")
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_STATE_FILE,
    show_default=True,
    help="JSON record of completed steps.",
)
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the final summary as JSON to this file.",
)
@click.option("--workers", type=int, default=None, help="Converter processes (default: cores).")
@quiet_option
def run(
    xml: Path | None,
    csv_dir: Path | None,
    library_db: Path | None,
    mappings_path: Path | None,
    library_artists: Path | None,
    wxyc_db_url: str | None,
    database_url: str | None,
    target_db_url: str | None,
    library_labels: Path | None,
    label_hierarchy: Path | None,
    keep_csv: Path | None,
    resume: bool,
    state_file: Path,
    summary_json: Path | None,
    workers: int | None,
) -> None:
    """Run the whole pipeline: a Discogs dump (or its CSVs) to a pruned, indexed cache."""
    from discogs_cache.pipeline.run import run as run_pipeline

    options = RunOptions(
        database_url=database_url or "",
        xml=xml,
        csv_dir=csv_dir,
        library_db=library_db,
        mappings=mappings_path,
        library_artists=library_artists,
        wxyc_db_url=wxyc_db_url,
        target_db_url=target_db_url,
        library_labels=library_labels,
        label_hierarchy=label_hierarchy,
        keep_csv=keep_csv,
        resume=resume,
        state_file=state_file,
        workers=workers,
    )
    try:
        check_options(options)  # before resolving: a usage error never starts a server
        options.database_url = resolve_url(database_url)
        check_options(options)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    summary = run_pipeline(options)
    click.echo(summary.format())
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.to_json(), indent=2) + "\n", encoding="utf-8")
