"""Initial schema: extensions, f_unaccent, cache tables, FK and trigram indexes, artist aliases.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_MAX = 500  # see discogs_cache.schema: keeps unique btree entries under the size limit

# IMMUTABLE wrapper: unaccent() itself is only STABLE (it reads the dictionary through
# search_path), so it cannot appear in an index expression. Naming the dictionary and the
# function with their schema makes the result independent of the caller's search_path.
F_UNACCENT = """
CREATE OR REPLACE FUNCTION public.f_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""

TRIGRAM = (
    ("ix_release_title_trgm", "release", "title"),
    ("ix_release_artist_artist_name_trgm", "release_artist", "artist_name"),
    ("ix_release_track_title_trgm", "release_track", "title"),
    ("ix_release_track_artist_artist_name_trgm", "release_track_artist", "artist_name"),
)


def _release_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["release_id"],
        ["release.id"],
        name=f"fk_{table}_release_id_release",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public")
    op.execute(F_UNACCENT)

    op.create_table(
        "release",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("release_year", sa.SmallInteger(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("artwork_url", sa.Text(), nullable=True),
        sa.Column("master_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_release"),
    )
    op.create_index("ix_release_master_id", "release", ["master_id"])

    op.create_table(
        "release_artist",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("artist_name", sa.String(NAME_MAX), nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=True),
        sa.Column("extra", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        _release_fk("release_artist"),
        sa.PrimaryKeyConstraint("release_id", "artist_name", name="pk_release_artist"),
    )
    op.create_index("ix_release_artist_artist_id", "release_artist", ["artist_id"])

    op.create_table(
        "release_label",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("label_name", sa.String(NAME_MAX), nullable=False),
        sa.Column("catno", sa.Text(), nullable=True),
        _release_fk("release_label"),
        sa.PrimaryKeyConstraint("release_id", "label_name", name="pk_release_label"),
    )

    op.create_table(
        "release_track",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("duration", sa.Text(), nullable=True),
        _release_fk("release_track"),
        sa.PrimaryKeyConstraint("release_id", "sequence", name="pk_release_track"),
    )

    op.create_table(
        "release_track_artist",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("track_sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("artist_name", sa.String(NAME_MAX), nullable=False),
        _release_fk("release_track_artist"),
        sa.PrimaryKeyConstraint(
            "release_id", "track_sequence", "artist_name", name="pk_release_track_artist"
        ),
    )

    op.create_table(
        "cache_metadata",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column(
            "cached_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("last_validated", postgresql.TIMESTAMP(timezone=True), nullable=True),
        _release_fk("cache_metadata"),
        sa.PrimaryKeyConstraint("release_id", name="pk_cache_metadata"),
    )
    op.create_index("ix_cache_metadata_cached_at", "cache_metadata", ["cached_at"])
    op.create_index("ix_cache_metadata_source", "cache_metadata", ["source"])

    op.create_table(
        "artist_alias",
        sa.Column("artist_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("alias_name", sa.String(NAME_MAX), nullable=False),
        sa.PrimaryKeyConstraint("artist_id", "alias_name", name="pk_artist_alias"),
    )

    for name, table, column in TRIGRAM:
        op.create_index(
            name,
            table,
            [sa.text(f"lower(f_unaccent({column})) gin_trgm_ops")],
            postgresql_using="gin",
        )


def downgrade() -> None:
    for table in (
        "artist_alias",
        "cache_metadata",
        "release_track_artist",
        "release_track",
        "release_label",
        "release_artist",
        "release",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS public.f_unaccent(text)")
    op.execute("DROP EXTENSION IF EXISTS unaccent")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
