"""discogs-cache: a lean PostgreSQL cache of the Discogs releases a radio station owns."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("discogs-cache")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
