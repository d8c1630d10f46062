"""The cache schema as SQLAlchemy 2 ORM models: the contract consumers import.

The Alembic chain (`alembic/versions`) creates exactly this; a test runs `alembic check`
against a migrated database to prove the two agree.

Long names and btree unique indexes: PostgreSQL rejects a btree entry over ~2700 bytes, so
the columns inside a unique key (`release_artist.artist_name`, `release_label.label_name`,
`release_track_artist.artist_name`) are `varchar(500)`: 500 characters are at most 2000
bytes of UTF-8. The loader truncates longer values to 500 characters and counts them; no
real Discogs name comes close.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAME_MAX = 500
"""Maximum characters of a name that is part of a unique key (see module docstring)."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CACHE_TABLES = (
    "release",
    "release_artist",
    "release_label",
    "release_track",
    "release_track_artist",
    "cache_metadata",
    "release_key",
    "track_key",
)
"""Every release table of the cache, parents first (children cascade from `release`);
the last two are derived (`lookup_tables`), so prune's swap trims them like the others."""


def trigram_index(name: str, column: Any) -> Index:
    """GIN trigram index on lower(f_unaccent(col)), the expression consumers search with."""
    return Index(
        name,
        func.lower(func.f_unaccent(column)).label("expr"),
        postgresql_using="gin",
        postgresql_ops={"expr": "gin_trgm_ops"},
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _release_fk() -> ForeignKey:
    return ForeignKey("release.id", ondelete="CASCADE")


class Release(Base):
    """One Discogs release (a pressing). `master_id` groups pressings of one album."""

    __tablename__ = "release"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    release_year: Mapped[int | None] = mapped_column(SmallInteger)
    country: Mapped[str | None] = mapped_column(Text)
    artwork_url: Mapped[str | None] = mapped_column(Text)
    master_id: Mapped[int | None] = mapped_column(Integer)

    artists: Mapped[list[ReleaseArtist]] = relationship(
        back_populates="release", cascade="all, delete-orphan", passive_deletes=True
    )
    labels: Mapped[list[ReleaseLabel]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    tracks: Mapped[list[ReleaseTrack]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ReleaseTrack.sequence",
    )
    track_artists: Mapped[list[ReleaseTrackArtist]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (Index("ix_release_master_id", "master_id"),)


class ReleaseArtist(Base):
    """An artist credit: extra=0 main artist, extra=1 from <extraartists>."""

    __tablename__ = "release_artist"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    artist_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    artist_id: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))

    release: Mapped[Release] = relationship(back_populates="artists")

    __table_args__ = (Index("ix_release_artist_artist_id", "artist_id"),)


class ReleaseLabel(Base):
    __tablename__ = "release_label"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    label_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    catno: Mapped[str | None] = mapped_column(Text)


class ReleaseTrack(Base):
    """A track; `sequence` is its 1-based place in document order (sub-tracks included)."""

    __tablename__ = "release_track"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    duration: Mapped[str | None] = mapped_column(Text)


class ReleaseTrackArtist(Base):
    __tablename__ = "release_track_artist"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    track_sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    artist_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)


class CacheMetadata(Base):
    """Where a release came from (`bulk_import` or `api_fetch`) and when."""

    __tablename__ = "cache_metadata"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    cached_at: Mapped[datetime] = mapped_column(
        TIMESTAMP(timezone=True), nullable=False, server_default=func.now()
    )
    source: Mapped[str] = mapped_column(Text, nullable=False)
    last_validated: Mapped[datetime | None] = mapped_column(TIMESTAMP(timezone=True))

    __table_args__ = (
        Index("ix_cache_metadata_cached_at", "cached_at"),
        Index("ix_cache_metadata_source", "source"),
    )


class ArtistAlias(Base):
    """Other names of a credited Discogs artist (its aliases and name variations).

    Written by `convert` from artists.xml (`artist_alias.csv`) for the artist ids credited
    on kept releases, so the classifier can see that a release credited to "P. Diddy"
    (id 2) belongs to a library's "Puff Daddy": the join is by artist id, never by name.
    """

    __tablename__ = "artist_alias"

    artist_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    alias_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)


class ReleaseKey(Base):
    """Derived: one row per main credit, (artist key, title key) -> release (exact lookups).

    Keys are `lookup_artist_key` / `lookup_title_key` (SQL twins of `normalize.artist_key`
    and `normalize_title`); `artist_folded` is lower(f_unaccent(artist_name)), the form the
    contract's trigram predicate compares. Kept by triggers (migration 0004), built by the
    load; never write it directly.
    """

    __tablename__ = "release_key"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    artist_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    artist_folded: Mapped[str] = mapped_column(Text, nullable=False)
    artist_key: Mapped[str] = mapped_column(Text, nullable=False)
    title_key: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (
        Index("ix_release_key_keys", "artist_key", "title_key"),
        Index("ix_release_key_artist_folded", "artist_folded"),
    )


class TrackKey(Base):
    """Derived: (artist key, track title key) -> (release, sequence), one row per artist of
    the track (its release's main artists and its own track artists)."""

    __tablename__ = "track_key"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    artist_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    artist_key: Mapped[str] = mapped_column(Text, nullable=False)
    title_key: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (Index("ix_track_key_keys", "artist_key", "title_key"),)


class LookupArtistName(Base):
    """Derived: each distinct `release_key.artist_folded` once, `refs` = its row count, with
    its own trigram index: the fuzzy artist search scans these instead of every credit."""

    __tablename__ = "lookup_artist_name"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    refs: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (
        Index(
            "ix_lookup_artist_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index("ix_lookup_artist_name_prefix", "name", postgresql_ops={"name": "text_pattern_ops"}),
    )


TITLE_PREFIX_INDEX = Index(
    "ix_release_title_prefix",
    func.lower(func.f_unaccent(Release.title)).label("expr"),
    postgresql_ops={"expr": "text_pattern_ops"},
)
"""Prefix autocomplete on release titles (`query.complete_titles`)."""

DERIVED_TABLES = ("release_key", "track_key", "lookup_artist_name")
"""Tables computed from the others (`lookup_tables`): the load builds them last."""

ALL_TABLES = (*CACHE_TABLES, "artist_alias", "lookup_artist_name")
"""Every table of the contract: the release tables, the artist aliases, the derived names."""

TRIGRAM_INDEXES = (
    trigram_index("ix_release_title_trgm", Release.title),
    trigram_index("ix_release_artist_artist_name_trgm", ReleaseArtist.artist_name),
    trigram_index("ix_release_track_title_trgm", ReleaseTrack.title),
    trigram_index("ix_release_track_artist_artist_name_trgm", ReleaseTrackArtist.artist_name),
    trigram_index("ix_artist_alias_alias_name_trgm", ArtistAlias.alias_name),
)
"""The contract's fuzzy-search indexes; `index` builds them after a bulk load."""

metadata = Base.metadata
__all__ = [
    "ALL_TABLES",
    "CACHE_TABLES",
    "DERIVED_TABLES",
    "NAME_MAX",
    "TRIGRAM_INDEXES",
    "ArtistAlias",
    "Base",
    "CacheMetadata",
    "LookupArtistName",
    "Release",
    "ReleaseArtist",
    "ReleaseKey",
    "ReleaseLabel",
    "ReleaseTrack",
    "ReleaseTrackArtist",
    "TrackKey",
    "metadata",
]
