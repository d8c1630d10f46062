"""`discogs-cache download`: fetch a month's Discogs dump, resumable and sha256-verified."""

from __future__ import annotations

from pathlib import Path

import click

from discogs_cache.cli._common import CONTEXT_SETTINGS, quiet_option
from discogs_cache.discogs.bucket import DEFAULT_KINDS, DUMP_KINDS
from discogs_cache.discogs.download import download as run_download
from discogs_cache.progress import format_table, human_bytes


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--month",
    default="latest",
    show_default=True,
    metavar="YYYY-MM|latest",
    help="The dump's month; 'latest' is the newest with a CHECKSUM and every requested kind.",
)
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for the files (default: ./discogs-YYYY-MM). `run --xml DIR` reads it.",
)
@click.option(
    "--kinds",
    default=",".join(DEFAULT_KINDS),
    show_default=True,
    help=f"Comma-separated dump files to fetch, of {','.join(DUMP_KINDS)}.",
)
@quiet_option
def download(month: str, dest: Path | None, kinds: str) -> None:
    """Download a Discogs monthly dump from the public bucket ($DISCOGS_DUMPS_URL overrides)."""
    s = run_download(month, dest, kinds)
    rows = [(f.name, human_bytes(f.size), f.status, f.resumes or "") for f in s.files]
    click.echo(format_table(("file", "size", "status", "resumes"), rows))
    fetched = sum(f.status == "downloaded" for f in s.files)
    click.echo(
        f"dump {s.date} ({s.month}) verified in {s.dest}: {fetched} of {len(s.files)} files"
        f" downloaded, {human_bytes(s.downloaded_bytes)} in {s.seconds:.1f} s"
        f" ({s.mb_per_s:.1f} MB/s)"
    )
    click.echo(f"next: discogs-cache run --xml {s.dest} ...")
