"""Expected failures: the CLI prints their message on one line and exits non-zero.

Library functions raise these (never sys.exit) so that callers other than the CLI can
handle them too. Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class CacheError(Exception):
    """A failure the user can act on (bad input, unreachable server, ...)."""

    exit_code = 1


class InputError(CacheError):
    """A file or argument the user gave is missing, unreadable or malformed."""

    exit_code = 2


class DatabaseError(CacheError):
    """The database could not be reached or refused an operation."""

    exit_code = 3


class LockedError(CacheError):
    """Another run holds the pipeline lock on the same database."""

    exit_code = 75  # EX_TEMPFAIL: try again later
