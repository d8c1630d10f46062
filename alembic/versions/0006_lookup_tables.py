"""Derived lookup tables: normalized exact keys and distinct artist names, kept by triggers.

Revision ID: 0006
Revises: 0005
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

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_MAX = 500

COMBINING = (
    r"\u0300-\u034e\u0350-\u036f\u0483-\u0487\u0591-\u05bd\u05bf\u05c1-\u05c2\u05c4-\u05c5"
    r"\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7-\u06e8"
    r"\u06ea-\u06ed\u0711\u0730-\u074a\u07eb-\u07f3\u07fd\u0816-\u0819\u081b-\u0823"
    r"\u0825-\u0827\u0829-\u082d\u0859-\u085b\u0898-\u089f\u08ca-\u08e1\u08e3-\u08ff\u093c"
    r"\u094d\u0951-\u0954\u09bc\u09cd\u09fe\u0a3c\u0a4d\u0abc\u0acd\u0b3c\u0b4d\u0bcd\u0c3c"
    r"\u0c4d\u0c55-\u0c56\u0cbc\u0ccd\u0d3b-\u0d3c\u0d4d\u0dca\u0e38-\u0e3a\u0e48-\u0e4b"
    r"\u0eb8-\u0eba\u0ec8-\u0ecb\u0f18-\u0f19\u0f35\u0f37\u0f39\u0f71-\u0f72\u0f74"
    r"\u0f7a-\u0f7d\u0f80\u0f82-\u0f84\u0f86-\u0f87\u0fc6\u1037\u1039-\u103a\u108d"
    r"\u135d-\u135f\u1714-\u1715\u1734\u17d2\u17dd\u18a9\u1939-\u193b\u1a17-\u1a18\u1a60"
    r"\u1a75-\u1a7c\u1a7f\u1ab0-\u1abd\u1abf-\u1ace\u1b34\u1b44\u1b6b-\u1b73\u1baa-\u1bab"
    r"\u1be6\u1bf2-\u1bf3\u1c37\u1cd0-\u1cd2\u1cd4-\u1ce0\u1ce2-\u1ce8\u1ced\u1cf4"
    r"\u1cf8-\u1cf9\u1dc0-\u1dff\u20d0-\u20dc\u20e1\u20e5-\u20f0\u2cef-\u2cf1\u2d7f"
    r"\u2de0-\u2dff\u302a-\u302f\u3099-\u309a\ua66f\ua674-\ua67d\ua69e-\ua69f\ua6f0-\ua6f1"
    r"\ua806\ua82c\ua8c4\ua8e0-\ua8f1\ua92b-\ua92d\ua953\ua9b3\ua9c0\uaab0\uaab2-\uaab4"
    r"\uaab7-\uaab8\uaabe-\uaabf\uaac1\uaaf6\uabed\ufb1e\ufe20-\ufe2f\U000101fd\U000102e0"
    r"\U00010376-\U0001037a\U00010a0d\U00010a0f\U00010a38-\U00010a3a\U00010a3f"
    r"\U00010ae5-\U00010ae6\U00010d24-\U00010d27\U00010eab-\U00010eac\U00010f46-\U00010f50"
    r"\U00010f82-\U00010f85\U00011046\U00011070\U0001107f\U000110b9-\U000110ba"
    r"\U00011100-\U00011102\U00011133-\U00011134\U00011173\U000111c0\U000111ca"
    r"\U00011235-\U00011236\U000112e9-\U000112ea\U0001133b-\U0001133c\U0001134d"
    r"\U00011366-\U0001136c\U00011370-\U00011374\U00011442\U00011446\U0001145e"
    r"\U000114c2-\U000114c3\U000115bf-\U000115c0\U0001163f\U000116b6-\U000116b7\U0001172b"
    r"\U00011839-\U0001183a\U0001193d-\U0001193e\U00011943\U000119e0\U00011a34\U00011a47"
    r"\U00011a99\U00011c3f\U00011d42\U00011d44-\U00011d45\U00011d97\U00016af0-\U00016af4"
    r"\U00016b30-\U00016b36\U00016ff0-\U00016ff1\U0001bc9e\U0001d165-\U0001d169"
    r"\U0001d16d-\U0001d172\U0001d17b-\U0001d182\U0001d185-\U0001d18b\U0001d1aa-\U0001d1ad"
    r"\U0001d242-\U0001d244\U0001e000-\U0001e006\U0001e008-\U0001e018\U0001e01b-\U0001e021"
    r"\U0001e023-\U0001e024\U0001e026-\U0001e02a\U0001e130-\U0001e136\U0001e2ae"
    r"\U0001e2ec-\U0001e2ef\U0001e8d0-\U0001e8d6\U0001e944-\U0001e94a"
)
"""Every code point with a non-zero Unicode combining class (Python's unicodedata 14.0):
what `normalize.strip_accents` drops after NFKD."""

FOLD = """
CREATE OR REPLACE FUNCTION public.lookup_fold(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
SELECT lower(CASE WHEN octet_length(name) = char_length(name) THEN name
    ELSE regexp_replace(normalize(name, NFKD), '[COMBINING]', '', 'g') END)
$$
"""
"""normalize.strip_accents then lower(): NFKD without combining marks (f_unaccent maps
more, e.g. "ø" -> "o", so it cannot be the keys' first step)."""

INITIALS = r"""
CREATE OR REPLACE FUNCTION public.lookup_initials(text_in text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    p constant text := '(?<![[:alnum:]])(?:[[:alpha:]]\.\s*)+[[:alpha:]]'
        '(?:\.(?![[:alnum:]])|(?![[:alnum:]]|\.))';
    t text := text_in;
    pos integer := 1;
    s integer;
    m text;
    r text;
BEGIN
    -- normalize._collapse_initials: "a.d." = "a. d." = "ad"
    IF strpos(t, '.') = 0 THEN
        RETURN t;
    END IF;
    LOOP
        s := regexp_instr(t, p, pos);
        EXIT WHEN s = 0;
        m := regexp_substr(t, p, pos);
        r := replace(replace(m, '.', ''), ' ', '');
        t := left(t, s - 1) || r || substr(t, s + length(m));
        pos := s + length(r);
    END LOOP;
    RETURN t;
END $$
"""

ARTIST_KEY = r"""
CREATE OR REPLACE FUNCTION public.lookup_artist_key(name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    t text := regexp_replace(public.lookup_fold(name), '\s+', ' ', 'g');
    m text[];
BEGIN
    t := btrim(t, ' ');
    -- trailing Discogs " (n)" and catalog " [...]", repeatedly
    t := btrim(regexp_replace(t, '(\s*(\(\d+\)|\[[^]]*\]))+$', ''), ' ');
    t := public.lookup_initials(t);
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
    t text := btrim(regexp_replace(public.lookup_fold(title), '\s+', ' ', 'g'), ' ');
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
    t := public.lookup_initials(t);
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
        '  WHERE ta.release_id = t.release_id AND ta.track_sequence = t.sequence '
        '  AND ta.extra = 0) x '
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
        -- DELETE: a TRUNCATE of both tables at once would find this one in use
        EXECUTE format('DELETE FROM %I.lookup_artist_name', TG_TABLE_SCHEMA);
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
    _execute(FOLD.replace("COMBINING", "".join(COMBINING)))
    _execute(INITIALS)
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
        "ix_release_title_prefix",
        "release",
        [sa.text("lower(f_unaccent(title)) text_pattern_ops")],
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
    op.drop_index("ix_release_title_prefix", table_name="release")
    for table in ("lookup_artist_name", "track_key", "release_key"):
        op.drop_table(table)
    for function in (
        "lookup_name_counts()",
        "lookup_sync()",
        "lookup_refresh(text, integer[], boolean)",
        "lookup_title_key(text)",
        "lookup_artist_key(text)",
        "lookup_fold(text)",
        "lookup_initials(text)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS public.{function}")
