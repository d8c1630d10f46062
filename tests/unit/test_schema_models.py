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
    ]:
        length = schema.metadata.tables[table].c[column].type.length  # type: ignore[attr-defined]
        assert length == schema.NAME_MAX
        assert length * 4 < 2704  # worst-case UTF-8 bytes stay under the btree entry limit


def test_five_trigram_indexes() -> None:
    assert len(schema.TRIGRAM_INDEXES) == 5
    for index in schema.TRIGRAM_INDEXES:
        assert index.dialect_options["postgresql"]["using"] == "gin"
