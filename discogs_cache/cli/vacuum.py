"""`discogs-cache vacuum`: VACUUM FULL ANALYZE the cache tables and report the space freed."""

from __future__ import annotations

import click

from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    quiet_option,
    resolve_url,
)
from discogs_cache.db import describe
from discogs_cache.progress import human_bytes
from discogs_cache.vacuum import vacuum as run_vacuum


@click.command(context_settings=CONTEXT_SETTINGS)
@database_url_option
@quiet_option
def vacuum(database_url: str | None) -> None:
    """Rewrite the cache tables (VACUUM FULL ANALYZE) after dedup/prune."""
    url = resolve_url(database_url)
    s = run_vacuum(url)
    click.echo(
        f"{describe(url)}: {human_bytes(s.bytes_before)} -> {human_bytes(s.bytes_after)}"
        f" (freed {human_bytes(s.reclaimed)}) in {s.seconds:.1f} s"
    )
