"""The album filter's cross-release post-pass: `matcher.settle.settle_albums` over convert's
output, with the preferences the pipeline's classify step uses, so an album-filtered run
demotes the same masters as the artist-filtered run's classify step.

Only the contested albums' releases (`run.contested_albums`: a few, since the workers already
dropped every PRUNE release) are read back, from the CSVs convert has just written: their
titles, main credits, masters, formats and labels, as `verify.read_releases` reads them from
the loaded cache. Losers stay in the CSVs; their verdict turns PRUNE, and prune removes them.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from discogs_cache.library.labels import LabelPreference
from discogs_cache.matcher import Credit, Decision, ReleaseRecord, Verdict
from discogs_cache.matcher.albums import Preferences, album_preferences
from discogs_cache.matcher.run import album_records, contested_albums
from discogs_cache.matcher.settle import settle_albums


@dataclass
class SettleOptions:
    """What the classify step settles with: the station's label preferences and the label
    hierarchy (None: convert's own label_hierarchy.csv, when it wrote one)."""

    label_preferences: Sequence[LabelPreference] = ()
    label_hierarchy: Path | None = None

    def preferences(self, csv_dir: Path, library_db: Path) -> Preferences:
        """The classify step's `album_preferences`: owned formats from the catalogue."""
        from discogs_cache.library.catalog import read_catalog
        from discogs_cache.matcher.albums import owned_formats

        hierarchy = self.label_hierarchy
        if hierarchy is None and (csv_dir / "label_hierarchy.csv").is_file():
            hierarchy = csv_dir / "label_hierarchy.csv"
        related: Callable[[str], Iterable[str]] | None = None
        if hierarchy is not None:
            from discogs_cache.dedup.pairing import read_label_hierarchy_csv

            related = read_label_hierarchy_csv(hierarchy).related
        formats = owned_formats(read_catalog(library_db))
        return album_preferences(formats, self.label_preferences, related)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    if not path.is_file():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() and int(text) else None


def read_releases(csv_dir: Path, ids: set[int], name_max: int | None) -> list[ReleaseRecord]:
    """The releases `ids` from convert's CSVs, as the load keeps them (names cut to
    `name_max`, main credits only, first of a name, ordered by name)."""
    credits: dict[int, dict[str, int | None]] = defaultdict(dict)
    for row in _rows(csv_dir / "release_artist.csv"):
        rid = int(row["release_id"])
        if rid in ids and row["extra"] == "0":
            name = row["artist_name"][:name_max]
            if name and name not in credits[rid]:
                credits[rid][name] = _int(row["artist_id"] or "")
    labels: dict[int, list[str]] = defaultdict(list)
    for row in _rows(csv_dir / "release_label.csv"):
        rid = int(row["release_id"])
        if rid in ids and row["label"]:
            labels[rid].append(row["label"][:name_max])
    found = []
    for row in _rows(csv_dir / "release.csv"):
        rid = int(row["id"])
        if rid in ids:
            named = tuple(Credit(n, a) for n, a in sorted(credits[rid].items()))
            found.append(
                ReleaseRecord(
                    rid, row["title"], named, _int(row["master_id"] or ""),
                    row["format"] or None, tuple(labels[rid]),
                )
            )  # fmt: skip
    return sorted(found, key=lambda r: r.id)


def read_aliases(csv_dir: Path, artist_ids: set[int]) -> dict[int, list[str]]:
    """artist_alias.csv rows of `artist_ids` (empty without artists.xml)."""
    aliases: dict[int, list[str]] = defaultdict(list)
    for row in _rows(csv_dir / "artist_alias.csv"):
        artist_id = _int(row["artist_id"] or "")
        if artist_id in artist_ids and row["alias_name"]:
            aliases[artist_id].append(row["alias_name"])
    return dict(aliases)


def settle(
    csv_dir: Path, retained: list[Verdict], preferences: Preferences, name_max: int | None
) -> dict[int, str]:
    """Release id -> why it loses its album, among the retained (KEEP/REVIEW) verdicts."""
    albums = contested_albums(retained, bool(preferences))
    matched = {
        v.release_id: v
        for v in retained
        if v.decision != Decision.PRUNE and (v.match_artist, v.match_title or "") in albums
    }
    if not matched:
        return {}
    releases = read_releases(csv_dir, set(matched), name_max)
    credited = {c.artist_id for r in releases for c in r.credits if c.artist_id is not None}
    aliases = read_aliases(csv_dir, credited) if preferences else {}
    records = album_records(releases, matched, preferences, aliases)
    return settle_albums(records, preferences)
