"""`discogs-cache server start|stop|status|url`: manage the embedded PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import click

from discogs_cache.cli._common import CONTEXT_SETTINGS
from discogs_cache.server import EmbeddedServer

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Server home (default: $DISCOGS_CACHE_HOME, else the user data directory).",
)


@click.group(context_settings=CONTEXT_SETTINGS)
def server() -> None:
    """Manage the embedded PostgreSQL used when no database URL is configured."""


@server.command()
@data_dir_option
def start(data_dir: Path | None) -> None:
    """Initialise (first time) and start the embedded server; print its URL."""
    click.echo(EmbeddedServer(data_dir).ensure_running())


@server.command()
@data_dir_option
def stop(data_dir: Path | None) -> None:
    """Stop the embedded server."""
    stopped = EmbeddedServer(data_dir).stop()
    click.echo("stopped" if stopped else "not running")


@server.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(data_dir: Path | None, as_json: bool) -> None:
    """Show whether the embedded server runs, where its data is and its URL."""
    st = EmbeddedServer(data_dir).status()
    info = {"running": st.running, "pgdata": str(st.pgdata), "port": st.port, "pid": st.pid,
            "url": st.url}  # fmt: skip
    if as_json:
        click.echo(json.dumps(info))
    else:
        for key, value in info.items():
            click.echo(f"{key}: {'' if value is None else value}")
    if not st.running:
        raise SystemExit(1)


@server.command()
@data_dir_option
def url(data_dir: Path | None) -> None:
    """Print the embedded server's URL, starting it if needed."""
    click.echo(EmbeddedServer(data_dir).ensure_running())
