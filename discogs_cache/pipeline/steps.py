"""The pipeline's steps as thin adapters over the step modules.

Each step reads what it needs from the `Context`, calls the step's library function and
returns what it read (fingerprints, for `--resume`) and what it produced (row counts, for
the summary and the state file). Every step is atomic or idempotent, so re-running one
that was killed (or that finished just before a kill, before the state file said so)
ends in the same database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from discogs_cache import progress
from discogs_cache.pipeline.options import RunOptions
from discogs_cache.pipeline.prefetch import start_library_index
from discogs_cache.pipeline.saved import (  # noqa: F401  (run.py imports them from here)
    load_classification,
    load_ids,
    save_classification,
    save_ids,
)
from discogs_cache.pipeline.state import Fingerprint, fingerprint

if TYPE_CHECKING:
    from concurrent.futures import Future

    from discogs_cache.convert.albums import AlbumClassification
    from discogs_cache.library.labels import LabelPreference
    from discogs_cache.matcher.classify import Classification
    from discogs_cache.matcher.library_index import LibraryIndex


@dataclass
class Context:
    """What the steps share: resolved paths, the database, the classification once made."""

    options: RunOptions
    url: str
    """Where the build steps work: the shadow schema of the live database (`refresh`)."""
    work_dir: Path
    csv_dir: Path
    classification: Classification | None = None
    library_index: Future[LibraryIndex] | None = None
    """The classifier's index of library.db, started beside the load (`prefetch`)."""
    owned_formats: dict[tuple[str, str], frozenset[str]] | None = None
    """Album key -> owned format families (from the catalog, by the classify step)."""
    label_preferences: list[LabelPreference] | None = None
    dedup_losers: list[int] | None = None
    """Releases dedup ranked out but left for prune's swap to remove (see `dedup_step`)."""
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Outputs of the steps done so far, in this run or a resumed one."""
    notes: list[str] = field(default_factory=list)
    live_url: str = ""
    """The live cache (the schema step migrates it; the publish replaces its tables)."""

    @property
    def library_db(self) -> Path | None:
        """The catalog: given, or exported from MySQL into the work dir by the library step."""
        o = self.options
        if o.library_db is not None:
            return Path(o.library_db)
        if o.mode == "xml" and o.wxyc_db_url is not None:
            return self.work_dir / "library.db"
        return None

    @property
    def artists_file(self) -> Path:
        o = self.options
        if o.library_artists is not None:
            return Path(o.library_artists)
        return self.work_dir / "library_artists.txt"

    @property
    def classification_file(self) -> Path:
        return self.work_dir / "classification.json"

    @property
    def dedup_file(self) -> Path:
        return self.work_dir / "dedup_losers.json"

    @property
    def label_hierarchy(self) -> Path | None:
        if self.options.label_hierarchy is not None:
            return Path(self.options.label_hierarchy)
        converted = self.csv_dir / "label_hierarchy.csv"
        return converted if converted.is_file() else None


@dataclass
class Outcome:
    inputs: list[Fingerprint] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


def library_step(ctx: Context) -> Outcome:
    """Step 1: the artist list the converter filters on (and library.db from MySQL)."""
    from discogs_cache.library.artists import build_artist_list, write_artist_list

    o = ctx.options
    if o.library_artists is not None:
        names = [n for n in Path(o.library_artists).read_text("utf-8").splitlines() if n.strip()]
        return Outcome(fingerprint(Path(o.library_artists)), {"artists": len(names)})
    outputs: dict[str, Any] = {}
    library_db = ctx.library_db
    assert library_db is not None  # check_options: --xml needs a library
    if o.library_db is None and o.wxyc_db_url is not None:
        from discogs_cache.library.export import export_catalog

        ctx.work_dir.mkdir(parents=True, exist_ok=True)
        exported = export_catalog(o.wxyc_db_url, library_db)
        outputs["library_albums"] = exported.rows
    artists = build_artist_list(library_db, o.wxyc_db_url)
    for warning in artists.warnings:
        progress.note(f"warning: {warning}")
    ctx.work_dir.mkdir(parents=True, exist_ok=True)
    outputs["artists"] = write_artist_list(artists.names, ctx.artists_file)
    inputs = fingerprint(Path(o.library_db)) if o.library_db is not None else []
    return Outcome(inputs, outputs)


def library_step_done(ctx: Context) -> bool:
    """The library step's products are files: skip it only while they are still there."""
    db = ctx.library_db
    return ctx.artists_file.is_file() and (db is None or db.is_file())


def convert_step(ctx: Context) -> Outcome:
    """Step 2: stream the dump into the CSV interface, keeping the library's releases."""
    from discogs_cache.convert import convert

    o = ctx.options
    assert o.xml is not None
    inputs = fingerprint(Path(o.xml)) + fingerprint(ctx.artists_file)
    library_db = ctx.library_db if o.album_filter else None  # only KEEP/REVIEW are written
    mappings = Path(o.mappings) if o.mappings and library_db else None
    if library_db is not None:
        inputs += fingerprint(library_db) + (fingerprint(mappings) if mappings else [])
    settle_with = None
    if library_db is not None:  # convert settles albums as the classify step would
        from discogs_cache.convert.album_settle import SettleOptions

        prefs, label_inputs = _label_preferences(ctx)
        hierarchy = Path(o.label_hierarchy) if o.label_hierarchy is not None else None
        inputs += label_inputs + (fingerprint(hierarchy) if hierarchy else [])
        settle_with = SettleOptions(prefs, hierarchy)
    summary = convert(Path(o.xml), ctx.csv_dir, library_artists=ctx.artists_file,
                      library_db=library_db, mappings=mappings, workers=o.workers,
                      settle_with=settle_with)  # fmt: skip
    for kind, ident, offset, why in summary.bad[:20]:
        progress.note(f"warning: skipped bad {kind} record {ident} at byte {offset}: {why}")
    outputs: dict[str, Any] = {
        "releases_seen": summary.releases_seen,
        "releases_kept": summary.releases_kept,
        "bad_records": summary.bad_records,
        "xml_bytes": summary.xml_bytes,
        "rows": dict(summary.rows),
    }
    if summary.classification is not None:
        outputs["releases_matched"] = summary.releases_matched
        outputs["classification"] = summary.classification
    return Outcome(inputs, outputs)


def schema_step(ctx: Context) -> Outcome:
    """Step 3: the Alembic chain (a no-op when the database is at head)."""
    from discogs_cache.migrate import ensure_schema

    return Outcome(outputs={"revision": ensure_schema(ctx.live_url)})


def shadow_step(ctx: Context) -> Outcome:
    """Step 3b: a fresh, empty shadow schema shaped like the live tables (any leftover of
    an earlier run dropped); every later step builds there, readers see none of it."""
    from discogs_cache.refresh import create_shadow, shadow_info

    leftover = shadow_info(ctx.live_url)
    if leftover is not None:
        progress.note(
            f"dropping the shadow build left by an earlier run ({leftover.age_seconds / 60:.0f}"
            " min old); `run --resume` would have continued it"
        )
    info = create_shadow(ctx.live_url, identity=run_identity(ctx.options))
    return Outcome(outputs={"build_id": info.build_id, "started_at": info.started_at.isoformat()})


def load_step(ctx: Context) -> Outcome:
    """Step 4: COPY the CSVs into the shadow's tables (replacing what they held, at once)."""
    from discogs_cache.load import load

    inputs = fingerprint(ctx.csv_dir)
    if ctx.library_db is not None and ctx.library_index is None and not _reused(ctx):
        ctx.library_index = start_library_index(ctx.library_db)
    summary = load(ctx.url, ctx.csv_dir, replace=True)
    if summary.missing_files:
        progress.note(f"load: optional files absent: {', '.join(summary.missing_files)}")
    rows = {t.table: t.loaded for t in summary.tables}
    skipped = {  # the load's words: skipped rows, and duplicates collapsed (not skipped)
        t.table: t.empty_required + t.missing_release
        for t in summary.tables
        if t.empty_required + t.missing_release
    }
    collapsed = {t.table: t.duplicates for t in summary.tables if t.duplicates}
    outputs: dict[str, Any] = {"rows": rows, "skipped": skipped, "duplicates_collapsed": collapsed}
    if summary.bad_integers:
        outputs["bad_integer_rows"] = summary.bad_integers
        progress.note(f"warning: load skipped rows whose id is no integer: {summary.bad_integers}")
    return Outcome(inputs, outputs)


def classify_step(ctx: Context) -> Outcome:
    """Step 7a: KEEP/REVIEW/PRUNE every release, before dedup can drop an owned pressing."""
    from discogs_cache.dedup.pairing import read_label_hierarchy_csv
    from discogs_cache.library.catalog import read_catalog
    from discogs_cache.matcher import load_mappings
    from discogs_cache.matcher.library_index import build_index
    from discogs_cache.verify import classify_cache

    library_db = ctx.library_db
    assert library_db is not None
    mappings_path = ctx.options.mappings
    inputs = fingerprint(library_db) + (fingerprint(Path(mappings_path)) if mappings_path else [])
    reused = _reused(ctx)
    if reused is not None:  # convert classified every release it read: nothing left to do
        from discogs_cache import faults

        faults.point("classify.midway")  # the same kill point as in verify's classification
        save_classification(ctx.classification_file, reused.classification)
        ctx.classification = reused.classification
        progress.note(f"classify: reused convert's classification ({reused.counts})")
        outputs = {"classification": reused.counts, "reasons": reused.reasons, "by": "convert"}
        return Outcome(inputs, outputs)
    mappings = load_mappings(Path(mappings_path)) if mappings_path else None
    prefetched = ctx.library_index
    index = prefetched.result() if prefetched else build_index(read_catalog(library_db))
    prefs, label_inputs = _label_preferences(ctx)
    hierarchy = ctx.label_hierarchy
    related = read_label_hierarchy_csv(hierarchy).related if hierarchy else None
    classification = classify_cache(
        ctx.url, index, mappings, label_preferences=prefs, related_labels=related
    )
    ctx.owned_formats = index.owned_formats
    save_classification(ctx.classification_file, classification)
    ctx.classification = classification
    inputs += label_inputs + (fingerprint(hierarchy) if hierarchy else [])
    return Outcome(inputs, {"classification": classification.counts()})


def _reused(ctx: Context) -> AlbumClassification | None:
    """The album filter's classification beside the CSVs, if made with this library and
    these mappings (else the classify step reads the cache)."""
    from discogs_cache.convert.albums import FILE_NAME, read_classification

    o, library_db = ctx.options, ctx.library_db
    mappings = Path(o.mappings) if o.mappings else None
    if o.album_filter and library_db is not None:
        return read_classification(ctx.csv_dir / FILE_NAME, library_db, mappings)
    return None


def _label_preferences(ctx: Context) -> tuple[list[LabelPreference], list[Fingerprint]]:
    """The station's label preferences (CSV or MySQL), read once a run; classify and dedup
    both use them."""
    from discogs_cache.library.labels import station_label_preferences

    o = ctx.options
    if ctx.label_preferences is None:
        ctx.label_preferences = station_label_preferences(o.library_labels, o.wxyc_db_url) or []
    inputs = fingerprint(Path(o.library_labels)) if o.library_labels is not None else []
    return ctx.label_preferences, inputs


def _owned_formats(ctx: Context) -> dict[tuple[str, str], frozenset[str]] | None:
    """The catalogue's owned formats: the classify step's, or the catalogue's on a resume."""
    if ctx.owned_formats is None and ctx.options.has_library and ctx.library_db is not None:
        from discogs_cache.library.catalog import read_catalog
        from discogs_cache.matcher.albums import owned_formats

        ctx.owned_formats = owned_formats(read_catalog(ctx.library_db))
    return ctx.owned_formats


def dedup_step(ctx: Context) -> Outcome:
    """Step 6: one release per master, preferring the pressings the library owns.

    When prune follows (in place), dedup only ranks: its losers are saved beside the
    classification and removed in prune's swap, so the tables are rewritten once, not
    twice. The source of a copy-to run and a run without a library are deduplicated here.
    """
    from discogs_cache.dedup import dedup, dedup_losers
    from discogs_cache.matcher.run import matched_albums

    prefs, inputs = _label_preferences(ctx)
    hierarchy = ctx.label_hierarchy
    if hierarchy is not None:
        inputs += fingerprint(hierarchy)
    preferred = ctx.classification.retain_ids if ctx.classification is not None else None
    args: dict[str, Any] = {
        "label_preferences": prefs,
        "label_hierarchy": hierarchy,
        "preferred_release_ids": preferred,
        "owned_formats": _owned_formats(ctx),
        "matched_albums": matched_albums(ctx.classification) if ctx.classification else None,
    }
    if "prune" in plan(ctx.options):
        summary, losers = dedup_losers(ctx.url, **args)
        save_ids(ctx.dedup_file, losers)
        ctx.dedup_losers = losers
    else:
        summary = dedup(ctx.url, **args)
    outputs = {
        "removed": summary.releases_removed,
        "groups": summary.groups,
        "strategy": summary.strategy,
    }
    return Outcome(inputs, outputs)


def dedup_deferred(outputs: dict[str, Any]) -> bool:
    """Whether dedup's recorded outputs say its losers were left for prune's swap."""
    from discogs_cache.dedup import DEFERRED

    return outputs.get("strategy") == DEFERRED


def prune_step(ctx: Context) -> Outcome:
    """Step 7b: delete PRUNE releases (REVIEW is never deleted), and dedup's losers with
    them in the same swap; the summary counts the two apart ("dedup removed")."""
    from discogs_cache.prune import prune

    assert ctx.classification is not None
    result = prune(
        ctx.url, ctx.classification, also_remove=ctx.dedup_losers or (), analyze=False
    )  # the index step ANALYZEs every table after its build
    outputs: dict[str, Any] = {"removed": result.releases_removed, "kept": result.releases_kept}
    if ctx.dedup_losers is not None:
        outputs["dedup_losers_removed"] = result.also_removed
    outputs["strategy"] = result.strategy
    return Outcome(outputs=outputs)


def copy_step(ctx: Context) -> Outcome:
    """Step 7b': copy KEEP+REVIEW into the target database's shadow schema, published with
    the source's build at the end: the target's readers never see a half-copied cache."""
    from discogs_cache.migrate import ensure_schema
    from discogs_cache.prune import copy_to, ensure_database
    from discogs_cache.refresh import create_shadow
    from discogs_cache.refresh.shadow import shadow_url_of

    target = ctx.options.target_db_url
    assert ctx.classification is not None and target is not None
    ensure_database(target)
    ensure_schema(target)
    info = create_shadow(target)
    result = copy_to(ctx.url, shadow_url_of(target), ctx.classification)
    return Outcome(outputs={"copied": dict(result.rows), "target_build_id": info.build_id})


def run_identity(options: RunOptions) -> str:
    """A short hash of what the run builds from (mode, inputs, databases, options)."""
    text = json.dumps(options.identity(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def publish_step(ctx: Context) -> Outcome:
    """Step 9: make the build live in one short transaction per database (the copy-to
    target first: it is what consumers read), carrying over what consumers wrote."""
    from discogs_cache.refresh import publish

    o = ctx.options
    args: dict[str, Any] = {
        "min_keep_ratio": o.min_keep_ratio,
        "allow_shrink": o.allow_shrink,
        "drop_api_fetched": o.drop_api_fetched,
    }
    outputs: dict[str, Any] = {}
    if o.target_db_url:
        outputs = publish(o.target_db_url, **args).outputs()
        progress.note(f"publish: target live ({outputs['carried']})")
    source = publish(ctx.live_url, **args).outputs()
    if o.target_db_url:
        outputs["source"] = source
    else:
        outputs = source
    return Outcome(outputs=outputs)


def indexes_step(ctx: Context) -> Outcome:
    """Step 5: trigram and FK indexes, built once over the final set of releases."""
    from discogs_cache.index import build_indexes

    summary = build_indexes(ctx.url)
    return Outcome(outputs={"built": len(summary.built)})


def vacuum_step(ctx: Context) -> Outcome:
    """Step 8: VACUUM FULL ANALYZE the source, before the index build (which then has
    nothing to rewrite). A copy-to target is freshly written and needs none.

    Not when the last swap of this run was a copy-swap: it wrote every cache table afresh
    (the load did artist_alias), so there are no dead rows to reclaim, and the index step
    ANALYZEs every table next. A delete, or a swap this run cannot vouch for (inferred,
    nothing removed), gets the full rewrite.
    """
    from discogs_cache.vacuum import cache_bytes, vacuum

    last = ctx.outputs.get("prune") or ctx.outputs.get("dedup") or {}
    if last.get("strategy") == "copy":
        size = cache_bytes(ctx.url)
        return Outcome(outputs={"full": "not needed after a copy-swap", "size_bytes": size})
    result = vacuum(ctx.url)
    return Outcome(outputs={"before_bytes": result.bytes_before, "after_bytes": result.bytes_after})


def final_status(ctx: Context) -> tuple[int, int]:
    """(releases, bytes incl. indexes) of the finished cache: the target in copy-to mode."""
    from discogs_cache.status import cache_status

    status = cache_status(ctx.options.target_db_url or ctx.live_url)
    releases = next((t.rows for t in status.tables if t.name == "release"), 0)
    return releases, status.total_bytes


STEPS: dict[str, Callable[[Context], Outcome]] = {
    "library": library_step,
    "convert": convert_step,
    "schema": schema_step,
    "shadow": shadow_step,
    "load": load_step,
    "classify": classify_step,
    "dedup": dedup_step,
    "prune": prune_step,
    "copy": copy_step,
    "indexes": indexes_step,
    "vacuum": vacuum_step,
    "publish": publish_step,
}

SHADOW_STEPS = ("load", "classify", "dedup", "prune", "copy", "vacuum", "indexes", "publish")
"""The steps that work on (or publish) the shadow build: void once it is made anew."""


def plan(options: RunOptions) -> list[str]:
    """The steps of a run, in the order that never loses an owned album (see run.py)."""
    steps = ["library", "convert"] if options.mode == "xml" else []
    steps += ["schema", "shadow", "load"]
    if options.has_library:
        steps.append("classify")
    steps.append("dedup")
    if options.has_library:
        steps.append("copy" if options.target_db_url else "prune")
    return [*steps, "vacuum", "indexes", "publish"]
