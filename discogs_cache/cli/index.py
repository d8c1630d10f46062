"""`discogs-cache index`: build the contract's trigram and FK indexes after a load."""

from __future__ import annotations

import click

from discogs_cache import progress
from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    quiet_option,
    resolve_url,
)
from discogs_cache.db import describe
from discogs_cache.index import build_indexes, drop_indexes


@click.command(context_settings=CONTEXT_SETTINGS)
@database_url_option
@click.option("--jobs", type=int, default=None, help="Indexes built at once (default: cores).")
@click.option(
    "--maintenance-work-mem",
    default="256MB",
    show_default=True,
    help="PostgreSQL maintenance_work_mem for each build (memory per index being built).",
)
@click.option("--drop", is_flag=True, help="Drop the secondary indexes instead (before a load).")
@quiet_option
def index(
    database_url: str | None, jobs: int | None, maintenance_work_mem: str, drop: bool
) -> None:
    """Build every missing index of the schema contract, then ANALYZE (safe to re-run)."""
    url = resolve_url(database_url)
    if drop:
        dropped = drop_indexes(url)
        click.echo(f"{describe(url)}: dropped {len(dropped)} index(es)")
        return
    progress.note(f"building indexes on {describe(url)}")
    summary = build_indexes(url, jobs=jobs, maintenance_work_mem=maintenance_work_mem)
    rows = [(name, "built", f"{s:.2f}") for name, s in summary.built.items()]
    rows += [(name, "existed", "") for name in summary.existing]
    click.echo(progress.format_table(("index", "state", "seconds"), rows))
    click.echo(f"indexes done in {summary.seconds:.1f} s (ANALYZE included)")
