"""The shadow schema a refresh builds the new cache in, beside the live one.

`create_shadow` makes schema `discogs_cache_next` in the same database with an empty copy of
every table the build produces (`schema.ALL_TABLES`), structured like the live table: the
columns (LIKE), then every key, unique, exclusion and foreign key constraint, every index
and every trigger under the live names, replayed from the live catalog. The existing step
functions then build into it unchanged, through `shadow_url`: the same database URL whose
sessions resolve unqualified names through `discogs_cache_next` first, then the live schema
(where the extensions and `f_unaccent` stay). Consumers never look there; `publish` moves
the finished tables into the live schema in one transaction.

The schema's comment is a small JSON record (build id, server time it started, who made it,
and once published, when), so `status` can show a build in progress and its age, and
`run --resume` can tell its own shadow from another run's. Tables the build does not produce
(a consumer's negative cache, say) never get a shadow copy and are never touched.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from discogs_cache import faults
from discogs_cache.db import connect, database_errors, with_search_path
from discogs_cache.errors import CacheError
from discogs_cache.schema import ALL_TABLES
from discogs_cache.swap import capture_table_ddl

SHADOW_SCHEMA = "discogs_cache_next"
BUILD_LOCK_TIMEOUT = "600s"
RETIRED = "discogs_cache_prev"
"""Where a publish moves the tables it replaced (dropped right after its commit)."""

_INDEX_DEF = re.compile(r"^(CREATE (?:UNIQUE )?INDEX .+? ON (?:ONLY )?)\S+( USING .*)$", re.S)

_LIKE = (
    "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY "
    "INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS"
)


@dataclass
class ShadowInfo:
    """What the shadow schema's comment records, plus what the catalog says now."""

    schema: str
    build_id: str
    started_at: datetime
    age_seconds: float
    tables: list[str]
    releases: int | None
    """Rows of the shadow's `release`; None when there is none yet, or a step holds it."""
    published_at: str | None = None
    made_by: str = ""
    identity: str = ""
    """What the creating run said it was building (`create_shadow`), for `--resume`."""

    @property
    def published(self) -> bool:
        return self.published_at is not None


def live_schema(conn: psycopg.Connection) -> str:
    """The schema the cache lives in: where unqualified names resolve for consumers."""
    row = conn.execute("SELECT current_schema()").fetchone()
    if not row or not row[0]:
        raise CacheError("the database has no current schema (search_path is empty)")
    return str(row[0])


def shadow_url(url: str, live: str = "public", schema: str = SHADOW_SCHEMA) -> str:
    """`url` as the build steps must see it: the shadow schema first, then the live one
    (and public, for the extensions and f_unaccent). Only use it while the shadow exists:
    without it, PostgreSQL would resolve names (and create tables) in the live schema.
    Every lock wait of the build is bounded (`BUILD_LOCK_TIMEOUT`): only the build's own
    connections touch the shadow, so a wait that long is a bug or a stranger, never work."""
    path = [schema, live] + ([] if live == "public" else ["public"])
    return with_search_path(url, path, lock_timeout=BUILD_LOCK_TIMEOUT)


def shadow_url_of(url: str, schema: str = SHADOW_SCHEMA) -> str:
    """`shadow_url` with the live schema read from the database."""
    with database_errors(url, "cannot read the live schema"), connect(url) as conn:
        return shadow_url(url, live_schema(conn), schema)


def shadow_tables(conn: psycopg.Connection, schema: str = SHADOW_SCHEMA) -> list[str]:
    """The tables in the shadow schema, in the build's order (parents first)."""
    names = {
        r[0]
        for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
            (schema,),
        )
    }
    ordered = [t for t in ALL_TABLES if t in names]
    return ordered + sorted(names - set(ordered))


def read_shadow(conn: psycopg.Connection, schema: str = SHADOW_SCHEMA) -> ShadowInfo | None:
    """The shadow build in the database of `conn`, or None when there is none."""
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        (schema,),
    ).fetchone()
    if row is None:
        return None
    try:
        meta: dict[str, Any] = json.loads(row[0] or "{}")
        started = datetime.fromisoformat(str(meta["started_at"]))
    except (ValueError, KeyError, TypeError):
        meta, started = {}, datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    age = conn.execute("SELECT extract(epoch FROM now() - %s::timestamptz)", (started,)).fetchone()
    tables = shadow_tables(conn, schema)
    releases = None
    if "release" in tables:
        try:  # a build step may hold the table (VACUUM FULL, a swap): never wait for it
            with conn.transaction():
                conn.execute("SET LOCAL lock_timeout = '200ms'")
                count = conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, "release"))
                ).fetchone()
                conn.execute("SET LOCAL lock_timeout TO DEFAULT")
            releases = int(count[0]) if count else 0
        except psycopg.errors.LockNotAvailable:
            releases = None
    return ShadowInfo(
        schema=schema,
        build_id=str(meta.get("build_id", "")),
        started_at=started,
        age_seconds=float(age[0]) if age else 0.0,
        tables=tables,
        releases=releases,
        published_at=meta.get("published_at"),
        made_by=str(meta.get("made_by", "")),
        identity=str(meta.get("identity", "")),
    )


def shadow_info(url: str, schema: str = SHADOW_SCHEMA) -> ShadowInfo | None:
    """`read_shadow` on a connection of its own (read-only)."""
    with database_errors(url, "cannot read the shadow build"), connect(url) as conn:
        return read_shadow(conn, schema)


def drop_shadow(url: str, schema: str = SHADOW_SCHEMA) -> bool:
    """Drop the shadow schema and everything in it (and the replaced tables a publish
    killed after its commit left behind); True when there was a shadow."""
    with database_errors(url, "cannot drop the shadow build"), connect(url) as conn:
        existed = read_shadow(conn, schema) is not None
        for name in (schema, RETIRED):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
        conn.commit()
    return existed


def _comment(conn: psycopg.Connection, schema: str, meta: dict[str, Any]) -> None:
    conn.execute(
        sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
            sql.Identifier(schema), sql.Literal(json.dumps(meta, sort_keys=True))
        )
    )


def mark_published(conn: psycopg.Connection, schema: str = SHADOW_SCHEMA) -> None:
    """Record, in the publish transaction, that this build is live now: a resumed run that
    was killed after the commit then knows it has nothing left to publish."""
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace'), now()::text FROM pg_namespace "
        "WHERE nspname = %s",
        (schema,),
    ).fetchone()
    assert row is not None
    meta = json.loads(row[0] or "{}")
    meta["published_at"] = row[1]
    _comment(conn, schema, meta)


def create_shadow(
    url: str,
    tables: tuple[str, ...] = ALL_TABLES,
    schema: str = SHADOW_SCHEMA,
    *,
    identity: str = "",
) -> ShadowInfo:
    """A fresh, empty shadow schema (any earlier one dropped), in one transaction: a kill
    leaves either the old state or the complete empty shadow. `identity` (the run's
    options, hashed) lets a resumed run without a state file recognise its own build."""
    with database_errors(url, "cannot create the shadow build"), connect(url) as conn:
        live = live_schema(conn)
        for name in (schema, RETIRED):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        meta = {
            "build_id": uuid.uuid4().hex,
            "started_at": str(conn.execute("SELECT now()::text").fetchone()[0]),  # type: ignore[index]
            "made_by": f"discogs-cache run (pid {os.getpid()})",
            "identity": identity,
        }
        _comment(conn, schema, meta)
        present = [
            t for t in tables
            if (r := conn.execute("SELECT to_regclass(%s)", (f"{live}.{t}",)).fetchone()) and r[0]
        ]  # fmt: skip
        # rendered on the live search_path: references to live tables come out unqualified,
        # so replayed below (shadow first on the path) they name the shadow tables
        ddl = {t: capture_table_ddl(conn, t) for t in present}
        conn.execute(
            sql.SQL("SET LOCAL search_path TO {}, {}, public").format(
                sql.Identifier(schema), sql.Identifier(live)
            )
        )
        for t in present:
            conn.execute(
                sql.SQL("CREATE TABLE {} (LIKE {} {})").format(
                    sql.Identifier(schema, t), sql.Identifier(live, t), sql.SQL(_LIKE)
                )
            )
        for kinds in (("p", "u", "x"), ("f",)):  # checks came with LIKE
            for t in present:
                for name, contype, definition in ddl[t].constraints:
                    if contype in kinds:
                        conn.execute(
                            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                                sql.Identifier(schema, t),
                                sql.Identifier(name),
                                sql.SQL(definition),  # the catalog's own rendering
                            )
                        )
        for t in present:
            for statement in ddl[t].indexes:
                conn.execute(sql.SQL(_retarget_index(statement, schema, t)))
            for statement in ddl[t].triggers:  # the contract's merge triggers, consumers' own
                conn.execute(sql.SQL(_retarget_trigger(statement, live, schema, t)))
        faults.point("refresh.shadow_created")
        conn.commit()
        info = read_shadow(conn, schema)
    assert info is not None
    return info


def _retarget_index(statement: str, schema: str, table: str) -> str:
    """pg_get_indexdef always names the table with its schema: point it at the shadow's."""
    match = _INDEX_DEF.match(statement)
    if match is None:
        raise CacheError(f"cannot read the index definition {statement!r}")
    return match.group(1) + f"{_quote(schema)}.{_quote(table)}" + match.group(2)


def _retarget_trigger(statement: str, live: str, schema: str, table: str) -> str:
    """pg_get_triggerdef names the table with its schema too: point it at the shadow's."""
    for name in (live, _quote(live)):
        for rel in (table, _quote(table)):
            old = f" ON {name}.{rel} "
            if old in statement:
                return statement.replace(old, f" ON {_quote(schema)}.{_quote(table)} ", 1)
    raise CacheError(f"cannot read the trigger definition {statement!r}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
