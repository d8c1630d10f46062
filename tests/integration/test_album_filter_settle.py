"""The album filter settles each album's masters as the classify step does (issue 18's
post-pass after issue 17's convert): an album-filtered run and an artist-filtered run end
with the same releases when settling demotes a master, by score, by the station's label
or by the owned format."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from xml.sax.saxutils import escape

import psycopg

from discogs_cache.db import conninfo
from discogs_cache.matcher.settle import LOWER_SCORE, OTHER_FORMAT, OTHER_LABEL
from discogs_cache.pipeline.options import RunOptions
from discogs_cache.pipeline.run import run

# id, title, artist, master, label, format
RELEASES = [
    (1, "Nevermind", "Nirvana", 10, "DGC", "CD"),
    (2, "Nevermind", "Nirvana", 10, "Geffen", "Vinyl"),
    (3, "Nevermind", "Nirvana (2)", 20, "Pye", "CD"),  # homonym, identical title: a tie
    (4, "Nevermine", "Nirvana (3)", 30, "Pye", "CD"),  # a typo away: below the album's best
    (5, "Abbey Road", "The Beatles", 40, "Apple", "Vinyl"),  # the owned format wins the tie
    (6, "Abbey Road", "The Beatles", 50, "Apple", "CD"),
    (7, "Bleach", "Nirvana", 60, "Sub Pop", "Vinyl"),  # not in the library: PRUNE
]
LIBRARY = [("Nevermind", "Nirvana", "CD"), ("Abbey Road", "Beatles, The", "LP")]


def write_inputs(root: Path) -> tuple[Path, Path, Path]:
    """releases.xml, library.db and the label preferences CSV."""
    dump = root / "dump"
    dump.mkdir(parents=True)
    with (dump / "releases.xml").open("w", encoding="utf-8") as handle:
        handle.write("<releases>\n")
        for rid, title, artist, master, label, fmt in RELEASES:
            handle.write(
                f'<release id="{rid}" status="Accepted"><artists><artist><id>{100 + rid}</id>'
                f"<name>{escape(artist)}</name></artist></artists><title>{title}</title>"
                f'<labels><label name="{label}" catno="X" id="{200 + rid}"/></labels>'
                f'<formats><format name="{fmt}" qty="1" text=""/></formats>'
                f"<master_id>{master}</master_id></release>\n"
            )
        handle.write("</releases>\n")
    library = root / "library.db"
    conn = sqlite3.connect(library)
    conn.execute("CREATE TABLE library (id INTEGER PRIMARY KEY, title TEXT, artist TEXT, format)")
    conn.executemany("INSERT INTO library (title, artist, format) VALUES (?, ?, ?)", LIBRARY)
    conn.commit()
    conn.close()
    labels = root / "labels.csv"
    labels.write_text("artist_name,release_title,label_name\nNirvana,Nevermind,DGC\n", "utf-8")
    return dump, library, labels


def _run(url: str, root: Path, work: Path, keep: str | None) -> list[int]:
    dump, library, labels = root / "dump", root / "library.db", root / "labels.csv"
    run(
        RunOptions(
            database_url=url, xml=dump, library_db=library, library_labels=labels,
            state_file=work / "state.json", keep_csv=work / "csv", filter=keep, workers=1,
        )
    )  # fmt: skip
    with psycopg.connect(conninfo(url)) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM release ORDER BY id")]


def test_album_and_artist_filtered_runs_settle_the_same_masters(
    pg_database_factory, tmp_path: Path
) -> None:
    write_inputs(tmp_path)
    by_albums = _run(pg_database_factory(), tmp_path, tmp_path / "albums", None)
    by_artists = _run(pg_database_factory(), tmp_path, tmp_path / "artists", "artists")
    assert by_artists == [1, 5]  # dedup keeps one of master 10 (the owned CD)
    assert by_albums == by_artists
    saved = json.loads((tmp_path / "albums" / "csv" / "classification.json").read_text())
    reasons = {v[0]: (v[1], v[-1]) for v in saved["verdicts"]}
    assert reasons[3] == ("PRUNE", OTHER_LABEL)
    assert reasons[4] == ("PRUNE", LOWER_SCORE)
    assert reasons[6] == ("PRUNE", OTHER_FORMAT)
    assert saved["counts"] == {"KEEP": 3, "REVIEW": 0, "PRUNE": 4}
