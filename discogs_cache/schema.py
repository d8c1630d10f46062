"""The cache schema as SQLAlchemy 2 ORM models: the contract consumers import.

The Alembic chain (`alembic/versions`) creates exactly this; a test runs `alembic check`
against a migrated database to prove the two agree.

Long names and btree unique indexes: PostgreSQL rejects a btree entry over ~2700 bytes, so
the columns inside a unique key (`release_artist.artist_name`, `release_label.label_name`,
`release_track_artist.artist_name`) are `varchar(500)`: 500 characters are at most 2000
bytes of UTF-8. The loader truncates longer values to 500 characters and counts them; no
real Discogs name comes close. `release_label`'s key also holds `catno`, so it is
`varchar(150)`: 4 * (500 + 150) bytes still fit one entry.

Credit tables and plain INSERTs: the station's lookup service inserts a release's credits
with plain INSERTs where one name can come twice (main artist and producer; one label with
two catalogue numbers). The keys stay narrow (SPEC's `ON CONFLICT (release_id, artist_name)`
needs exactly that key) and a BEFORE INSERT row trigger on `release_artist`, `release_label`
and `release_track_artist` (created by migration 0003, not part of these models) merges a
row whose key exists into the existing one and skips the insert; see the README, "How
consumers write".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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

CATNO_MAX = 150
"""Maximum characters of a catalogue number (part of `release_label`'s key)."""

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
    "release_genre",
    "release_style",
    "release_video",
    "cache_metadata",
)
"""Every release table of the cache, parents first (children cascade from `release`)."""


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
    released: Mapped[str | None] = mapped_column(Text)
    """The dump's raw `<released>` ("1999-03-00", "Unknown", ...)."""
    format: Mapped[str | None] = mapped_column(Text)
    """The first format's name ("Vinyl", "CD", ...)."""
    artwork_checked_at: Mapped[datetime | None] = mapped_column(TIMESTAMP(timezone=True))
    """When the API was last asked for this release's artwork (NULL: never)."""
    not_found: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    """A tombstone: the API answers 404 for this id (no child rows)."""

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
    genres: Mapped[list[ReleaseGenre]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    styles: Mapped[list[ReleaseStyle]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    videos: Mapped[list[ReleaseVideo]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ReleaseVideo.sequence"
    )

    __table_args__ = (
        Index("ix_release_master_id", "master_id"),
        Index(
            "ix_release_artwork_unchecked",
            "id",
            postgresql_where=text("artwork_url IS NULL AND artwork_checked_at IS NULL"),
        ),
    )


class ReleaseArtist(Base):
    """An artist credit: extra=0 main artist, extra=1 from <extraartists>."""

    __tablename__ = "release_artist"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    artist_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    artist_id: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    role: Mapped[str | None] = mapped_column(Text)
    """The credit's role ("Producer, Mixed By"); empty for a main credit."""

    release: Mapped[Release] = relationship(back_populates="artists")

    __table_args__ = (Index("ix_release_artist_artist_id", "artist_id"),)


class ReleaseLabel(Base):
    """A label credit; one label can come with several catalogue numbers ('' for none)."""

    __tablename__ = "release_label"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    label_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    catno: Mapped[str] = mapped_column(
        String(CATNO_MAX), primary_key=True, server_default=text("''")
    )
    label_id: Mapped[int | None] = mapped_column(Integer)


class ReleaseTrack(Base):
    """A track; `sequence` is its 1-based place in document order (sub-tracks included)."""

    __tablename__ = "release_track"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    duration: Mapped[str | None] = mapped_column(Text)


class ReleaseTrackArtist(Base):
    """A track credit: extra=0 the track's main artist, 1 from its <extraartists> (role
    "Written-By", ...)."""

    __tablename__ = "release_track_artist"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    track_sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    artist_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    extra: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False, server_default=text("0")
    )
    role: Mapped[str | None] = mapped_column(Text)


class ReleaseGenre(Base):
    __tablename__ = "release_genre"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    genre: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)


class ReleaseStyle(Base):
    __tablename__ = "release_style"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    style: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)


class ReleaseVideo(Base):
    """A video of the release, in document order; `duration` in seconds."""

    __tablename__ = "release_video"

    release_id: Mapped[int] = mapped_column(Integer, _release_fk(), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    src: Mapped[str] = mapped_column(Text, nullable=False)
    title: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[int | None] = mapped_column(Integer)
    embed: Mapped[bool | None] = mapped_column(Boolean)


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
    alias_id: Mapped[int | None] = mapped_column(Integer)
    """The alias's own artist id (NULL for a name variation)."""


class Artist(Base):
    """A Discogs artist credited on a cached release (not all of them: the cache is lean).

    Rows from the dump have `fetched_at` NULL (never fetched from the API); `not_found` is
    a tombstone for an id the API answers 404."""

    __tablename__ = "artist"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    profile: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime | None] = mapped_column(
        TIMESTAMP(timezone=True), server_default=func.now()
    )
    not_found: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))


class ArtistNameVariation(Base):
    __tablename__ = "artist_name_variation"

    artist_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)


class ArtistMember(Base):
    """A member of a group artist (`member_id` is the member's own artist id)."""

    __tablename__ = "artist_member"

    artist_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    member_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    member_id: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool | None] = mapped_column(Boolean)


class ArtistUrl(Base):
    __tablename__ = "artist_url"

    artist_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    url: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)


class LookupNegative(Base):
    """The lookup service's "Discogs has nothing for this" cache (a TTL per row). Written
    by consumers only: a load or refresh never touches it."""

    __tablename__ = "lookup_negative"

    key_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    artist: Mapped[str | None] = mapped_column(Text)
    track: Mapped[str | None] = mapped_column(Text)
    artist_as_keyword: Mapped[bool | None] = mapped_column(Boolean)
    attempted_at: Mapped[datetime] = mapped_column(
        TIMESTAMP(timezone=True), nullable=False, server_default=func.now()
    )
    ttl_seconds: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("604800"))

    __table_args__ = (Index("ix_lookup_negative_attempted_at", "attempted_at"),)


MERGE_TRIGGERS = {
    "release_artist": "release_artist_merge",
    "release_label": "release_label_merge",
    "release_track_artist": "release_track_artist_merge",
}
"""The credit tables' BEFORE INSERT merge triggers (migration 0003; not in the models):
table -> trigger. Bulk writers whose rows are unique already may disable them."""

ARTIST_TABLES = ("artist", "artist_alias", "artist_name_variation", "artist_member", "artist_url")
"""The artist tables, keyed by artist id (no foreign key: a CSV directory may bring
aliases without artists)."""

ALL_TABLES = (*CACHE_TABLES, *ARTIST_TABLES)
"""Every table a load builds and swaps: the release tables plus the artist tables.
`lookup_negative` is not one of them (consumers' data; the refresh keeps it)."""

TRIGRAM_INDEXES = (
    trigram_index("ix_release_title_trgm", Release.title),
    trigram_index("ix_release_artist_artist_name_trgm", ReleaseArtist.artist_name),
    trigram_index("ix_release_track_title_trgm", ReleaseTrack.title),
    trigram_index("ix_release_track_artist_artist_name_trgm", ReleaseTrackArtist.artist_name),
    trigram_index("ix_artist_name_trgm", Artist.name),
    trigram_index("ix_artist_name_variation_name_trgm", ArtistNameVariation.name),
)
"""The fuzzy-search indexes; `index` builds them after a bulk load."""

metadata = Base.metadata
__all__ = [
    "ALL_TABLES",
    "ARTIST_TABLES",
    "CACHE_TABLES",
    "CATNO_MAX",
    "MERGE_TRIGGERS",
    "NAME_MAX",
    "TRIGRAM_INDEXES",
    "Artist",
    "ArtistAlias",
    "ArtistMember",
    "ArtistNameVariation",
    "ArtistUrl",
    "Base",
    "CacheMetadata",
    "LookupNegative",
    "Release",
    "ReleaseArtist",
    "ReleaseGenre",
    "ReleaseLabel",
    "ReleaseStyle",
    "ReleaseTrack",
    "ReleaseTrackArtist",
    "ReleaseVideo",
    "metadata",
]
