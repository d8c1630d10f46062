"""Revision 0002: f_unaccent is inlinable for a superuser, and the portable wrapper otherwise.

Either way it returns exactly what `unaccent('public.unaccent', x)` returns, and the trigram
indexes built on `lower(f_unaccent(col))` answer the consumers' `%` searches.
"""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from discogs_cache import migrate
from discogs_cache.db import conninfo

SAMPLES = ["Björk Guðmundsdóttir", "Sigur Rós", "Motörhead", "plain ascii", "", "Ærøskøbing"]


def _verbose_plan(conn: psycopg.Connection) -> str:
    rows = conn.execute("EXPLAIN (VERBOSE, COSTS OFF) SELECT lower(f_unaccent(title)) FROM release")
    return "\n".join(r[0] for r in rows)


def _same_as_unaccent(conn: psycopg.Connection) -> None:
    for text in [*SAMPLES, None]:
        row = conn.execute(
            "SELECT public.f_unaccent(%s), public.unaccent('public.unaccent'::regdictionary, %s)",
            (text, text),
        ).fetchone()
        assert row is not None and row[0] == row[1], text


def _uses_trigram_index(conn: psycopg.Connection) -> bool:
    conn.execute("SET enable_seqscan = off")
    plan = conn.execute(
        "EXPLAIN SELECT id FROM release WHERE lower(f_unaccent(title)) % lower(f_unaccent('bjork'))"
    ).fetchall()
    conn.execute("RESET enable_seqscan")
    return any("ix_release_title_trgm" in r[0] for r in plan)


def test_superuser_gets_an_inlined_f_unaccent(pg_url: str) -> None:
    with psycopg.connect(conninfo(pg_url), autocommit=True) as conn:
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (True,)
        plan = _verbose_plan(conn)
        assert "unaccent_immutable(" in plan and "f_unaccent(" not in plan, plan
        _same_as_unaccent(conn)
        assert _uses_trigram_index(conn)


def test_non_superuser_keeps_the_portable_wrapper_and_can_downgrade(empty_pg_url: str) -> None:
    role = f"owner_{uuid.uuid4().hex[:8]}"
    database = make_url(empty_pg_url).database
    with psycopg.connect(conninfo(empty_pg_url), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER").format(sql.Identifier(role)))
        admin.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(str(database)), sql.Identifier(role)
            )
        )
    as_owner = make_url(empty_pg_url).set(username=role, password=None)
    owner_url = as_owner.render_as_string(hide_password=False)
    try:
        assert migrate.upgrade(owner_url) == migrate.head_revision()
        with psycopg.connect(conninfo(owner_url), autocommit=True) as conn:
            assert "f_unaccent(" in _verbose_plan(conn)
            assert conn.execute(
                "SELECT to_regprocedure('public.unaccent_immutable(regdictionary, text)')"
            ).fetchone() == (None,)
            _same_as_unaccent(conn)
            assert _uses_trigram_index(conn)
        migrate.downgrade(owner_url, "0001")
        assert migrate.upgrade(owner_url) == migrate.head_revision()
        assert migrate.check(owner_url) == []
    finally:
        with psycopg.connect(conninfo(empty_pg_url), autocommit=True) as admin:
            admin.execute(
                sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(sql.Identifier(role))
            )
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_downgrade_to_0001_restores_the_portable_wrapper(empty_pg_url: str) -> None:
    migrate.upgrade(empty_pg_url)
    migrate.downgrade(empty_pg_url, "0001")
    with psycopg.connect(conninfo(empty_pg_url), autocommit=True) as conn:
        assert "f_unaccent(" in _verbose_plan(conn)
        gone = "SELECT to_regprocedure('public.unaccent_immutable(regdictionary, text)')"
        assert conn.execute(gone).fetchone() == (None,)
        _same_as_unaccent(conn)
    migrate.upgrade(empty_pg_url)
    assert migrate.check(empty_pg_url) == []
