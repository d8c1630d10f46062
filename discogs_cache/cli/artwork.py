"""`discogs-cache artwork`: fill missing artwork URLs from the Discogs API, paced."""

from __future__ import annotations

from pathlib import Path

import click

from discogs_cache.cli._common import (
    CONTEXT_SETTINGS,
    database_url_option,
    existing_path,
    quiet_option,
    resolve_url,
)

_EPILOG = """\b
Token: $DISCOGS_TOKEN or --token-file (never printed). API: $DISCOGS_API_URL
(default https://api.discogs.com). The request budget is shared, through the database
(or the one at $DISCOGS_RATELIMIT_URL), with every process using the same token.
Safe to kill and re-run: it continues where it stopped. Exit codes: 0 done,
1 token refused, 2 bad input, 3 database error, 75 another writer holds the lock.
"""


@click.command(context_settings=CONTEXT_SETTINGS, epilog=_EPILOG)
@click.option("--limit", type=click.IntRange(min=1), help="Check at most N releases.")
@click.option(
    "--rate",
    type=click.IntRange(min=1),
    metavar="PER_MINUTE",
    help="Requests per minute (default: 55 with a token, 25 without).",
)
@click.option(
    "--recheck-after",
    type=click.FloatRange(min=0),
    default=180.0,
    show_default=True,
    metavar="DAYS",
    help="Ask again about releases checked this long ago that had no artwork (404, no image).",
)
@click.option("--dry-run", is_flag=True, help="Count the releases to check; no request.")
@click.option(
    "--token-file",
    type=existing_path(dir_okay=False),
    help="File holding the Discogs token (default: $DISCOGS_TOKEN).",
)
@click.option(
    "--rate-window",
    type=click.FloatRange(min=0.1),
    default=60.0,
    hidden=True,
    help="Seconds the rate is counted over (tests shorten Discogs' 60 s window).",
)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0),
    default=2.0,
    hidden=True,
    help="First 5xx/timeout retry delay in seconds, doubled each time (tests shorten it).",
)
@database_url_option
@quiet_option
def artwork(
    limit: int | None,
    rate: int | None,
    recheck_after: float,
    dry_run: bool,
    token_file: Path | None,
    rate_window: float,
    backoff: float,
    database_url: str | None,
) -> None:
    """Fetch artwork URLs for releases that have none, within the API's rate limit."""
    from discogs_cache.discogs.api import RetryPolicy, resolve_token
    from discogs_cache.discogs.artwork import TopUpOptions, top_up_locked

    options = TopUpOptions(
        token=resolve_token(token_file),
        rate=rate,
        limit=limit,
        recheck_after_days=recheck_after,
        dry_run=dry_run,
        window=rate_window,
        retry=RetryPolicy(backoff=backoff),
    )
    summary = top_up_locked(resolve_url(database_url), options)
    click.echo(summary.format())
