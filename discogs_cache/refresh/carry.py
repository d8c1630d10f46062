"""What consumers wrote, carried from the live cache into the new one by the publish.

Two passes (`publish`): the first before any lock, committed into the shadow, does the bulk;
the second runs in the publish transaction after the live tables are locked, so it sees
every write that committed before the publish (those made while the build ran included)
and no write can slip in between it and the swap; it only finds what changed since the
first. Three kinds, counted apart (each release once over both passes):

- `api_fetch`: releases whose live `cache_metadata.source` is 'api_fetch' and that the new
  build does not contain, copied with every child row (skipped with `drop_api_fetched`);
- `recent`: api_fetch releases written since the build started that the build does
  contain: the consumer's copy came from the API after the dump was cut, so it replaces
  the build's, children included;
- `artwork`: releases in both whose new `artwork_url` is empty while the live one is not
  (dumps carry no artwork): the live artwork columns win. The artwork columns are whichever
  of `ARTWORK_COLUMNS` the release table has, so check stamps and not-found tombstones
  follow when a migration adds them; `checked` counts the rows that carried only those.

The child tables are read from the catalog (every table with a one-column foreign key to
`release`, that the build also produced), so tables added by later migrations follow
without a change here; a table the build does not produce is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql

from discogs_cache import lookup_tables

ARTWORK_COLUMNS = ("artwork_url", "artwork_checked_at", "not_found")
"""Release columns a consumer or the artwork top-up writes; the dump never fills them."""

_CARRY = "discogs_carry_ids"


@dataclass
class CarrySummary:
    api_fetch_ids: set[int] = field(default_factory=set)
    recent_ids: set[int] = field(default_factory=set)
    artwork: int = 0
    checked: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    """Child rows copied per table, for the carried releases."""

    @property
    def api_fetch(self) -> int:
        return len(self.api_fetch_ids)

    @property
    def recent(self) -> int:
        return len(self.recent_ids - self.api_fetch_ids)

    def add(self, later: CarrySummary) -> CarrySummary:
        """This pass and a `later` one over the same build, each release counted once (a
        release carried as missing, then rewritten, is still one api_fetch release)."""
        rows = {t: self.rows.get(t, 0) + later.rows.get(t, 0) for t in {*self.rows, *later.rows}}
        return CarrySummary(
            self.api_fetch_ids | later.api_fetch_ids,
            self.recent_ids | later.recent_ids,
            self.artwork + later.artwork,
            self.checked + later.checked,
            rows,
        )

    def counts(self) -> dict[str, int]:
        return {
            "api_fetch": self.api_fetch,
            "recent": self.recent,
            "artwork": self.artwork,
            "checked": self.checked,
        }


def columns(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
        (sql.Identifier(schema, table).as_string(conn),),
    ).fetchall()
    return [r[0] for r in rows]


def release_children(
    conn: psycopg.Connection, live: str, built: list[str]
) -> list[tuple[str, str]]:
    """(table, column) of every one-column foreign key to live `release` from a built table."""
    rows = conn.execute(
        "SELECT c.relname, a.attname FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
        "WHERE k.contype = 'f' AND cardinality(k.conkey) = 1 AND k.confrelid = %s::regclass "
        "ORDER BY c.relname",
        (sql.Identifier(live, "release").as_string(conn),),
    ).fetchall()
    return [(t, col) for t, col in rows if t in built and t != "release"]


def _shared(conn: psycopg.Connection, live: str, new: str, table: str) -> sql.Composable:
    new_cols = columns(conn, new, table)
    live_cols = set(columns(conn, live, table))
    return sql.SQL(", ").join(sql.Identifier(c) for c in new_cols if c in live_cols)


def carry_over(
    conn: psycopg.Connection,
    live: str,
    new: str,
    built: list[str],
    since: datetime,
    *,
    drop_api_fetched: bool = False,
) -> CarrySummary:
    """Copy what consumers wrote from schema `live` into schema `new` (see module doc);
    joins the caller's transaction. `since`: api_fetch rows cached from then on replace the
    build's copy (the build's start; for a second pass, a little before the first one)."""
    summary = CarrySummary()
    if "release" not in built or "cache_metadata" not in built:
        return summary
    ids = sql.Identifier(_CARRY)
    q = {
        "ids": ids,
        "lm": sql.Identifier(live, "cache_metadata"),
        "nr": sql.Identifier(new, "release"),
        "lr": sql.Identifier(live, "release"),
    }
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {ids} (id integer PRIMARY KEY, recent boolean NOT NULL)"
            " ON COMMIT DROP"
        ).format(**q)
    )
    if not drop_api_fetched:
        conn.execute(
            sql.SQL(
                "INSERT INTO {ids} SELECT m.release_id, false FROM {lm} m"
                " WHERE m.source = 'api_fetch'"
                " AND NOT EXISTS (SELECT FROM {nr} n WHERE n.id = m.release_id)"
            ).format(**q)
        )
    conn.execute(
        sql.SQL(
            "INSERT INTO {ids} SELECT m.release_id, true FROM {lm} m"
            " WHERE m.source = 'api_fetch' AND m.cached_at >= %s"
            " AND EXISTS (SELECT FROM {nr} n WHERE n.id = m.release_id) ON CONFLICT DO NOTHING"
        ).format(**q),
        (since,),
    )
    for rid, recent in conn.execute(sql.SQL("SELECT id, recent FROM {ids}").format(**q)):
        (summary.recent_ids if recent else summary.api_fetch_ids).add(int(rid))
    children = release_children(conn, live, built)
    if summary.api_fetch_ids or summary.recent_ids:
        _copy_releases(conn, live, new, children, summary)
    summary.artwork, summary.checked = _carry_artwork(conn, live, new)
    return summary


def _copy_releases(
    conn: psycopg.Connection,
    live: str,
    new: str,
    children: list[tuple[str, str]],
    summary: CarrySummary,
) -> None:
    """Replace the build's rows of the carried releases by the live ones, children too.

    The derived lookup rows (`release_key`, `track_key`) are release children and come
    along as they are, with the lookup triggers off; the distinct names of the new schema
    are then recounted there, so `lookup_tables.check` stays clean after a publish."""
    ids = sql.Identifier(_CARRY)
    lookup_tables.bulk(conn)
    for table, column in children:  # the build's children of a `recent` release go
        conn.execute(
            sql.SQL("DELETE FROM {t} WHERE {c} IN (SELECT id FROM {ids})").format(
                t=sql.Identifier(new, table), c=sql.Identifier(column), ids=ids
            )
        )
    conn.execute(
        sql.SQL("DELETE FROM {t} WHERE id IN (SELECT id FROM {ids})").format(
            t=sql.Identifier(new, "release"), ids=ids
        )
    )
    for table, column in [("release", "id"), *children]:
        cols = _shared(conn, live, new, table)
        cur = conn.execute(
            sql.SQL(
                "INSERT INTO {n} ({cols}) SELECT {cols} FROM {l}"
                " WHERE {c} IN (SELECT id FROM {ids})"
            ).format(
                n=sql.Identifier(new, table),
                l=sql.Identifier(live, table),
                cols=cols,
                c=sql.Identifier(column),
                ids=ids,
            )
        )
        summary.rows[table] = cur.rowcount
    path = conn.execute("SELECT current_setting('search_path')").fetchone()
    conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(new)))
    lookup_tables.recount_names(conn)  # turns the triggers back on
    conn.execute("SELECT set_config('search_path', %s, true)", (path[0] if path else "public",))


def _carry_artwork(conn: psycopg.Connection, live: str, new: str) -> tuple[int, int]:
    """Live artwork columns onto releases whose new artwork_url is empty; (with a URL,
    with only a check stamp or tombstone)."""
    present = set(columns(conn, live, "release")) & set(columns(conn, new, "release"))
    carried = [c for c in ARTWORK_COLUMNS if c in present]
    if "artwork_url" not in carried:
        return 0, 0
    has_url = sql.SQL("coalesce(l.artwork_url, '') <> ''")
    worth = [has_url]
    if "artwork_checked_at" in carried:
        worth.append(sql.SQL("l.artwork_checked_at IS NOT NULL"))
    if "not_found" in carried:
        worth.append(sql.SQL("l.not_found IS TRUE"))
    rows = conn.execute(
        sql.SQL(
            "UPDATE {n} n SET {sets} FROM {l} l WHERE l.id = n.id"
            " AND coalesce(n.artwork_url, '') = '' AND ({worth})"
            " AND NOT EXISTS (SELECT FROM {ids} x WHERE x.id = n.id)"
            " RETURNING {has_url}"
        ).format(
            n=sql.Identifier(new, "release"),
            l=sql.Identifier(live, "release"),
            sets=sql.SQL(", ").join(
                sql.SQL("{c} = l.{c}").format(c=sql.Identifier(c)) for c in carried
            ),
            worth=sql.SQL(" OR ").join(worth),
            ids=sql.Identifier(_CARRY),
            has_url=has_url,
        )
    ).fetchall()
    with_url = sum(1 for r in rows if r[0])
    return with_url, len(rows) - with_url
