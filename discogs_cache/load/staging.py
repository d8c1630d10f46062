"""Stream the converter's CSVs into UNLOGGED staging tables with COPY.

Staging keeps the load atomic and fast: COPY into unlogged tables writes no WAL, the files
go to the server in 1 MB blocks (NUL bytes stripped and counted on the way: PostgreSQL text
cannot hold them), and several files are copied at once over separate connections. A parse
error (bad quoting, bad integer, wrong header) becomes an InputError naming file and line.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import psycopg
from psycopg import sql

from discogs_cache.errors import InputError

BLOCK = 1 << 20


@dataclass(frozen=True)
class CsvSpec:
    """A CSV of the interface: the columns the loader reads and their staging types.

    `optional` columns may be absent from a file (the Rust converter's layout has none of
    them): staged as NULL then."""

    name: str
    columns: dict[str, str]
    required: bool = False
    optional: dict[str, str] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


SPECS = (
    CsvSpec(
        "release",
        {"id": "integer", "title": "text", "country": "text", "released": "text",
         "master_id": "integer"},
        required=True,
        optional={"format": "text"},
    ),
    CsvSpec(
        "release_artist",
        {"release_id": "integer", "artist_id": "integer", "artist_name": "text", "extra": "text"},
        required=True,
        optional={"role": "text"},
    ),
    CsvSpec(
        "release_label", {"release_id": "integer", "label": "text", "catno": "text"},
        optional={"label_id": "integer"},
    ),
    CsvSpec(
        "release_track",
        {"release_id": "integer", "sequence": "integer", "position": "text", "title": "text",
         "duration": "text"},
        required=True,
    ),
    CsvSpec(
        "release_track_artist",
        {"release_id": "integer", "track_sequence": "integer", "artist_name": "text"},
        optional={"extra": "integer", "role": "text"},
    ),
    CsvSpec("release_image", {"release_id": "integer", "type": "text", "uri": "text"}),
    CsvSpec("release_genre", {"release_id": "integer", "genre": "text"}),
    CsvSpec("release_style", {"release_id": "integer", "style": "text"}),
    CsvSpec(
        "release_video",
        {"release_id": "integer", "sequence": "integer", "src": "text", "title": "text",
         "duration": "integer", "embed": "boolean"},
    ),
    CsvSpec(
        "artist_alias", {"artist_id": "integer", "alias_name": "text"},
        optional={"alias_id": "integer"},
    ),
    CsvSpec(
        "artist", {"id": "integer", "name": "text"},
        optional={"profile": "text", "image_url": "text"},
    ),
    CsvSpec("artist_name_variation", {"artist_id": "integer", "name": "text"}),
    CsvSpec(
        "artist_member",
        {"artist_id": "integer", "member_id": "integer", "member_name": "text",
         "active": "boolean"},
    ),
    CsvSpec("artist_url", {"artist_id": "integer", "url": "text"}),
)  # fmt: skip


@dataclass
class StagedFile:
    """One CSV copied into its staging table."""

    spec: CsvSpec
    path: Path
    rows: int = 0
    bytes: int = 0
    nul_bytes: int = 0
    bad_integers: int = 0
    """Rows skipped because an integer column (an id) held no integer in range."""
    seconds: float = 0.0


def read_header(path: Path, spec: CsvSpec) -> list[str]:
    """The header's column names; InputError (file:1) when a needed column is missing."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline().replace(b"\0", b"")
        line = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise InputError(f"{path}:1: header is not UTF-8") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    header = [h.strip() for h in next(csv.reader(io.StringIO(line)), [])]
    missing = [c for c in spec.columns if c not in header]
    if missing:
        raise InputError(
            f"{path}:1: wrong header: missing column(s) {', '.join(missing)}"
            f" (expected {','.join(spec.columns)}, got {line[:120]!r})"
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"{path}:1: wrong header: duplicate column(s) {', '.join(dupes)}")
    return header


def staging_columns(spec: CsvSpec, header: list[str]) -> list[tuple[str, str]]:
    """(name, type) for every header position; unknown columns are kept as ignored text."""
    known = {**spec.columns, **spec.optional}
    return [
        (col, known[col]) if col in known else (f"_ignored_{i}", "text")
        for i, col in enumerate(header)
    ]


_LINE = re.compile(r"line (\d+)")


def _input_error(path: Path, exc: psycopg.Error) -> InputError:
    diag = exc.diag
    match = _LINE.search(diag.context or "")
    where = f"{path}:{match.group(1)}" if match else str(path)
    message = (diag.message_primary or str(exc)).strip().splitlines()[0]
    if message.startswith("unterminated CSV quoted field"):
        # PostgreSQL names the file's last line, where it gave up; say where the quote opened
        opened = unclosed_quote_line(path)
        if opened is not None:
            where = f"{path}:{opened}"
            message += f" (the quote opened on line {opened} is never closed)"
    return InputError(f"{where}: malformed CSV: {message}")


def unclosed_quote_line(path: Path) -> int | None:
    """The line on which the quoted field left open at the end of the file opened (RFC 4180
    quoting: a doubled quote is two quote characters, so parity tells), or None."""
    in_quotes, opened = False, None
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            quotes = line.count(b'"')
            if not quotes:
                continue
            now = in_quotes ^ bool(quotes % 2)
            if now and (not in_quotes or quotes >= 2):  # (re)opened on this line
                opened = number
            in_quotes = now
    return opened if in_quotes else None


class RecordCounter:
    """Counts CSV records in a byte stream: a newline ends a record only outside quotes.

    RFC 4180 escapes a quote by doubling it, so the quote parity before a newline says
    whether it is inside a field. Used where COPY's WHERE clause skips rows: the skipped
    count is the file's records minus the rows COPY reports.
    """

    def __init__(self) -> None:
        self.newlines = 0
        self.in_quotes = False
        self.last = b""

    def feed(self, block: bytes) -> None:
        if b'"' not in block:  # the usual block: no quoting to track
            if not self.in_quotes:
                self.newlines += block.count(b"\n")
            self.last = block[-1:] or self.last
            return
        parts = block.split(b'"')
        outside = parts[1::2] if self.in_quotes else parts[0::2]
        self.newlines += sum(p.count(b"\n") for p in outside)
        if len(parts) % 2 == 0:
            self.in_quotes = not self.in_quotes
        if block:
            self.last = block[-1:]

    @property
    def records(self) -> int:
        """Data records, the header line excluded (a last line without newline counts)."""
        lines = self.newlines + (1 if self.last not in (b"", b"\n") else 0)
        return max(lines - 1, 0)


class BadInteger(Exception):
    """COPY met a value that is not an integer (in range) in an integer column: the file
    goes through `integer_rows_only` instead. Its message is the COPY's error."""


def stream_copy(
    cur: psycopg.Cursor,
    statement: sql.Composed,
    staged: StagedFile,
    on_bytes: Callable[[int], object] | None = None,
    counter: RecordCounter | None = None,
    blocks: Iterable[bytes] | None = None,
) -> int:
    """Send `staged`'s file (or `blocks` made from it) to a COPY FROM STDIN in 1 MB blocks,
    NUL bytes stripped and counted; a parse error becomes an InputError naming file and
    line (a value too long for its column stays StringDataRightTruncation, a bad integer
    is BadInteger). Returns rows COPYed."""
    try:
        with cur.copy(statement) as copy, open(staged.path, "rb") as handle:
            for block in blocks if blocks is not None else iter(partial(handle.read, BLOCK), b""):
                staged.bytes += len(block)
                if b"\0" in block:
                    staged.nul_bytes += block.count(b"\0")
                    block = block.replace(b"\0", b"")
                if counter is not None:
                    counter.feed(block)
                copy.write(block)
                if on_bytes:
                    on_bytes(len(block))
    except psycopg.Error as exc:
        if isinstance(exc, psycopg.OperationalError) and not exc.diag.context:
            raise
        if isinstance(exc, psycopg.errors.QueryCanceled | psycopg.errors.StringDataRightTruncation):
            raise  # cancelled, or a name too long for a direct COPY: the caller stages it
        error = _input_error(staged.path, exc)
        bad = psycopg.errors.InvalidTextRepresentation | psycopg.errors.NumericValueOutOfRange
        if isinstance(exc, bad) and blocks is None:
            raise BadInteger(str(error)) from None
        raise error from None
    return max(cur.rowcount, 0)


_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


def _is_integer(value: str) -> bool:
    return not value or (_INTEGER.fullmatch(value) is not None and -(2**31) <= int(value) < 2**31)


def integer_rows_only(staged: StagedFile, types: list[str]) -> Iterator[bytes]:
    """The file re-encoded as CSV blocks without the rows whose integer columns (`types`
    per position) hold something else (counted in `staged.bad_integers`): the slow path,
    taken only by a file whose COPY met one. Empty stays empty, so NULLs stay NULLs."""
    positions = [i for i, t in enumerate(types) if t == "integer"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with open(staged.path, encoding="utf-8", newline="") as handle:
        lines = (line.replace("\0", "") for line in handle)
        try:
            for number, row in enumerate(csv.reader(lines, strict=True)):
                if number and not all(_is_integer(row[i]) for i in positions if i < len(row)):
                    staged.bad_integers += 1
                    continue
                writer.writerow(row)
                if out.tell() >= BLOCK:
                    yield out.getvalue().encode("utf-8")
                    out.seek(0)
                    out.truncate()
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{staged.path}: malformed CSV: {exc}") from None
    yield out.getvalue().encode("utf-8")


def copy_file(
    conn: psycopg.Connection,
    schema: str,
    staged: StagedFile,
    on_bytes: Callable[[int], object] | None = None,
) -> StagedFile:
    """Create the staging table for `staged` and COPY its file into it, on a connection of
    its own that the caller commits."""
    header = read_header(staged.path, staged.spec)
    columns = staging_columns(staged.spec, header)
    absent = [(c, t) for c, t in staged.spec.optional.items() if c not in header]  # NULL
    table = sql.Identifier(schema, staged.spec.name)
    names = sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
    start = time.perf_counter()
    statement = sql.SQL(
        "COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true, FREEZE true, FORCE_NULL ({}))"
    ).format(table, names, names)

    def create_and_copy(blocks: Iterable[bytes] | None) -> int:
        conn.execute(
            sql.SQL("CREATE UNLOGGED TABLE {} ({})").format(
                table,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
                    for c, t in (*columns, *absent)
                ),
            )
        )
        with conn.cursor() as cur:
            return stream_copy(cur, statement, staged, on_bytes, blocks=blocks)

    try:
        with conn.transaction():  # (a savepoint) a bad id undoes only this table
            staged.rows = create_and_copy(None)
    except BadInteger:
        staged.bytes = staged.nul_bytes = 0  # counted again
        on_bytes = None  # the progress bar has seen these bytes
        staged.rows = create_and_copy(integer_rows_only(staged, [t for _, t in columns]))
    staged.seconds = time.perf_counter() - start
    return staged
