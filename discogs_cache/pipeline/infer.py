"""Which steps a database shows as done, for `--resume` without a state file.

Only what the database proves is inferred: the schema at head, a loaded cache (the load is
one transaction, so any release means a finished load), every contract index present and
valid, no master with two releases left (dedup). Classify, prune/copy-to and vacuum are
cheap and idempotent, so they simply run again. When the load is inferred, the library and
convert steps are too: their only product was the CSVs the load consumed.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from discogs_cache.db import connect, database_errors
from discogs_cache.migrate import current_revision, head_revision
from discogs_cache.pipeline.options import RunOptions


def contract_indexes() -> list[str]:
    """Every index the ORM declares on cache tables (trigram ones included)."""
    from discogs_cache.schema import TRIGRAM_INDEXES, metadata

    names = {str(ix.name) for table in metadata.tables.values() for ix in table.indexes}
    return sorted(names | {str(ix.name) for ix in TRIGRAM_INDEXES})


def infer_completed(url: str, options: RunOptions) -> dict[str, dict[str, Any]]:
    """{step: outputs} for the steps the database at `url` shows as completed."""
    done: dict[str, dict[str, Any]] = {}
    if current_revision(url) != head_revision():
        return done
    done["schema"] = {"revision": head_revision()}
    with database_errors(url, "cannot inspect the cache"), connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM release").fetchone()
        releases = int(row[0]) if row else 0
        if releases == 0:
            return done
        done["load"] = {"rows": {"release": releases}}
        if options.mode == "xml":
            done["convert"] = {}
        dup = conn.execute(
            "SELECT 1 FROM release WHERE master_id IS NOT NULL "
            "GROUP BY master_id HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        if dup is None:
            done["dedup"] = {}
        if not missing_indexes(conn):
            done["indexes"] = {}
    return done


def missing_indexes(conn: Any) -> list[str]:
    """Contract indexes that are absent or invalid (a killed concurrent build)."""
    wanted = contract_indexes()
    rows = conn.execute(
        """
        SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = ANY(%s) AND i.indisvalid AND pg_table_is_visible(c.oid)
        """,
        (wanted,),
    ).fetchall()
    present = {r[0] for r in rows}
    return [name for name in wanted if name not in present]


def drop_invalid_indexes(url: str) -> list[str]:
    """Drop indexes a killed CREATE INDEX CONCURRENTLY left invalid, so a rebuild makes them."""
    with database_errors(url, "cannot inspect the indexes"), connect(url, autocommit=True) as conn:
        names = [
            r[0]
            for r in conn.execute(
                """
                SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE NOT i.indisvalid AND pg_table_is_visible(c.oid)
                """
            ).fetchall()
        ]
        for name in names:
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(name)))
    return names


STALE_LOAD_SCHEMAS = "discogs_load\\_%"
"""The private schemas `load` stages into; a SIGKILLed load cannot drop its own."""


def drop_stale_load_schemas(url: str) -> list[str]:
    """Drop the staging schemas a killed load left behind (the run lock keeps other runs
    out; call it only when resuming, so a concurrent standalone `load` is not hit)."""
    with (
        database_errors(url, "cannot drop stale load schemas"),
        connect(url, autocommit=True) as conn,
    ):
        names = [
            r[0]
            for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (STALE_LOAD_SCHEMAS,)
            ).fetchall()
        ]
        for name in names:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
    return names
