"""The ORM models carry the contract's constraints (the migrated side is checked in integration)."""

from __future__ import annotations

from discogs_cache import schema


def test_every_child_table_cascades_from_release() -> None:
    for name in schema.CACHE_TABLES[1:]:
        table = schema.metadata.tables[name]
        (fk,) = table.foreign_keys
        assert fk.column.table.name == "release"
        assert fk.ondelete == "CASCADE"


def test_consumer_conflict_targets_are_unique_keys() -> None:
    pk = {name: [c.name for c in t.primary_key] for name, t in schema.metadata.tables.items()}
    assert pk["release"] == ["id"]
    assert pk["release_artist"] == ["release_id", "artist_name"]
    assert pk["cache_metadata"] == ["release_id"]


def test_names_in_unique_keys_are_bounded_for_btree() -> None:
    for table, column in [
        ("release_artist", "artist_name"),
        ("release_label", "label_name"),
        ("release_track_artist", "artist_name"),
        ("artist_alias", "alias_name"),
        ("release_genre", "genre"),
        ("release_style", "style"),
        ("artist_name_variation", "name"),
        ("artist_member", "member_name"),
        ("artist_url", "url"),
    ]:
        length = schema.metadata.tables[table].c[column].type.length  # type: ignore[attr-defined]
        assert length == schema.NAME_MAX
        assert length * 4 < 2704  # worst-case UTF-8 bytes stay under the btree entry limit


def test_six_trigram_indexes() -> None:
    assert len(schema.TRIGRAM_INDEXES) == 6
    for index in schema.TRIGRAM_INDEXES:
        assert index.dialect_options["postgresql"]["using"] == "gin"


def test_contract_v2_release_tables_are_keyed_by_release_first() -> None:
    for name in ("release_genre", "release_style", "release_video"):
        assert name in schema.CACHE_TABLES
        key = [c.name for c in schema.metadata.tables[name].primary_key]
        assert key[0] == "release_id"


def test_credit_keys_the_merge_triggers_rely_on() -> None:
    pk = {name: [c.name for c in t.primary_key] for name, t in schema.metadata.tables.items()}
    assert pk["release_label"] == ["release_id", "label_name", "catno"]
    assert pk["release_track_artist"] == ["release_id", "track_sequence", "artist_name", "extra"]
    catno = schema.metadata.tables["release_label"].c.catno
    assert catno.type.length == schema.CATNO_MAX  # type: ignore[attr-defined]
    assert (schema.NAME_MAX + schema.CATNO_MAX) * 4 < 2704  # one btree entry, worst case


def test_lookup_negative_is_never_loaded_or_swapped() -> None:
    assert "lookup_negative" in schema.metadata.tables
    assert "lookup_negative" not in schema.ALL_TABLES
    assert set(schema.ARTIST_TABLES) <= set(schema.ALL_TABLES)
    assert set(schema.metadata.tables) == {*schema.ALL_TABLES, "lookup_negative"}


def test_artwork_partial_index() -> None:
    table = schema.metadata.tables["release"]
    (index,) = (i for i in table.indexes if i.name == "ix_release_artwork_unchecked")
    assert [c.name for c in index.columns] == ["id"]
    where = str(index.dialect_options["postgresql"]["where"])
    assert where == "artwork_url IS NULL AND artwork_checked_at IS NULL"
