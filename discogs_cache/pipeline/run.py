"""`run`: every step in one call, resumable, one run per database at a time.

Order (the one that never loses an owned album):

1. library — the artist list (and library.db exported from MySQL with --wxyc-db-url);
2. convert — the dump to CSVs, keeping releases whose main artist is on the list;
3. schema — Alembic to head;   4. load — COPY, replacing the cache atomically (swap-in);
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
   a final size report.

Each step is atomic or idempotent and the state file is rewritten after each one, so a
kill at any moment followed by `--resume` ends in the same database as a clean run.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from discogs_cache import progress
from discogs_cache.db import describe
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
    STEPS,
    Context,
    dedup_deferred,
    final_status,
    library_step_done,
    plan,
)
from discogs_cache.pipeline.summary import RunSummary, StepReport


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
    inferred = infer_completed(ctx.url, options)
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
        ctx = Context(options=options, url=options.database_url, work_dir=work_dir, csv_dir=csv_dir)
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
            if step == "indexes":
                drop_invalid_indexes(ctx.url)
            if step == "load" and options.resume:
                for schema in drop_stale_load_schemas(ctx.url):
                    progress.note(f"dropped {schema}, left by an interrupted load")
            begun = time.perf_counter()
            outcome = STEPS[step](ctx)
            seconds = time.perf_counter() - begun
            ctx.outputs[step] = outcome.outputs
            state.complete(step, inputs=outcome.inputs, outputs=outcome.outputs, seconds=seconds)
            save_state(Path(options.state_file), state)
            progress.note(f"[{number}/{len(steps)}] {step}: done in {seconds:.2f} s")
            summary.steps.append(StepReport(step, "ran", seconds, outcome.outputs))
        summary.releases, summary.size_bytes = final_status(ctx)
    _fill_totals(summary, state)
    summary.seconds = time.perf_counter() - started
    return summary


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
