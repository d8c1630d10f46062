"""`discogs-cache migrate`: bring a database to the schema contract's head (or a revision)."""

from __future__ import annotations

import click

from discogs_cache import migrate as migrations
from discogs_cache import progress
from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    quiet_option,
    resolve_url,
)
from discogs_cache.db import describe
from discogs_cache.errors import DatabaseError


@click.command(context_settings=CONTEXT_SETTINGS)
@database_url_option
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.option("--downgrade", is_flag=True, help="Downgrade to --revision (e.g. base) instead.")
@click.option("--check", "check_only", is_flag=True, help="Only report ORM/database differences.")
@quiet_option
def migrate(database_url: str | None, revision: str, downgrade: bool, check_only: bool) -> None:
    """Run the Alembic migration chain against the cache database."""
    url = resolve_url(database_url)
    if check_only:
        diffs = migrations.check(url)
        if diffs:
            raise DatabaseError(f"schema of {describe(url)} differs from the models: {diffs}")
        click.echo(f"{describe(url)}: schema matches the models")
        return
    if downgrade:
        migrations.downgrade(url, revision if revision != "head" else "base")
        click.echo(f"{describe(url)}: at {migrations.current_revision(url) or 'base'}")
        return
    progress.note(f"migrating {describe(url)} to {revision}")
    click.echo(f"{describe(url)}: at {migrations.upgrade(url, revision)}")
