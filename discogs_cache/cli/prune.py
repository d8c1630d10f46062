"""`discogs-cache prune`: delete PRUNE releases in place, or `--copy-to` KEEP+REVIEW elsewhere."""

from __future__ import annotations

from pathlib import Path

import click

from discogs_cache import progress
from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    library_db_option,
    mappings_option,
    quiet_option,
    writer_url,
)
from discogs_cache.db import check_postgres_url


@click.command(context_settings=CONTEXT_SETTINGS)
@library_db_option(required=True)
@mappings_option
@click.option(
    "--copy-to",
    "copy_to_url",
    metavar="URL",
    default=None,
    help="Copy KEEP+REVIEW into this database (created, migrated, indexed); source untouched.",
)
@click.option(
    "--strategy",
    type=click.Choice(["auto", "delete", "copy"]),
    default=None,
    help="In-place removal: DELETE, copy-swap, or auto (copy-swap when most go). [auto]",
)
@database_url_option
@quiet_option
def prune(
    library_db: Path,
    mappings_path: Path | None,
    copy_to_url: str | None,
    strategy: str | None,
    database_url: str | None,
) -> None:
    """Remove releases that are not the station's albums (REVIEW is never deleted)."""
    if copy_to_url and strategy:
        raise click.UsageError("--copy-to and --strategy (in-place pruning) are mutually exclusive")
    from discogs_cache.library.catalog import read_catalog
    from discogs_cache.matcher import load_mappings
    from discogs_cache.prune import copy_to
    from discogs_cache.prune import prune as run_prune
    from discogs_cache.verify import classify_cache

    url = writer_url(database_url, "prune")
    if copy_to_url:
        from discogs_cache.pipeline.lock import pipeline_lock
        from discogs_cache.prune import ensure_database

        check_postgres_url(copy_to_url)
        ensure_database(copy_to_url)  # it writes there: the target's writers' lock too
        click.get_current_context().with_resource(pipeline_lock(copy_to_url, "prune"))
    classification = classify_cache(url, read_catalog(library_db), load_mappings(mappings_path))
    counts = classification.counts()
    rows: list[tuple[str, object]]
    if copy_to_url:
        summary = copy_to(url, copy_to_url, classification)
        rows = [
            ("target", summary.target),
            ("created", "yes" if summary.created else "no"),
        ]
        rows += [(f"rows {t}", n) for t, n in summary.rows.items()]
        rows += [(d, n) for d, n in counts.items()]
        click.echo(progress.format_table(("copy-to", "value"), rows))
        return
    result = run_prune(url, classification, strategy=strategy or "auto")
    rows = [(d, n) for d, n in counts.items()]
    rows += [
        ("releases before", result.releases_before),
        ("releases removed", result.releases_removed),
        ("releases kept", result.releases_kept),
        ("strategy", result.strategy),
    ]
    rows += [(f"rows removed {t}", n) for t, n in result.rows_removed.items()]
    click.echo(progress.format_table(("prune", "value"), rows))
