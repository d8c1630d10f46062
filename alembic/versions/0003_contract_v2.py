"""Contract v2: what the station's lookup service reads and writes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

Adds the release columns the service reads on every lookup (`released`, `format`, the
artwork check stamp and the `not_found` tombstone, with a partial index over the releases
whose artwork was never looked for), credit roles, label ids, track-level extra credits,
genres, styles, videos, the artist tables (for the artists cached releases credit) and the
service's negative cache `lookup_negative` (which the refresh keeps).

Keys and triggers (see README "How consumers write"): the service writes credits with plain
INSERTs, where the same name can come twice (main artist and producer; one label with two
catalogue numbers); SPEC's write path inserts `release_artist` ON CONFLICT (release_id,
artist_name) DO NOTHING, which needs that exact unique key. So the keys stay narrow and a
BEFORE INSERT row trigger per credit table merges a row whose key already exists into the
existing row and skips the insert (returns NULL): plain INSERTs are accepted, ON CONFLICT
still works. The triggers address the table they fire on by TG_TABLE_SCHEMA/TG_TABLE_NAME,
so the same triggers on a side-built copy (another schema) never touch the live table.
Bulk loads build their tables without triggers (CREATE TABLE ... LIKE) and merge in SQL.

Downgrade works on a populated cache: tombstones (not real releases) and track-level extra
credits (the 0002 contract cannot tell them from main track artists) are deleted, a
release's labels collapse to one row per label name (the first catalogue number).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_MAX = 500  # see discogs_cache.schema
CATNO_MAX = 150  # label_name (500) + catno (150) chars stay under the btree entry limit

# the role of a merged credit: the old one plus the new one unless already in its list
_MERGE_ROLE = """
    CASE WHEN coalesce(new_role, '') = '' THEN old_role
         WHEN coalesce(old_role, '') = '' THEN new_role
         WHEN position(', ' || new_role || ', ' IN ', ' || old_role || ', ') > 0 THEN old_role
         ELSE old_role || ', ' || new_role END
"""

# the same rule for bulk merges (the load): discogs_role_agg(role ORDER BY ...)
MERGE_ROLE_FUNCTION = f"""
CREATE FUNCTION discogs_merge_role(old_role text, new_role text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {_MERGE_ROLE} $$
"""
ROLE_AGG = """
CREATE AGGREGATE discogs_role_agg(text) (SFUNC = discogs_merge_role, STYPE = text,
                                         PARALLEL = SAFE)
"""

RELEASE_ARTIST_MERGE = f"""
CREATE FUNCTION release_artist_merge() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_extra integer;
    old_id integer;
    old_role text;
    new_role text := NEW.role;
    merged text;
BEGIN
    EXECUTE format('SELECT extra, artist_id, role FROM %I.%I '
                   'WHERE release_id = $1 AND artist_name = $2 FOR UPDATE',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO old_extra, old_id, old_role USING NEW.release_id, NEW.artist_name;
    IF old_extra IS NULL THEN  -- extra is NOT NULL: no row with this key yet
        RETURN NEW;
    END IF;
    merged := {_MERGE_ROLE};
    IF NEW.extra < old_extra OR (old_id IS NULL AND NEW.artist_id IS NOT NULL)
       OR merged IS DISTINCT FROM old_role THEN
        EXECUTE format('UPDATE %I.%I SET extra = least(extra, $3), '
                       'artist_id = coalesce(artist_id, $4), role = $5 '
                       'WHERE release_id = $1 AND artist_name = $2',
                       TG_TABLE_SCHEMA, TG_TABLE_NAME)
            USING NEW.release_id, NEW.artist_name, NEW.extra, NEW.artist_id, merged;
    END IF;
    RETURN NULL;
END $$
"""

RELEASE_LABEL_MERGE = """
CREATE FUNCTION release_label_merge() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    found_row boolean;
BEGIN
    NEW.catno := coalesce(NEW.catno, '');
    EXECUTE format('UPDATE %I.%I SET label_id = coalesce(label_id, $4) '
                   'WHERE release_id = $1 AND label_name = $2 AND catno = $3 RETURNING true',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO found_row USING NEW.release_id, NEW.label_name, NEW.catno, NEW.label_id;
    IF found_row THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$
"""

RELEASE_TRACK_ARTIST_MERGE = f"""
CREATE FUNCTION release_track_artist_merge() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_role text;
    new_role text := NEW.role;
    present boolean;
BEGIN
    EXECUTE format('SELECT true, role FROM %I.%I WHERE release_id = $1 '
                   'AND track_sequence = $2 AND artist_name = $3 AND extra = $4 FOR UPDATE',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO present, old_role USING NEW.release_id, NEW.track_sequence, NEW.artist_name,
                                     NEW.extra;
    IF present IS NULL THEN
        RETURN NEW;
    END IF;
    IF ({_MERGE_ROLE}) IS DISTINCT FROM old_role THEN
        EXECUTE format('UPDATE %I.%I SET role = $5 WHERE release_id = $1 '
                       'AND track_sequence = $2 AND artist_name = $3 AND extra = $4',
                       TG_TABLE_SCHEMA, TG_TABLE_NAME)
            USING NEW.release_id, NEW.track_sequence, NEW.artist_name, NEW.extra,
                  ({_MERGE_ROLE});
    END IF;
    RETURN NULL;
END $$
"""

MERGE_TRIGGERS = {
    "release_artist": RELEASE_ARTIST_MERGE,
    "release_label": RELEASE_LABEL_MERGE,
    "release_track_artist": RELEASE_TRACK_ARTIST_MERGE,
}


def _release_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["release_id"],
        ["release.id"],
        name=f"fk_{table}_release_id_release",
        ondelete="CASCADE",
    )


def _trigram(name: str, table: str, column: str) -> None:
    op.create_index(
        name,
        table,
        [sa.text(f"lower(f_unaccent({column})) gin_trgm_ops")],
        postgresql_using="gin",
    )


def upgrade() -> None:
    op.add_column("release", sa.Column("released", sa.Text(), nullable=True))
    op.add_column("release", sa.Column("format", sa.Text(), nullable=True))
    op.add_column(
        "release",
        sa.Column("artwork_checked_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
    )
    op.add_column(
        "release",
        sa.Column("not_found", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_index(
        "ix_release_artwork_unchecked",
        "release",
        ["id"],
        postgresql_where=sa.text("artwork_url IS NULL AND artwork_checked_at IS NULL"),
    )

    op.add_column("release_artist", sa.Column("role", sa.Text(), nullable=True))

    op.add_column("release_label", sa.Column("label_id", sa.Integer(), nullable=True))
    op.execute("UPDATE release_label SET catno = left(coalesce(catno, ''), 150)")
    op.alter_column(
        "release_label",
        "catno",
        existing_type=sa.Text(),
        type_=sa.String(CATNO_MAX),
        nullable=False,
        server_default=sa.text("''"),
    )
    op.drop_constraint("pk_release_label", "release_label", type_="primary")
    op.create_primary_key(
        "pk_release_label", "release_label", ["release_id", "label_name", "catno"]
    )

    op.add_column(
        "release_track_artist",
        sa.Column("extra", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("release_track_artist", sa.Column("role", sa.Text(), nullable=True))
    op.drop_constraint("pk_release_track_artist", "release_track_artist", type_="primary")
    op.create_primary_key(
        "pk_release_track_artist",
        "release_track_artist",
        ["release_id", "track_sequence", "artist_name", "extra"],
    )

    op.create_table(
        "release_genre",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("genre", sa.String(NAME_MAX), nullable=False),
        _release_fk("release_genre"),
        sa.PrimaryKeyConstraint("release_id", "genre", name="pk_release_genre"),
    )
    op.create_table(
        "release_style",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("style", sa.String(NAME_MAX), nullable=False),
        _release_fk("release_style"),
        sa.PrimaryKeyConstraint("release_id", "style", name="pk_release_style"),
    )
    op.create_table(
        "release_video",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("src", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("embed", sa.Boolean(), nullable=True),
        _release_fk("release_video"),
        sa.PrimaryKeyConstraint("release_id", "sequence", name="pk_release_video"),
    )

    op.create_table(
        "artist",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column(
            "fetched_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column("not_found", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artist"),
    )
    op.create_table(
        "artist_name_variation",
        sa.Column("artist_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(NAME_MAX), nullable=False),
        sa.PrimaryKeyConstraint("artist_id", "name", name="pk_artist_name_variation"),
    )
    op.create_table(
        "artist_member",
        sa.Column("artist_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("member_name", sa.String(NAME_MAX), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("artist_id", "member_name", name="pk_artist_member"),
    )
    op.create_table(
        "artist_url",
        sa.Column("artist_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("url", sa.String(NAME_MAX), nullable=False),
        sa.PrimaryKeyConstraint("artist_id", "url", name="pk_artist_url"),
    )
    op.add_column("artist_alias", sa.Column("alias_id", sa.Integer(), nullable=True))
    _trigram("ix_artist_name_trgm", "artist", "name")
    _trigram("ix_artist_name_variation_name_trgm", "artist_name_variation", "name")

    op.create_table(
        "lookup_negative",
        sa.Column("key_hash", sa.LargeBinary(), nullable=False),
        sa.Column("artist", sa.Text(), nullable=True),
        sa.Column("track", sa.Text(), nullable=True),
        sa.Column("artist_as_keyword", sa.Boolean(), nullable=True),
        sa.Column(
            "attempted_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("ttl_seconds", sa.Integer(), server_default=sa.text("604800"), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_lookup_negative"),
    )
    op.create_index("ix_lookup_negative_attempted_at", "lookup_negative", ["attempted_at"])

    op.execute(MERGE_ROLE_FUNCTION)
    op.execute(ROLE_AGG)
    for table, function in MERGE_TRIGGERS.items():
        op.execute(function)
        op.execute(
            f"CREATE TRIGGER {table}_merge BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_merge()"
        )


def downgrade() -> None:
    for table in MERGE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_merge ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_merge()")
    op.execute("DROP AGGREGATE IF EXISTS discogs_role_agg(text)")
    op.execute("DROP FUNCTION IF EXISTS discogs_merge_role(text, text)")
    for table in (
        "lookup_negative",
        "artist_url",
        "artist_member",
        "artist_name_variation",
        "artist",
        "release_video",
        "release_style",
        "release_genre",
    ):
        op.drop_table(table)
    op.drop_column("artist_alias", "alias_id")

    op.execute("DELETE FROM release_track_artist WHERE extra <> 0")
    op.drop_constraint("pk_release_track_artist", "release_track_artist", type_="primary")
    op.drop_column("release_track_artist", "role")
    op.drop_column("release_track_artist", "extra")
    op.create_primary_key(
        "pk_release_track_artist",
        "release_track_artist",
        ["release_id", "track_sequence", "artist_name"],
    )

    op.execute(  # one row per label name: its first non-empty catalogue number
        "DELETE FROM release_label WHERE ctid = ANY (ARRAY(SELECT x.ctid FROM ("
        "SELECT ctid, row_number() OVER (PARTITION BY release_id, label_name "
        "ORDER BY catno = '', catno) AS rn FROM release_label) AS x WHERE x.rn > 1))"
    )
    op.drop_constraint("pk_release_label", "release_label", type_="primary")
    op.alter_column(
        "release_label",
        "catno",
        existing_type=sa.String(CATNO_MAX),
        type_=sa.Text(),
        nullable=True,
        server_default=None,
    )
    op.execute("UPDATE release_label SET catno = NULL WHERE catno = ''")
    op.create_primary_key("pk_release_label", "release_label", ["release_id", "label_name"])
    op.drop_column("release_label", "label_id")

    op.drop_column("release_artist", "role")

    op.execute("DELETE FROM release WHERE not_found")
    op.drop_index("ix_release_artwork_unchecked", table_name="release")
    for column in ("not_found", "artwork_checked_at", "format", "released"):
        op.drop_column("release", column)
