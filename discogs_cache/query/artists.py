"""Artist search through credits and aliases, and prefix autocomplete on artists and titles.

`search_artists` runs the contract's predicate on three name sets, each on its own trigram
index: the distinct folded main-artist names (`lookup_artist_name`), the aliases
(`artist_alias`) and the name variations (`artist_name_variation`) of credited artists.
Autocomplete matches the folded prefix (case and accents ignored) with a btree range, so it
stays an index scan however the plan is cached.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from discogs_cache.errors import InputError
from discogs_cache.query._sql import DEFAULT_TIMEOUT, Bind, check_limit, clean, session

COMPLETE_LIMIT = 10
_Q = "lower(f_unaccent(:name))"

_ARTISTS = sa.text(
    f"""
SELECT name, via, artist_id, score FROM (
    SELECT (SELECT min(k.artist_name) FROM release_key k WHERE k.artist_folded = n.name) AS name,
           'credit' AS via, NULL::integer AS artist_id, similarity(n.name, {_Q}) AS score
    FROM lookup_artist_name n WHERE n.name % {_Q}
    UNION ALL
    SELECT a.alias_name, 'alias', a.artist_id, similarity(lower(f_unaccent(a.alias_name)), {_Q})
    FROM artist_alias a WHERE lower(f_unaccent(a.alias_name)) % {_Q}
    UNION ALL
    SELECT v.name, 'variation', v.artist_id, similarity(lower(f_unaccent(v.name)), {_Q})
    FROM artist_name_variation v WHERE lower(f_unaccent(v.name)) % {_Q}
) found
ORDER BY score DESC, via, name, artist_id
LIMIT :limit
"""
)

_PREFIX = "lower(f_unaccent(:prefix))"
_RANGE = "{col} ~>=~ {p} AND {col} ~<~ ({p} || chr(1114111))"  # every text starting with p

_COMPLETE_ARTISTS = sa.text(
    f"""
SELECT (SELECT min(k.artist_name) FROM release_key k WHERE k.artist_folded = n.name)
FROM lookup_artist_name n WHERE {_RANGE.format(col="n.name", p=_PREFIX)}
ORDER BY n.refs DESC, n.name LIMIT :limit
"""
)

_COMPLETE_TITLES = sa.text(
    f"""
SELECT min(title) FROM release
WHERE {_RANGE.format(col="lower(f_unaccent(title))", p=_PREFIX)}
GROUP BY lower(f_unaccent(title)) ORDER BY lower(f_unaccent(title)) LIMIT :limit
"""
)


@dataclass(frozen=True)
class ArtistMatch:
    """A name similar to the query: a main-artist credit (`via` "credit"; the name as one
    release credits it), an "alias" or a name "variation" of a credited artist
    (`artist_id`)."""

    name: str
    via: str
    artist_id: int | None
    score: float


def search_artists(
    bind: Bind,
    name: str,
    *,
    limit: int = 20,
    threshold: float | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> list[ArtistMatch]:
    """Artists whose credited name, alias or name variation is similar to `name`."""
    query = clean(name)
    if not query:
        raise InputError("artist search needs a name")
    check_limit(limit)
    with session(bind, threshold, timeout) as conn:
        rows = conn.execute(_ARTISTS, {"name": query, "limit": limit}).all()
    return [ArtistMatch(r.name, r.via, r.artist_id, float(r.score)) for r in rows]


def _complete(
    bind: Bind, statement: sa.TextClause, prefix: str, limit: int, timeout: float | None
) -> list[str]:
    if not (prefix or "").strip():
        raise InputError("autocomplete needs a prefix")
    check_limit(limit)
    with session(bind, timeout=timeout) as conn:
        return list(conn.execute(statement, {"prefix": prefix, "limit": limit}).scalars())


def complete_artists(
    bind: Bind, prefix: str, *, limit: int = COMPLETE_LIMIT, timeout: float | None = DEFAULT_TIMEOUT
) -> list[str]:
    """Main-artist names starting with `prefix` (case and accents ignored), most credited
    first."""
    return _complete(bind, _COMPLETE_ARTISTS, prefix, limit, timeout)


def complete_titles(
    bind: Bind, prefix: str, *, limit: int = COMPLETE_LIMIT, timeout: float | None = DEFAULT_TIMEOUT
) -> list[str]:
    """Release titles starting with `prefix` (case and accents ignored), alphabetical."""
    return _complete(bind, _COMPLETE_TITLES, prefix, limit, timeout)
