"""The one place that resolves, redacts and opens database URLs.

Every command takes `--database-url`; the precedence is that option, then the
`DATABASE_URL` environment variable, then the embedded server (started on demand).
URLs are printed only through `redact_url`, so a password never reaches a log or an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from discogs_cache.errors import DatabaseError, InputError

if TYPE_CHECKING:
    from pathlib import Path

ENV_URL = "DATABASE_URL"
_PG_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}
# Anything shaped like `user:secret@host`, with or without a well-formed scheme before it:
# a mistyped `postgresql//u:secret@h` must not echo the secret either. The secret may hold
# `/`, `:` or `@` but not start with `/` (`scheme://user@host` has no password).
_PASSWORD_IN_URL = re.compile(
    r"(?P<head>[^\s:/@'\"]+:)(?P<pw>(?!/)[^\s'\"]*)(?=@[^\s@'\"]+(?:[\s'\"]|$))"
)
_PASSWORD_IN_CONNINFO = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)


def redact_url(text: str) -> str:
    """Replace every password in URLs or conninfo strings found in `text` with `***`."""
    text = _PASSWORD_IN_URL.sub(lambda m: m.group("head") + "***", text)
    return _PASSWORD_IN_CONNINFO.sub(r"\1***", text)


def resolve_database_url(option: str | None = None, *, data_dir: Path | None = None) -> str:
    """Return the database URL to use: the option, else $DATABASE_URL, else the embedded server."""
    url = option or os.environ.get(ENV_URL)
    if url:
        return check_postgres_url(url)
    from discogs_cache.server import EmbeddedServer

    return EmbeddedServer(data_dir).ensure_running()


def parse_url(
    url: str, schemes: Collection[str], kind: str, example: str, *, unparsable: str = "database"
) -> URL:
    """Parse `url` and require one of `schemes`; errors name the URL with its password hidden."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(f"not a {unparsable} URL: {redact_url(url)!r}") from None
    except ValueError:  # SQLAlchemy parses the port with int()
        raise InputError(f"not a {unparsable} URL (bad port): {redact_url(url)!r}") from None
    if parsed.drivername not in schemes:
        raise InputError(f"not a {kind} URL: {redact_url(url)!r} (expected {example})")
    return parsed


def check_postgres_url(url: str) -> str:
    """Reject anything that is not a PostgreSQL URL with a message that names it (redacted)."""
    parse_url(url, _PG_SCHEMES, "PostgreSQL", "postgresql://user@host:port/db")
    return url


def sqlalchemy_url(url: str) -> str:
    """The URL with the psycopg 3 driver SQLAlchemy needs."""
    parsed = make_url(check_postgres_url(url))
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def conninfo(url: str) -> str:
    """The URL in the form psycopg.connect accepts (no SQLAlchemy driver suffix)."""
    parsed = make_url(check_postgres_url(url))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def describe(url: str) -> str:
    """`host:port/db` for messages; never includes the password."""
    try:
        p = make_url(url)
    except (ArgumentError, ValueError):
        return redact_url(url)
    host = p.host or p.query.get("host") or "local socket"
    port = f":{p.port}" if p.port else ""
    return f"{host}{port}/{p.database or ''}"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return redact_url(text.splitlines()[0] if text else type(exc).__name__)


@contextmanager
def database_errors(url: str, action: str = "database") -> Iterator[None]:
    """Turn driver connection/operation errors into a one-line DatabaseError naming the host."""
    try:
        yield
    except (psycopg.OperationalError, sa.exc.OperationalError) as exc:
        raise DatabaseError(f"{action} at {describe(url)}: {_first_line(exc)}") from None
    except (psycopg.errors.InsufficientPrivilege, sa.exc.ProgrammingError) as exc:
        raise DatabaseError(f"{action} at {describe(url)}: {_first_line(exc)}") from None


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """Open a raw psycopg connection (used for COPY); errors become DatabaseError."""
    with database_errors(url, "cannot connect to PostgreSQL"):
        return psycopg.connect(conninfo(url), autocommit=autocommit, connect_timeout=10)


def create_engine(url: str, **kwargs: object) -> sa.Engine:
    """A SQLAlchemy engine on psycopg 3; connect failures surface as DatabaseError on first use."""
    kwargs.setdefault("connect_args", {"connect_timeout": 10})
    return sa.create_engine(sqlalchemy_url(url), **kwargs)


@contextmanager
def engine_for(url: str, action: str) -> Iterator[sa.Engine]:
    """An engine for the block, disposed after; driver errors inside become one-line
    DatabaseErrors that start with `action`."""
    engine = create_engine(url)
    try:
        with database_errors(url, action):
            yield engine
    finally:
        engine.dispose()


def ping(url: str) -> None:
    """Fail fast, with a one-line error, when the server cannot be reached."""
    with connect(url) as conn:
        conn.execute("SELECT 1")
