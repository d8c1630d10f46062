"""`run`: every step in one call, resumable, one run per database at a time.

Order (the one that never loses an owned album):

1. library — the artist list (and library.db exported from MySQL with --wxyc-db-url);
2. convert — the dump to CSVs, keeping releases whose main artist is on the list;
3. schema — Alembic to head (the live cache), then a fresh shadow schema beside it
   (`refresh.shadow`): every step below builds there, readers see none of it;
4. load — COPY into the shadow tables (swap-in);
5. classify — KEEP/REVIEW/PRUNE against the library's (artist, title) pairs. It comes
   BEFORE dedup so that dedup can prefer, within a master, the pressing the library owns
   (KEEP+REVIEW ids are passed as preferred): deduplicating first could keep a pressing
   that the classifier then prunes and lose the album;
6. dedup — one release per master (owned pressing, label, US, tracks, lowest id);
7. prune (in place; REVIEW is never deleted) or copy-to (KEEP+REVIEW into --target-db-url).
   In place, dedup only ranks and prune's one swap removes its losers and the PRUNE
   releases together (the tables are rewritten once); the summary counts them apart;
8. vacuum (FULL: compacts what dedup and prune deleted; not needed when the last swap
   copied the keepers into fresh tables), then indexes — built once over the releases
   that are left, cheaper than before the deletes and not rewritten by the vacuum — and
   a final size report;
9. publish — one short transaction makes the shadow build live, carrying over what
   consumers wrote and refusing a sharp shrink (`refresh.publish`); the empty shadow
   schema is dropped after the state file records it.

Each step is atomic or idempotent and the state file is rewritten after each one, so a
kill at any moment followed by `--resume` ends in the same database as a clean run. Until
the publish commits, a kill leaves the live cache exactly as it was. A resumed run keeps a
shadow only if it is the one its state file recorded (build id); a new shadow voids every
step recorded after it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from discogs_cache import faults, progress
from discogs_cache.db import describe
from discogs_cache.errors import CacheError
from discogs_cache.pipeline.infer import (
    drop_invalid_indexes,
    drop_stale_load_schemas,
    infer_completed,
)
from discogs_cache.pipeline.lock import pipeline_lock
from discogs_cache.pipeline.options import RunOptions, check_options
from discogs_cache.pipeline.saved import load_classification, load_ids
from discogs_cache.pipeline.state import RunState, check_resumable, load_state, save_state
from discogs_cache.pipeline.steps import (
    SHADOW_STEPS,
    STEPS,
    Context,
    dedup_deferred,
    final_status,
    library_step_done,
    plan,
    run_identity,
)
from discogs_cache.pipeline.summary import RunSummary, StepReport
from discogs_cache.refresh import drop_shadow, shadow_info
from discogs_cache.refresh.shadow import shadow_url_of


def work_dir_for(state_file: Path) -> Path:
    """Where a run keeps its intermediate files: beside its state file."""
    state_file = Path(state_file)
    return state_file.resolve().parent / f"{state_file.stem}.work"


@contextmanager
def _csv_dir(options: RunOptions, work_dir: Path) -> Iterator[Path]:
    """The CSVs: the given dir, the --keep-csv dir, or a temporary dir removed at the end."""
    if options.csv_dir is not None:
        yield Path(options.csv_dir)
    elif options.keep_csv is not None:
        Path(options.keep_csv).mkdir(parents=True, exist_ok=True)
        yield Path(options.keep_csv)
    else:
        work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="csv-", dir=work_dir) as tmp:
            yield Path(tmp)


def _initial_state(options: RunOptions, ctx: Context) -> RunState:
    identity = options.identity()
    path = Path(options.state_file)
    if not options.resume:
        return RunState(identity=identity)
    state = load_state(path)
    if state is not None:
        check_resumable(state, identity, path)
        progress.note(f"resuming from {path}: done {', '.join(state.steps) or 'nothing'}")
        return state
    state = RunState(identity=identity)
    shadow = shadow_info(ctx.live_url)
    if shadow is not None and shadow.identity != run_identity(options):
        progress.note("the shadow build in the database is another run's: not resumed")
        shadow = None
    if shadow is None or shadow.published:  # nothing built beside the live cache to go on
        inferred = {k: v for k, v in infer_completed(ctx.live_url, options).items()
                    if k == "schema"}  # fmt: skip
    else:
        inferred = {"shadow": {"build_id": shadow.build_id}}
        inferred.update(infer_completed(ctx.url, options))
    for step, outputs in inferred.items():
        state.complete(step, outputs=outputs, inferred=True)
    if "load" in inferred and options.mode == "xml":
        state.complete("library", inferred=True)
    progress.note(
        f"no state file {path}: inferred from {describe(ctx.url)}: "
        f"{', '.join(inferred) or 'nothing done'}"
    )
    return state


def _skippable(step: str, state: RunState, ctx: Context) -> bool:
    if not state.done(step):
        return False
    if step == "shadow":
        if state.done("publish"):  # the whole refresh is done and published
            return True
        shadow = shadow_info(ctx.live_url)
        recorded = state.steps[step].outputs.get("build_id")
        return shadow is not None and bool(recorded) and shadow.build_id == recorded
    if step == "library" and not state.done("load"):
        return library_step_done(ctx)
    if step == "classify":
        ctx.classification = load_classification(ctx.classification_file)
        return ctx.classification is not None
    if step == "dedup" and dedup_deferred(state.steps[step].outputs):
        if state.done("prune"):  # its swap removed the losers already
            return True
        ctx.dedup_losers = load_ids(ctx.dedup_file)
        return ctx.dedup_losers is not None
    return step not in {"prune", "copy"} or ctx.classification is not None


def run(options: RunOptions) -> RunSummary:
    """Run the pipeline described by `options`; see the module docstring for the order."""
    check_options(options)
    started = time.perf_counter()
    work_dir = work_dir_for(options.state_file)
    summary = RunSummary(
        mode=options.mode,
        database=describe(options.database_url),
        target=describe(options.target_db_url) if options.target_db_url else None,
    )
    work_existed = work_dir.exists()
    with ExitStack() as stack:
        if not work_existed:  # nothing half-made in the current directory after a failure
            stack.callback(_remove_if_unused, work_dir, Path(options.state_file))
        stack.enter_context(pipeline_lock(options.database_url))
        if options.target_db_url:  # the run empties and fills it: no one else may
            from discogs_cache.prune import ensure_database

            ensure_database(options.target_db_url)
            stack.enter_context(pipeline_lock(options.target_db_url))
        csv_dir = stack.enter_context(_csv_dir(options, work_dir))
        ctx = Context(
            options=options,
            url=shadow_url_of(options.database_url),
            work_dir=work_dir,
            csv_dir=csv_dir,
            live_url=options.database_url,
        )
        state = _initial_state(options, ctx)
        steps = plan(options)
        _check_connections(options, steps, state)
        if state.steps or Path(options.state_file).exists():  # none made before a step ends
            save_state(Path(options.state_file), state)
        for number, step in enumerate(steps, 1):
            if _skippable(step, state, ctx):
                record = state.steps[step]
                status = "inferred" if record.inferred else "skipped"
                progress.note(f"[{number}/{len(steps)}] {step}: {status} (done before)")
                summary.steps.append(StepReport(step, status, 0.0, record.outputs))
                ctx.outputs[step] = record.outputs
                continue
            progress.note(f"[{number}/{len(steps)}] {step}: starting")
            if step == "shadow":  # a new shadow: nothing built in an earlier one counts
                for later in SHADOW_STEPS:
                    state.steps.pop(later, None)
            elif step in SHADOW_STEPS:
                _require_shadow(ctx, state)
            if step == "indexes":
                drop_invalid_indexes(ctx.url)
            if step == "load" and options.resume:
                for schema in drop_stale_load_schemas(ctx.url):
                    progress.note(f"dropped {schema}, left by an interrupted load")
            begun = time.perf_counter()
            faults.point(f"refresh.before_{step}")
            outcome = STEPS[step](ctx)
            faults.point(f"refresh.after_{step}")  # done, but the state file does not say so
            seconds = time.perf_counter() - begun
            ctx.outputs[step] = outcome.outputs
            state.complete(step, inputs=outcome.inputs, outputs=outcome.outputs, seconds=seconds)
            save_state(Path(options.state_file), state)
            progress.note(f"[{number}/{len(steps)}] {step}: done in {seconds:.2f} s")
            summary.steps.append(StepReport(step, "ran", seconds, outcome.outputs))
        if "publish" in state.steps:  # recorded: the emptied shadows can go
            faults.point("refresh.before_cleanup")
            for url in filter(None, (options.target_db_url, ctx.live_url)):
                drop_shadow(url)
        summary.releases, summary.size_bytes = final_status(ctx)
    _fill_totals(summary, state)
    summary.seconds = time.perf_counter() - started
    return summary


def _require_shadow(ctx: Context, state: RunState) -> None:
    """Refuse to run a build step without its shadow: with the schema gone, the shadow URL
    would resolve (and write) every table name in the live schema."""
    shadow = shadow_info(ctx.live_url)
    recorded = state.steps["shadow"].outputs.get("build_id") if "shadow" in state.steps else None
    if shadow is None or shadow.build_id != recorded:
        raise CacheError(
            f"the shadow build in {describe(ctx.live_url)} is gone or was replaced by another "
            "run; start a fresh run (without --resume)"
        )


def _check_connections(options: RunOptions, steps: list[str], state: RunState) -> None:
    """Reach every server the remaining steps need before the first one starts, so an
    unreachable catalog is not discovered after the schema and the load."""
    todo = [step for step in steps if not state.done(step)]
    if options.wxyc_db_url and {"library", "dedup"} & set(todo):
        from discogs_cache.library.mysql import close_quietly, connect

        close_quietly(connect(options.wxyc_db_url))


def _remove_if_unused(work_dir: Path, state_file: Path) -> None:
    """Drop the work dir this run created when no step was recorded (no state file)."""
    if not state_file.exists():
        shutil.rmtree(work_dir, ignore_errors=True)


def _fill_totals(summary: RunSummary, state: RunState) -> None:
    for name, record in state.steps.items():
        out = record.outputs
        if name == "classify" and "classification" in out:
            summary.classification = dict(out["classification"])
        elif name == "dedup" and "removed" in out:
            summary.dedup_removed = int(out["removed"])
        elif name == "publish" and "carried" in out:
            summary.carried = dict(out["carried"])
            summary.lock_seconds = float(out.get("lock_seconds", 0.0))
