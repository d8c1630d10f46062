"""SQL that moves staged CSV rows into the cache tables, applying SPEC step 4's rules.

Each target gets one INSERT ... SELECT: required fields empty -> skipped, release missing ->
skipped, names cut to `schema.NAME_MAX`. A target whose values go in as they are (`direct`)
can skip staging: its file is COPYed straight into the table (`build`). Keys are added after
the rows (a bulk index build beats row-by-row btree inserts); duplicates are collapsed by the
table's priority (main credit over extra, then first row) and counted. Credits merge as the
contract's insert triggers merge them (README "How consumers write"): a name credited twice
on a release is one `release_artist` row with the lower `extra`, the first artist id and
the roles joined by `discogs_role_agg`; a track credit repeated keeps its roles joined too.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from discogs_cache.schema import CATNO_MAX, NAME_MAX


@dataclass(frozen=True)
class Target:
    """How one staged CSV becomes one cache table."""

    table: str
    source: str
    columns: tuple[str, ...]
    exprs: tuple[str, ...]
    required: tuple[str, ...]
    key: tuple[str, ...]
    priority: str = "ord"
    truncated: str | None = None
    needs_release: bool = True
    dedupe_first: bool = False
    """Duplicates are common: collapse them up front instead of after a failed key build."""
    merge: tuple[str, ...] | None = None
    """Per column, the aggregate that merges a key's rows (over x, in priority order),
    instead of keeping the first row."""
    merge_role: bool = False
    """Collapsing duplicates joins their `role`s into the row kept."""
    direct: tuple[str, ...] | None = None
    """The CSV column behind each of `columns` when the file can be COPYed straight into the
    table (values taken as they are; a name too long for the table sends it to staging). A
    file may lack some of them (optional columns: the table's default applies)."""
    empty_strings: tuple[str, ...] = ()
    """CSV columns whose empty value is '' (a key column NOT NULL DEFAULT ''), never NULL."""

    def table_column(self, csv_column: str) -> str:
        """The table column a CSV column of a `direct` target goes to."""
        return dict(zip(self.direct or (), self.columns, strict=True))[csv_column]


def _name(column: str, limit: int = NAME_MAX) -> str:
    # octet_length is O(1) and never below the length in characters: left() (which walks
    # the string) only runs on the rare name that may be too long
    return (
        f"CASE WHEN octet_length(s.{column}) > {limit} "
        f"THEN left(s.{column}, {limit}) ELSE s.{column} END"
    )


# discogs_role_agg over a key's roles in order. It calls a SQL function per row, most of a
# merge's cost: the roles are gathered by array_agg (C) and joined only for repeated keys
_JOINED_ROLES = (
    "(SELECT discogs_role_agg(u.role ORDER BY u.n) "
    "FROM unnest(array_agg(x.role)) WITH ORDINALITY AS u (role, n))"
)
# the same for any key (discogs_role_agg starts from NULL: one row's role is itself, '' none)
_MERGED_ROLE = (
    f"CASE WHEN count(*) = 1 THEN NULLIF((array_agg(x.role))[1], '') ELSE {_JOINED_ROLES} END"
)

CHILD_TARGETS = (
    Target(
        "release_artist", "release_artist",
        ("release_id", "artist_name", "artist_id", "extra", "role"),
        ("s.release_id", _name("artist_name"), "NULLIF(s.artist_id, 0)",
         # ASCII lower case (COLLATE "C") is all these literals need, and much cheaper
         """CASE WHEN lower(s.extra COLLATE "C") IN ('1', 't', 'true') THEN 1 ELSE 0 END""",
         "s.role"),
        ("release_id", "artist_name"), ("release_id", "artist_name"),
        priority="extra, ord", truncated="artist_name", dedupe_first=True,
        merge=("x.release_id", "x.artist_name",
               "(array_agg(x.artist_id) FILTER (WHERE x.artist_id IS NOT NULL))[1]",
               "min(x.extra)", _MERGED_ROLE),
        merge_role=True,
    ),
    Target(
        "release_label", "release_label", ("release_id", "label_name", "catno", "label_id"),
        ("s.release_id", _name("label"), f"coalesce({_name('catno', CATNO_MAX)}, '')",
         "NULLIF(s.label_id, 0)"),
        ("release_id", "label"), ("release_id", "label_name", "catno"),
        priority="label_id IS NULL, ord", truncated="label",
        dedupe_first=True, direct=("release_id", "label", "catno", "label_id"),
        empty_strings=("catno",),
    ),
    Target(
        "release_track", "release_track",
        ("release_id", "sequence", "position", "title", "duration"),
        ("s.release_id", "s.sequence", "s.position", "s.title", "s.duration"),
        ("release_id", "sequence", "title"), ("release_id", "sequence"),
        direct=("release_id", "sequence", "position", "title", "duration"),
    ),
    Target(
        "release_track_artist", "release_track_artist",
        ("release_id", "track_sequence", "artist_name", "extra", "role"),
        ("s.release_id", "s.track_sequence", _name("artist_name"), "coalesce(s.extra, 0)",
         "s.role"),
        ("release_id", "track_sequence", "artist_name"),
        ("release_id", "track_sequence", "artist_name", "extra"), truncated="artist_name",
        merge_role=True,
        direct=("release_id", "track_sequence", "artist_name", "extra", "role"),
    ),
    Target(
        "release_genre", "release_genre", ("release_id", "genre"),
        ("s.release_id", _name("genre")), ("release_id", "genre"), ("release_id", "genre"),
        truncated="genre", direct=("release_id", "genre"),
    ),
    Target(
        "release_style", "release_style", ("release_id", "style"),
        ("s.release_id", _name("style")), ("release_id", "style"), ("release_id", "style"),
        truncated="style", direct=("release_id", "style"),
    ),
    Target(
        "release_video", "release_video",
        ("release_id", "sequence", "src", "title", "duration", "embed"),
        ("s.release_id", "s.sequence", "s.src", "s.title", "s.duration", "s.embed"),
        ("release_id", "sequence", "src"), ("release_id", "sequence"),
        direct=("release_id", "sequence", "src", "title", "duration", "embed"),
    ),
    Target(
        "artist_alias", "artist_alias", ("artist_id", "alias_name", "alias_id"),
        ("s.artist_id", _name("alias_name"), "NULLIF(s.alias_id, 0)"),
        ("artist_id", "alias_name"), ("artist_id", "alias_name"), truncated="alias_name",
        needs_release=False, dedupe_first=True, direct=("artist_id", "alias_name", "alias_id"),
    ),
    Target(  # staged: a dump artist's fetched_at is NULL (never fetched), not the default
        "artist", "artist", ("id", "name", "profile", "image_url", "fetched_at"),
        ("s.id", "s.name", "s.profile", "s.image_url", "NULL::timestamptz"),
        ("id", "name"), ("id",), needs_release=False, dedupe_first=True,
    ),
    Target(
        "artist_name_variation", "artist_name_variation", ("artist_id", "name"),
        ("s.artist_id", _name("name")), ("artist_id", "name"), ("artist_id", "name"),
        truncated="name", needs_release=False, dedupe_first=True,
        direct=("artist_id", "name"),
    ),
    Target(
        "artist_member", "artist_member", ("artist_id", "member_id", "member_name", "active"),
        ("s.artist_id", "NULLIF(s.member_id, 0)", _name("member_name"), "s.active"),
        ("artist_id", "member_name"), ("artist_id", "member_name"), truncated="member_name",
        needs_release=False, dedupe_first=True,
        direct=("artist_id", "member_id", "member_name", "active"),
    ),
    Target(
        "artist_url", "artist_url", ("artist_id", "url"),
        ("s.artist_id", _name("url")), ("artist_id", "url"), ("artist_id", "url"),
        truncated="url", needs_release=False, dedupe_first=True, direct=("artist_id", "url"),
    ),
)  # fmt: skip


@dataclass
class TableCounts:
    """What happened to the rows of one CSV on their way into one table."""

    table: str
    source_rows: int = 0
    loaded: int = 0
    empty_required: int = 0
    missing_release: int = 0
    duplicates: int = 0
    truncated: int = 0


def _not_null(columns: tuple[str, ...]) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("s.{} IS NOT NULL").format(sql.Identifier(c)) for c in columns
    )


def load_release(cur: psycopg.Cursor, stage: str, has_images: bool) -> TableCounts:
    """release: release_year from `released`, artwork_url from the images, first row per id."""
    art = (
        sql.SQL(
            "SELECT DISTINCT ON (release_id) release_id, uri FROM {} "
            "WHERE release_id IS NOT NULL AND uri IS NOT NULL "
            "ORDER BY release_id, coalesce(type = 'primary', false) DESC, ctid"
        ).format(sql.Identifier(stage, "release_image"))
        if has_images
        else sql.SQL("SELECT NULL::integer AS release_id, NULL::text AS uri WHERE false")
    )
    src = sql.Identifier(stage, "release")
    counts = TableCounts("release")
    cur.execute(
        sql.SQL("SELECT count(*), count(*) FILTER (WHERE id IS NULL OR title IS NULL) FROM {}")
        .format(src)
    )  # fmt: skip
    counts.source_rows, counts.empty_required = cur.fetchone() or (0, 0)
    cur.execute(
        sql.SQL(
            "WITH art AS ({art}) "
            "INSERT INTO release "
            "(id, title, release_year, country, artwork_url, master_id, released, format) "
            "SELECT s.id, s.title, "
            # "the first 4 characters are digits" without a regex, which costs more than the
            # rest of the row: trimming digits off them leaves nothing (4 bytes or more, so
            # fewer than 4 characters means a multibyte one, which is no digit)
            "CASE WHEN octet_length(s.released) >= 4 AND rtrim(left(s.released, 4), '0123456789') "
            "= '' THEN left(s.released, 4)::smallint END, "
            "s.country, art.uri, NULLIF(s.master_id, 0), s.released, s.format "
            "FROM (SELECT DISTINCT ON (id) id, title, released, country, master_id, format "
            "FROM {src} "
            "WHERE id IS NOT NULL AND title IS NOT NULL ORDER BY id, ctid) AS s "
            "LEFT JOIN art ON art.release_id = s.id"
        ).format(art=art, src=src)  # first row per id, deduplicated before the join
    )
    counts.loaded = cur.rowcount
    counts.duplicates = counts.source_rows - counts.empty_required - counts.loaded
    return counts


def load_child(
    cur: psycopg.Cursor, stage: str, target: Target, *, check_release: bool = True
) -> TableCounts:
    """INSERT the valid rows of one staged CSV (the table's primary key is dropped).

    `check_release=False` leaves rows of missing releases in (and uncounted) for a caller
    that removes them when adding the foreign key fails: one join fewer when there are none.
    """
    check_release = check_release and target.needs_release
    src = sql.Identifier(stage, target.source)
    counts = TableCounts(target.table)
    trunc = (
        sql.SQL("count(*) FILTER (WHERE octet_length({c}) > {n} AND length({c}) > {n})").format(
            c=sql.Identifier(target.truncated), n=sql.Literal(NAME_MAX)
        )
        if target.truncated
        else sql.SQL("0")
    )
    cur.execute(
        sql.SQL("SELECT count(*), count(*) FILTER (WHERE NOT ({})), {} FROM {} s").format(
            _not_null(target.required), trunc, src
        )
    )
    counts.source_rows, counts.empty_required, counts.truncated = cur.fetchone() or (0, 0, 0)
    exists = (
        sql.SQL(" AND EXISTS (SELECT 1 FROM release r WHERE r.id = s.release_id)")
        if check_release
        else sql.SQL("")
    )
    table = sql.Identifier(target.table)
    cols = sql.SQL(", ").join(map(sql.Identifier, target.columns))
    exprs = sql.SQL(", ").join(map(sql.SQL, target.exprs))  # fixed expressions, no user data
    where = sql.SQL("{}{}").format(_not_null(target.required), exists)
    if not target.dedupe_first:
        cur.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} s WHERE {}").format(
                table, cols, exprs, src, where
            )
        )
        counts.loaded = cur.rowcount
        counts.missing_release = counts.source_rows - counts.empty_required - counts.loaded
        return counts
    if check_release:
        cur.execute(
            sql.SQL(
                "SELECT count(*) FROM {} s WHERE {} "
                "AND NOT EXISTS (SELECT 1 FROM release r WHERE r.id = s.release_id)"
            ).format(src, _not_null(target.required))
        )
        counts.missing_release = (cur.fetchone() or (0,))[0]
    key = sql.SQL(", ").join(map(sql.Identifier, target.key))
    if target.merge:  # the aggregates see each key's rows in priority order (sorted input)
        statement = (
            "INSERT INTO {table} ({cols}) SELECT {merge} FROM "
            "(SELECT {exprs}, s.ctid AS ord FROM {src} s WHERE {where} "
            "ORDER BY {order}) AS x ({cols}, ord) GROUP BY {xkey}"
        )
    else:
        statement = (
            "INSERT INTO {table} ({cols}) SELECT DISTINCT ON ({key}) {cols} FROM "
            "(SELECT {exprs}, s.ctid AS ord FROM {src} s WHERE {where}) AS x ({cols}, ord) "
            "ORDER BY {key}, {prio}"
        )
    # the merge's inner ORDER BY names output columns by position (key, then priority)
    position = {c: i + 1 for i, c in enumerate((*target.columns, "ord"))}
    terms = (*target.key, *(t.strip() for t in target.priority.split(","))) if target.merge else ()
    cur.execute(
        sql.SQL(statement).format(
            table=table, cols=cols, key=key, exprs=exprs, src=src, where=where,
            prio=sql.SQL(target.priority),  # fixed per target, no user data
            merge=sql.SQL(", ").join(map(sql.SQL, target.merge or ())),
            order=sql.SQL(", ").join(sql.SQL(str(position[t])) for t in terms),
            xkey=sql.SQL(", ").join(sql.Identifier("x", k) for k in target.key),
        )
    )  # fmt: skip
    counts.loaded = cur.rowcount
    counts.duplicates = (
        counts.source_rows - counts.empty_required - counts.missing_release - counts.loaded
    )
    return counts


def collapse_duplicates(cur: psycopg.Cursor, target: Target, schema: str | None = None) -> int:
    """Delete all but the best row of each key (by the target's priority); returns how many.
    With `merge_role` the row kept gets the roles of its key's rows joined.

    `schema` names where the table is when it is not the live one (a side-built copy)."""
    table = sql.Identifier(schema, target.table) if schema else sql.Identifier(target.table)
    if target.merge_role:  # deletes every duplicate: nothing left to rank
        return _merge_roles(cur, table, target)
    cur.execute(
        sql.SQL(
            "DELETE FROM {t} WHERE ctid = ANY (ARRAY(SELECT ranked.ord FROM ("
            "SELECT x.ord, row_number() OVER (PARTITION BY {key} ORDER BY {prio}) AS rn "
            "FROM (SELECT *, ctid AS ord FROM {t}) AS x"
            ") AS ranked WHERE ranked.rn > 1))"
        ).format(
            t=table,
            key=sql.SQL(", ").join(map(sql.Identifier, target.key)),
            prio=sql.SQL(target.priority),  # fixed per target, no user data
        )
    )
    return cur.rowcount


def load_metadata(cur: psycopg.Cursor) -> int:
    """One cache_metadata row per loaded release, source `bulk_import`."""
    cur.execute(
        "INSERT INTO cache_metadata (release_id, source) SELECT id, 'bulk_import' FROM release"
    )
    return cur.rowcount


def _merge_roles(cur: psycopg.Cursor, table: sql.Identifier, target: Target) -> int:
    """Delete all but the best row of each duplicated key and give it the roles of the key's
    rows joined; returns the rows deleted. (The delete comes first: an UPDATE moves a row,
    which would lose its place by ctid.)"""
    key = sql.SQL(", ").join(map(sql.Identifier, target.key))
    xkey = sql.SQL(", ").join(sql.Identifier("x", k) for k in target.key)
    cur.execute(
        sql.SQL(
            "CREATE TEMP TABLE discogs_merged_roles ON COMMIT DROP AS "
            "SELECT {xkey}, (array_agg(x.ord))[1] AS keep, {roles} AS role "
            "FROM (SELECT *, ctid AS ord FROM {t} ORDER BY {key}, {prio}) AS x "
            "GROUP BY {xkey} HAVING count(*) > 1"
        ).format(
            t=table, key=key, xkey=xkey, prio=sql.SQL(target.priority),  # fixed per target
            roles=sql.SQL(_JOINED_ROLES),  # only for the keys HAVING keeps
        )
    )  # fmt: skip
    same = sql.SQL(" AND ").join(
        sql.SQL("t.{c} = m.{c}").format(c=sql.Identifier(k)) for k in target.key
    )
    cur.execute(
        sql.SQL(
            "DELETE FROM {t} AS t USING discogs_merged_roles m WHERE {same} AND t.ctid <> m.keep"
        ).format(t=table, same=same)
    )
    deleted = cur.rowcount
    cur.execute(
        sql.SQL(
            "UPDATE {t} AS t SET role = m.role FROM discogs_merged_roles m "
            "WHERE t.ctid = m.keep AND m.role IS DISTINCT FROM t.role"
        ).format(t=table)
    )
    cur.execute("DROP TABLE discogs_merged_roles")
    return deleted
