"""The whole pipeline (`discogs-cache run`): steps composed, resumable, one run per database.

`run(RunOptions(...)) -> RunSummary`; the order and why it never loses an owned album are
in `pipeline.run`. `state` is the JSON state file, `lock` the advisory lock, `infer` what
`--resume` reads from a database when there is no state file.
"""

from discogs_cache.pipeline.options import RunOptions, UsageError, check_options
from discogs_cache.pipeline.run import run
from discogs_cache.pipeline.summary import RunSummary, StepReport

__all__ = ["RunOptions", "RunSummary", "StepReport", "UsageError", "check_options", "run"]
