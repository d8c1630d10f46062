"""The run's JSON state file: which steps completed, on which inputs, with which outputs.

`--resume` trusts a completed step only while every input it read is unchanged (same path,
size and mtime), so a library.db or dump swapped between the kill and the resume is refused
instead of silently mixing two runs. The file is rewritten atomically (temp file + rename)
after every step, so a kill at any moment leaves either the old or the new state.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discogs_cache.errors import InputError
from discogs_cache.files import write_text_atomic

VERSION = 1


@dataclass(frozen=True)
class Fingerprint:
    """What identifies an input file cheaply: its path, size and modification time."""

    path: str
    size: int
    mtime_ns: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "mtime_ns": self.mtime_ns}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fingerprint:
        return cls(str(data["path"]), int(data["size"]), int(data["mtime_ns"]))


def fingerprint(path: Path) -> list[Fingerprint]:
    """Fingerprints of a file, or of every regular file directly inside a directory."""
    path = Path(path).resolve()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"{path}: not found")
    result = []
    for file in files:
        st = file.stat()
        result.append(Fingerprint(str(file), st.st_size, st.st_mtime_ns))
    return result


def changed_inputs(recorded: list[Fingerprint]) -> list[str]:
    """Human-readable differences between recorded fingerprints and the files now."""
    problems = []
    for fp in recorded:
        try:
            st = os.stat(fp.path)
        except FileNotFoundError:
            problems.append(f"{fp.path} is gone")
            continue
        if st.st_size != fp.size:
            problems.append(f"{fp.path} changed size ({fp.size} -> {st.st_size} bytes)")
        elif st.st_mtime_ns != fp.mtime_ns:
            problems.append(f"{fp.path} was modified")
    return problems


@dataclass
class StepRecord:
    """One completed step: what it read, what it produced, how long it took."""

    inputs: list[Fingerprint] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    completed_at: float = 0.0
    inferred: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": [fp.to_json() for fp in self.inputs],
            "outputs": self.outputs,
            "seconds": round(self.seconds, 3),
            "completed_at": self.completed_at,
            "inferred": self.inferred,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepRecord:
        return cls(
            inputs=[Fingerprint.from_json(fp) for fp in data.get("inputs", [])],
            outputs=dict(data.get("outputs", {})),
            seconds=float(data.get("seconds", 0.0)),
            completed_at=float(data.get("completed_at", 0.0)),
            inferred=bool(data.get("inferred", False)),
        )


@dataclass
class RunState:
    """The whole state file: the run's identity (mode, databases, options) and its steps."""

    identity: dict[str, Any]
    steps: dict[str, StepRecord] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)

    def done(self, step: str) -> bool:
        return step in self.steps

    def complete(
        self,
        step: str,
        *,
        inputs: list[Fingerprint] | None = None,
        outputs: dict[str, Any] | None = None,
        seconds: float = 0.0,
        inferred: bool = False,
    ) -> StepRecord:
        record = StepRecord(
            inputs=list(inputs or []),
            outputs=dict(outputs or {}),
            seconds=seconds,
            completed_at=time.time(),
            inferred=inferred,
        )
        self.steps[step] = record
        return record

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "identity": self.identity,
            "started_at": self.started_at,
            "steps": {name: rec.to_json() for name, rec in self.steps.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        if data.get("version") != VERSION:
            raise ValueError(f"unsupported state version {data.get('version')!r}")
        return cls(
            identity=dict(data["identity"]),
            steps={k: StepRecord.from_json(v) for k, v in data.get("steps", {}).items()},
            started_at=float(data.get("started_at", 0.0)),
        )


def load_state(path: Path) -> RunState | None:
    """The state in `path`, None when there is none; InputError when it is unreadable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the state file: {exc.strerror}") from None
    try:
        return RunState.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a discogs-cache state file ({exc})") from None


def save_state(path: Path, state: RunState) -> None:
    """Write atomically: a reader (or a resume after a kill) never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(state.to_json(), indent=2) + "\n")  # steps in run order


def check_resumable(state: RunState, identity: dict[str, Any], path: Path) -> None:
    """Refuse to resume a different run, or one whose completed steps' inputs changed."""
    for key in sorted(set(state.identity) | set(identity)):
        if state.identity.get(key) != identity.get(key):
            raise InputError(
                f"{path}: cannot resume: {key} was {state.identity.get(key)!r}, "
                f"now {identity.get(key)!r} (start a fresh run without --resume)"
            )
    for step, record in state.steps.items():
        problems = changed_inputs(record.inputs)
        if problems:
            raise InputError(
                f"{path}: cannot resume: input of step {step!r} changed since it ran: "
                f"{problems[0]} (start a fresh run without --resume)"
            )
