"""Shared click pieces: options every command takes and the error boundary.

Library functions raise `CacheError`; this layer prints the message on one line (passwords
redacted) and exits with the error's code, so expected failures never show a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from discogs_cache import progress
from discogs_cache.errors import CacheError

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class CacheGroup(click.Group):
    """A click group whose commands turn CacheError into `error: ...` and an exit code."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's first sentence in full (click cuts it at 45 characters with "...")."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CacheError as exc:
            from discogs_cache.db import redact_url  # imported here: db loads SQLAlchemy

            click.echo(f"error: {redact_url(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            sys.exit(130)


def database_url_option(func: F) -> F:
    """`--database-url`: else $DATABASE_URL, else the embedded server."""
    return click.option(
        "--database-url",
        "database_url",
        metavar="URL",
        default=None,
        help="PostgreSQL URL (default: $DATABASE_URL, else the embedded server).",
    )(func)


def quiet_option(func: F) -> F:
    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        progress.set_quiet(value)
        return value

    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=callback,
        help="No progress output on stderr.",
    )(func)


def resolve_url(option: str | None) -> str:
    """The CLI's single entry into database URL resolution."""
    from discogs_cache.db import resolve_database_url

    return resolve_database_url(option)


def existing_path(**kwargs: Any) -> click.Path:
    return click.Path(exists=True, path_type=Path, **kwargs)


def library_db_option(*, required: bool) -> Callable[[F], F]:
    """`--library-db`: the station catalog every library-aware command reads."""
    return click.option(
        "--library-db",
        type=existing_path(dir_okay=False),
        required=required,
        default=None,
        help="The station catalog (SQLite library.db, table library).",
    )


def mappings_option(func: F) -> F:
    """`--mappings`: confirmed artist decisions that override the classifier."""
    return click.option(
        "--mappings",
        "mappings_path",
        type=existing_path(dir_okay=False),
        default=None,
        help='Artist mappings JSON {"keep": {...}, "prune": {...}} overriding the classifier.',
    )(func)
