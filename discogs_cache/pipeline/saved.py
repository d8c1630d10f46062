"""What a run saves beside its state for `--resume`: the classification's id sets and
dedup's losers, written atomically, read back as None when missing or damaged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from discogs_cache.files import write_text_atomic

if TYPE_CHECKING:
    from discogs_cache.matcher.classify import Classification


def save_classification(path: Path, classification: Classification) -> None:
    """Persist the id sets, so a resumed run prunes with the pre-dedup classification."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "keep": sorted(classification.keep_ids),
        "review": sorted(classification.review_ids),
        "prune": sorted(classification.prune_ids),
    }
    write_text_atomic(path, json.dumps(data))


def save_ids(path: Path, ids: list[int]) -> None:
    """Persist dedup's losers for prune's swap (a resumed run may skip the ranking)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(ids))


def load_ids(path: Path) -> list[int] | None:
    """The saved ids (None when the file is missing or damaged)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [int(i) for i in data]
    except (OSError, ValueError, TypeError):
        return None


def load_classification(path: Path) -> Classification | None:
    """The saved id sets as a Classification (None when the file is missing or damaged)."""
    from discogs_cache.matcher.classify import Classification, Verdict
    from discogs_cache.matcher.rules import Decision

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        verdicts = [
            Verdict(int(rid), decision, 1.0 if decision != Decision.PRUNE else 0.0)
            for key, decision in (
                ("keep", Decision.KEEP),
                ("review", Decision.REVIEW),
                ("prune", Decision.PRUNE),
            )
            for rid in data[key]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Classification(verdicts)
