"""SQL building blocks shared by the lookups: the indexed expression and per-call settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from discogs_cache.errors import CacheError, InputError
from discogs_cache.schema import LookupArtistName, ReleaseArtist, ReleaseKey

Bind = sa.Engine | sa.Connection
"""What every lookup accepts: an Engine (own transaction) or a Connection (the caller's)."""

DEFAULT_TIMEOUT = 2.0
"""Seconds a lookup's statements may run (statement_timeout) unless the call says otherwise."""


PLANNER: dict[str, str | None] = {"random_page_cost": "1.1"}
"""Planner settings of every lookup (transaction-local): a cache lives in memory, so a
random read costs about what a sequential one does (1.1 instead of 4). With the default the
planner prefers scanning a whole table in key order to a few hundred index probes."""


class LookupTimeout(CacheError):
    """A lookup ran past its statement timeout (the server cancelled it)."""


def folded(expr: Any) -> Any:
    """lower(f_unaccent(expr)): the indexed expression (schema.trigram_index)."""
    return func.lower(func.f_unaccent(expr))


def folded_param(name: str) -> Any:
    return folded(sa.bindparam(name, type_=sa.Text))


def matches(column: Any, name: str) -> Any:
    """`lower(f_unaccent(column)) % lower(f_unaccent(:name))`: answered by the GIN index."""
    return folded(column).op("%", is_comparison=True)(folded_param(name))


def similarity(column: Any, name: str) -> Any:
    return func.similarity(folded(column), folded_param(name))


def names(column: Any, *where: Any) -> Any:
    """ARRAY of the names matching `where`, alphabetical (the cache keeps no credit order)."""
    agg = func.array_agg(aggregate_order_by(column, column))
    return select(agg).where(*where).scalar_subquery()


def credited(name: str, within: Any = None, param: str = "artist") -> Any:
    """(release_id, best score) of releases with a main artist matching :param.

    The contract's predicate on release_artist, answered from the distinct folded names:
    `lookup_artist_name.name` is lower(f_unaccent(artist_name)) of the credits that
    `release_key` carries (one row per main credit), so the same credits match with the
    same similarity, but the trigram scan covers each name once. `within` (a SELECT of
    release ids, the exact-key candidates) tests only those releases' credits instead.
    """
    if within is not None:
        return (
            select(
                ReleaseKey.release_id,
                func.max(func.similarity(ReleaseKey.artist_folded, folded_param(param))).label(
                    "score"
                ),
            )
            .where(
                ReleaseKey.release_id.in_(within),
                ReleaseKey.artist_folded.op("%", is_comparison=True)(folded_param(param)),
            )
            .group_by(ReleaseKey.release_id)
            .subquery(name)
        )
    names = (
        select(
            LookupArtistName.name,
            func.similarity(LookupArtistName.name, folded_param(param)).label("score"),
        )
        .where(LookupArtistName.name.op("%", is_comparison=True)(folded_param(param)))
        .subquery(f"{name}_names")
    )
    return (
        select(ReleaseKey.release_id, func.max(names.c.score).label("score"))
        .join(names, ReleaseKey.artist_folded == names.c.name)
        .group_by(ReleaseKey.release_id)
        .subquery(name)
    )


def main_artists(release_id: Any) -> Any:
    return names(
        ReleaseArtist.artist_name, ReleaseArtist.release_id == release_id, ReleaseArtist.extra == 0
    )


# -- transactions -------------------------------------------------------------------------


@contextmanager
def session(
    bind: Bind, threshold: float | None = None, timeout: float | None = DEFAULT_TIMEOUT
) -> Iterator[sa.Connection]:
    """A connection in a transaction with the per-call similarity threshold and statement
    timeout in force (None: the server's); LookupTimeout when a statement runs past it."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise InputError(f"similarity threshold must be between 0 and 1, got {threshold}")
    if timeout is not None and not timeout > 0:
        raise InputError(f"timeout must be positive, got {timeout}")
    settings = {"pg_trgm.similarity_threshold": None if threshold is None else str(threshold)}
    settings["statement_timeout"] = None if timeout is None else f"{max(1, round(timeout * 1000))}"
    settings.update(PLANNER)
    try:
        if isinstance(bind, sa.Engine):
            with bind.begin() as conn:
                _apply(conn, settings)
                yield conn
        elif not bind.in_transaction():
            with bind.begin():
                _apply(bind, settings)
                yield bind
        else:
            # Inside the caller's transaction: SET LOCAL would outlive this call, so put it back.
            previous = {
                k: bind.scalar(sa.text("SELECT current_setting(:k)"), {"k": k})
                for k, v in settings.items()
                if v is not None
            }
            _apply(bind, settings)
            yield bind
            _apply(bind, previous)
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled
            raise LookupTimeout(
                f"lookup cancelled after its {timeout:g} s statement timeout "
                "(narrow the query or pass a larger timeout)"
            ) from None
        raise


def _apply(conn: sa.Connection, settings: dict[str, str | None]) -> None:
    """Every setting for this transaction only, in one round trip."""
    given = [(k, v) for k, v in settings.items() if v is not None]
    if given:
        calls = ", ".join(f"set_config(:k{i}, :v{i}, true)" for i in range(len(given)))
        params = {f"{p}{i}": x for i, kv in enumerate(given) for p, x in zip("kv", kv, strict=True)}
        conn.execute(sa.text(f"SELECT {calls}"), params)  # placeholders only, no user data


def check_limit(limit: int) -> None:
    if limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")


def clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None
