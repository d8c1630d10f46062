"""Station catalog against a real MariaDB: export, artist list, label preferences, failures.

`make_catalog` builds the station's tables in the scratch database of `mysql_url` with the
awkward cases of an old catalog; the e2e tests reuse it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pymysql
import pytest
from sqlalchemy.engine import make_url

from discogs_cache.errors import DatabaseError
from discogs_cache.library.artists import build_artist_list
from discogs_cache.library.catalog import read_catalog
from discogs_cache.library.export import export_catalog
from discogs_cache.library.labels import extract_label_preferences, read_label_preferences

C1 = "\x81"  # MySQL latin1 byte 0x81 (undefined in cp1252)
GENRES = [(1, "Rock"), (2, "Jazz")]
FORMATS = [(1, "CD"), (2, "LP")]
CODES = [  # ID, GENRE_ID, PRESENTATION_NAME, CALL_LETTERS, CALL_NUMBERS
    (1, 1, "Björk", "BJ", 12),
    (2, 1, "Sigur Rós", "SI", 3),
    (3, 2, "Coltrane, John", "CO", 7),
    (4, 1, "Beatles, The", "BE", 1),
    (5, 1, "Velvet Underground", "VE", 2),
    (6, 1, "Lou Reed", "RE", 4),
    (7, 1, "Nico", "NI", 5),
    (8, 1, "Can", "CA", 6),
]
RELEASES = [  # ID, LIBRARY_CODE_ID, FORMAT_ID, TITLE, CALL_NUMBERS, ALTERNATE_ARTIST_NAME
    (1, 1, 1, "Homogenic", 1, None),
    (2, 2, 2, "Ágætis byrjun", 2, ""),
    (3, 3, 1, "A Love Supreme\t(Deluxe)", 3, "John Coltrane Quartet"),
    (4, 4, 2, "Line one\nline two \\ back\\slash\r\n", 4, None),
    (5, 1, 1, "\\N", 5, "Björk Guðmundsdóttir"),
    (6, 4, 99, "Missing Format", 6, "Fab Four"),  # dangling FORMAT_ID: not exported
    (7, 2, 1, 'Quote "it", comma; €5 and' + C1, 7, "Jónsi"),
]
ARTIST_XREFS = [(1, 5, 7), (2, 1, 99)]  # ID, CROSS_REFERENCING_ARTIST_ID, ..._LIBRARY_CODE_ID
RELEASE_XREFS = [(1, 6, 4), (2, 5, 1), (3, 8, 2)]  # ID, CROSS_REFERENCING_ARTIST_ID, ..._RELEASE_ID
FLOWSHEET = [  # ID, LIBRARY_RELEASE_ID, LABEL_NAME
    (1, 1, "One Little Indian"),
    (2, 1, "One Little Indian"),
    (3, 1, "Elektra"),
    (4, 2, ""),
    (5, 2, None),
    (6, 0, "Some Label"),
    (7, 3, "Impulse!"),
    (8, 4, "  Apple  "),
    (9, 7, 'Smekkleysa, "S.M."'),
    (10, 99999, "Ghost"),
    (11, 2, "Fat Cat"),
]

EXPECTED_LIBRARY = [
    (1, "Homogenic", "Björk", "BJ", "12", "1", "Rock", "CD", None),
    (2, "Ágætis byrjun", "Sigur Rós", "SI", "3", "2", "Rock", "LP", ""),
    (3, "A Love Supreme\t(Deluxe)", "Coltrane, John", "CO", "7", "3", "Jazz", "CD",
     "John Coltrane Quartet"),
    (4, "Line one\nline two \\ back\\slash\r\n", "Beatles, The", "BE", "1", "4", "Rock", "LP",
     None),
    (5, "\\N", "Björk", "BJ", "12", "5", "Rock", "CD", "Björk Guðmundsdóttir"),
    (7, 'Quote "it", comma; €5 and' + C1, "Sigur Rós", "SI", "3", "7", "Rock", "CD", "Jónsi"),
]  # fmt: skip
EXPECTED_LABELS = [
    ("Beatles, The", "Line one\nline two \\ back\\slash\r\n", "Apple"),
    ("Björk", "Homogenic", "Elektra"),
    ("Björk", "Homogenic", "One Little Indian"),
    ("Coltrane, John", "A Love Supreme\t(Deluxe)", "Impulse!"),
    ("Sigur Rós", 'Quote "it", comma; €5 and' + C1, 'Smekkleysa, "S.M."'),
    ("Sigur Rós", "Ágætis byrjun", "Fat Cat"),
]
LIBRARY_ARTISTS = ["Beatles, The", "Björk", "Coltrane, John", "Sigur Rós"]


def mysql_connect(url: str) -> pymysql.connections.Connection:
    p = make_url(url)
    return pymysql.connect(
        host=p.host or "127.0.0.1",
        port=p.port or 3306,
        user=p.username or "root",
        password=p.password or "",
        database=p.database,
        charset="utf8mb4",
        autocommit=True,
    )


def make_catalog(url: str, charset: str = "utf8mb4", title_type: str = "VARCHAR(255)") -> None:
    """The station's tables (text columns in `charset`) filled with the cases above."""
    text = f"VARCHAR(255) CHARACTER SET {charset}"
    tables = {
        "GENRE": ("ID INT PRIMARY KEY", f"REFERENCE_NAME {text}"),
        "FORMAT": ("ID INT PRIMARY KEY", f"REFERENCE_NAME {text}"),
        "LIBRARY_CODE": (
            "ID INT PRIMARY KEY",
            "GENRE_ID INT",
            f"PRESENTATION_NAME {text}",
            f"CALL_LETTERS {text}",
            "CALL_NUMBERS INT",
        ),
        "LIBRARY_RELEASE": (
            "ID INT PRIMARY KEY",
            "LIBRARY_CODE_ID INT",
            "FORMAT_ID INT",
            f"TITLE {title_type}",
            "CALL_NUMBERS INT",
            f"ALTERNATE_ARTIST_NAME {text}",
        ),
        "LIBRARY_CODE_CROSS_REFERENCE": (
            "ID INT PRIMARY KEY",
            "CROSS_REFERENCING_ARTIST_ID INT",
            "CROSS_REFERENCED_LIBRARY_CODE_ID INT",
        ),
        "RELEASE_CROSS_REFERENCE": (
            "ID INT PRIMARY KEY",
            "CROSS_REFERENCING_ARTIST_ID INT",
            "CROSS_REFERENCED_RELEASE_ID INT",
        ),
        "FLOWSHEET_ENTRY_PROD": (
            "ID INT PRIMARY KEY",
            "LIBRARY_RELEASE_ID INT",
            f"LABEL_NAME {text}",
        ),
    }
    rows = {
        "GENRE": GENRES,
        "FORMAT": FORMATS,
        "LIBRARY_CODE": CODES,
        "LIBRARY_RELEASE": RELEASES,
        "LIBRARY_CODE_CROSS_REFERENCE": ARTIST_XREFS,
        "RELEASE_CROSS_REFERENCE": RELEASE_XREFS,
        "FLOWSHEET_ENTRY_PROD": FLOWSHEET,
    }
    conn = mysql_connect(url)
    try:
        with conn.cursor() as cur:
            for name, columns in tables.items():
                cur.execute(f"CREATE TABLE {name} ({', '.join(columns)}) CHARACTER SET {charset}")
                marks = ", ".join(["%s"] * len(columns))
                cur.executemany(f"INSERT INTO {name} VALUES ({marks})", rows[name])
    finally:
        conn.close()


def with_charset(url: str, charset: str) -> str:
    return make_url(url).update_query_dict({"charset": charset}).render_as_string(False)


def library_rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT * FROM library ORDER BY id").fetchall()


@pytest.mark.parametrize("table_charset", ["utf8mb4", "latin1"])
@pytest.mark.parametrize("connection_charset", ["utf8mb4", "latin1"])
def test_export_round_trips_exactly(
    mysql_url: str, tmp_path: Path, table_charset: str, connection_charset: str
) -> None:
    make_catalog(mysql_url, table_charset)
    out = tmp_path / "library.db"
    summary = export_catalog(with_charset(mysql_url, connection_charset), out)
    assert library_rows(out) == EXPECTED_LIBRARY
    assert (summary.rows, summary.skipped, summary.charset) == (6, 1, connection_charset)
    assert (summary.decode_fallbacks, summary.unrepresentable) == (0, 0)
    assert summary.warnings == [
        "1 LIBRARY_RELEASE row(s) have no matching LIBRARY_CODE, FORMAT or GENRE and were not "
        "exported"
    ]
    assert [e.title for e in read_catalog(out)] == [r[1] for r in EXPECTED_LIBRARY]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["library.db"]  # no temp file left


def test_export_builds_an_accent_insensitive_fts_index(mysql_url: str, tmp_path: Path) -> None:
    make_catalog(mysql_url)
    out = tmp_path / "library.db"
    export_catalog(mysql_url, out)
    with sqlite3.connect(out) as db:

        def search(text: str) -> list[int]:
            query = "SELECT rowid FROM library_fts WHERE library_fts MATCH ? ORDER BY rowid"
            return [r[0] for r in db.execute(query, (text,))]

        assert search("bjork") == [1, 5]  # artist, accents stripped
        assert search("agaetis") == []  # æ is a letter of its own, not a + e
        assert search("ágætis") == [2]
        assert search("alternate_artist_name:gudmundsdottir") == []
        assert search("alternate_artist_name:guðmundsdottir") == [5]
        assert search("title:supreme") == [3]
        assert search("jonsi") == [7]


def test_export_counts_characters_a_latin1_connection_cannot_carry(
    mysql_url: str, tmp_path: Path
) -> None:
    make_catalog(mysql_url)
    conn = mysql_connect(mysql_url)
    with conn.cursor() as cur:
        cur.execute("UPDATE LIBRARY_RELEASE SET TITLE = %s WHERE ID = 1", ("東京事変",))
    conn.close()
    out = tmp_path / "library.db"
    summary = export_catalog(with_charset(mysql_url, "latin1"), out)
    assert summary.unrepresentable == 1
    assert library_rows(out)[0][1] == "????"  # what the server sent, now reported
    assert any("cannot carry" in w and "utf8mb4" in w for w in summary.warnings)
    # the same catalog over utf8mb4 is exact and clean
    summary = export_catalog(mysql_url, out)
    assert (summary.unrepresentable, library_rows(out)[0][1]) == (0, "東京事変")


def test_export_counts_bytes_invalid_in_the_connection_charset(
    mysql_url: str, tmp_path: Path
) -> None:
    """An old schema with binary titles holding latin-1 bytes: decoded as latin-1, counted."""
    make_catalog(mysql_url, title_type="VARBINARY(255)")
    conn = mysql_connect(mysql_url)
    with conn.cursor() as cur:
        cur.execute("UPDATE LIBRARY_RELEASE SET TITLE = UNHEX('436166E9') WHERE ID = 1")  # Caf\xe9
    conn.close()
    out = tmp_path / "library.db"
    summary = export_catalog(mysql_url, out)
    rows = library_rows(out)
    assert rows[0][1] == "Café"
    assert [r[1] for r in rows[1:]] == [r[1] for r in EXPECTED_LIBRARY[1:]]  # valid utf-8
    assert summary.decode_fallbacks == 1
    assert any("LIBRARY_RELEASE.ID=1" in w and "latin-1" in w for w in summary.warnings)


def test_artist_list_with_mysql_counts_each_source(mysql_url: str, tmp_path: Path) -> None:
    make_catalog(mysql_url)
    out = tmp_path / "library.db"
    export_catalog(mysql_url, out)
    result = build_artist_list(out, mysql_url)
    assert result.added == {
        "library": 4,
        "alternate_names": 4,  # incl. "Fab Four" of the release the export skipped
        "artist_cross_references": 2,  # Velvet Underground and Nico (both sides)
        "release_cross_references": 2,  # Lou Reed, Can (Velvet Underground already there)
    }
    assert result.names == [
        "Beatles, The",
        "Björk",
        "Björk Guðmundsdóttir",
        "Can",
        "Coltrane, John",
        "Fab Four",
        "John Coltrane Quartet",
        "Jónsi",
        "Lou Reed",
        "Nico",
        "Sigur Rós",
        "Velvet Underground",
    ]
    assert (result.decode_fallbacks, result.unrepresentable, result.warnings) == (0, 0, [])


def test_artist_list_over_latin1_connection_is_identical(mysql_url: str, tmp_path: Path) -> None:
    make_catalog(mysql_url, "latin1")
    out = tmp_path / "library.db"
    export_catalog(mysql_url, out)
    utf8 = build_artist_list(out, mysql_url)
    latin1 = build_artist_list(out, with_charset(mysql_url, "latin1"))
    assert (latin1.names, latin1.added) == (utf8.names, utf8.added)
    assert latin1.charset == "latin1"


def test_artist_list_without_mysql_uses_library_db_alternates(
    mysql_url: str, tmp_path: Path
) -> None:
    make_catalog(mysql_url)
    out = tmp_path / "library.db"
    export_catalog(mysql_url, out)
    result = build_artist_list(out)
    assert result.added == {"library": 4, "alternate_names": 3}
    assert result.names == [
        "Beatles, The",
        "Björk",
        "Björk Guðmundsdóttir",
        "Coltrane, John",
        "John Coltrane Quartet",
        "Jónsi",
        "Sigur Rós",
    ]


@pytest.mark.parametrize("connection_charset", ["utf8mb4", "latin1"])
def test_label_preferences_from_the_flowsheet(mysql_url: str, connection_charset: str) -> None:
    make_catalog(mysql_url, "latin1")
    result = extract_label_preferences(with_charset(mysql_url, connection_charset))
    assert [tuple(p) for p in result.prefs] == EXPECTED_LABELS
    assert result.flowsheet_rows == 7  # '' / NULL labels, release id 0, unknown release: out
    assert result.warnings == []
    assert read_label_preferences(mysql_url) == result.prefs


@pytest.mark.parametrize("step", ["export", "labels"])
def test_missing_table_is_a_one_line_error(mysql_url: str, tmp_path: Path, step: str) -> None:
    out = tmp_path / "library.db"
    with pytest.raises(DatabaseError) as info:
        if step == "export":
            export_catalog(mysql_url, out)
        else:
            extract_label_preferences(mysql_url)
    message = str(info.value)
    assert "\n" not in message
    assert "(1146)" in message and "doesn't exist" in message
    assert list(tmp_path.iterdir()) == []


def test_artists_missing_cross_reference_table(mysql_url: str, tmp_path: Path) -> None:
    make_catalog(mysql_url)
    out = tmp_path / "library.db"
    export_catalog(mysql_url, out)
    conn = mysql_connect(mysql_url)
    with conn.cursor() as cur:
        cur.execute("DROP TABLE RELEASE_CROSS_REFERENCE")
    conn.close()
    with pytest.raises(DatabaseError, match=r"RELEASE_CROSS_REFERENCE' doesn't exist"):
        build_artist_list(out, mysql_url)


def test_wrong_password_is_redacted_and_writes_nothing(mysql_url: str, tmp_path: Path) -> None:
    make_catalog(mysql_url)
    out = tmp_path / "library.db"
    out.write_bytes(b"previous export")
    bad = make_url(mysql_url).set(password="s3cr3t-pw").render_as_string(hide_password=False)
    for call in (lambda: export_catalog(bad, out), lambda: extract_label_preferences(bad)):
        with pytest.raises(DatabaseError) as info:
            call()
        assert "s3cr3t-pw" not in str(info.value)
        assert "(1045) Access denied" in str(info.value)
    assert out.read_bytes() == b"previous export"  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["library.db"]
