"""The run state file: atomic round trip, input fingerprints, resume refusals."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from discogs_cache.errors import InputError
from discogs_cache.pipeline.state import (
    RunState,
    changed_inputs,
    check_resumable,
    fingerprint,
    load_state,
    save_state,
)

IDENTITY = {"mode": "csv", "database": "127.0.0.1:5432/cache", "target": None}


def _file(path: Path, text: str = "id\n1\n") -> Path:
    path.write_text(text)
    return path


def test_round_trip_keeps_steps_inputs_and_outputs(tmp_path: Path) -> None:
    csv = _file(tmp_path / "release.csv")
    state = RunState(identity=dict(IDENTITY))
    state.complete("load", inputs=fingerprint(csv), outputs={"release": 1}, seconds=1.5)
    path = tmp_path / "state.json"
    save_state(path, state)

    loaded = load_state(path)
    assert loaded is not None
    assert loaded.identity == IDENTITY
    assert loaded.done("load") and not loaded.done("dedup")
    assert loaded.steps["load"].outputs == {"release": 1}
    assert loaded.steps["load"].inputs == fingerprint(csv)
    assert json.loads(path.read_text())["version"] == 1
    assert not list(tmp_path.glob(".*.tmp")), "the temporary file must be renamed away"


def test_missing_state_is_none_and_garbage_is_an_input_error(tmp_path: Path) -> None:
    assert load_state(tmp_path / "absent.json") is None
    bad = _file(tmp_path / "bad.json", "{not json")
    with pytest.raises(InputError, match=r"bad\.json: not a discogs-cache state file"):
        load_state(bad)
    other = _file(tmp_path / "other.json", json.dumps({"version": 99, "identity": {}}))
    with pytest.raises(InputError, match="unsupported state version"):
        load_state(other)


def test_directory_fingerprint_lists_its_files_sorted(tmp_path: Path) -> None:
    _file(tmp_path / "b.csv")
    _file(tmp_path / "a.csv")
    _file(tmp_path / ".hidden")
    (tmp_path / "sub").mkdir()
    names = [Path(fp.path).name for fp in fingerprint(tmp_path)]
    assert names == ["a.csv", "b.csv"]
    with pytest.raises(InputError, match="not found"):
        fingerprint(tmp_path / "nope")


def test_changed_inputs_sees_size_mtime_and_removal(tmp_path: Path) -> None:
    a = _file(tmp_path / "a.csv")
    b = _file(tmp_path / "b.csv")
    c = _file(tmp_path / "c.csv")
    recorded = fingerprint(tmp_path)
    assert changed_inputs(recorded) == []
    a.write_text("id\n1\n2\n")
    st = b.stat()
    os.utime(b, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    c.unlink()
    problems = changed_inputs(recorded)
    assert len(problems) == 3
    assert "a.csv changed size" in problems[0]
    assert "b.csv was modified" in problems[1]
    assert "c.csv is gone" in problems[2]


def test_resume_refuses_another_run_identity(tmp_path: Path) -> None:
    state = RunState(identity=dict(IDENTITY))
    other = dict(IDENTITY, database="127.0.0.1:5432/other")
    with pytest.raises(InputError, match="cannot resume: database was"):
        check_resumable(state, other, tmp_path / "s.json")
    check_resumable(state, dict(IDENTITY), tmp_path / "s.json")


def test_resume_refuses_changed_input_of_a_completed_step(tmp_path: Path) -> None:
    lib = _file(tmp_path / "library.db", "x")
    state = RunState(identity=dict(IDENTITY))
    state.complete("classify", inputs=fingerprint(lib))
    check_resumable(state, dict(IDENTITY), tmp_path / "s.json")
    lib.write_text("changed library")
    with pytest.raises(InputError, match=r"input of step 'classify' changed.*library\.db"):
        check_resumable(state, dict(IDENTITY), tmp_path / "s.json")


def test_save_replaces_previous_state_atomically(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "state.json"
    state = RunState(identity=dict(IDENTITY))
    save_state(path, state)
    state.complete("schema", outputs={"revision": "head"})
    save_state(path, state)
    loaded = load_state(path)
    assert loaded is not None and list(loaded.steps) == ["schema"]


def test_saved_classification_keeps_what_retained_releases_matched(tmp_path: Path) -> None:
    """A resumed run's dedup pairs releases with their album exactly as the first run did."""
    from discogs_cache.matcher.classify import Classification, Verdict
    from discogs_cache.matcher.rules import Decision
    from discogs_cache.matcher.run import matched_albums
    from discogs_cache.pipeline.saved import load_classification, save_classification

    made = Classification(
        [
            Verdict(1, Decision.KEEP, 0.93, "Björk", "bjork", "homogenic", "title"),
            Verdict(2, Decision.REVIEW, 0.7, "Bjork", "bjork", "post", "fuzzy"),
            Verdict(3, Decision.PRUNE, 0.1, "Someone", None, None, "unknown artist"),
        ]
    )
    path = tmp_path / "classification.json"
    save_classification(path, made)
    loaded = load_classification(path)
    assert loaded is not None
    assert (loaded.keep_ids, loaded.review_ids, loaded.prune_ids) == ({1}, {2}, {3})
    assert matched_albums(loaded) == matched_albums(made)
    assert len(matched_albums(made)) == 2
