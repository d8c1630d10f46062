"""SQL building blocks shared by the lookups: the indexed expression and per-call settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from discogs_cache.errors import InputError
from discogs_cache.schema import ReleaseArtist

Bind = sa.Engine | sa.Connection
"""What every lookup accepts: an Engine (own transaction) or a Connection (the caller's)."""


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


def main_artists(release_id: Any) -> Any:
    return names(
        ReleaseArtist.artist_name, ReleaseArtist.release_id == release_id, ReleaseArtist.extra == 0
    )


# -- transactions -------------------------------------------------------------------------


@contextmanager
def session(bind: Bind, threshold: float | None = None) -> Iterator[sa.Connection]:
    """A connection in a transaction with the per-call similarity threshold in force."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise InputError(f"similarity threshold must be between 0 and 1, got {threshold}")
    if isinstance(bind, sa.Engine):
        with bind.begin() as conn:
            set_threshold(conn, threshold)
            yield conn
        return
    if not bind.in_transaction():
        with bind.begin():
            set_threshold(bind, threshold)
            yield bind
        return
    # Inside the caller's transaction: SET LOCAL would outlive this call, so put it back.
    previous = None
    if threshold is not None:
        previous = bind.scalar(sa.text("SELECT current_setting('pg_trgm.similarity_threshold')"))
    set_threshold(bind, threshold)
    yield bind
    if previous is not None:
        set_threshold(bind, float(previous))


def set_threshold(conn: sa.Connection, threshold: float | None) -> None:
    if threshold is not None:
        conn.execute(
            sa.text("SELECT set_config('pg_trgm.similarity_threshold', :value, true)"),
            {"value": str(threshold)},
        )


def check_limit(limit: int) -> None:
    if limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")


def clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None
