"""f_unaccent calls unaccent's C entry point directly, so the planner can inline it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Why: f_unaccent (0001) is an IMMUTABLE SQL function whose body calls the STABLE
`unaccent(regdictionary, text)`, so PostgreSQL refuses to inline it and runs the SQL-function
executor for every call: ~1.8 µs of overhead per row, 7x the cost of the unaccenting itself.
Every trigram index build and every recheck of a `%` search pays it once per row. Declaring
the same C function (`unaccent_dict` of the unaccent module) as IMMUTABLE under another name
makes the wrapper's body immutable, so it is inlined: same results, same index expressions
(the index keeps calling f_unaccent; the planner inlines both sides alike). COST 100 is the
cost the planner gave the 0001 wrapper (any SQL function's default), so plans stay as they
were: with the C default of 1, seq scans of `%` look cheaper than the trigram index.

Only a superuser may create a C-language function. Where the migrating role is not one
(managed services), this revision changes nothing and f_unaccent stays the portable 0001
wrapper: correct, only slower.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IMMUTABLE_UNACCENT = """
CREATE OR REPLACE FUNCTION public.unaccent_immutable(regdictionary, text) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT COST 100
AS '$libdir/unaccent', 'unaccent_dict'
"""

F_UNACCENT_INLINABLE = """
CREATE OR REPLACE FUNCTION public.f_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent_immutable('public.unaccent'::regdictionary, $1) $$
"""

F_UNACCENT_PORTABLE = """
CREATE OR REPLACE FUNCTION public.f_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""


def _is_superuser() -> bool:
    bind = op.get_bind()
    return bool(bind.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar())


def upgrade() -> None:
    if not _is_superuser():
        return
    op.execute(IMMUTABLE_UNACCENT)
    op.execute(F_UNACCENT_INLINABLE)


def downgrade() -> None:
    op.execute(F_UNACCENT_PORTABLE)
    op.execute("DROP FUNCTION IF EXISTS public.unaccent_immutable(regdictionary, text)")
