"""The files a run keeps beside its state file: the classification and dedup's losers.

A resumed run reads them instead of redoing the step that wrote them (`run._skippable`).
"""

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
        # what the retained releases matched: dedup pairs them with their library album
        # through it, so a resumed run must rank exactly as the run that classified
        "matches": {
            str(v.release_id): [v.score, v.credit, v.match_artist, v.match_title, v.reason]
            for v in classification.verdicts
            if v.release_id not in classification.prune_ids
        },
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
        matches = data.get("matches", {})
        verdicts = []
        for key, decision in (
            ("keep", Decision.KEEP),
            ("review", Decision.REVIEW),
            ("prune", Decision.PRUNE),
        ):
            for rid in data[key]:
                match = matches.get(str(rid))
                if match is None:
                    score = 1.0 if decision != Decision.PRUNE else 0.0
                    verdicts.append(Verdict(int(rid), decision, score))
                else:
                    score, credit, artist, title, reason = match
                    verdicts.append(
                        Verdict(int(rid), decision, float(score), credit, artist, title, reason)
                    )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Classification(verdicts)
