"""`discogs-cache dedup`: one pressing per master, preferring the station's label and the
format it owns."""

from __future__ import annotations

from pathlib import Path

import click

from discogs_cache import progress
from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    existing_path,
    quiet_option,
    writer_url,
)
from discogs_cache.library.labels import LabelPreference, read_label_preferences_csv


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--library-labels",
    type=existing_path(dir_okay=False),
    default=None,
    help="library_labels.csv (artist_name,release_title,label_name): the station's labels.",
)
@click.option(
    "--label-hierarchy",
    type=existing_path(dir_okay=False),
    default=None,
    help="label_hierarchy.csv from convert: resolves one level of sublabel <-> parent.",
)
@click.option(
    "--library-db",
    type=existing_path(dir_okay=False),
    default=None,
    help="library.db: prefer the pressing in the format the station owns (CD, LP, ...).",
)
@click.option(
    "--wxyc-db-url",
    metavar="URL",
    default=None,
    help="Read label preferences from the station's MySQL catalog (mysql://...).",
)
@database_url_option
@quiet_option
def dedup(
    library_labels: Path | None,
    label_hierarchy: Path | None,
    library_db: Path | None,
    wxyc_db_url: str | None,
    database_url: str | None,
) -> None:
    """Keep one release per Discogs master: label match, owned format, US, most playable
    tracks, lowest id."""
    from discogs_cache.dedup import dedup as run_dedup

    prefs: list[LabelPreference] = []
    if library_labels:
        prefs += read_label_preferences_csv(library_labels)
    if wxyc_db_url:
        from discogs_cache.library.labels import read_label_preferences

        prefs += read_label_preferences(wxyc_db_url)
    owned = None
    if library_db:
        from discogs_cache.library.catalog import read_catalog
        from discogs_cache.matcher.albums import owned_formats

        owned = owned_formats(read_catalog(library_db))
    url = writer_url(database_url, "dedup")
    summary = run_dedup(
        url, label_preferences=prefs, label_hierarchy=label_hierarchy, owned_formats=owned
    )
    click.echo(progress.format_table(("dedup", "value"), summary.rows()))
