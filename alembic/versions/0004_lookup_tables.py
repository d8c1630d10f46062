"""Derived lookup tables: normalized exact keys and distinct artist names, kept by triggers.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-07

Why: most consumer requests are a near-exact artist and title. `release_key` maps
(main artist key, release title key) to releases and `track_key` maps (artist key, track
title key) to (release, sequence), where the artists of a track are its release's main
artists and its own track artists (compilations); an exact hit is one btree probe.
`lookup_artist_name` holds each distinct folded main-artist name once (refs = how many
release_key rows carry it) with its own trigram index, so the fuzzy artist path scans the
distinct names instead of every credit row.

The keys are computed in SQL by `lookup_artist_key(text)` / `lookup_title_key(text)`, the
rules of `discogs_cache.normalize.artist_key` / `normalize_title` (a test compares them on
real names), so triggers can keep the tables true when consumers write with plain SQL:
statement-level AFTER triggers on release, release_artist, release_track and
release_track_artist recompute the derived rows of the releases a statement touched, and
triggers on release_key keep `lookup_artist_name`'s counts. The trigger functions address
tables through TG_TABLE_SCHEMA, so they work in any schema (the refresh's shadow build).
Bulk steps skip them (`SET LOCAL discogs_cache.bulk_lookup = on`) and rebuild set-based:
the load builds the tables beside the live ones, prune removes whole releases (their
derived rows go with them) and recounts the names, copy-to rebuilds in the target.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_MAX = 500

ARTIST_KEY = r"""
CREATE OR REPLACE FUNCTION public.lookup_artist_key(name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    t text := regexp_replace(lower(public.f_unaccent(name)), '\s+', ' ', 'g');
    m text[];
BEGIN
    t := btrim(t, ' ');
    -- trailing Discogs " (n)" and catalog " [...]", repeatedly
    t := btrim(regexp_replace(t, '(\s*(\(\d+\)|\[[^]]*\]))+$', ''), ' ');
    m := regexp_match(t, '^(.+?),\s*(the|los|las|les|la|le|el|die|der|das)$');
    IF m IS NOT NULL THEN
        t := m[2] || ' ' || m[1];
    END IF;
    t := regexp_replace(t, '\s*&\s*', ' and ', 'g');
    t := regexp_replace(t, '[''‘’`´]', '', 'g');
    -- words of letters and digits, one space apart; a leading "the" dropped
    t := btrim(regexp_replace(t, '[^[:alnum:]]+', ' ', 'g'), ' ');
    IF t LIKE 'the %' AND t <> 'the the' THEN
        t := substr(t, 5);
    END IF;
    RETURN t;
END $$
"""

TITLE_KEY = r"""
CREATE OR REPLACE FUNCTION public.lookup_title_key(title text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    t text := btrim(regexp_replace(lower(public.f_unaccent(title)), '\s+', ' ', 'g'), ' ');
    s text;
BEGIN
    -- trailing format and edition marks, one at a time, never down to nothing
    WHILE right(t, 1) IN ('"', '''', 'h', 'n', '.', ')') LOOP
        s := btrim(regexp_replace(t, '\s*(?:(?:12|7|10)\s*(?:"|''''|inch|in\.?)'
            '|\(\d+\)|\(\d+\s*-?\s*cd\s*set\)|\(\d*\s*-?\s*(?:cd|lp|ep)\)|\(reissue\)'
            '|\((?:deluxe|expanded|anniversary|special|limited)(?:\s+edition)?\)'
            '|\(bonus\s+tracks?\)|\(remaster(?:ed)?(?:\s+\d{4})?\))\s*$', ''), ' ');
        EXIT WHEN s = t OR s = '';
        t := s;
    END LOOP;
    t := regexp_replace(t, '\s*&\s*', ' and ', 'g');
    t := regexp_replace(t, '[''‘’`´]', '', 'g');
    RETURN btrim(regexp_replace(t, '\s+', ' ', 'g'), ' ');
END $$
"""

REFRESH = r"""
CREATE OR REPLACE FUNCTION public.lookup_refresh(schema_name text, ids integer[],
                                                 releases boolean DEFAULT true)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    IF releases THEN
        EXECUTE format('DELETE FROM %I.release_key WHERE release_id = ANY ($1)', schema_name)
            USING ids;
        EXECUTE format(
            'INSERT INTO %1$I.release_key '
            '(release_id, artist_name, artist_folded, artist_key, title_key) '
            'SELECT a.release_id, a.artist_name, lower(public.f_unaccent(a.artist_name)), '
            'public.lookup_artist_key(a.artist_name), public.lookup_title_key(r.title) '
            'FROM %1$I.release_artist a JOIN %1$I.release r ON r.id = a.release_id '
            'WHERE a.extra = 0 AND a.release_id = ANY ($1) ORDER BY 1, 2 '
            'ON CONFLICT DO NOTHING', schema_name) USING ids;
    END IF;
    EXECUTE format('DELETE FROM %I.track_key WHERE release_id = ANY ($1)', schema_name)
        USING ids;
    EXECUTE format(
        'INSERT INTO %1$I.track_key (release_id, sequence, artist_name, artist_key, title_key) '
        'SELECT t.release_id, t.sequence, x.artist_name, '
        'public.lookup_artist_key(x.artist_name), public.lookup_title_key(t.title) '
        'FROM %1$I.release_track t CROSS JOIN LATERAL ('
        '  SELECT a.artist_name FROM %1$I.release_artist a '
        '  WHERE a.release_id = t.release_id AND a.extra = 0 '
        '  UNION SELECT ta.artist_name FROM %1$I.release_track_artist ta '
        '  WHERE ta.release_id = t.release_id AND ta.track_sequence = t.sequence) x '
        'WHERE t.release_id = ANY ($1) ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING',
        schema_name) USING ids;
END $$
"""

SYNC = r"""
CREATE OR REPLACE FUNCTION public.lookup_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    col text := CASE WHEN TG_TABLE_NAME = 'release' THEN 'id' ELSE 'release_id' END;
    ids integer[];
BEGIN
    IF current_setting('discogs_cache.bulk_lookup', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('SELECT array_agg(DISTINCT %I) FROM new_rows', col) INTO ids;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT array_agg(DISTINCT %I) FROM old_rows', col) INTO ids;
    ELSE
        EXECUTE format('SELECT array_agg(DISTINCT x) FROM (SELECT %1$I AS x FROM new_rows '
                       'UNION SELECT %1$I FROM old_rows) u', col) INTO ids;
    END IF;
    PERFORM public.lookup_refresh(TG_TABLE_SCHEMA, ids,
                                  TG_TABLE_NAME IN ('release', 'release_artist'));
    RETURN NULL;
END $$
"""

NAME_COUNTS = r"""
CREATE OR REPLACE FUNCTION public.lookup_name_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('discogs_cache.bulk_lookup', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('TRUNCATE %I.lookup_artist_name', TG_TABLE_SCHEMA);
        RETURN NULL;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        EXECUTE format(
            'UPDATE %1$I.lookup_artist_name l SET refs = l.refs - gone.n FROM ('
            'SELECT artist_folded AS name, count(*) AS n FROM old_rows GROUP BY 1) gone '
            'WHERE l.name = gone.name', TG_TABLE_SCHEMA);
        EXECUTE format(
            'DELETE FROM %1$I.lookup_artist_name l WHERE l.refs <= 0 '
            'AND l.name IN (SELECT artist_folded FROM old_rows)', TG_TABLE_SCHEMA);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE format(
            'INSERT INTO %1$I.lookup_artist_name AS l (name, refs) '
            'SELECT artist_folded, count(*) FROM new_rows GROUP BY 1 ORDER BY 1 '
            'ON CONFLICT (name) DO UPDATE SET refs = l.refs + excluded.refs', TG_TABLE_SCHEMA);
    END IF;
    RETURN NULL;
END $$
"""

SOURCES = ("release", "release_artist", "release_track", "release_track_artist")


def _triggers(table: str, function: str, prefix: str) -> list[str]:
    ops = {
        "INSERT": "REFERENCING NEW TABLE AS new_rows",
        "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "REFERENCING OLD TABLE AS old_rows",
    }
    return [
        f"CREATE TRIGGER {prefix}_{op.lower()} AFTER {op} ON {table} {ref} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION public.{function}()"
        for op, ref in ops.items()
    ]


def _execute(ddl: str) -> None:
    """Run DDL as written: its colons (regex classes, `%1$I`) are no bind parameters."""
    op.execute(sa.text(ddl.replace(":", "\\:")))


def _release_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["release_id"], ["release.id"], name=f"fk_{table}_release_id_release", ondelete="CASCADE"
    )


def upgrade() -> None:
    for ddl in (ARTIST_KEY, TITLE_KEY):
        _execute(ddl)
    op.create_table(
        "release_key",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("artist_name", sa.String(NAME_MAX), nullable=False),
        sa.Column("artist_folded", sa.Text(), nullable=False),
        sa.Column("artist_key", sa.Text(), nullable=False),
        sa.Column("title_key", sa.Text(), nullable=False),
        _release_fk("release_key"),
        sa.PrimaryKeyConstraint("release_id", "artist_name", name="pk_release_key"),
    )
    op.create_index("ix_release_key_keys", "release_key", ["artist_key", "title_key"])
    op.create_index("ix_release_key_artist_folded", "release_key", ["artist_folded"])
    op.create_table(
        "track_key",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("artist_name", sa.String(NAME_MAX), nullable=False),
        sa.Column("artist_key", sa.Text(), nullable=False),
        sa.Column("title_key", sa.Text(), nullable=False),
        _release_fk("track_key"),
        sa.PrimaryKeyConstraint("release_id", "sequence", "artist_name", name="pk_track_key"),
    )
    op.create_index("ix_track_key_keys", "track_key", ["artist_key", "title_key"])
    op.create_table(
        "lookup_artist_name",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("refs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_lookup_artist_name"),
    )
    op.create_index(
        "ix_lookup_artist_name_trgm",
        "lookup_artist_name",
        [sa.text("name gin_trgm_ops")],
        postgresql_using="gin",
    )
    op.create_index(
        "ix_lookup_artist_name_prefix",
        "lookup_artist_name",
        [sa.text("name text_pattern_ops")],
    )
    op.create_index(
        "ix_artist_alias_alias_name_trgm",
        "artist_alias",
        [sa.text("lower(f_unaccent(alias_name)) gin_trgm_ops")],
        postgresql_using="gin",
    )
    for ddl in (REFRESH, SYNC, NAME_COUNTS):
        _execute(ddl)
    # what a migrated database already holds gets its derived rows now
    op.execute(
        "SELECT public.lookup_refresh(current_schema(), "
        "(SELECT coalesce(array_agg(id), '{}') FROM release))"
    )
    op.execute(
        "INSERT INTO lookup_artist_name (name, refs) "
        "SELECT artist_folded, count(*) FROM release_key GROUP BY 1"
    )
    for table in SOURCES:
        for ddl in _triggers(table, "lookup_sync", "lookup_sync"):
            op.execute(ddl)
    for ddl in _triggers("release_key", "lookup_name_counts", "lookup_names"):
        op.execute(ddl)
    op.execute(
        "CREATE TRIGGER lookup_names_truncate AFTER TRUNCATE ON release_key "
        "FOR EACH STATEMENT EXECUTE FUNCTION public.lookup_name_counts()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS lookup_names_truncate ON release_key")
    for table in (*SOURCES, "release_key"):
        for op_name in ("insert", "update", "delete"):
            prefix = "lookup_names" if table == "release_key" else "lookup_sync"
            op.execute(f"DROP TRIGGER IF EXISTS {prefix}_{op_name} ON {table}")
    op.drop_index("ix_artist_alias_alias_name_trgm", table_name="artist_alias")
    for table in ("lookup_artist_name", "track_key", "release_key"):
        op.drop_table(table)
    for function in (
        "lookup_name_counts()",
        "lookup_sync()",
        "lookup_refresh(text, integer[], boolean)",
        "lookup_title_key(text)",
        "lookup_artist_key(text)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS public.{function}")
