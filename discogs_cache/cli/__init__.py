"""The `discogs-cache` command line: a thin click layer over the library functions."""

from __future__ import annotations

import importlib

import click

from discogs_cache import __version__
from discogs_cache.cli._common import CONTEXT_SETTINGS, CacheGroup


@click.group(cls=CacheGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="discogs-cache")
def main() -> None:
    """Turn a Discogs data dump into a lean PostgreSQL cache of a station's albums."""


# Each entry: module under discogs_cache.cli, attribute holding the click command.
_COMMANDS = [
    ("server", "server"),
    ("migrate", "migrate"),
    ("load", "load_command"),
    ("index", "index"),
    ("vacuum", "vacuum"),
    ("status", "status"),
    ("lookup", "lookup"),
    ("library", "library"),
    ("convert", "convert"),
    ("dedup", "dedup"),
    ("run", "run"),
    ("verify", "verify"),
    ("prune", "prune"),
]

for _module, _attr in _COMMANDS:
    main.add_command(getattr(importlib.import_module(f"discogs_cache.cli.{_module}"), _attr))
