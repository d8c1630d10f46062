"""The station's MySQL catalog: URL parsing, connections, exact decoding, one-line errors.

The station runs an old server that may send latin-1 (or bytes that are not valid in the
declared charset at all), so rows are fetched as raw bytes and decoded here: exactly per the
connection charset, with any fallback counted by `Decoder` so that it is reported, never silent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import pymysql
import pymysql.cursors
from pymysql.charset import charset_by_name

from discogs_cache.db import describe, parse_url, redact_url
from discogs_cache.errors import DatabaseError, InputError

MYSQL_SCHEMES = {"mysql", "mysql+pymysql", "mariadb", "mariadb+pymysql"}
DEFAULT_CHARSET = "utf8mb4"
_UTF8 = {"utf8", "utf8mb3", "utf8mb4"}
# MySQL's latin1 is cp1252 except that the five bytes cp1252 leaves undefined map to the C1
# controls (as in ISO-8859-1); Python's cp1252 codec raises on them, so decode those by hand.
_CP1252_HOLES = {0x81, 0x8D, 0x8F, 0x90, 0x9D}
SAMPLE_LIMIT = 5


def connect_kwargs(url: str) -> dict[str, Any]:
    """pymysql.connect arguments for `mysql://user:pass@host:port/db[?charset=latin1]`."""
    parsed = parse_url(
        url, MYSQL_SCHEMES, "MySQL", "mysql://user:pass@host:port/db", unparsable="MySQL"
    )
    if not parsed.database:
        raise InputError(f"MySQL URL names no database: {redact_url(url)!r}")
    charset = str(parsed.query.get("charset") or DEFAULT_CHARSET)
    if charset_by_name(charset) is None:
        raise InputError(f"unknown MySQL charset {charset!r} in {redact_url(url)!r}")
    return {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 3306,
        "user": parsed.username or "root",
        "password": parsed.password or "",
        "database": parsed.database,
        "charset": charset,
        "use_unicode": False,  # raw bytes: decoded by Decoder, so nothing is lost unseen
        "connect_timeout": 10,
    }


@contextmanager
def mysql_errors(url: str, action: str) -> Iterator[None]:
    """Driver errors (unreachable, access denied, missing table) → one-line DatabaseError."""
    try:
        yield
    except pymysql.err.MySQLError as exc:
        args: tuple[object, ...] = tuple(exc.args)
        if len(args) >= 2 and isinstance(args[0], int):
            text = f"({args[0]}) {args[1]}"
        else:
            text = str(exc) or type(exc).__name__
        line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        raise DatabaseError(f"{action} at {describe(url)}: {redact_url(line)}") from None


def connect(url: str) -> pymysql.connections.Connection:
    """An open connection; failures become DatabaseError (password never printed)."""
    kwargs = connect_kwargs(url)
    with mysql_errors(url, "cannot connect to MySQL"):
        return pymysql.connect(**kwargs)


def close_quietly(conn: pymysql.connections.Connection) -> None:
    """Close after an error too: a dropped connection must not mask the error being raised."""
    with suppress(pymysql.err.Error, OSError):
        conn.close()


def stream(
    conn: pymysql.connections.Connection, query: str, batch: int = 5000
) -> Iterator[Sequence[Any]]:
    """Rows of `query` through a server-side cursor: memory stays flat on any catalog size."""
    with conn.cursor(pymysql.cursors.SSCursor) as cur:
        cur.execute(query)
        while rows := cur.fetchmany(batch):
            yield from rows


def _decode_mysql_latin1(raw: bytes) -> str:
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return "".join(chr(b) if b in _CP1252_HOLES else bytes([b]).decode("cp1252") for b in raw)


@dataclass
class Decoder:
    """Decodes raw column bytes in the connection charset; counts every non-exact decode.

    A value that is not valid in the connection charset (e.g. latin-1 bytes in a utf8
    column of an old server) is decoded as MySQL latin1, which maps every byte, and counted.
    """

    charset: str
    fallbacks: int = 0
    samples: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.charset = self.charset.lower()
        info = charset_by_name(self.charset)
        self._encoding = "utf-8" if self.charset in _UTF8 else (info.encoding if info else "")

    def text(self, raw: bytes | str | None, where: str = "") -> str | None:
        if raw is None or isinstance(raw, str):
            return raw
        if self.charset == "latin1":
            return _decode_mysql_latin1(raw)
        try:
            return raw.decode(self._encoding)
        except (UnicodeDecodeError, LookupError):
            self.fallbacks += 1
            if len(self.samples) < SAMPLE_LIMIT:
                self.samples.append(where or repr(raw[:40]))
            return _decode_mysql_latin1(raw)

    def row(self, values: Sequence[Any], where: str = "") -> list[Any]:
        """Decode every bytes value of a row; numbers and NULLs pass through unchanged."""
        return [
            self.text(bytes(v), where) if isinstance(v, bytes | bytearray) else v for v in values
        ]

    def describe_fallbacks(self) -> str:
        """A report line, or '' when every value decoded exactly."""
        if not self.fallbacks:
            return ""
        where = ", ".join(self.samples)
        return (
            f"{self.fallbacks} value(s) were not valid {self.charset} and were decoded as "
            f"latin-1 (first: {where})"
        )


def count_unrepresentable(
    conn: pymysql.connections.Connection,
    charset: str,
    columns: Sequence[str],
    from_clause: str,
    where: str = "1 = 1",
) -> int:
    """Rows whose text the server would turn into '?' when sending it in `charset`.

    The server substitutes characters the connection charset cannot hold (a utf8mb4 column
    read over a latin1 connection), which no client-side decode can notice: ask the server.
    `columns`, `from_clause` and `where` are fixed SQL from this package, never user data.
    """
    if charset.lower() in {"utf8mb4", "binary"}:
        return 0
    if not charset.isalnum():
        raise InputError(f"unknown MySQL charset {charset!r}")
    tests = [
        f"CAST(CONVERT(CONVERT({c} USING {charset}) USING utf8mb4) AS BINARY)"
        f" <> CAST(CONVERT({c} USING utf8mb4) AS BINARY)"
        for c in columns
    ]
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) {from_clause} WHERE ({where}) AND ({' OR '.join(tests)})")
        row = cur.fetchone()
    return int(row[0]) if row else 0


def unrepresentable_warning(rows: int, what: str, charset: str) -> str:
    """The warning for rows the server sent with '?' for characters `charset` cannot carry."""
    return (
        f"{rows} {what} hold characters the {charset} connection cannot carry "
        "(the server sent '?'); use ?charset=utf8mb4"
    )
