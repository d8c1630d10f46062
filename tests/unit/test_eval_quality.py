"""Quality targets of the classifier on the labeled evaluation set (tests/data/eval)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from discogs_cache.matcher import ArtistMappings
from tests.data.eval.eval_set import VARIATIONS, build_eval_set, classify, evaluate


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


def test_every_fidelity_case_retains_exactly_the_stations_releases() -> None:
    es = build_eval_set()
    retained = classify(es).retain_ids
    assert len(es.cases) == 6
    for name, (ids, expected) in es.cases.items():
        assert ids & retained == expected, name


def test_the_scale_case_keeps_precision_and_recall() -> None:
    """One library album against 180 same-titled strangers: homonym artists' masters, title
    -only strangers (a library soundtrack has the same title) and near titles."""
    es = build_eval_set()
    ids, expected = es.cases["scale: one album, many same-titled strangers"]
    assert len(ids) == 182
    retained = classify(es).retain_ids & ids
    precision = len(retained & expected) / len(retained)
    recall = len(retained & expected) / len(expected)
    assert (precision, recall) == (1.0, 1.0)


def test_label_and_format_preferences_decide_the_homonym_cases() -> None:
    """Without the station's preferences the tied homonym masters are both kept."""
    es = build_eval_set()
    es.labels.clear()
    es.library = [replace(e, format=None) for e in es.library]
    retained = classify(es).retain_ids
    for name in ("homonym master, label", "homonym master, format"):
        ids = es.cases[name][0]
        assert ids & retained == ids, name
