"""The album filter: the verify step's classifier run inside convert's workers.

This module is the only place convert touches the classifier's API (`discogs_cache.matcher`),
so a change of the rules changes this adapter, not the converter. Three parts:

1. `AlbumFilter` (picklable: the library index, the mappings, the useful aliases) travels to
   the workers with the artist filter. In the artists pass it picks, per artist, the alias
   names the classifier can use (`useful_aliases`); in the releases pass it classifies each
   release that passed the artist filter (`classify`), and only KEEP and REVIEW releases are
   written. Its inputs are the ones `verify.classify_cache` reads from an artist-filtered
   cache (main credits as the load keeps them, aliases of the credited ids), so the verdicts
   are the same.
2. Each classified release leaves one compact record (`RECORD_COLUMNS`), spilled to disk by
   the main process: nothing per release is held in memory for the whole dump.
3. `finish` is the cross-release post-pass over that spill; it writes `classification.json`
   beside the CSVs: the KEEP/REVIEW verdicts, the counts (PRUNE included), the reasons and
   the fingerprints of the library and mappings it was made with, which the pipeline's
   classify step reuses instead of classifying the cache again (`read_classification`).
"""

from __future__ import annotations

import csv
import json
import pickle
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discogs_cache.files import write_text_atomic
from discogs_cache.matcher import (
    ArtistMappings,
    Classification,
    Classifier,
    Decision,
    LibraryIndex,
    Verdict,
    build_index,
    load_mappings,
)
from discogs_cache.matcher.albums import Preferences
from discogs_cache.matcher.gcpause import paused_gc

FILE_NAME = "classification.json"
VERSION = 1
RECORD_COLUMNS = (
    "release_id", "master_id", "format", "decision", "score", "credit", "match_artist",
    "match_title", "reason",
)  # fmt: skip
MEMO_RELEASES = 10_000
"""Classifications between two fresh Classifiers in a worker: its memo tables, and the
bounded but large (2^18-entry) lru caches of the rules and of normalization, grow with the
distinct titles and credits it sees, so they are dropped now and then (flat memory: filled
by 1M releases, they would otherwise still be growing at 2M)."""
_CACHED_MODULES = ("discogs_cache.normalize", "discogs_cache.matcher")


@dataclass
class AlbumFilter:
    """What a worker classifies with; `aliases` is filled after the artists pass.

    The library index travels pickled (`index_blob`) and is unpickled where it is used, on
    first use: the main process, which only hands it to the workers, does not hold it (a
    catalogue of 50k albums is ~120 MB of Python objects, ~13 MB pickled)."""

    index_blob: bytes
    mappings: ArtistMappings = field(default_factory=ArtistMappings)
    aliases: dict[int, tuple[str, ...]] = field(default_factory=dict)
    name_max: int | None = None
    """Where the load cuts names (`schema.NAME_MAX`; imported by `load`, not by workers)."""
    _index: LibraryIndex | None = field(default=None, repr=False, compare=False)
    _classifier: Classifier | None = field(default=None, repr=False, compare=False)
    _uses: int = field(default=0, repr=False, compare=False)

    @classmethod
    def of(
        cls,
        index: LibraryIndex,
        mappings: ArtistMappings | None = None,
        *,
        name_max: int | None = None,
    ) -> AlbumFilter:
        """A filter classifying against `index` (pickled here, once)."""
        blob = pickle.dumps(index, pickle.HIGHEST_PROTOCOL)
        return cls(blob, mappings or ArtistMappings(), name_max=name_max)

    @classmethod
    def load(cls, library_db: Path, mappings: Path | None = None) -> AlbumFilter:
        from discogs_cache.library.catalog import read_catalog
        from discogs_cache.schema import NAME_MAX

        index = build_index(read_catalog(Path(library_db)))
        return cls.of(index, load_mappings(mappings), name_max=NAME_MAX)

    @property
    def index(self) -> LibraryIndex:
        if self._index is None:
            with paused_gc():
                self._index = pickle.loads(self.index_blob)
        return self._index

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_index"], state["_classifier"], state["_uses"] = None, None, 0  # per process
        return state

    def use_aliases(self, aliases: dict[int, tuple[str, ...]]) -> None:
        """The useful aliases found by the artists pass (the memo tables start afresh)."""
        self.aliases, self._classifier = aliases, None

    def _fresh(self) -> Classifier:
        self._uses += 1
        if self._classifier is None or self._uses > MEMO_RELEASES:
            if self._classifier is not None:
                _clear_caches()
            self._classifier = Classifier(self.index, self.aliases, self.mappings)
            self._uses = 1
        return self._classifier

    def useful_aliases(self, keys: Mapping[str, str]) -> list[str]:
        """The alias names (mapped to their `artist_key`) whose key stands for a library
        artist, exactly or fuzzily: the classifier gets a candidate from no other alias, so
        leaving the rest out changes no verdict."""
        classifier = self._fresh()
        return [name for name, key in keys.items() if key and classifier.resolve(key)]

    def classify(self, rid: int, title: str, credits: Sequence[tuple[int | None, str]]) -> Verdict:
        """The verdict `classify_cache` gives this release once loaded: the main credits as
        the load keeps them (named, cut to `name_max`, first of a name), ordered by name."""
        kept: dict[str, int | None] = {}
        for artist_id, name in credits:
            name = name[: self.name_max]
            if name and name not in kept:
                kept[name] = artist_id or None
        ordered = tuple(sorted(kept.items()))
        return Verdict(rid, *self._fresh().outcome(title, ordered))


def _clear_caches() -> None:
    """Empty the lru caches of the classifier's and normalization's modules (whatever
    functions they cache: found by their `cache_clear`)."""
    for name, module in list(sys.modules.items()):
        if module is not None and name.startswith(_CACHED_MODULES):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def retained(verdict: Verdict) -> bool:
    """KEEP and REVIEW are written (REVIEW is never deleted); PRUNE is not."""
    return verdict.decision != Decision.PRUNE


def record(verdict: Verdict, master_id: str, fmt: str) -> tuple[str, ...]:
    """The compact record of one classified release (a CSV row of RECORD_COLUMNS)."""
    rid, decision, score, credit, match_artist, match_title, reason = verdict
    return (
        str(rid), master_id, fmt, decision.name, str(score), credit or "", match_artist or "",
        match_title or "", reason,
    )  # fmt: skip


def _verdict(row: Sequence[str]) -> Verdict:
    rid, _, _, decision, score, credit, artist, title, reason = row
    return Verdict(
        int(rid), Decision[decision], float(score), credit or None, artist or None,
        title or None, reason,
    )  # fmt: skip


@dataclass
class AlbumClassification:
    """The post-pass result: verdicts of the written releases plus counts over all."""

    classification: Classification
    counts: dict[str, int]
    reasons: dict[str, int]

    def to_json(self, fingerprints: dict[str, Any]) -> dict[str, Any]:
        return {
            "version": VERSION,
            "inputs": fingerprints,
            "counts": self.counts,
            "reasons": self.reasons,
            "verdicts": [[v.release_id, v.decision.name, *v[2:]] for v in self.verdicts],
        }

    @property
    def verdicts(self) -> list[Verdict]:
        return self.classification.verdicts


def finish(
    spill: Path,
    csv_dir: Path | None = None,
    preferences: Preferences | None = None,
    name_max: int | None = None,
) -> AlbumClassification:
    """The cross-release pass over the spilled records: keep the KEEP/REVIEW verdicts, count
    the rest, then (with `csv_dir`, the CSVs just written) settle each album's masters as
    the classify step does (`album_settle.settle`): the losers' verdicts turn PRUNE."""
    counts = Counter({d.name: 0 for d in Decision})
    reasons: Counter[str] = Counter()
    retained = []
    with spill.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            counts[row[3]] += 1
            reasons[row[8]] += 1
            if row[3] != Decision.PRUNE.name:
                retained.append(_verdict(row))
    classification = Classification(retained)
    if csv_dir is not None:
        from discogs_cache.convert.album_settle import settle

        losers = settle(csv_dir, retained, preferences or {}, name_max)
        for v in retained:
            if v.release_id in losers:
                counts[v.decision.name] -= 1
                reasons[v.reason] -= 1
                counts[Decision.PRUNE.name] += 1
                reasons[losers[v.release_id]] += 1
        classification = classification.demoted(losers)
    reasons = +reasons  # a reason no verdict keeps is not reported
    return AlbumClassification(classification, dict(counts), dict(reasons))


def inputs_of(library_db: Path, mappings: Path | None) -> dict[str, Any]:
    """Fingerprints of what the classification depends on (compared before it is reused)."""
    from discogs_cache.pipeline.state import fingerprint

    found = {"library_db": [fp.to_json() for fp in fingerprint(Path(library_db))]}
    found["mappings"] = [fp.to_json() for fp in fingerprint(Path(mappings))] if mappings else []
    return found


def write_classification(
    path: Path, result: AlbumClassification, library_db: Path, mappings: Path | None
) -> None:
    write_text_atomic(path, json.dumps(result.to_json(inputs_of(library_db, mappings))))


def read_classification(
    path: Path, library_db: Path, mappings: Path | None
) -> AlbumClassification | None:
    """The classification convert wrote, if it was made with this library and these
    mappings (same paths, sizes, times); None when missing, damaged or stale."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("version") != VERSION or data["inputs"] != inputs_of(library_db, mappings):
            return None
        verdicts = [_verdict([str(v[0]), "", "", *map(_text, v[1:])]) for v in data["verdicts"]]
        counts = {str(k): int(n) for k, n in data["counts"].items()}
        reasons = {str(k): int(n) for k, n in data["reasons"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return AlbumClassification(Classification(verdicts), counts, reasons)


def _text(value: Any) -> str:
    return "" if value is None else str(value)
