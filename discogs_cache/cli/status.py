"""`discogs-cache status`: row counts, sizes, schema revision and freshness of the cache."""

from __future__ import annotations

import json

import click

from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    quiet_option,
    resolve_url,
)
from discogs_cache.progress import format_table, human_bytes
from discogs_cache.status import cache_status


@click.command(context_settings=CONTEXT_SETTINGS)
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@quiet_option
def status(database_url: str | None, as_json: bool) -> None:
    """Show what the cache holds (read-only)."""
    s = cache_status(resolve_url(database_url))
    if as_json:
        click.echo(json.dumps(s.to_json(), indent=2))
        return
    click.echo(f"database: {s.database}")
    behind = "" if s.revision == s.head else f" (head is {s.head}: run discogs-cache migrate)"
    click.echo(f"schema revision: {s.revision or 'none'}{behind}")
    rows = [
        (t.name, t.rows, human_bytes(t.table_bytes), human_bytes(t.index_bytes)) for t in s.tables
    ]
    rows.append(("total", sum(t.rows for t in s.tables), "", human_bytes(s.total_bytes)))
    click.echo(format_table(("table", "rows", "table size", "index size"), rows))
    for f in s.freshness:
        click.echo(f"{f.source}: {f.releases} releases, cached {f.oldest:%Y-%m-%d %H:%M} .. "
                   f"{f.newest:%Y-%m-%d %H:%M}")  # fmt: skip
    if s.missing_indexes:
        click.echo(f"missing indexes: {', '.join(s.missing_indexes)} (run discogs-cache index)")
