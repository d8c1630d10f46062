"""`load` against real PostgreSQL: edge cases, counts, transforms, atomicity, re-loads."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from discogs_cache.db import conninfo
from discogs_cache.errors import CacheError, InputError
from discogs_cache.load import load
from discogs_cache.load.staging import SPECS

RELEASE = "id,status,title,country,released,notes,data_quality,master_id,format\n"
ARTIST = "release_id,artist_id,artist_name,extra,anv,position,join_field\n"
LABEL = "release_id,label,catno\n"
TRACK = "release_id,sequence,position,title,duration\n"
TRACK_ARTIST = "release_id,track_sequence,artist_name\n"
IMAGE = "release_id,type,width,height,uri\n"
ALIAS = "artist_id,alias_name\n"
LONG = "X" * 600


def write(dir_: Path, name: str, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    (dir_ / f"{name}.csv").write_bytes(data)


def with_required(dir_: Path) -> Path:
    """`dir_` with the required release_artist.csv and release_track.csv (header only) where
    the test wrote none."""
    for name, header in (("release_artist", ARTIST), ("release_track", TRACK)):
        if not (dir_ / f"{name}.csv").exists():
            write(dir_, name, header)
    return dir_


def edge_case_csvs(dir_: Path) -> Path:
    """Every awkward input the loader must handle, with known expected outcomes."""
    write(dir_, "release", RELEASE
          + '1,Accepted,"Multi\nline, ""quoted""",US,1999-03-00,"notes\nhere",Correct,10,CD\n'
          + "2,Accepted,Back\\slash\tTab,UK,Unknown,,Correct,,Vinyl\n"
          + "3,Accepted,\\N,,1989,,Correct,0,CD\n"
          + "4,Accepted,,US,2001,,Correct,11,CD\n"  # empty title: skipped
          + '5,Accepted,"",US,2001,,Correct,11,CD\n'  # quoted empty title: skipped too
          + "6,Accepted,Only Secondary,JP,?,,Correct,12,CD\n"
          + "6,Accepted,Duplicate Id,JP,2000,,Correct,12,CD\n")  # fmt: skip
    write(dir_, "release_artist", ARTIST
          + "1,100,Artist A,1,,,\n"  # extra credit first ...
          + "1,100,Artist A,0,,1,\n"  # ... main credit of the same name wins
          + "1,0,Guest,1,,,\n"
          + "2,101,Café Tacvba,0,,1,\n"
          + f"2,102,{LONG},0,,2,\n"  # truncated to 500
          + "3,,,0,,1,\n"  # empty name: skipped
          + "99,103,Ghost,0,,1,\n")  # missing release: skipped  # fmt: skip
    # one label with two catalogue numbers: two rows; an exact repeat: a duplicate
    write(
        dir_,
        "release_label",
        LABEL + "1,Label X,CAT1\n1,Label X,CAT2\n1,Label X,CAT2\n2,Label Y,\n4,L,1\n",
    )
    write(dir_, "release_track", TRACK
          + '1,1,A1,"Song\nwith newline",3:00\n'
          + "1,2,A2,\\N,\n"
          + "1,3,,,\n"  # empty title: skipped
          + b"1,4,B1,Nul\x00Byte,1:00\n".decode()
          + "99,1,A1,Orphan,\n")  # fmt: skip
    write(dir_, "release_track_artist", TRACK_ARTIST + "1,1,Feat\n1,1,Feat\n98,1,Nobody\n")
    write(dir_, "release_image", IMAGE
          + "1,secondary,1,1,http://img/1-s.jpg\n1,primary,1,1,http://img/1-p.jpg\n"
          + "6,secondary,1,1,http://img/6-a.jpg\n6,secondary,1,1,http://img/6-b.jpg\n"
          + "2,primary,1,1,\n")  # fmt: skip
    write(dir_, "artist_alias", ALIAS + "100,Alias A\n100,Alias A\n101,\n")
    return dir_


def fetch(url: str, query: str) -> list[tuple]:
    with psycopg.connect(conninfo(url)) as conn:
        return conn.execute(query).fetchall()


@pytest.mark.parametrize("workers", [None, 1], ids=["default-lanes", "one-lane"])
def test_edge_cases_are_handled_and_counted(
    pg_url: str, tmp_path: Path, workers: int | None
) -> None:
    """Also with a single lane: every step must still get one (none waits while holding)."""
    summary = load(pg_url, edge_case_csvs(tmp_path), workers=workers)
    c = summary.counts
    assert (c("release").loaded, c("release").empty_required, c("release").duplicates) == (4, 2, 1)
    ra = c("release_artist")
    assert (ra.source_rows, ra.loaded, ra.empty_required, ra.missing_release) == (7, 4, 1, 1)
    assert (ra.duplicates, ra.truncated) == (1, 1)
    rl = c("release_label")
    assert (rl.loaded, rl.duplicates, rl.missing_release) == (3, 1, 1)
    rt = c("release_track")
    assert (rt.loaded, rt.empty_required, rt.missing_release) == (3, 1, 1)
    rta = c("release_track_artist")
    assert (rta.loaded, rta.duplicates, rta.missing_release) == (1, 1, 1)
    aa = c("artist_alias")
    assert (aa.loaded, aa.duplicates, aa.empty_required) == (1, 1, 1)
    assert summary.loaded("cache_metadata") == 4
    assert summary.nul_bytes == {"release_track.csv": 1}

    releases = fetch(pg_url, "SELECT id, title, release_year, country, artwork_url, master_id "
                             "FROM release ORDER BY id")  # fmt: skip
    assert releases == [
        (1, 'Multi\nline, "quoted"', 1999, "US", "http://img/1-p.jpg", 10),
        (2, "Back\\slash\tTab", None, "UK", None, None),
        (3, "\\N", 1989, None, None, None),
        (6, "Only Secondary", None, "JP", "http://img/6-a.jpg", 12),
    ]
    assert fetch(pg_url, "SELECT artist_name, artist_id, extra FROM release_artist "
                         "WHERE release_id = 1 ORDER BY 1") == [
        ("Artist A", 100, 0), ("Guest", None, 1)]  # fmt: skip
    assert fetch(pg_url, "SELECT length(artist_name) FROM release_artist WHERE artist_id = 102")[
        0
    ] == (500,)
    assert fetch(pg_url, "SELECT sequence, position, title, duration FROM release_track "
                         "ORDER BY sequence") == [
        (1, "A1", "Song\nwith newline", "3:00"),
        (2, "A2", "\\N", None),
        (4, "B1", "NulByte", "1:00"),
    ]  # fmt: skip
    assert fetch(pg_url, "SELECT DISTINCT source FROM cache_metadata") == [("bulk_import",)]


def test_releases_credits_and_tracks_are_required(pg_url: str, tmp_path: Path) -> None:
    write(tmp_path, "release", RELEASE + "7,Accepted,Lonely,US,2020-01-01,,Correct,,CD\n")
    summary = load(pg_url, with_required(tmp_path))
    assert summary.loaded("release") == 1
    optional = [s.filename for s in SPECS if not s.required]
    assert summary.missing_files == optional
    assert optional[:4] == [
        "release_label.csv", "release_track_artist.csv", "release_image.csv", "release_genre.csv"
    ]  # fmt: skip
    required = "(release.csv, release_artist.csv, release_track.csv are required; absent: "
    for name in ("release_track", "release_artist"):
        (tmp_path / f"{name}.csv").rename(tmp_path / f"{name}.bak")
        with pytest.raises(InputError) as err:
            load(pg_url, tmp_path, replace=True)
        assert str(err.value) == (
            f"{tmp_path / name}.csv: required file not found {required}{name}.csv)"
        )
        (tmp_path / f"{name}.bak").rename(tmp_path / f"{name}.csv")
    with pytest.raises(InputError) as err:
        load(pg_url, _empty_dir(tmp_path))
    assert str(err.value).endswith("absent: release.csv, release_artist.csv, release_track.csv)")
    assert fetch(pg_url, "SELECT id FROM release") == [(7,)], "nothing replaced"


def _empty_dir(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


def test_extra_columns_are_ignored(pg_url: str, tmp_path: Path) -> None:
    write(tmp_path, "release", "id,title,extra_col,released,country,master_id\n"
          "8,Reordered,zzz,1970,DE,5\n")  # fmt: skip
    load(pg_url, with_required(tmp_path))
    assert fetch(pg_url, "SELECT id, title, release_year, master_id FROM release") == [
        (8, "Reordered", 1970, 5)
    ]


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("release_track", TRACK + '1,1,A1,"unterminated,3:00\n1,2,A2,x,\n', "release_track.csv:"),
        ("release_track", "release_id,seq,title\n1,1,x\n", "release_track.csv:1: wrong header"),
        ("release_artist", ARTIST + "1,5\n", "release_artist.csv:2:"),
    ],
)
def test_malformed_csv_leaves_database_unchanged(
    pg_url: str, tmp_path: Path, name: str, text: str, where: str
) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    load(pg_url, edge_case_csvs(tmp_path / "good"))
    before = fetch(pg_url, "SELECT (SELECT count(*) FROM release), (SELECT count(*) FROM "
                           "release_track), (SELECT count(*) FROM release_artist)")  # fmt: skip
    bad = edge_case_csvs(tmp_path / "bad")
    write(bad, name, text)
    with pytest.raises(InputError) as err:
        load(pg_url, bad, replace=True)
    assert where in str(err.value)
    assert str(bad) in str(err.value)
    after = fetch(pg_url, "SELECT (SELECT count(*) FROM release), (SELECT count(*) FROM "
                          "release_track), (SELECT count(*) FROM release_artist)")  # fmt: skip
    assert after == before
    assert fetch(
        pg_url, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'discogs_load%'"
    ) == [(0,)]


def test_unterminated_quote_names_the_line_where_it_opened(pg_url: str, tmp_path: Path) -> None:
    write(
        tmp_path,
        "release",
        RELEASE
        + '1,A,"two\nlines ""q""",US,,,C,,CD\n'
        + '2,A,"open,US,,,C,,CD\n'
        + "".join(f"{i},A,T,US,,,C,,CD\n" for i in range(3, 9)),
    )
    with pytest.raises(InputError) as err:
        load(pg_url, with_required(tmp_path))
    assert str(err.value) == (
        f"{tmp_path / 'release.csv'}:4: malformed CSV: unterminated CSV quoted field"
        " (the quote opened on line 4 is never closed)"
    )
    assert fetch(pg_url, "SELECT count(*) FROM release") == [(0,)]


def test_refuses_to_load_twice_without_replace(pg_url: str, tmp_path: Path) -> None:
    csvs = edge_case_csvs(tmp_path)
    load(pg_url, csvs)
    with pytest.raises(CacheError, match="already holds 4 releases; use --replace"):
        load(pg_url, csvs)
    assert fetch(
        pg_url, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'discogs_load%'"
    ) == [(0,)]  # the COPYs already started were stopped, their schemas dropped
    summary = load(pg_url, csvs, replace=True)
    assert summary.loaded("release") == 4
    assert fetch(pg_url, "SELECT count(*) FROM release_track") == [(3,)]
    assert fetch(pg_url, "SELECT count(*) FROM cache_metadata") == [(4,)]


def test_loads_into_an_unmigrated_database(empty_pg_url: str, tmp_path: Path) -> None:
    summary = load(empty_pg_url, edge_case_csvs(tmp_path))
    assert summary.loaded("release") == 4


def test_track_duplicates_orphans_and_extra_columns(pg_url: str, tmp_path: Path) -> None:
    """release_track.csv takes the direct COPY path when its header is exact, staging when it
    has extra columns: the same rows and counts either way."""
    rows = ['1,1,A1,First,', '1,1,A1,Second,', '1,2,A2,"multi\nline ""q""",', "1,3,,,",
            "77,1,A,Orphan,"]  # fmt: skip
    results = []
    for name, header, body in (
        ("direct", TRACK, "".join(r + "\n" for r in rows)),
        ("staged", TRACK.replace("\n", ",bonus\n"), "".join(r + ",x\n" for r in rows)),
    ):
        dir_ = tmp_path / name
        dir_.mkdir()
        write(dir_, "release", RELEASE + "1,Accepted,T,US,2000,,Correct,,CD\n")
        write(dir_, "release_track", header + body)
        rt = load(pg_url, with_required(dir_), replace=True).counts("release_track")
        results.append(
            (rt.source_rows, rt.loaded, rt.empty_required, rt.missing_release, rt.duplicates)
        )
        assert fetch(pg_url, "SELECT sequence, title FROM release_track ORDER BY 1") == [
            (1, "First"),
            (2, 'multi\nline "q"'),
        ]
    assert results == [(5, 2, 1, 1, 1)] * 2


@pytest.mark.parametrize("workers", [None, 1], ids=["default-lanes", "one-lane"])
def test_names_too_long_for_a_direct_copy_are_truncated(
    pg_url: str, tmp_path: Path, workers: int | None
) -> None:
    """Files that go straight into their tables (exact headers) go through staging instead
    when a name does not fit the column: truncated and counted, as staged files are."""
    write(tmp_path, "release", RELEASE + "1,Accepted,T,US,2000,,Correct,,CD\n")
    write(tmp_path, "release_label", LABEL + f"1,{LONG},C1\n1,Short,C2\n")
    write(tmp_path, "release_track_artist", TRACK_ARTIST + f"1,1,{LONG}\n1,1,{LONG}y\n")
    write(tmp_path, "artist_alias", ALIAS + f"5,{LONG}\n5,Fits\n")
    summary = load(pg_url, with_required(tmp_path), workers=workers)
    counts = [summary.counts(t) for t in ("release_label", "release_track_artist", "artist_alias")]
    assert [(c.source_rows, c.loaded, c.truncated, c.duplicates) for c in counts] == [
        (2, 2, 1, 0),
        (2, 1, 2, 1),
        (2, 2, 1, 0),
    ]
    assert fetch(pg_url, "SELECT length(label_name) FROM release_label ORDER BY 1") == [
        (5,),
        (500,),
    ]
    assert fetch(pg_url, "SELECT length(artist_name) FROM release_track_artist") == [(500,)]


def test_replace_keeps_comments_extra_indexes_and_views(pg_url: str, tmp_path: Path) -> None:
    """What the swap cannot rebuild from the models survives a load; a view on a cache table
    (which blocks dropping it) makes the load copy rows in place instead."""
    with psycopg.connect(conninfo(pg_url), autocommit=True) as conn:
        conn.execute("COMMENT ON TABLE release_track IS 'tracks'")
        conn.execute("CREATE INDEX extra_track_duration ON release_track (duration)")
    load(pg_url, edge_case_csvs(tmp_path))
    kept = (
        "SELECT obj_description('release_track'::regclass, 'pg_class'), "
        "to_regclass('extra_track_duration') IS NOT NULL"
    )
    assert fetch(pg_url, kept) == [("tracks", True)]
    with psycopg.connect(conninfo(pg_url), autocommit=True) as conn:
        conn.execute("CREATE VIEW track_titles AS SELECT release_id, title FROM release_track")
    summary = load(pg_url, tmp_path, replace=True)
    assert summary.loaded("release_track") == 3
    assert fetch(pg_url, "SELECT count(*) FROM track_titles") == [(3,)]
    assert fetch(pg_url, "SELECT count(*) FROM release") == [(4,)]
    keys = fetch(
        pg_url,
        "SELECT conname FROM pg_constraint WHERE conrelid = 'release_track'::regclass "
        "AND contype IN ('p', 'f') ORDER BY 1",
    )
    assert keys == [("fk_release_track_release_id_release",), ("pk_release_track",)]
    assert fetch(pg_url, kept) == [("tracks", True)]
