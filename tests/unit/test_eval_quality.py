"""Quality targets of the classifier on the labeled evaluation set (tests/data/eval)."""

from __future__ import annotations

from collections import Counter

from discogs_cache.matcher import ArtistMappings
from tests.data.eval.eval_set import VARIATIONS, build_eval_set, evaluate


def test_eval_set_has_the_variation_real_catalogs_have() -> None:
    es = build_eval_set()
    owned = {t for t in es.truth.values() if t is not None}
    assert len(es.library) >= 300 and len(owned) >= 300
    kinds = Counter(es.variations.values())
    for name, _ in VARIATIONS:
        assert kinds[name] >= 3, name
    assert kinds["compilation"] >= 5 and kinds["not on discogs"] >= 5
    assert es.aliases  # alias credits joined by artist id
    assert any(len(r.credits) > 1 for r in es.releases)
    assert sum(1 for t in es.truth.values() if t is None) > len(owned)  # more decoys than hits


def test_recall_and_precision_targets() -> None:
    quality = evaluate()
    print("\nevaluation set:", quality.line())
    assert quality.recall >= 0.99, quality.missed
    assert quality.precision >= 0.95, quality.false_keeps


def test_evaluation_is_sensitive_to_the_classifier() -> None:
    """Guard against a metric that cannot fail: pruning every library artist drops recall."""
    es = build_eval_set()
    artists = {r.credits[0].name for r in es.releases if r.credits}
    quality = evaluate(ArtistMappings(prune=dict.fromkeys(artists)))
    assert quality.recall < 0.1
