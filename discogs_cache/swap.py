"""Keep only a given set of releases: shared by dedup and prune.

Two strategies, one result. "delete" removes the other releases in place, set-based, with
the children's FKs dropped for the duration and re-added under the same names (otherwise
one cascade trigger per deleted release per child table costs more than all the deletes).
"copy" copies the keepers into fresh tables, drops the old ones and renames the new ones
in: the tables come out compact (no dead rows for VACUUM) but every index is rebuilt over
the survivors, and the trigram GIN builds dominate. "auto" copies when at least
`COPY_RATIO` of the releases go: measured on 200k synthetic releases with all indexes,
removing 61% took 6.7 s by delete and 26 s by copy, so copy only wins when few survive.
Without secondary indexes (between a load and the index build, as in `run`) the copy only
rebuilds the keys and leaves no dead rows for VACUUM FULL, so "auto" copies from
`COPY_RATIO_UNINDEXED` on.

The copy-swap replays the schema **from the catalog of the live tables**, not from the ORM
models: every constraint (`pg_get_constraintdef`), every index that is not a constraint's
(`pg_get_indexdef`, so an index the load deferred stays absent), triggers, NOT NULL
constraint names (PostgreSQL 18 catalogs them), owner, grants and comments are captured
before the drop and re-created under the same names after the rename. `LIKE ... INCLUDING
DEFAULTS` keeps the defaults and NOT NULL. What PostgreSQL itself reports is what comes
back, so the contract (and `alembic check`) cannot drift, whatever migration produced it.

Everything runs in one transaction (the caller's, or a new one in autocommit mode): an
interrupted swap leaves the database as it was before or after, never in between.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from discogs_cache import lookup_tables, progress
from discogs_cache.errors import InputError
from discogs_cache.schema import CACHE_TABLES

COPY_RATIO = 0.9
"""Fraction of releases removed at or above which "auto" copies the keepers instead
(delete costs ~45 us per removed release, copy ~330 us per kept one; see module doc)."""

COPY_RATIO_UNINDEXED = 0.5
"""The same threshold when the cache tables carry no secondary index (only keys). Measured
on 200k synthetic releases (busy 2-core machine, best of 2): removing 45% took 2.8 s by
delete plus 1.9 s of VACUUM FULL for its dead rows, 5.1 s by copy; removing 60%, 3.9 s
plus 1.8 s against 2.9 s. Around half, the two cost the same once the vacuum is counted."""

STRATEGIES = ("auto", "delete", "copy")
INDEX_MEMORY = "256MB"
"""maintenance_work_mem for the copy-swap's index builds (only ever raised, never lowered)."""
_NEW_PREFIX = "_swap_new_"


@dataclass
class SwapResult:
    """What `retain_releases` did."""

    strategy: str
    releases_before: int
    releases_kept: int
    releases_removed: int
    seconds: float = 0.0
    rows_removed: dict[str, int] = field(default_factory=dict)
    """Rows removed per cache table (empty when nothing was removed)."""


@dataclass
class TableDDL:
    """The catalog facts of one table that `CREATE TABLE ... LIKE` does not carry over."""

    schema: str
    name: str
    owner: str
    constraints: list[tuple[str, str, str]]  # (name, contype, definition), PK/unique first
    indexes: list[str]  # CREATE INDEX statements of the non-constraint indexes
    triggers: list[str]
    not_null_names: dict[str, str]  # column -> NOT NULL constraint name (PostgreSQL >= 18)
    grants: list[tuple[str, str, bool]]  # (grantee or PUBLIC, privilege, grantable)
    comment: str | None


def retain_releases(
    conn: psycopg.Connection, keep_table: str, *, strategy: str = "auto", analyze: bool = True
) -> SwapResult:
    """Remove every release whose id is not in `keep_table`(release_id), with its children.

    `keep_table` is a (temporary) table visible on `conn` with a `release_id` column;
    duplicates and ids that are not in the cache are harmless. Nothing is committed here:
    on a non-autocommit connection the work joins the caller's transaction. `analyze=False`
    leaves the copied tables without statistics, for a caller that ANALYZEs them next
    anyway (`run` does, after its index build).
    """
    if strategy not in STRATEGIES:
        raise InputError(f"unknown swap strategy {strategy!r} (expected one of {STRATEGIES})")
    start = time.perf_counter()
    keep = _keep_identifier(conn, keep_table)
    if not conn.autocommit:
        conn.execute("SELECT 1")  # make sure transaction() below is a savepoint, not a commit
    with conn.transaction():
        lookup_tables.bulk(conn)  # whole releases go: their derived rows go with them
        before, kept = _count(conn, keep)
        removed = before - kept
        chosen = strategy
        if strategy == "auto":
            ratio = COPY_RATIO if _has_secondary_indexes(conn) else COPY_RATIO_UNINDEXED
            chosen = "copy" if before and removed / before >= ratio else "delete"
        if removed == 0:
            chosen = "none"
        elif chosen == "copy":
            try:
                with conn.transaction():
                    rows = _copy_swap(conn, keep, analyze=analyze)
            except psycopg.errors.DependentObjectsStillExist as exc:
                if strategy == "copy":
                    raise
                # another object (a view, a foreign FK) depends on a cache table: the tables
                # cannot be replaced, so delete in place instead (the savepoint undid the copy)
                progress.note(f"swap: tables cannot be replaced ({exc.diag.message_primary})")
                chosen = "delete"
        if chosen == "delete":
            rows = _delete(conn, keep)
        elif chosen == "none":
            rows = {}
        if removed:
            lookup_tables.recount_names(conn)  # turns the triggers back on
        else:
            lookup_tables.bulk(conn, on=False)
    return SwapResult(
        strategy=chosen,
        releases_before=before,
        releases_kept=kept,
        releases_removed=removed,
        seconds=time.perf_counter() - start,
        rows_removed=rows,
    )


def _keep_identifier(conn: psycopg.Connection, keep_table: str) -> sql.Composable:
    row = conn.execute(
        "SELECT c.oid FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
        " WHERE c.oid = to_regclass(%s::text) AND a.attname = 'release_id' AND NOT a.attisdropped",
        (keep_table,),
    ).fetchone()
    if row is None:
        raise InputError(f"keep table {keep_table!r} not found or has no release_id column")
    return sql.Identifier(*keep_table.split(".", 1))


def _count(conn: psycopg.Connection, keep: sql.Composable) -> tuple[int, int]:
    conn.execute(sql.SQL("ANALYZE {}").format(keep))  # fresh temp tables have no statistics
    row = conn.execute(
        sql.SQL(
            "SELECT (SELECT count(*) FROM release), (SELECT count(*) FROM release r"
            " WHERE EXISTS (SELECT 1 FROM {keep} k WHERE k.release_id = r.id))"
        ).format(keep=keep)
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _has_secondary_indexes(conn: psycopg.Connection) -> bool:
    """Whether any cache table has an index that is not a constraint's (the copy-swap
    would have to rebuild it over the keepers)."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = ANY("
        "  SELECT to_regclass(t) FROM unnest(%s::text[]) t)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
        "  AND c.conrelid = i.indrelid))",
        (list(CACHE_TABLES),),
    ).fetchone()
    return bool(row and row[0])


def _fk_column(table: str) -> str:
    return "id" if table == "release" else "release_id"


def _kept_rows_query(table: str, source: sql.Composable, keep: sql.Composable) -> sql.Composed:
    return sql.SQL(
        "SELECT * FROM {src} t WHERE EXISTS (SELECT 1 FROM {keep} k WHERE k.release_id = t.{col})"
    ).format(src=source, keep=keep, col=sql.Identifier(_fk_column(table)))


def _delete(conn: psycopg.Connection, keep: sql.Composable) -> dict[str, int]:
    """Delete the other releases in place: children first (set-based), then `release`.

    The children's FKs are dropped for the deletes and re-added (same name, PostgreSQL's
    own definition) afterwards: otherwise every deleted release fires one cascade trigger
    per child table, which costs more than all the deletes together. Re-adding validates
    each FK in one join, inside the same transaction.
    """
    ddl = {table: capture_table_ddl(conn, table) for table in CACHE_TABLES}
    fks = [
        (ddl[t], name, definition)
        for t in CACHE_TABLES
        for name, contype, definition in ddl[t].constraints
        if contype == "f"
    ]
    for d, name, _ in fks:
        conn.execute(
            sql.SQL("ALTER TABLE {t} DROP CONSTRAINT {n}").format(
                t=sql.Identifier(d.schema, d.name), n=sql.Identifier(name)
            )
        )
    removed: dict[str, int] = {}
    for table in (*CACHE_TABLES[1:], CACHE_TABLES[0]):
        cur = conn.execute(
            sql.SQL(
                "DELETE FROM {t} t WHERE NOT EXISTS "
                "(SELECT 1 FROM {keep} k WHERE k.release_id = t.{col})"
            ).format(
                t=sql.Identifier(ddl[table].schema, table),
                keep=keep,
                col=sql.Identifier(_fk_column(table)),
            )
        )
        removed[table] = cur.rowcount
    for d, name, definition in fks:
        _add_constraint(conn, d, name, definition)
    return {t: removed[t] for t in CACHE_TABLES}


def _add_constraint(conn: psycopg.Connection, d: TableDDL, name: str, definition: str) -> None:
    conn.execute(
        sql.SQL("ALTER TABLE {t} ADD CONSTRAINT {n} {d}").format(
            t=sql.Identifier(d.schema, d.name),
            n=sql.Identifier(name),
            d=sql.SQL(definition),  # PostgreSQL's own rendering of it
        )
    )


def _raise_maintenance_memory(conn: psycopg.Connection) -> None:
    """Index builds over the keepers: give them memory for this transaction only."""
    row = conn.execute(
        "SELECT pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes(%s)",
        (INDEX_MEMORY,),
    ).fetchone()
    if row and row[0]:
        conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", (INDEX_MEMORY,))


def _copy_swap(conn: psycopg.Connection, keep: sql.Composable, *, analyze: bool) -> dict[str, int]:
    """Copy keepers into fresh tables, drop the old ones, rename in, replay the catalog."""
    ddl = {table: capture_table_ddl(conn, table) for table in CACHE_TABLES}
    _raise_maintenance_memory(conn)
    removed: dict[str, int] = {}
    for table in CACHE_TABLES:
        d = ddl[table]
        old, new = sql.Identifier(d.schema, table), sql.Identifier(d.schema, _NEW_PREFIX + table)
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(old)).fetchone()
        removed[table] = int(row[0]) if row else 0
        conn.execute(
            sql.SQL(
                "CREATE TABLE {new} (LIKE {old} INCLUDING DEFAULTS INCLUDING GENERATED"
                " INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS)"
            ).format(new=new, old=old)
        )
        cur = conn.execute(
            sql.SQL("INSERT INTO {new} ").format(new=new) + _kept_rows_query(table, old, keep)
        )
        removed[table] -= cur.rowcount
    conn.execute(
        sql.SQL("DROP TABLE {}").format(
            sql.SQL(", ").join(sql.Identifier(ddl[t].schema, t) for t in CACHE_TABLES)
        )
    )
    for table in CACHE_TABLES:
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(ddl[table].schema, _NEW_PREFIX + table), sql.Identifier(table)
            )
        )
    # constraints in dependency order: every PK/unique before any FK that references one
    for kinds in (("p", "u", "x"), ("c", "f")):
        for table in CACHE_TABLES:
            for name, contype, definition in ddl[table].constraints:
                if contype in kinds:
                    _add_constraint(conn, ddl[table], name, definition)
    for table in CACHE_TABLES:
        restore_table_extras(conn, ddl[table])
        if analyze:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(ddl[table].schema, table)))
    return removed


def capture_table_ddl(conn: psycopg.Connection, table: str) -> TableDDL:
    row = conn.execute(
        "SELECT c.oid, n.nspname, pg_get_userbyid(c.relowner), obj_description(c.oid, 'pg_class')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.oid = to_regclass(%s::text)",
        (table,),
    ).fetchone()
    if row is None:
        raise InputError(f"table {table!r} not found: is the database migrated?")
    oid, schema, owner, comment = row
    constraints = [
        (r[0], r[1], r[2])
        for r in conn.execute(
            "SELECT conname, contype::text, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s AND contype IN ('p', 'u', 'x', 'c', 'f')"
            " ORDER BY contype <> 'p', conname",
            (oid,),
        )
    ]
    indexes = [
        r[0]
        for r in conn.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = %s"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
            " AND c.conrelid = i.indrelid) ORDER BY ic.relname",
            (oid,),
        )
    ]
    triggers = [
        r[0]
        for r in conn.execute(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s AND NOT tgisinternal"
            " ORDER BY tgname",
            (oid,),
        )
    ]
    not_null = _not_null_names(conn, sql.Identifier(schema, table).as_string(conn))
    grants = [
        (r[0], r[1], bool(r[2]))
        for r in conn.execute(
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,"
            " a.privilege_type, a.is_grantable FROM pg_class c, aclexplode(c.relacl) a"
            " WHERE c.oid = %s AND a.grantee <> c.relowner",
            (oid,),
        )
    ]
    return TableDDL(schema, table, owner, constraints, indexes, triggers, not_null, grants, comment)


def _not_null_names(conn: psycopg.Connection, table: str) -> dict[str, str]:
    """Column -> NOT NULL constraint name; empty before PostgreSQL 18 (no such catalog rows)."""
    rows = conn.execute(
        "SELECT a.attname, c.conname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.conrelid = to_regclass(%s::text) AND c.contype::text = 'n'",
        (table,),
    )
    return {r[0]: r[1] for r in rows}


def restore_table_extras(conn: psycopg.Connection, d: TableDDL) -> None:
    """Indexes, triggers, NOT NULL names, owner, grants and comment of one swapped table."""
    target = sql.Identifier(d.schema, d.name)
    for statement in (*d.indexes, *d.triggers):
        conn.execute(sql.SQL(statement))  # catalog-rendered DDL
    current = _not_null_names(conn, target.as_string(conn))
    for column, name in d.not_null_names.items():
        if current.get(column, name) != name:
            conn.execute(
                sql.SQL("ALTER TABLE {t} RENAME CONSTRAINT {old} TO {new}").format(
                    t=target, old=sql.Identifier(current[column]), new=sql.Identifier(name)
                )
            )
    owner = conn.execute("SELECT current_user").fetchone()
    if owner and owner[0] != d.owner:
        conn.execute(
            sql.SQL("ALTER TABLE {t} OWNER TO {o}").format(t=target, o=sql.Identifier(d.owner))
        )
    for grantee, privilege, grantable in d.grants:
        conn.execute(
            sql.SQL("GRANT {p} ON {t} TO {g}{opt}").format(
                p=sql.SQL(privilege),  # one of PostgreSQL's fixed privilege keywords
                t=target,
                g=sql.SQL("PUBLIC") if grantee == "PUBLIC" else sql.Identifier(grantee),
                opt=sql.SQL(" WITH GRANT OPTION" if grantable else ""),
            )
        )
    if d.comment is not None:
        conn.execute(
            sql.SQL("COMMENT ON TABLE {t} IS {c}").format(t=target, c=sql.Literal(d.comment))
        )
