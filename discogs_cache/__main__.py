"""`python -m discogs_cache` runs the CLI."""

from discogs_cache.cli import main

main()
