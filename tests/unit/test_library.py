"""Station catalog pieces that need no server: URLs, decoding, the list and CSV files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from discogs_cache.errors import DatabaseError, InputError
from discogs_cache.library.artists import build_artist_list, clean_name, write_artist_list
from discogs_cache.library.export import SQLITE_SCHEMA
from discogs_cache.library.labels import (
    LabelPreference,
    read_label_preferences_csv,
    write_label_preferences_csv,
)
from discogs_cache.library.mysql import Decoder, connect, connect_kwargs, mysql_errors


def test_connect_kwargs_parse_the_url() -> None:
    kwargs = connect_kwargs("mysql://dj:p%40ss@db.example:3307/wxycmusic?charset=latin1")
    assert kwargs["host"] == "db.example"
    assert kwargs["port"] == 3307
    assert (kwargs["user"], kwargs["password"]) == ("dj", "p@ss")
    assert (kwargs["database"], kwargs["charset"]) == ("wxycmusic", "latin1")
    assert kwargs["use_unicode"] is False
    assert connect_kwargs("mysql+pymysql://u@h/db")["charset"] == "utf8mb4"


@pytest.mark.parametrize(
    "url, message",
    [
        ("postgresql://u:topsecret@h/db", "not a MySQL URL"),
        ("mysql://u:topsecret@h", "names no database"),
        ("mysql://u:topsecret@h/db?charset=klingon", "unknown MySQL charset"),
        ("not a url at all topsecret", "not a MySQL URL"),
    ],
)
def test_bad_urls_are_input_errors_without_the_password(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        connect_kwargs(url)
    if "://" in url:
        assert "topsecret" not in str(info.value)


def test_unreachable_server_is_a_one_line_database_error() -> None:
    url = "mysql://dj:topsecret@127.0.0.1:1/db"  # port 1: nothing listens
    with pytest.raises(DatabaseError) as info:
        connect(url)
    message = str(info.value)
    assert message.startswith("cannot connect to MySQL at 127.0.0.1:1/db: (2003)")
    assert "topsecret" not in message and "\n" not in message


def test_mysql_errors_redacts_urls_in_driver_messages() -> None:
    import pymysql

    with pytest.raises(DatabaseError) as info, mysql_errors("mysql://u:pw@h:1/db", "reading"):
        raise pymysql.err.OperationalError(1, "failed for mysql://u:pw@h:1/db\nsecond line")
    assert str(info.value) == "reading at h:1/db: (1) failed for mysql://u:***@h:1/db"


def test_latin1_decodes_like_mysql_including_cp1252_holes() -> None:
    decoder = Decoder("latin1")
    assert decoder.text(b"Caf\xe9 \x80 \x81\x8d\x8f\x90\x9d") == "Café € \x81\x8d\x8f\x90\x9d"
    assert decoder.fallbacks == 0


def test_utf8_fallback_is_counted_with_where() -> None:
    decoder = Decoder("utf8mb4")
    assert decoder.text("Björk".encode()) == "Björk"
    assert decoder.text(b"Caf\xe9", "ID=7") == "Café"
    assert decoder.row([1, None, b"\\N", b"a\tb\nc\\"], "ID=8") == [1, None, "\\N", "a\tb\nc\\"]
    assert decoder.fallbacks == 1
    assert decoder.describe_fallbacks() == (
        "1 value(s) were not valid utf8mb4 and were decoded as latin-1 (first: ID=7)"
    )


def test_clean_name_keeps_one_name_per_line() -> None:
    assert clean_name("  Sun\tRa\n Arkestra ") == "Sun Ra Arkestra"
    assert clean_name(None) == clean_name("  ") == ""


def test_write_artist_list_is_utf8_one_per_line(tmp_path: Path) -> None:
    out = tmp_path / "library_artists.txt"
    assert write_artist_list(["Björk", "Line\nbreak", "", "東京事変"], out) == 3
    assert out.read_bytes() == "Björk\nLine break\n東京事変\n".encode()
    assert list(tmp_path.iterdir()) == [out]


def _library_db(path: Path, rows: list[tuple[int, str, str, str | None]]) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(SQLITE_SCHEMA)
        db.executemany(
            "INSERT INTO library (id, title, artist, alternate_artist_name) VALUES (?, ?, ?, ?)",
            rows,
        )
    return path


def test_artist_list_from_library_db_alone(tmp_path: Path) -> None:
    db = _library_db(
        tmp_path / "library.db",
        [
            (1, "Homogenic", "Björk", None),
            (2, "Post", "Björk", "Björk Guðmundsdóttir"),
            (3, "Debut", " Björk ", ""),
            (4, "Kind of Blue", "Davis, Miles", "Miles Davis Quintet"),
            (5, "Bitches Brew", "Davis, Miles", "Davis, Miles"),
        ],
    )
    result = build_artist_list(db)
    assert result.names == [
        "Björk",
        "Björk Guðmundsdóttir",
        "Davis, Miles",
        "Miles Davis Quintet",
    ]
    assert result.added == {"library": 2, "alternate_names": 2}
    assert result.charset is None


def test_artist_list_of_a_non_library_file_is_an_input_error(tmp_path: Path) -> None:
    bogus = tmp_path / "library.db"
    bogus.write_text("not sqlite")
    with pytest.raises(InputError, match=r"library\.db"):
        build_artist_list(bogus)


def test_label_csv_round_trips_awkward_values(tmp_path: Path) -> None:
    prefs = [
        LabelPreference("Beatles, The", "Line one\nline two \\ back\\slash\r\n", "Apple"),
        LabelPreference("Sigur Rós", 'Quote "it"', 'Smekkleysa, "S.M."'),
        LabelPreference("\\N", "\t", "NULL"),
    ]
    out = tmp_path / "library_labels.csv"
    assert write_label_preferences_csv(prefs, out) == 3
    assert read_label_preferences_csv(out) == prefs
    assert out.read_bytes().startswith(b"artist_name,release_title,label_name\r\n")
    assert list(tmp_path.iterdir()) == [out]
