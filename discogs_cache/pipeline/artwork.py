"""`run --artwork`: the artwork top-up, started once the run has published the cache.

A separate hook, called after `pipeline.run.run` returned (its lock released), so the top-up
never delays the build and needs nothing from the steps but the classification they saved:
the releases the classifier matched to a library album (KEEP, then REVIEW) are asked first.
The top-up then takes the writer lock itself, like `discogs-cache artwork`.
"""

from __future__ import annotations

from discogs_cache.discogs.api import resolve_token
from discogs_cache.discogs.artwork import TopUpOptions, TopUpSummary, top_up_locked
from discogs_cache.pipeline.options import RunOptions
from discogs_cache.pipeline.run import work_dir_for
from discogs_cache.pipeline.steps import load_classification


def top_up_after_run(options: RunOptions, **overrides: object) -> TopUpSummary:
    """Top up the artwork of the cache the run published (the --target-db-url copy if any).

    The token comes from $DISCOGS_TOKEN; `overrides` set other TopUpOptions fields.
    """
    url = options.target_db_url or options.database_url
    classification = load_classification(work_dir_for(options.state_file) / "classification.json")
    preferred = (
        [classification.keep_ids, classification.review_ids] if classification is not None else []
    )
    settings = TopUpOptions(
        token=resolve_token(None), rate=options.artwork_rate, preferred=preferred
    )
    for name, value in overrides.items():
        setattr(settings, name, value)
    return top_up_locked(url, settings)
