"""The `discogs-cache` command line: a thin click layer over the library functions."""

from __future__ import annotations

import importlib

import click

from discogs_cache import __version__
from discogs_cache.cli._common import CONTEXT_SETTINGS, CacheGroup

# Each entry: command name -> (module under discogs_cache.cli, attribute holding it).
# Modules are imported only when their command runs (or for help), so `convert` does not
# pay for SQLAlchemy and Alembic, and the converter's worker processes start faster.
_COMMANDS = {
    "server": ("server", "server"),
    "migrate": ("migrate", "migrate"),
    "library": ("library", "library"),
    "download": ("download", "download"),
    "convert": ("convert", "convert"),
    "load": ("load", "load_command"),
    "index": ("index", "index"),
    "verify": ("verify", "verify"),
    "dedup": ("dedup", "dedup"),
    "prune": ("prune", "prune"),
    "vacuum": ("vacuum", "vacuum"),
    "status": ("status", "status"),
    "run": ("run", "run"),
    "lookup": ("lookup", "lookup"),
}


class LazyGroup(CacheGroup):
    """A group that imports a subcommand's module only when that command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attr = entry
        command = getattr(importlib.import_module(f"discogs_cache.cli.{module}"), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="discogs-cache")
def main() -> None:
    """Turn a Discogs data dump into a lean PostgreSQL cache of a station's albums."""
